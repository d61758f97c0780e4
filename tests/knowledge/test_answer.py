"""Extractive answers over the bundled corpus: the right section, personalised materials, honest refusals."""

from __future__ import annotations

import pytest

from knowledge.answer import answer, applies, material_lines
from knowledge.corpus import Corpus
from knowledge.models import Material
from knowledge.search import Searcher


def all_corpus_text(corpus: Corpus, code: str) -> str:
    return corpus.item(code).model_dump_json()


@pytest.mark.parametrize(
    ("question", "code", "aspect"),
    [
        ("补办社保卡要带什么材料", "P02", "materials"),
        ("身份证补办要多少钱", "P14", "fee"),
        ("居住证多久能办好", "P17", "time"),
        ("结婚登记去哪里办", "P18", "location"),
        ("公积金贷款能在网上申请吗", "P13", "online"),
    ],
)
def test_answers_the_asked_section_with_a_citation(searcher: Searcher, question: str, code: str, aspect: str) -> None:
    reply = answer(searcher, question)
    assert reply.status == "answered", reply
    assert reply.doc_code == code and reply.aspect in {aspect, "faq"}
    assert reply.citations and reply.citations[0].item_code == code
    assert reply.citations[0].source and reply.citations[0].updated_at


def test_answer_words_come_from_the_guide(searcher: Searcher, corpus: Corpus) -> None:
    reply = answer(searcher, "办社保卡要带什么", item="P01", aspect="materials")
    source = all_corpus_text(corpus, "P01")
    for line in reply.lines:
        name = line.split("（")[0]
        assert name in source


def test_materials_follow_the_situation(corpus: Corpus) -> None:
    item = corpus.item("P01")
    everyone = material_lines(item)
    in_person = material_lines(item, {"applicant": "本人", "age": "已满16周岁"})
    by_agent = material_lines(item, {"applicant": "代办", "age": "已满16周岁"})
    assert len(in_person) < len(everyone)
    assert any("代办人居民身份证" in line for line in by_agent)
    assert not any("代办人居民身份证" in line for line in in_person)
    # an unanswered situation keeps the material, marked with its condition
    assert any("代办人居民身份证" in line and "代办时" in line for line in everyone)


@pytest.mark.parametrize(
    ("when", "situation", "needed"),
    [
        ({}, {}, True),  # always needed
        ({"applicant": ["代办"]}, {}, True),  # not yet known: keep it
        ({"applicant": ["代办"]}, {"applicant": "代办"}, True),
        ({"applicant": ["代办"]}, {"applicant": "本人"}, False),
        ({"applicant": ["代办"], "age": ["未满16周岁"]}, {"applicant": "代办", "age": "已满16周岁"}, False),
    ],
)
def test_applies(when: dict[str, list[str]], situation: dict[str, str], needed: bool) -> None:
    material = Material(name="证件材料", required=not when, when=when)
    assert applies(material, situation) is needed


def test_known_item_skips_the_search(searcher: Searcher) -> None:
    reply = answer(searcher, "那要带什么材料", item="社会保障卡补领换领")
    assert reply.status == "answered" and reply.doc_code == "P02" and reply.aspect == "materials"
    assert reply.confidence == 1.0


def test_ambiguous_question_returns_candidates(searcher: Searcher) -> None:
    reply = answer(searcher, "公积金怎么办")
    assert reply.status == "clarify"
    assert {c.code for c in reply.candidates} >= {"P11", "P12"}


@pytest.mark.parametrize("question", ["今天天气怎么样", "帮我写一首关于春天的诗"])
def test_nothing_relevant(searcher: Searcher, question: str) -> None:
    assert answer(searcher, question).status in {"not_found", "clarify"}


def test_empty_and_unknown_item(searcher: Searcher) -> None:
    assert answer(searcher, "   ").status == "empty"
    with pytest.raises(KeyError):
        answer(searcher, "材料", item="不存在的事项")


def test_policy_question_cites_the_policy(searcher: Searcher) -> None:
    reply = answer(searcher, "示例市高龄津贴发放办法是哪个文件规定的发放标准")
    assert reply.citations[0].item_name in {"示例市高龄津贴发放办法", "高龄津贴申领"}
