"""Hotwords from the knowledge base: which words, in which order, within the token budget."""

from __future__ import annotations

from pathlib import Path

import pytest
import tokenizers
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.settings import Settings
from knowledge.corpus import BUNDLED_KB
from voice.asr.hotwords import (
    SEPARATOR,
    Names,
    _is_word,
    corpus_names,
    estimate_tokens,
    hotwords,
    select_hotwords,
)
from voice.asr.model_files import ModelParts

DOCUMENTS = [
    Names("社会保障卡申领", ("办社保卡", "申请社保卡", "社保卡办理")),
    Names("社会保障卡补领换领", ("补办社保卡", "社保卡挂失", "社保卡丢了", "社保卡换卡")),
    Names("住房公积金租房提取", ("租房提公积金", "公积金租房提取")),
    Names("住房公积金购房提取", ("买房提公积金", "公积金购房提取")),
    Names("高龄津贴申领", ("高龄补贴", "80岁老人补贴")),
    Names("居住证申领", ("办居住证", "暂住证")),
]


@pytest.fixture(scope="module")
def whisper_tokens() -> tokenizers.Tokenizer:
    """Whisper's own tokenizer, from the model package (no model load)."""
    return tokenizers.Tokenizer.from_file(str(ModelParts.from_packages().side_dir / "tokenizer.json"))


def count_with(tokenizer: tokenizers.Tokenizer, text: str) -> int:
    return len(tokenizer.encode(" " + text, add_special_tokens=False).ids)


def test_shared_terms_come_first_then_every_document_is_named() -> None:
    words = select_hotwords(DOCUMENTS, budget=200)
    # 社保卡 (7 names and aliases) and 公积金 (6) recur across documents: one word each helps many questions
    assert words[:2] == ["社保卡", "公积金"]
    assert {"高龄津贴", "居住证"} <= set(words)
    for document in DOCUMENTS:  # every document is covered by at least one hotword
        assert any(w in s for w in words for s in document.surfaces), document.name


def test_no_word_repeats_part_of_another() -> None:
    words = select_hotwords(DOCUMENTS, budget=200)
    assert len(words) == len(set(words))
    for a in words:
        assert not any(a != b and a in b for b in words), a


@pytest.mark.parametrize(
    ("gram", "word"),
    [
        ("社保卡", True),  # 办社保卡, 补办社保卡 …, 社保卡挂失: different neighbours on both sides
        ("公积金", True),
        ("保卡挂", False),  # always 社 before and 失 after
        ("提公积", False),  # always 金 after
    ],
)
def test_words_are_told_from_fragments_by_their_neighbours(gram: str, word: bool) -> None:
    surfaces = [s for d in DOCUMENTS for s in d.surfaces]
    assert _is_word(gram, surfaces) is word


def test_a_small_budget_keeps_the_most_useful_words() -> None:
    assert select_hotwords(DOCUMENTS, budget=estimate_tokens("社保卡")) == ["社保卡"]
    assert select_hotwords(DOCUMENTS, budget=0) == []
    assert select_hotwords([], budget=100) == []


@settings(max_examples=60, deadline=None)
@given(budget=st.integers(min_value=0, max_value=300))
def test_the_budget_is_never_exceeded(budget: int) -> None:
    words = select_hotwords(DOCUMENTS, budget=budget)
    assert estimate_tokens(SEPARATOR.join(words)) <= budget


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(
        st.text(alphabet="社保卡公积金居住证办理申领补贴高龄津个体工商户", min_size=2, max_size=9),
        min_size=1,
        max_size=8,
    ),
    budget=st.integers(min_value=0, max_value=120),
)
def test_any_names_give_words_from_them_within_budget(names: list[str], budget: int) -> None:
    documents = [Names(n, tuple(names[:i])) for i, n in enumerate(names)]
    words = select_hotwords(documents, budget=budget)
    assert estimate_tokens(SEPARATOR.join(words)) <= budget
    assert all(any(w in n for n in names) for w in words)


def test_the_estimate_over_counts_whispers_tokens(whisper_tokens: tokenizers.Tokenizer) -> None:
    # so a budget kept with the estimate is kept with the real tokenizer too
    text = SEPARATOR.join(select_hotwords(corpus_names(BUNDLED_KB), budget=400))
    assert count_with(whisper_tokens, text) <= estimate_tokens(text)


def test_with_whispers_tokenizer_the_bundled_names_fit_faster_whispers_cap(
    whisper_tokens: tokenizers.Tokenizer,
) -> None:
    words = select_hotwords(corpus_names(BUNDLED_KB), budget=200, count_tokens=lambda t: count_with(whisper_tokens, t))
    assert count_with(whisper_tokens, SEPARATOR.join(words)) <= 200 < 223  # faster-whisper cuts hotwords at 223
    assert {"社保卡", "公积金", "居住证", "个体户", "高龄津贴"} <= set(words)
    assert len(words) >= 25


def test_settings_switch_hotwords_off(settings: Settings) -> None:
    assert hotwords(settings.model_copy(update={"asr_hotwords": False})) == ""
    assert "社保卡" in hotwords(settings).split(SEPARATOR)


def test_a_changed_knowledge_base_gives_new_hotwords(kb_settings: Settings, kb_copy: Path) -> None:
    before = hotwords(kb_settings).split(SEPARATOR)
    assert "居住证" not in before  # the small copy has 社保卡 items and 高龄津贴 only
    item = kb_copy / "items" / "P24.yml"
    data = yaml.safe_load(item.read_text(encoding="utf-8"))
    data["aliases"] = [*data["aliases"], "居住证明补贴", "居住证补贴", "持居住证领补贴"]
    item.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert "居住证" in hotwords(kb_settings).split(SEPARATOR)
