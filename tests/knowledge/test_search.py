"""Search over the bundled corpus with the real offline embedder: behaviour, bad input and quality thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT
from knowledge.evaluate import evaluate, load_questions
from knowledge.search import Searcher
from tests.knowledge.conftest import DATA

DEV_SET = PROJECT_ROOT.parent / "shared" / "eval" / "dev-questions.jsonl"


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("社宝卡丢了咋整", "P02"),  # homophone + dialect
        ("我从来没办过社保卡，第一次办要带啥", "P01"),
        ("租房能提公积金吗", "P11"),
        ("老年证怎么办", "P25"),  # alias
        ("俺爹八十五了，那个高龄补贴咋领", "P24"),  # elderly speech
        ("身份證過期了怎麼換", "P14"),  # traditional characters
        ("生了孩子出生证、上户口、医保、社保卡能一起办吗", "B01"),  # several things at once → the bundle
    ],
)
def test_finds_the_item(searcher: Searcher, question: str, code: str) -> None:
    result = searcher.search(question)
    assert result.top is not None and result.top.code == code, [c.code for c in result.candidates]


def test_hits_carry_citations_and_prefer_the_asked_section(searcher: Searcher) -> None:
    result = searcher.search("补办社保卡要带哪些材料")
    first = result.hits[0]
    assert first.citation.item_code == "P02"
    assert first.citation.section == "申请材料"
    assert first.citation.source and first.citation.updated_at


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("    ", "empty"),
        ("🙂🙂🙂", "empty"),
        ("\x00\x07", "empty"),
        ("<div></div>", "empty"),
    ],
)
def test_nothing_to_search(searcher: Searcher, raw: str, reason: str) -> None:
    result = searcher.search(raw)
    assert result.reason == reason and result.candidates == ()


@pytest.mark.parametrize(
    "raw",
    [
        "社保卡' OR '1'='1",  # SQL fragment
        "<script>alert(1)</script>社保卡补办",  # HTML fragment
        "补办" * 3000,  # 6,000 characters
        "我要" + "\u202e" * 10 + "办社保卡",  # bidi overrides
    ],
)
def test_hostile_input_does_not_crash(searcher: Searcher, raw: str) -> None:
    searcher.search(raw)


def test_out_of_scope_is_not_confident(searcher: Searcher) -> None:
    for question in ["今天天气怎么样", "帮我写一首诗", "护照怎么办理"]:
        result = searcher.search(question)
        assert result.confidence < 0.5, (question, result.candidates[:2])


def quality(searcher: Searcher, path: Path) -> tuple[float, float]:
    corpus = searcher.index.corpus
    names = {d.name: d.code for d in corpus.guides}
    report = evaluate(searcher, load_questions(path, names))
    return report.recall_at_1, report.recall_at_5


@pytest.mark.skipif(not DEV_SET.exists(), reason="the shared development set is not beside this checkout")
def test_quality_on_the_development_set(searcher: Searcher) -> None:
    recall1, recall5 = quality(searcher, DEV_SET)
    assert recall1 >= 0.90 and recall5 >= 0.98


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "min_recall1", "min_recall5"),
    [
        ("own-questions-personal.jsonl", 0.88, 0.97),
        ("own-questions-enterprise.jsonl", 0.80, 0.97),
    ],
)
def test_quality_on_our_own_sets(searcher: Searcher, name: str, min_recall1: float, min_recall5: float) -> None:
    recall1, recall5 = quality(searcher, DATA / name)
    assert recall1 >= min_recall1 and recall5 >= min_recall5, (recall1, recall5)
