"""Extractive answers: the words come from the knowledge base's fields, arranged for the question asked.

:func:`answer` never writes a fact that is not in a guide or a policy. When the evidence is weak it returns the candidate
documents to ask about (``clarify``); when nothing is relevant it says so (``not_found``) so the caller can offer a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from knowledge.aspects import main_aspect
from knowledge.models import SECTIONS, Bundle, FaqEntry, Material, Policy, ServiceItem
from knowledge.passages import Citation, describe_material
from knowledge.search import Candidate, Hit, Searcher, SearchResult

Status = Literal["answered", "clarify", "not_found", "empty"]

#: Without a named item, a fused-score margin below this between the top two documents means "ask which one".
AMBIGUOUS_MARGIN = 0.1

#: A FAQ passage at least this similar (dense cosine) to the question answers it directly.
FAQ_SIMILARITY = 0.78


@dataclass(frozen=True)
class Answer:
    status: Status
    text: str = ""
    doc_code: str = ""
    doc_name: str = ""
    aspect: str = "general"
    lines: tuple[str, ...] = ()  # list entries (materials, steps …) for checklist rendering
    citations: tuple[Citation, ...] = ()
    confidence: float = 0.0
    candidates: tuple[Candidate, ...] = ()
    reason: str = ""


def applies(material: Material, situation: Mapping[str, str]) -> bool:
    """Whether ``material`` is needed in ``situation`` (situation key → chosen option).

    A conditional material whose situation has not been answered yet is listed (with its condition) rather than dropped.
    """
    if material.required and not material.when:
        return True
    return all(not (key in situation and situation[key] not in options) for key, options in material.when.items())


def material_lines(doc: ServiceItem | Bundle, situation: Mapping[str, str] | None = None) -> list[str]:
    """The checklist for ``situation``: one line per material, conditions shown where still open."""
    situation = situation or {}
    questions = {s.key: s for s in doc.situations}
    lines = []
    for material in doc.materials:
        if not applies(material, situation):
            continue
        line = describe_material(material)
        open_conditions = [
            f"{'/'.join(options)}时"
            for key, options in material.when.items()
            if key not in situation and key in questions
        ]
        if open_conditions:
            line += f"（{'，'.join(open_conditions)}需要）"
        lines.append(line)
    return lines


def section_lines(doc: ServiceItem | Bundle, aspect: str, situation: Mapping[str, str] | None = None) -> list[str]:
    """The lines of one section of a guide."""
    if aspect == "materials":
        return material_lines(doc, situation)
    if aspect == "conditions":
        return list(doc.conditions)
    if aspect == "process":
        return [f"{step.name}：{step.detail}" for step in doc.process]
    if aspect == "time":
        limit = doc.time_limit
        lines = []
        if limit.legal_days is not None:
            lines.append(f"法定时限：{limit.legal_days}个工作日")
        lines.append(
            "承诺时限：即办（当场办结）" if limit.promised_days == 0 else f"承诺时限：{limit.promised_days}个工作日"
        )
        if limit.note:
            lines.append(limit.note)
        return lines
    if aspect == "fee":
        return [("不收费。" if doc.fee.free else "") + doc.fee.detail]
    if aspect == "location":
        return [
            f"{loc.name}：{loc.address}；{loc.hours}"
            + (f"；电话 {loc.phone}" if loc.phone else "")
            + (f"（{loc.note}）" if loc.note else "")
            for loc in doc.locations
        ]
    if aspect == "online":
        online = doc.online
        lines = [online.level + ("：" + "、".join(online.entries) if online.entries else "")]
        if online.url:
            lines.append(f"网址：{online.url}")
        if online.note:
            lines.append(online.note)
        return lines
    if aspect == "basis":
        return list(doc.basis)
    return [doc.summary]


def _numbered(lines: list[str]) -> str:
    if len(lines) == 1:
        return lines[0]
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def compose(
    doc: ServiceItem | Bundle, aspect: str, situation: Mapping[str, str] | None = None, source: str = ""
) -> tuple[str, list[str], Citation]:
    """Answer text, its list lines and its citation for one section of a guide."""
    lines = section_lines(doc, aspect, situation)
    heading = SECTIONS.get(aspect, SECTIONS["general"])
    if aspect == "general" and isinstance(doc, Bundle):
        lines = [doc.summary, "包含：" + "、".join(m.name for m in doc.members)]
    text = f"【{doc.name}】{heading}：\n{_numbered(lines)}"
    citation = Citation(doc.code, doc.name, heading, source or doc.source, doc.updated_at.isoformat())
    return text, lines, citation


def _policy_answer(policy: Policy, hits: tuple[Hit, ...]) -> tuple[str, Citation]:
    hit = next((h for h in hits if h.passage.doc_code == policy.code), None)
    if hit is None or hit.passage.section == "general":
        text = f"《{policy.title}》（{policy.doc_number}）：{policy.summary}"
        section = "政策概述"
    elif hit.passage.section == "article":
        text = f"《{policy.title}》{hit.passage.heading}：{hit.passage.text}"
        section = hit.passage.heading
    else:
        question, _, reply = hit.passage.text.partition(" ")
        text = f"《{policy.title}》政策解读 — {question}\n{reply}"
        section = "政策解读"
    return text, Citation(policy.code, policy.title, section, policy.source, policy.updated_at.isoformat())


def _faq_hit(result: SearchResult, code: str, searcher: Searcher) -> Hit | None:
    """A FAQ of ``code`` that is close enough to the question to answer it as written."""
    for hit in result.hits:
        if hit.passage.doc_code != code or hit.passage.section != "faq":
            continue
        if result.vector is None:
            return None
        row = searcher.index.by_pid[hit.passage.pid]
        similarity = float(searcher.index.vectors[row] @ result.vector)
        if similarity >= FAQ_SIMILARITY:
            return hit
    return None


def _common_part(a: str, b: str) -> str:
    """The longest common substring of ``a`` and ``b``."""
    best = ""
    for i in range(len(a)):
        for j in range(i + len(best) + 1, len(a) + 1):
            if a[i:j] in b:
                best = a[i:j]
            else:
                break
    return best


def same_family(query: str, candidates: tuple[Candidate, ...]) -> bool:
    """Whether the words that tie the query to the top document are just as much in another candidate's name.

    "公积金怎么办" ties to 住房公积金个人住房贷款 by 公积金, which 住房公积金租房提取 has too: a family, not a choice.
    """
    if len(candidates) < 2:
        return False
    shared = _common_part(query, candidates[0].name)
    return len(shared) >= 2 and any(shared in other.name for other in candidates[1:3])


def answer(
    searcher: Searcher,
    question: str,
    *,
    item: str | None = None,
    aspect: str | None = None,
    situation: Mapping[str, str] | None = None,
    threshold: float = 0.6,
    result: SearchResult | None = None,
) -> Answer:
    """Answer ``question`` from the knowledge base.

    Args:
        item: code or exact name of the document already being discussed (skips choosing one).
        aspect: the section to answer (default: detected from the question).
        situation: answers to the document's 情形 questions, to personalise the materials list.
        threshold: confidence below which candidates are returned for a clarifying question; below half of it the
            answer is ``not_found``.
        result: the search result for ``question`` if the caller already has it (saves searching twice).
    """
    documents = searcher.documents
    named = searcher.codes_by_name
    result = result if result is not None else searcher.search(question, k=5)
    if item is None and result.reason == "empty":
        return Answer(status="empty", reason="empty")
    chosen = named.get(item, item) if item else None
    if chosen is not None and chosen not in documents:
        raise KeyError(f"unknown item {item!r}")
    if chosen is None:
        if not result.candidates:
            return Answer(status="not_found", reason=result.reason or "no_match")
        if result.confidence < threshold / 2:
            # too weak even to ask about: say so (the caller offers a person); candidates are for agents only
            return Answer(
                status="not_found", confidence=result.confidence, candidates=result.candidates[:3], reason="irrelevant"
            )
        unnamed = not result.evidence.get("name")
        ambiguous = unnamed and (
            result.evidence.get("margin", 1.0) < AMBIGUOUS_MARGIN
            or same_family(result.query.compact, result.candidates)
        )
        if result.confidence < threshold or ambiguous:
            close = tuple(c for c in result.candidates[:3] if c.score >= result.candidates[0].score * 0.6)
            return Answer(status="clarify", confidence=result.confidence, candidates=close, reason="low_confidence")
        chosen = result.candidates[0].code
    doc = documents[chosen]
    asked = aspect or main_aspect(result.text or question)
    confidence = 1.0 if item else result.confidence
    if isinstance(doc, FaqEntry):
        citation = Citation(doc.id, doc.name, "常见问题", doc.source, "")
        text = f"{doc.question}\n{doc.answer}"
        return Answer(
            "answered", text, doc.id, doc.name, "faq", (doc.answer,), (citation,), confidence, result.candidates
        )
    if isinstance(doc, Policy):
        text, citation = _policy_answer(doc, result.hits)
        return Answer("answered", text, doc.code, doc.title, "basis", (), (citation,), confidence, result.candidates)
    faq = _faq_hit(result, doc.code, searcher) if aspect is None and not situation else None
    if faq is not None:
        q, _, a = faq.passage.text.partition(" ")
        text = f"【{doc.name}】{q}\n{a}"
        return Answer("answered", text, doc.code, doc.name, "faq", (a,), (faq.citation,), confidence, result.candidates)
    text, lines, citation = compose(doc, asked, situation)
    return Answer("answered", text, doc.code, doc.name, asked, tuple(lines), (citation,), confidence, result.candidates)
