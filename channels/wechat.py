"""Pure helpers of the WeChat channel: what a push is about, and turning Rasa's replies into WeChat text.

WeChat shows plain text only (no buttons in a text message, and a mini-program cannot be sent buttons at all), so a
reply's buttons become a numbered list and the person answers with the number; :func:`chosen_payload` maps "1", "１",
"第一个" back to the button's payload. A text message must stay under 2,048 bytes, so :func:`split_text` cuts long answers
at paragraph and line breaks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin

from channels.schemas import Reply

#: Largest text part sent, in UTF-8 bytes (WeChat's limit is 2,048; the margin covers its own counting).
MAX_TEXT_BYTES = 2000

UNSUPPORTED_NOTICE = "目前只能处理文字消息。请用文字告诉我您想办理或咨询的事项，例如“社保卡丢了怎么补办”。"
WELCOME = "您好，欢迎关注！我是政务服务智能助手“智办”，可以为您解答办事指南（条件、材料、流程、时限、费用、地点），请直接用文字提问。"
CHOICE_HEADER = "回复数字选择："

#: What is sent to Rasa when someone follows the account or opens the mini-program's customer-service chat.
GREETING = "你好"

Channel = Literal["mp", "mini"]
Kind = Literal["text", "welcome", "unsupported", "ignored"]

_WELCOME_EVENTS = frozenset({"subscribe", "subscribe_scan", "user_enter_tempsession"})


@dataclass(frozen=True)
class Incoming:
    """One push from WeChat, reduced to what the channel acts on."""

    channel: Channel
    kind: Kind
    openid: str  # FromUserName: the person, as this account knows them
    account: str  # ToUserName: our account's original id
    msg_id: str  # empty for events
    create_time: str
    text: str = ""

    @property
    def key(self) -> str:
        """The deduplication key: WeChat's MsgId, or for events (which have none) the sender and the time."""
        if self.msg_id and self.msg_id != "0":
            return f"{self.channel}:msg:{self.msg_id}"
        return f"{self.channel}:event:{self.openid}:{self.create_time}"

    @property
    def conversation_id(self) -> str:
        """The sender Rasa sees: one conversation per person and account."""
        return f"wx-{self.channel}-{self.openid}"

    @property
    def ref(self) -> str:
        """How logs name the push (without the person's OpenID or what they wrote)."""
        return f"{self.channel} msg {self.msg_id}" if self.msg_id else f"{self.channel} event at {self.create_time}"


def from_mp(message: Any) -> Incoming:
    """An :class:`Incoming` from a message parsed by ``wechatpy.parse_message`` (公众号 XML push)."""
    kind: Kind = "unsupported"
    text = ""
    if message.type == "text":
        kind, text = "text", str(message.content or "")
    elif message.type == "voice" and str(message.recognition or "").strip():
        kind, text = "text", str(message.recognition)  # 语音识别 is on: WeChat already turned the voice into text
    elif message.type == "event":
        kind = "welcome" if str(message.event) in _WELCOME_EVENTS else "ignored"
    msg_id = str(message.id or "") if message.type != "event" else ""
    return Incoming(
        "mp", kind, str(message.source or ""), str(message.target or ""), msg_id, str(message.time or ""), text
    )


def from_mini(data: Mapping[str, Any]) -> Incoming:
    """An :class:`Incoming` from a mini-program's JSON push (the same field names as the XML one)."""
    msg_type = str(data.get("MsgType") or "").lower()
    kind: Kind = "unsupported"
    text = ""
    if msg_type == "text":
        kind, text = "text", str(data.get("Content") or "")
    elif msg_type == "event":
        kind = "welcome" if str(data.get("Event") or "").lower() in _WELCOME_EVENTS else "ignored"
    return Incoming(
        "mini",
        kind,
        str(data.get("FromUserName") or ""),
        str(data.get("ToUserName") or ""),
        str(data.get("MsgId") or "") if msg_type != "event" else "",
        str(data.get("CreateTime") or ""),
        text,
    )


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: tuple[tuple[str, str], ...]  # (title, payload), in the order they are numbered


def render(replies: Sequence[Reply], base_url: str = "") -> Rendered:
    """All of Rasa's replies to one message as one text, with their buttons numbered at the end.

    Structured replies repeat some of their parts in their text (an answer's text already has its list lines and source
    line), so a title, list item, source, ticket or receipt number is added only when the text does not contain it.
    Relative links become absolute with ``base_url`` (the address WeChat reached the gateway at).
    """
    blocks: list[str] = []
    buttons: list[tuple[str, str]] = []
    for reply in replies:
        block = _render_one(reply, base_url)
        if block:
            blocks.append(block)
        buttons += [(b.title, b.payload) for b in reply.buttons if b.title or b.payload]
    if buttons:
        numbered = "\n".join(f"{number}. {title or payload}" for number, (title, payload) in enumerate(buttons, 1))
        blocks.append(f"{CHOICE_HEADER}\n{numbered}")
    return Rendered("\n\n".join(blocks), tuple(buttons))


def _render_one(reply: Reply, base_url: str) -> str:
    text = reply.text.strip()
    lines: list[str] = []
    if reply.title and reply.title not in text:
        lines.append(reply.title)
    if text:
        lines.append(text)
    lines += [f"· {item}" for item in map(str, reply.items) if item and item not in text]
    sources = [
        f"来源：{c.item_name}" + (f" · {c.section}" if c.section else "") for c in reply.citations if c.item_name
    ]
    if sources and "来源：" not in text:
        lines.append("；".join(sources))
    if reply.ticket and reply.ticket not in text:
        lines.append(f"工单编号：{reply.ticket}")
    if reply.receipt_no and reply.receipt_no not in text:
        lines.append(f"受理编号：{reply.receipt_no}")
    lines += [f"{link.title}：{urljoin(base_url, link.url) if base_url else link.url}" for link in reply.links]
    return "\n".join(line for line in lines if line)


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-8 bytes, cut at paragraph breaks, else line breaks, else characters."""
    text = text.strip()
    if not text:
        return []
    return [part for part in _pack(text, limit, ("\n\n", "\n", "")) if part.strip()]


def _pack(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    if _size(text) <= limit:
        return [text]
    separator, finer = separators[0], separators[1:]
    pieces = text.split(separator) if separator else list(text)
    parts: list[str] = []
    current = ""
    for piece in pieces:
        if _size(piece) > limit:  # only possible while a finer separator is left
            if current:
                parts.append(current)
                current = ""
            parts += _pack(piece, limit, finer)
            continue
        joined = f"{current}{separator}{piece}" if current else piece
        if _size(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return [part.strip("\n") for part in parts]


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


_CHOICE = re.compile(r"^第?\s*([0-9]{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:个|项|条|种|号)?\s*[.。、．!！]?$")
_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def choice_number(text: str) -> int | None:
    """The option number in an answer such as "2", "第二个" or "第 2 项" (after NFKC, so "２" is "2"); None otherwise."""
    match = _CHOICE.match(text.strip())
    if not match:
        return None
    word = match.group(1)
    if word.isdigit():
        return int(word) or None
    tens, _, ones = word.rpartition("十")
    if "十" not in word:
        return _DIGITS.get(word) if len(word) == 1 else None
    if (tens and tens not in _DIGITS) or (ones and ones not in _DIGITS) or len(tens) > 1 or len(ones) > 1:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def chosen_payload(text: str, buttons: Sequence[tuple[str, str]]) -> str | None:
    """The payload of the button ``text`` picks by its number, if it picks one of ``buttons``."""
    number = choice_number(text)
    if number is None or not 1 <= number <= len(buttons):
        return None
    return buttons[number - 1][1]


def safe_cdata(text: str) -> str:
    """``text`` that can sit inside ``<![CDATA[…]]>`` (wechatpy does not escape the one sequence that ends it)."""
    return text.replace("]]>", "]] >")
