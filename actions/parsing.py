"""Pure helpers of the actions: entities, follow-up detection, personal-data masking, conversation summaries."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from knowledge.aspects import without_cues
from knowledge.query import normalize_query

_ID_NUMBER = re.compile(r"(?<!\d)(\d{3})\d{11}(\d{3}[\dXx])(?!\d)")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
# Words that carry no topic in a follow-up question ("那要带什么材料" is about whatever was discussed).
_FOLLOW_UP_FILLER = re.compile(
    r"那么|那个|这个|那|这|它|还有|还|再|也|就|请问|我想|我要|想|要|需要|可以|能|会|吗|呢|啊|吧|呀|的|了|我|你|您|"
    r"怎么|什么|多少|哪里|哪儿|哪|办理|办|去|有|是|不|没|得|在|一下|个|些|"
    r"帮我|帮|按照|按|根据|这种|情况|列出|列|看看|看|给我|给|具体|详细|说说|讲讲|告诉我|告诉|清单"
)


def entity_values(message: Mapping[str, Any], entity: str) -> list[str]:
    """Values of ``entity`` in a Rasa parse result, in order, without duplicates."""
    values: list[str] = []
    for found in message.get("entities") or []:
        value = found.get("value")
        if found.get("entity") == entity and isinstance(value, str) and value not in values:
            values.append(value)
    return values


def is_follow_up(text: str) -> bool:
    """Whether ``text`` only asks about an aspect, with no topic of its own ("那在哪办？要多久？").

    What is left after removing aspect cue phrases and filler words is at most two characters.
    """
    rest = _FOLLOW_UP_FILLER.sub("", without_cues(normalize_query(text).compact))
    return len(rest) <= 2


def mask_pii(text: str) -> str:
    """Mask 身份证号 (keep 3 + 4) and 手机号 (keep 3 + 4) in free text."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}{'*' * 11}{m.group(2)}", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def user_messages(events: Iterable[Mapping[str, Any]], limit: int = 5, reveal: Callable[[str], str] = str) -> list[str]:
    """The person's last ``limit`` messages, oldest first, button payloads left out; ``reveal`` puts vaulted numbers back
    before everything personal is masked (so the agent sees 110***********002X, not a placeholder)."""
    texts = [
        mask_pii(reveal(str(event.get("text") or "")))
        for event in events
        if event.get("event") == "user" and event.get("text") and not str(event.get("text")).startswith("/")
    ]
    return texts[-limit:]


def summarize(item_name: str, questions: list[str], facts: Mapping[str, Any]) -> str:
    """An extractive summary for the agent: the item, what the person asked, what they told us."""
    parts = [f"事项：{item_name or '未确定'}"]
    if questions:
        parts.append("诉求：" + "；".join(questions))
    if facts:
        parts.append("已知情况：" + "；".join(f"{key}={value}" for key, value in facts.items()))
    return "\n".join(parts)
