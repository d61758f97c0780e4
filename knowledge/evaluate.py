"""Retrieval evaluation: recall@1, recall@5, MRR@10, aspect accuracy and latency on a JSON Lines question set.

Each line: ``{"question": ..., "expected_item": <item or bundle name>}`` or ``{"question": ..., "expected_id": <imported
row id>}``, optionally ``"aspect"``. Lines that cannot be used are reported with their line numbers, never skipped silently.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from knowledge.aspects import main_aspect
from knowledge.search import Searcher


class EvalSetError(ValueError):
    """The question file has unusable lines; the message lists them by line number."""


@dataclass(frozen=True)
class Question:
    line: int
    question: str
    expected: str  # a document code
    aspect: str | None = None


@dataclass
class Report:
    n: int
    recall_at_1: float
    recall_at_5: float
    mrr_at_10: float
    aspect_accuracy: float | None
    latency_p50_ms: float
    latency_p95_ms: float
    misses: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def load_questions(path: Path, names: dict[str, str]) -> list[Question]:
    """Read a question file; ``names`` maps document names (and ids) to codes.

    Raises:
        EvalSetError: listing every unusable line.
    """
    questions: list[Question] = []
    problems: list[str] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc.msg})")
            continue
        question = row.get("question") if isinstance(row, dict) else None
        expected = (row.get("expected_item") or row.get("expected_id")) if isinstance(row, dict) else None
        if not isinstance(question, str) or not question.strip():
            problems.append(f"line {number}: no question")
            continue
        if not isinstance(expected, str) or expected not in names:
            problems.append(f"line {number}: expected {expected!r} is not in the knowledge base")
            continue
        aspect = row.get("aspect")
        questions.append(Question(number, question, names[expected], aspect if isinstance(aspect, str) else None))
    if problems:
        raise EvalSetError(f"{path}: " + "; ".join(problems[:20]))
    return questions


def evaluate(searcher: Searcher, questions: list[Question]) -> Report:
    """Search every question and measure where the expected document ranks."""
    reciprocal: list[float] = []
    hits1 = hits5 = 0
    aspect_total = aspect_right = 0
    latencies: list[float] = []
    misses: list[dict[str, object]] = []
    searcher.search("热身")  # load lazily initialised parts (jieba, the embedder) outside the timings
    for question in questions:
        started = time.perf_counter()
        result = searcher.search(question.question, k=10)
        latencies.append((time.perf_counter() - started) * 1000)
        codes = [c.code for c in result.candidates]
        rank = codes.index(question.expected) + 1 if question.expected in codes else 0
        hits1 += rank == 1
        hits5 += 0 < rank <= 5
        reciprocal.append(1.0 / rank if 0 < rank <= 10 else 0.0)
        if rank != 1:
            misses.append(
                {"line": question.line, "question": question.question, "expected": question.expected, "got": codes[:3]}
            )
        if question.aspect:
            aspect_total += 1
            aspect_right += main_aspect(result.text or question.question) == question.aspect
    n = len(questions)
    return Report(
        n=n,
        recall_at_1=round(hits1 / n, 4) if n else 0.0,
        recall_at_5=round(hits5 / n, 4) if n else 0.0,
        mrr_at_10=round(float(np.mean(reciprocal)), 4) if n else 0.0,
        aspect_accuracy=round(aspect_right / aspect_total, 4) if aspect_total else None,
        latency_p50_ms=round(float(np.percentile(latencies, 50)), 2) if n else 0.0,
        latency_p95_ms=round(float(np.percentile(latencies, 95)), 2) if n else 0.0,
        misses=misses,
    )


def format_report(report: Report) -> str:
    aspect = f"{report.aspect_accuracy:.3f}" if report.aspect_accuracy is not None else "—"
    return (
        f"n={report.n}  recall@1={report.recall_at_1:.3f}  recall@5={report.recall_at_5:.3f}  "
        f"MRR@10={report.mrr_at_10:.3f}  aspect={aspect}  "
        f"p50={report.latency_p50_ms:.1f}ms  p95={report.latency_p95_ms:.1f}ms"
    )
