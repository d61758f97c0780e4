"""What a phone call says and how it understands short answers: pure functions, no audio.

- :func:`spoken_reply` turns Rasa's messages for one turn into the text to speak: answers' text and list lines, buttons
  as numbered choices ("请说第一个“…”，或按1"), citations as one short "以上依据…" sentence, a handoff's ticket number
  spelled out;
- :func:`key_facts` finds the facts a caller gives that must be read back before they are used (ID, phone and receipt
  numbers, other long numbers, dates and amounts written with digits), :func:`read_back` says them, :func:`confirmation`
  understands the answer;
- :func:`is_repeat_request` and :func:`choice_from_speech` recognise "再说一遍" and a spoken choice.

The call's own sentences (greeting, prompts, goodbye) are in :data:`PROMPTS`: Rasa never sees a silent line or a key.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from channels.schemas import Reply, reply_from_rasa
from nlu.extract import RECEIPT, extract

#: What the call itself says (elder-friendly: short sentences, the keys to press said every time).
PROMPTS: dict[str, str] = {
    "greeting": "您好，这里是示例市政务服务智能助手。请直接说出您要办的事，比如：社保卡丢了怎么补办。"
    "想再听一遍，请按星号键；需要人工服务，请按0。",
    "still_there": "您还在吗？请说出您想办理的事情。需要人工服务，请按0。",
    "goodbye_silent": "没有听到您的声音，感谢您的来电，再见。",
    "goodbye": "感谢您的来电，再见。",
    "not_heard": "抱歉，我没有听清。请您慢一点，再说一遍。",
    "nothing_to_repeat": "还没有可以重复的回答。",
    "no_such_choice": "没有这个选项。",
    "confirm_keys": "对的话，请说“对”或按1；不对，请说“不对”或按2。",
    "confirmed_no": "好的，请您再说一遍。",
    "transferring": "好的，正在为您转人工服务，请稍候。",
    "ticket": "您的工单编号是：{ticket}。",
    "no_agent": "现在无法直接接通人工座席。工作人员会根据工单尽快联系您。感谢您的来电，再见。",
    "unavailable": "抱歉，系统暂时无法回答。请稍后再拨，或拨打12345热线。",
    "unavailable_goodbye": "抱歉，系统暂时无法回答，请稍后再拨。再见。",
    "empty_answer": "抱歉，这个问题我暂时回答不了。需要人工服务，请按0。",
}

_CN_DIGITS = "零一二三四五六七八九"
_PHONE_DIGITS = "零幺二三四五六七八九"  # 1 as 幺 so that it cannot be heard as 七
_ORDINALS = "一二三四五六七八九"
#: Largest number of choices read out (one per phone key 1-9).
MAX_CHOICES = 9


# --- numbers and codes, spelled out --------------------------------------------------------------------------------
def spell_digits(digits: str, phone: bool = False) -> str:
    """Digits as Chinese digit words, one by one ("138" → "一三八", or "幺三八" for a ``phone`` number as hotlines say
    it); other characters are kept, letters in upper case."""
    names = _PHONE_DIGITS if phone else _CN_DIGITS
    return "".join(names[int(ch)] if ch.isdigit() else ch.upper() for ch in digits)


def spell_groups(value: str, sizes: Sequence[int], phone: bool = False) -> str:
    """``value`` spelled digit by digit in groups of ``sizes`` (the rest forms a last group), separated by "，"."""
    groups, start = [], 0
    for size in sizes:
        if start >= len(value):
            break
        groups.append(value[start : start + size])
        start += size
    if start < len(value):
        groups.append(value[start:])
    return "，".join(spell_digits(group, phone) for group in groups)


def spell_code(code: str) -> str:
    """A 受理编号 or ticket number such as GD-20261130-000042, read in its parts ("G D，二零二六一一三零，…")."""
    parts = [p for p in re.split(r"[-－\s]+", code) if p]
    spoken = []
    for part in parts:
        if part.isdigit():
            spoken.append(spell_digits(part))
        else:
            spoken.append(" ".join(spell_digits(ch) for ch in part))
    return "，".join(spoken)


# --- Rasa's replies as speech ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    title: str
    payload: str


@dataclass(frozen=True)
class Spoken:
    """One turn of the assistant, ready to speak."""

    text: str
    #: the buttons of the turn's last message, in key order (key 1 is the first)
    choices: tuple[Choice, ...] = ()
    #: the handoff ticket, when the assistant handed the conversation to a person
    ticket: str = ""


_SOURCE_LINE = re.compile(r"^\s*(?:—+\s*)?来源[:：].*$", re.MULTILINE)


def _citation_sentence(reply: Reply) -> str:
    names: list[str] = []
    for citation in reply.citations:
        if citation.item_name and citation.item_name not in names:
            names.append(citation.item_name)
    if not names:
        return ""
    return f"以上依据{'、'.join(names[:2])}的办事指南。"


def choices_sentence(choices: Sequence[Choice]) -> str:
    """The buttons as numbered choices: 请说第一个“…”，或按1；…"""
    parts = [f"第{_ORDINALS[i]}个“{choice.title}”，或按{i + 1}" for i, choice in enumerate(choices[:MAX_CHOICES])]
    return "请说" + "；".join(parts) + "。" if parts else ""


def _reply_text(reply: Reply) -> str:
    text = _SOURCE_LINE.sub("", reply.text).strip()
    missing = [item for item in reply.items if item not in text]
    if missing:
        text = "\n".join([text, *(f"第{n}，{item}。" for n, item in enumerate(missing, 1))]).strip()
    if reply.type in ("answer", "checklist"):
        text = "\n".join(part for part in (text, _citation_sentence(reply)) if part)
    return text


def spoken_reply(messages: Sequence[dict[str, Any]]) -> Spoken:
    """The text to speak for Rasa's ``messages`` of one turn, its choices and its handoff ticket (if any)."""
    texts: list[str] = []
    choices: tuple[Choice, ...] = ()
    ticket = ""
    for message in messages:
        reply = reply_from_rasa(message)
        if reply.ticket:
            ticket = reply.ticket
        text = _reply_text(reply)
        if text:
            texts.append(text)
        if reply.buttons:
            choices = tuple(Choice(b.title, b.payload) for b in reply.buttons[:MAX_CHOICES] if b.title)
    if choices:
        texts.append(choices_sentence(choices))
    if ticket:
        texts.append(PROMPTS["ticket"].format(ticket=spell_code(ticket)))
    return Spoken("\n".join(texts), choices, ticket)


# --- short answers ---------------------------------------------------------------------------------------------------
_REPEAT = re.compile(r"再说一[遍次下]|再讲一[遍次下]|重复一[遍次下]|再来一遍|再念一遍|没听清|没听见|没听到|再说一下")
_NO = re.compile(r"不对|不是|错了|不正确|说错|重说|^不$|^不[，。！]?$|否")
_YES = re.compile(r"对|是的|是啊|没错|正确|确认|可以|好的|嗯|^是$|^好$")
_CHOICE = re.compile(r"(?:第|选)?\s*([1-9一二三四五六七八九两])\s*(?:个|项|条|号)?")
_CN_NUMBER = {ch: i + 1 for i, ch in enumerate(_ORDINALS)} | {"两": 2}


def is_repeat_request(text: str) -> bool:
    """Whether the caller asks to hear the last answer again ("再说一遍", "没听清" …)."""
    return bool(_REPEAT.search(text))


def confirmation(text: str) -> bool | None:
    """The caller's answer to a read-back: True (对), False (不对), or None when it is neither."""
    text = text.strip()
    if _NO.search(text):
        return False
    if _YES.search(text):
        return True
    return None


def choice_from_speech(text: str, choices: Sequence[Choice]) -> int | None:
    """Index of the choice the caller named: by its position ("第二个", "2") or by its title; None if none."""
    if not choices:
        return None
    compact = re.sub(r"[\s，。！？,.!?]", "", text)
    for i, choice in enumerate(choices):
        title = re.sub(r"[\s，。！？,.!?]", "", choice.title)
        if title and (title in compact or (len(compact) >= 2 and compact in title)):
            return i
    match = _CHOICE.fullmatch(compact) or re.search(r"第\s*([1-9一二三四五六七八九两])\s*[个项条]", compact)
    if match:
        token = match.group(1)
        number = int(token) if token.isdigit() else _CN_NUMBER[token]
        if 1 <= number <= len(choices):
            return number - 1
    return None


# --- key facts -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fact:
    """A fact the caller said that is read back before it is used."""

    kind: str  # id_number | phone | receipt_no | number | date | amount
    value: str
    spoken: str


_LABELS = {
    "id_number": "身份证号",
    "phone": "手机号",
    "receipt_no": "受理编号",
    "number": "号码",
    "date": "日期",
    "amount": "金额",
}
_LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9][0-9\s\-]{4,}[0-9Xx](?![0-9A-Za-z])")


def _spoken_date(iso: str) -> str:
    parts = iso.split("-")
    if len(parts) == 3:
        return f"{int(parts[0])}年{int(parts[1])}月{int(parts[2])}日"
    if len(parts) == 2:
        return f"{int(parts[0])}年{int(parts[1])}月"
    return iso


def key_facts(text: str, today: dt.date | None = None) -> list[Fact]:
    """The facts in ``text`` to read back: ID, phone and receipt numbers, other numbers of 6 or more digits, and dates
    and amounts the caller said with digits (not "明天" or "下个月", which need no confirmation)."""
    facts: list[Fact] = []
    taken: list[tuple[int, int]] = []
    for entity in extract(text, today=today):
        span = text[entity.start : entity.end]
        if entity.entity == "id_number":
            spoken = spell_groups(entity.value, (6, 8))
        elif entity.entity == "phone":
            spoken = spell_groups(entity.value, (3, 4), phone=True)
        elif entity.entity == "receipt_no":
            spoken = spell_code(entity.value)
        elif entity.entity == "date" and re.search(r"\d", span):
            spoken = _spoken_date(entity.value)
        elif entity.entity == "amount" and re.search(r"\d", span):
            spoken = f"{entity.value}元"
        else:
            continue
        facts.append(Fact(entity.entity, entity.value, spoken))
        taken.append((entity.start, entity.end))
    for match in _LONG_NUMBER.finditer(text):
        if any(s <= match.start() < e for s, e in taken) or RECEIPT.search(match.group()):
            continue
        digits = re.sub(r"[\s\-]", "", match.group())
        if sum(ch.isdigit() for ch in digits) >= 6:
            facts.append(Fact("number", digits.upper(), spell_groups(digits, (4, 4, 4, 4))))
    return facts


def read_back(facts: Sequence[Fact]) -> str:
    """The read-back question: 我听到的是：手机号，一三八，…。对吗？ followed by the keys to answer with."""
    said = "；".join(f"{_LABELS[f.kind]}，{f.spoken}" for f in facts)
    return f"我听到的是：{said}。对吗？{PROMPTS['confirm_keys']}"
