"""Training and evaluation data of the NLU: reading Rasa's YAML, stratified folds, intent metrics, fallback thresholds.

Pure functions used by the data tests and by the NLU benchmarks (``benchmarks/nlu_eval.py``, ``benchmarks/nlu_cv.py``).
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.text import normalize_message

_ANNOTATION = re.compile(r"\[([^\]]+)\]\{[^}]*\}|\[([^\]]+)\]\([^)]*\)")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str


def read_examples(folder: Path) -> list[Example]:
    """Every intent example of the ``*.yml`` files in ``folder``, in file order."""
    found = []
    for path in sorted(folder.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" in block:
                for line in block["examples"].splitlines():
                    if line.strip().startswith("- "):
                        found.append(Example(line.strip()[2:], block["intent"]))
    return found


def other_blocks(folder: Path) -> list[dict[str, Any]]:
    """The non-intent blocks (regexes, lookups, synonyms) of the ``*.yml`` files in ``folder``."""
    blocks = []
    for path in sorted(folder.glob("*.yml")):
        blocks += [
            b for b in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []) if "intent" not in b
        ]
    return blocks


def plain(example: str) -> str:
    """The sentence without entity annotations, normalised the way the tokenizer sees it."""
    return normalize_message(_ANNOTATION.sub(r"\1\2", example))


def nlu_yaml(examples: Iterable[Example], blocks: Sequence[dict[str, Any]] = ()) -> str:
    """Rasa 3.1 NLU YAML for ``examples`` (grouped by intent) followed by ``blocks``."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example.text)
    nlu: list[dict[str, Any]] = [
        {"intent": intent, "examples": "".join(f"- {text}\n" for text in texts)} for intent, texts in by_intent.items()
    ]
    return yaml.safe_dump({"version": "3.1", "nlu": [*nlu, *blocks]}, allow_unicode=True, sort_keys=False)


def stratified_folds(examples: Sequence[Example], k: int, seed: int = 0) -> list[list[Example]]:
    """``k`` disjoint folds covering ``examples``, each with about the same share of every intent."""
    if k < 2:
        raise ValueError(f"need at least 2 folds, got {k}")
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    rng = random.Random(seed)
    folds: list[list[Example]] = [[] for _ in range(k)]
    offset = 0
    for intent in sorted(by_intent):
        group = by_intent[intent][:]
        rng.shuffle(group)
        for i, example in enumerate(group):
            folds[(i + offset) % k].append(example)
        offset += len(group)  # the next intent starts filling where this one stopped: folds stay the same size
    return folds


def intent_f1(pairs: Sequence[tuple[str, str]]) -> dict[str, float]:
    """Per-intent F1 of (expected, predicted) pairs, over the expected intents."""
    true_positive: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    for want, got in pairs:
        expected[want] += 1
        predicted[got] += 1
        true_positive[want] += want == got
    scores = {}
    for intent in expected:
        precision = true_positive[intent] / predicted[intent] if predicted[intent] else 0.0
        recall = true_positive[intent] / expected[intent]
        scores[intent] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return scores


def macro_f1(pairs: Sequence[tuple[str, str]]) -> float:
    scores = intent_f1(pairs)
    return sum(scores.values()) / len(scores) if scores else 0.0


@dataclass(frozen=True)
class Prediction:
    """An example's expected intent and the classifier's ranking (best first, without ``nlu_fallback``)."""

    intent: str
    ranking: tuple[tuple[str, float], ...]

    @property
    def right(self) -> bool:
        return bool(self.ranking) and self.ranking[0][0] == self.intent

    def falls_back(self, threshold: float, ambiguity: float) -> bool:
        """Whether Rasa's FallbackClassifier would replace the prediction by ``nlu_fallback``."""
        if not self.ranking:
            return True
        top = self.ranking[0][1]
        second = self.ranking[1][1] if len(self.ranking) > 1 else 0.0
        return top < threshold or top - second < ambiguity


@dataclass(frozen=True)
class FallbackOutcome:
    threshold: float
    ambiguity: float
    right_kept: float  # share of right predictions that still reach the dialogue
    wrong_caught: float  # share of wrong predictions sent to the fallback (knowledge search) instead
    utility: float


def fallback_grid(
    predictions: Sequence[Prediction],
    thresholds: Sequence[float],
    ambiguities: Sequence[float],
    wrong_cost: float = 2.0,
    detour_cost: float = 1.0,
) -> list[FallbackOutcome]:
    """Outcome of each (threshold, ambiguity) pair, with a utility per example:

    +1 for a right prediction kept; ``-detour_cost`` for a right one sent to the fallback (the person gets a knowledge-search
    answer instead of the dialogue step: one wasted turn); ``-wrong_cost`` for a wrong one kept (a wrong reply and a turn to
    correct it); 0 for a wrong one sent to the fallback.
    """
    right = [p for p in predictions if p.right]
    wrong = [p for p in predictions if not p.right]
    outcomes = []
    for threshold in thresholds:
        for ambiguity in ambiguities:
            kept_right = sum(not p.falls_back(threshold, ambiguity) for p in right)
            kept_wrong = sum(not p.falls_back(threshold, ambiguity) for p in wrong)
            outcomes.append(
                FallbackOutcome(
                    threshold,
                    ambiguity,
                    kept_right / len(right) if right else 1.0,
                    1 - kept_wrong / len(wrong) if wrong else 1.0,
                    (kept_right - detour_cost * (len(right) - kept_right) - wrong_cost * kept_wrong)
                    / max(1, len(predictions)),
                )
            )
    return outcomes


def best_fallback(outcomes: Sequence[FallbackOutcome]) -> FallbackOutcome:
    """The outcome with the highest utility; ties go to the lower threshold and ambiguity (fewer detours)."""
    return max(outcomes, key=lambda o: (round(o.utility, 9), -o.threshold, -o.ambiguity))
