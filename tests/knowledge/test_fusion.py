from __future__ import annotations

import numpy as np
import pytest

from knowledge.fusion import margin, per_document_max, ranks, rrf_contribution, weighted_rrf


def test_per_document_max_over_contiguous_passages() -> None:
    scores = [0.1, 0.9, 0.3, 0.0, 0.5, 0.4]
    assert per_document_max(scores, [0, 2, 3]).tolist() == [0.9, 0.3, 0.5]


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([3.0, 1.0, 2.0], [1, 3, 2]),  # plain order
        ([2.0, 2.0, 1.0], [1, 1, 3]),  # ties share the better rank
        ([0.0, 0.0], [1, 1]),  # all equal
    ],
)
def test_ranks(scores: list[float], expected: list[int]) -> None:
    assert ranks(scores).tolist() == expected


def test_weighted_rrf_and_presence() -> None:
    bm25 = np.array([1, 2, 3])
    dense = np.array([3, 1, 2])
    fused = weighted_rrf([bm25, dense], [1.0, 1.0], k=0)
    assert fused.tolist() == pytest.approx([1 + 1 / 3, 1 / 2 + 1, 1 / 3 + 1 / 2])
    # a document the dense retriever did not really find earns nothing from it
    only_bm25 = weighted_rrf([bm25, dense], [1.0, 1.0], k=0, present=[[True, True, True], [False, False, False]])
    assert only_bm25.tolist() == pytest.approx([1, 1 / 2, 1 / 3])
    # weights scale each retriever
    assert weighted_rrf([bm25], [2.0], k=0).tolist() == pytest.approx([2, 1, 2 / 3])


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([1.0, 0.5], 0.5),
        ([1.0, 1.0], 0.0),
        ([1.0], 0.0),
        ([0.0, 0.0], 0.0),
    ],
)
def test_margin(scores: list[float], expected: float) -> None:
    assert margin(scores) == pytest.approx(expected)


def test_rrf_contribution_matches_full_fusion_for_the_documents_it_keeps() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random(50)
    present = scores > 0.2
    full = weighted_rrf([ranks(np.where(present, scores, -1.0))], [0.8], k=10, present=[present])
    shallow = rrf_contribution(scores, present, 0.8, 10, depth=5)
    kept = np.flatnonzero(shallow)
    assert len(kept) == 5
    assert np.allclose(shallow[kept], full[kept])
    assert set(kept) == set(np.argsort(-np.where(present, scores, -1.0))[:5])
    assert not rrf_contribution(scores, present, 0.0, 10).any()
