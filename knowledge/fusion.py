"""Scoring arithmetic for hybrid retrieval, as pure functions over numpy arrays (testable without any model).

Passages of one document are stored contiguously; ``starts`` holds the index of each document's first passage.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def per_document_max(passage_scores: npt.ArrayLike, starts: npt.ArrayLike) -> Floats:
    """The best passage score of each document."""
    scores = np.asarray(passage_scores, dtype=np.float64)
    offsets = np.asarray(starts, dtype=np.int64)
    if scores.size == 0:
        return np.zeros(len(offsets))
    result: Floats = np.maximum.reduceat(scores, offsets)
    return result


def ranks(scores: npt.ArrayLike) -> Ints:
    """1-based rank of each entry (1 = highest score); ties share the better rank."""
    negated = -np.asarray(scores, dtype=np.float64)
    result: Ints = np.searchsorted(np.sort(negated), negated, side="left").astype(np.int64) + 1
    return result


def weighted_rrf(
    rankings: list[Ints], weights: list[float], k: float = 10.0, present: list[npt.ArrayLike] | None = None
) -> Floats:
    """Weighted reciprocal rank fusion: Σ wᵢ / (k + rankᵢ).

    ``present`` (optional, one boolean mask per ranking) drops documents a retriever did not really find (e.g. a BM25
    score of zero), so that an arbitrary position among non-matches earns nothing.
    """
    fused = np.zeros(len(rankings[0]), dtype=np.float64)
    for i, (rank, weight) in enumerate(zip(rankings, weights, strict=True)):
        contribution = weight / (k + rank.astype(np.float64))
        if present is not None:
            contribution = np.where(np.asarray(present[i], dtype=bool), contribution, 0.0)
        fused += contribution
    return fused


def rrf_contribution(
    scores: npt.ArrayLike, present: npt.ArrayLike, weight: float, k: float, depth: int = 1000
) -> Floats:
    """One retriever's weighted RRF term, w / (k + rank), for its ``depth`` best documents among those ``present``.

    Equal to the ``weighted_rrf`` term for those documents; deeper ones get 0 instead of a negligible w / (k + rank),
    which keeps the cost proportional to ``depth`` rather than to the corpus size.
    """
    values = np.asarray(scores, dtype=np.float64)
    candidates = np.flatnonzero(np.asarray(present, dtype=bool))
    result = np.zeros(len(values), dtype=np.float64)
    if weight == 0 or candidates.size == 0:
        return result
    if candidates.size > depth:
        candidates = candidates[np.argpartition(-values[candidates], depth - 1)[:depth]]
    result[candidates] = weight / (k + ranks(values[candidates]).astype(np.float64))
    return result


def margin(scores: npt.ArrayLike) -> float:
    """Relative gap between the best and the second-best score (0 when tied or fewer than two)."""
    values = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    if len(values) < 2 or values[0] <= 0:
        return 0.0
    return float((values[0] - values[1]) / values[0])
