"""The draft 工单 an agent files after a call or a handed-over conversation: 诉求、事项、关键信息、来源、时间.

Pure functions. Everything in a draft is taken from what the person said (extractive) and masked: the same function serves
the messages of a conversation the assistant handed over and the notes an agent types during a call. Callers pass the
person's words with vaulted numbers already put back (:func:`assistant.vault.restore`), so that a phone or ID number can be
recognised; the draft itself only ever holds masked numbers (138****5678, 110***********002X).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.text import normalize_message
from assistant.vault import PLACEHOLDER, long_numbers
from knowledge.aspects import detect_aspects
from knowledge.query import normalize_query
from nlu.extract import Entity, extract

#: Sentences kept for 诉求, at most.
MAX_REQUEST_SENTENCES = 3

#: A sentence is part of 诉求 only if it is at least this informative relative to the most informative one.
RELATIVE_FLOOR = 0.4

#: The longest 诉求 sentence kept whole; longer ones are cut (a pasted story keeps its start, which usually says it).
MAX_SENTENCE_CHARS = 120

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")
# Words that carry nothing an agent files: greetings, thanks, acknowledgements, hesitation.
_SMALL_TALK = re.compile(
    r"^(?:喂|你好|您好|在吗|在不在|谢谢|谢谢你|谢谢您|多谢|好的|好|嗯|哦|噢|行|可以|对|是的|是|没有了|没了|不用了|再见|拜拜|转人工|人工|人工客服)+$"
)
_NON_WORD = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]")
_WANT = re.compile(r"想|要|办|申请|补|换|领|查|咨询|反映|投诉|怎么|能不能|可以吗|能否|如何")
_FILLER = re.compile(r"喂|你好|您好|请问|麻烦|谢谢|嗯+|啊+|呃+|那个|就是|我想问一下|我想问问|想问一下|问一下")

#: Labels of the 关键信息 kinds, in the order a draft lists them.
FACT_LABELS: dict[str, str] = {
    "phone": "联系电话",
    "id_number": "身份证号",
    "number": "其他号码",
    "receipt_no": "受理编号",
    "date": "日期",
    "amount": "金额",
    "district": "所在区域",
}

#: 来源 of a conversation, by the prefix of its Rasa sender id (see channels/routers/wechat.py).
CHANNELS: tuple[tuple[str, str], ...] = (("wx-mp-", "微信公众号"), ("wx-mini-", "微信小程序"))
WEB_CHANNEL = "网页智能客服"
#: Times in a draft are China Standard Time, where the hotlines are (the store keeps UTC).
CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
HOTLINE_CHANNEL = "12345热线"


@dataclass(frozen=True)
class KeyFact:
    kind: str  # a key of FACT_LABELS, or "situation" for what the assistant learnt (情形)
    label: str
    value: str  # masked


@dataclass(frozen=True)
class WorkOrder:
    """A draft 工单: every field is plain text the agent may still edit."""

    request: str  # 诉求
    item_code: str  # 事项 (empty when not known)
    item_name: str
    facts: tuple[KeyFact, ...]  # 关键信息
    channel: str  # 来源
    time: str  # 时间, "YYYY-MM-DD HH:MM"

    @property
    def item(self) -> str:
        """事项 as one line: "P02 社会保障卡补领换领", or 未确定."""
        return f"{self.item_code} {self.item_name}".strip() or "未确定"

    @property
    def facts_text(self) -> str:
        return "；".join(f"{fact.label}：{fact.value}" for fact in self.facts) or "无"

    def as_text(self) -> str:
        """The draft as the text pasted into the 工单 system."""
        return "\n".join(
            [
                f"诉求：{self.request or '未说明'}",
                f"事项：{self.item}",
                f"关键信息：{self.facts_text}",
                f"来源：{self.channel}",
                f"时间：{self.time}",
            ]
        )


def mask_number(number: str) -> str:
    """A number with its middle hidden: the first three and last four characters stay (138****5678, 110***********002X)."""
    chars = [ch for ch in number if ch.isalnum()]
    if len(chars) <= 7:
        return "*" * len(chars)
    return "".join(chars[:3]) + "*" * (len(chars) - 7) + "".join(chars[-4:])


def mask_numbers(text: str) -> str:
    """``text`` with every long number masked (the vault's rule: 11 or more digits, 受理编号 excepted) and every vault
    placeholder that could not be put back shown as 〔号码〕."""
    spans = long_numbers(text)
    for start, end in reversed(spans):
        text = text[:start] + mask_number(text[start:end]) + text[end:]
    return PLACEHOLDER.sub("〔号码〕", text)


def channel_of(conversation_id: str) -> str:
    """来源 of a conversation the assistant had, from its sender id."""
    for prefix, name in CHANNELS:
        if conversation_id.startswith(prefix):
            return name
    return WEB_CHANNEL


def sentences(utterances: Iterable[str]) -> list[str]:
    """The person's sentences, in order: button payloads (``/intent…``) and small talk left out, repeats once."""
    found: list[str] = []
    for utterance in utterances:
        if utterance.lstrip().startswith("/"):
            continue
        for piece in _SENTENCE_END.split(utterance):
            sentence = piece.strip()
            compact = _NON_WORD.sub("", normalize_message(sentence))
            if not compact or _SMALL_TALK.match(compact) or sentence in found:
                continue
            found.append(sentence)
    return found


def informativeness(sentence: str, today: dt.date) -> float:
    """How much a sentence says about what the person wants: its own words (filler, numbers, dates and amounts left out:
    those are 关键信息), plus the aspects it asks about and the words that state a want (要、想、办 …), less for each
    personal number (a sentence giving them, "我手机号是…", states facts rather than a want)."""
    entities = [e for e in extract(sentence, today=today) if e.entity in FACT_LABELS]
    numbers = {(e.start, e.end) for e in entities if e.entity in ("phone", "id_number")}
    numbers |= set(long_numbers(sentence)) | {m.span() for m in PLACEHOLDER.finditer(sentence)}
    spans = numbers | {(e.start, e.end) for e in entities}
    words = "".join(ch for i, ch in enumerate(sentence) if not any(s <= i < e for s, e in spans))
    compact = _FILLER.sub("", normalize_query(words).compact)
    return len(compact) + 4.0 * len(detect_aspects(sentence)) + 3.0 * len(_WANT.findall(sentence)) - 3.0 * len(numbers)


def _shorten(sentence: str) -> str:
    return sentence if len(sentence) <= MAX_SENTENCE_CHARS else sentence[: MAX_SENTENCE_CHARS - 1] + "…"


def request_of(utterances: Sequence[str], today: dt.date, limit: int = MAX_REQUEST_SENTENCES) -> str:
    """诉求: the most informative sentences the person said (at most ``limit``, none far less informative than the best),
    in the order said, masked."""
    found = sentences(utterances)
    scores = [informativeness(sentence, today) for sentence in found]
    best = max(scores, default=0.0)
    ranked = sorted(range(len(found)), key=lambda i: (-scores[i], i))[:limit]
    ranked = [i for i in ranked if scores[i] >= best * RELATIVE_FLOOR or i == ranked[0]]
    return "；".join(mask_numbers(_shorten(found[i].rstrip("。！？!?；;"))) for i in sorted(ranked))


def _fact(entity: Entity, text: str) -> KeyFact:
    kind = entity.entity
    if kind in ("phone", "id_number"):
        value = mask_number(entity.value)
    elif kind == "amount":
        value = f"{entity.value}元"
    elif kind == "date":
        said = text[entity.start : entity.end]
        value = entity.value if said == entity.value else f"{entity.value}（{said}）"
    else:
        value = entity.value
    return KeyFact(kind, FACT_LABELS[kind], value)


def facts_of(
    utterances: Sequence[str], today: dt.date, situation: Mapping[str, Any] | None = None
) -> tuple[KeyFact, ...]:
    """关键信息: phones and ID numbers (masked), other long numbers (masked), 受理编号, dates, amounts and districts the
    person mentioned, then what the assistant learnt about their 情形 (``situation``), without repeats."""
    found: list[KeyFact] = []
    for utterance in utterances:
        if utterance.lstrip().startswith("/"):
            continue
        entities = [e for e in extract(utterance, today=today) if e.entity in FACT_LABELS]
        found.extend(_fact(entity, utterance) for entity in entities)
        recognised = [(e.start, e.end) for e in entities if e.entity in ("phone", "id_number")]
        for start, end in long_numbers(utterance):
            if not any(s < end and start < e for s, e in recognised):
                found.append(KeyFact("number", FACT_LABELS["number"], mask_number(utterance[start:end])))
    order = list(FACT_LABELS)
    unique = list(dict.fromkeys(found))
    unique.sort(key=lambda fact: order.index(fact.kind))
    for key, value in (situation or {}).items():
        if value not in (None, "", [], {}):
            unique.append(KeyFact("situation", mask_numbers(str(key)), mask_numbers(str(value))))
    return tuple(unique)


def draft(
    utterances: Sequence[str],
    *,
    at: dt.datetime,
    channel: str = HOTLINE_CHANNEL,
    item_code: str = "",
    item_name: str = "",
    situation: Mapping[str, Any] | None = None,
) -> WorkOrder:
    """The draft 工单 of a conversation or a call.

    Args:
        utterances: what the person said, oldest first, vaulted numbers put back (they are masked here).
        at: when the conversation or call happened (时间, shown in China Standard Time when ``at`` is aware; relative
            dates such as 明天 are read from its day).
        channel: 来源 (:func:`channel_of` for a conversation the assistant had; the hotline for an agent's notes).
        item_code, item_name: 事项 when known (a ticket's item, or the cited item of the suggestion the agent used).
        situation: what the assistant learnt about the person's 情形 (a ticket's ``facts``).
    """
    if at.tzinfo is not None:
        at = at.astimezone(CHINA_TIME)
    today = at.date()
    return WorkOrder(
        request=request_of(utterances, today),
        item_code=item_code,
        item_name=item_name,
        facts=facts_of(utterances, today, situation),
        channel=channel,
        time=f"{at:%Y-%m-%d %H:%M}",
    )
