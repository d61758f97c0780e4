"""Understanding what a person says while filling a form (pure functions).

While a form is open, the message is not classified by the NLU: a name or an address says nothing about intents. Instead
:func:`understand` decides whether the person asks what the field means, skips it, pauses, corrects an earlier answer
("电话刚才说错了，是139…"), or answers — possibly several fields at once ("我叫张三，身份证11010…，电话138…").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from assistant.forms.spec import FormField, FormSpec, relevant, validate
from assistant.forms.validators import Valid


@dataclass(frozen=True)
class Explain:
    """What does this field mean?"""


@dataclass(frozen=True)
class Skip:
    """Leave the current (optional) field empty."""


@dataclass(frozen=True)
class Pause:
    """Keep the draft and stop for now."""


@dataclass(frozen=True)
class Correct:
    """Change an earlier answer; ``text`` is the new answer, empty when it still has to be asked."""

    key: str
    text: str


@dataclass(frozen=True)
class Answer:
    """Answers to one or more fields."""

    values: dict[str, str] = field(default_factory=dict)  # field key → valid normalised value
    errors: dict[str, str] = field(default_factory=dict)  # field key → what is wrong, in Chinese


Understood = Explain | Skip | Pause | Correct | Answer

_EXPLAIN = re.compile(
    r"什么意思|啥意思|是什么|是啥|什么是|啥是|什么叫|啥叫|不懂|不明白|看不懂|听不懂|怎么填|咋填|不知道.{0,4}(填|写)|"
    r"在哪(里|儿)?(找|看|查)|哪里(找|看|查)|举个例子"
)
_SKIP = re.compile(r"^(跳过|略过|不填|不用填|没有|无|不需要|下一个|下一项|空着|先空着|没有备注)[了吧。.!！]*$")
_PAUSE = re.compile(
    r"先保存|保存草稿|存个草稿|等会儿?再|待会儿?再|回头再|稍后再|晚点再|改天再|暂停|先不填了|我去(找|拿|问)"
)
_CORRECTION = re.compile(
    r"(?:我要|我想|要|想|帮我|请)改|说错了|写错了|填错了|输错了|搞错了|弄错了|不对|改成|改为|改一下|改下|更正|更改|修改|应该是|重新填|重填|换成"
)
_AFTER_CUE = re.compile(
    r"^.*?(?:(?:我要|我想|要|想|帮我|请)改|说错了|写错了|填错了|输错了|搞错了|弄错了|不对|改成|改为|改一下|改下|更正为?|更改为?|修改为?|应该是|重新填|重填|换成)"
)
_LEADING_FILLER = re.compile(r"^[\s，,：:。、]*(?:是|为|成|的|应该是|正确的是|其实是)*[\s，,：:]*")
# clauses end at punctuation, and at spaces unless the space is inside a number ("110105 19320415 1238")
_CLAUSE = re.compile(r"\s*[，,；;。]+\s*|(?<![0-9])\s+|\s+(?![0-9Xx])")
_AUTO_TYPES = ("id_number", "mobile", "bank_card")


def _field_named(spec: FormSpec, values: Mapping[str, str], text: str) -> tuple[FormField, int, int] | None:
    """The relevant field whose label or alias ``text`` mentions first (longest word wins at a position)."""
    best: tuple[FormField, int, int] | None = None
    for candidate in relevant(spec, values):
        for word in candidate.words:
            at = text.find(word)
            if at >= 0 and (best is None or at < best[1] or (at == best[1] and len(word) > best[2] - best[1])):
                best = (candidate, at, at + len(word))
    return best


def _correction(spec: FormSpec, values: Mapping[str, str], text: str) -> Correct | None:
    if not _CORRECTION.search(text):
        return None
    named = _field_named(spec, values, text)
    if named is None:
        return None
    target, _, end = named
    after_cue = _AFTER_CUE.sub("", text, count=1)
    rest = after_cue if after_cue != text else text[end:]
    # the new value follows the cue or the field word: "电话说错了，是139…", "把地址改成东城区…"
    named_again = _field_named(spec, values, rest)
    if named_again is not None and named_again[0].key == target.key:
        rest = rest[named_again[2] :]
    return Correct(target.key, _LEADING_FILLER.sub("", rest).strip())


def understand(spec: FormSpec, values: Mapping[str, str], current: FormField, text: str, today: dt.date) -> Understood:
    """What ``text`` does to the form whose next question is ``current`` (``values``: the answers so far)."""
    message = text.strip()
    if _PAUSE.search(message):
        return Pause()
    correction = _correction(spec, values, message)
    if correction is not None:
        return correction
    if _EXPLAIN.search(message) and len(message) <= 20:
        return Explain()
    if _SKIP.match(message):
        return Skip()
    return answer_fields(spec, values, current, message, today)


def answer_fields(spec: FormSpec, values: Mapping[str, str], current: FormField, text: str, today: dt.date) -> Answer:
    """Fill ``current`` and any other open field the message plainly gives.

    A clause naming a field ("电话138…") goes to that field; an unnamed clause holding an ID, mobile or bank card number goes to
    the first open field of that type; the rest of the message answers ``current``. Only what validates is kept; a clause
    meant for a named field that does not validate is reported.
    """
    filled: dict[str, str] = {}
    errors: dict[str, str] = {}
    rest: list[str] = []
    clauses = _clauses(spec, values, text)
    if len(clauses) > 1:
        for clause in clauses:
            target = _clause_target(spec, {**values, **filled}, current, clause, today)
            if target is None or target.key == current.key:
                rest.append(clause)
                continue
            result = validate(target, clause, today)
            if isinstance(result, Valid):
                filled[target.key] = result.value
            else:
                errors[target.key] = result.message
    own = "，".join(rest) if len(clauses) > 1 else text
    if own and current.key not in filled:
        result = validate(current, own, today)
        if isinstance(result, Valid):
            filled[current.key] = result.value
        elif not filled:
            errors[current.key] = result.message
    return Answer(filled, errors)


def _clauses(spec: FormSpec, values: Mapping[str, str], text: str) -> list[str]:
    """The message's clauses; a clause that is only a field's name ("电话") joins the next one ("电话 138 1234 5678")."""
    words = {word for f in relevant(spec, values) for word in f.words}
    clauses: list[str] = []
    pending = ""
    for clause in (c for c in _CLAUSE.split(text) if c):
        if clause.rstrip("是为：:") in words:
            pending += clause
            continue
        clauses.append(pending + clause)
        pending = ""
    if pending:
        clauses.append(pending)
    return clauses


def _clause_target(
    spec: FormSpec, values: Mapping[str, str], current: FormField, clause: str, today: dt.date
) -> FormField | None:
    named = _field_named(spec, values, clause)
    if named is not None and named[0].key not in values:
        return named[0]
    for kind in _AUTO_TYPES:
        open_fields = [f for f in relevant(spec, values) if f.type == kind and f.key not in values]
        if open_fields and current.type != kind and isinstance(validate(open_fields[0], clause, today), Valid):
            return open_fields[0]
    if current.type != "chinese_name" and re.match(r"^(我叫|我是|姓名是?|名字是?)", clause):
        names = [f for f in relevant(spec, values) if f.type == "chinese_name" and f.key not in values]
        return names[0] if names else None
    return None


def progress(spec: FormSpec, values: Mapping[str, str], skipped: list[str]) -> tuple[int, int]:
    """(answered, total) relevant fields, for "第3项，共8项"."""
    fields = relevant(spec, values)
    done = sum(1 for f in fields if f.key in values or (f.key in skipped and not f.required))
    return done, len(fields)


def explanation(current: FormField) -> str:
    return f"{current.label}：{current.explain}例如：{current.example}"


__all__ = [
    "Answer",
    "Correct",
    "Explain",
    "Pause",
    "Skip",
    "Understood",
    "answer_fields",
    "explanation",
    "progress",
    "understand",
]
