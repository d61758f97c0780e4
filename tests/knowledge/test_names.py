from __future__ import annotations

import pytest

from knowledge.names import NameMatcher, distinctive_terms, frequent_terms, short_names

ENTRIES = [
    ("P01", "社会保障卡申领", True),
    ("P01", "办社保卡", False),
    ("P02", "社会保障卡补领换领", True),
    ("P02", "社保卡补办", False),
    ("P11", "住房公积金租房提取", True),
    ("P11", "租房提公积金", False),
    ("E01", "企业设立登记", True),
    ("E01", "营业执照", False),
    ("E02", "个体工商户设立登记", True),
    ("E02", "个体营业执照", False),
]


@pytest.fixture(scope="module")
def matcher() -> NameMatcher:
    return NameMatcher(ENTRIES, terms=["社保卡", "公积金"])


@pytest.mark.parametrize(
    ("query", "code", "exact"),
    [
        ("社会保障卡补领换领要什么材料", "P02", True),  # the official name
        ("社保卡补办去哪", "P02", True),  # an alias
        ("社宝卡补办去哪", "P02", False),  # a homophone of an alias
        ("租房提公基金", "P11", False),  # homophone inside an alias
    ],
)
def test_find(matcher: NameMatcher, query: str, code: str, exact: bool) -> None:
    best = matcher.find(query)[0]
    assert (best.code, best.exact) == (code, exact)


def test_shared_alias_is_weaker(matcher: NameMatcher) -> None:
    (match,) = matcher.find("营业执照怎么办")
    assert match.code == "E01" and match.shared
    specific, inside = matcher.find("个体营业执照怎么办")
    assert specific.code == "E02" and specific.strength > match.strength
    assert inside.code == "E01" and not inside.exact  # 营业执照 inside 个体营业执照 is weak evidence


def test_unrelated_words_do_not_match(matcher: NameMatcher) -> None:
    assert matcher.find("公交卡丢了") == []  # gong jiao ka is not gong ji jin
    assert matcher.find("天气预报") == []


@pytest.mark.parametrize(
    ("text", "corrected"),
    [
        ("社宝卡丢了", "社保卡丢了"),
        ("公基金怎么提", "公积金怎么提"),
        ("社保卡丢了", "社保卡丢了"),  # already right
    ],
)
def test_correct(matcher: NameMatcher, text: str, corrected: str) -> None:
    assert matcher.correct(text) == corrected


def test_short_names_skip_ambiguous_ones() -> None:
    names = {
        "P01": ["社会保障卡申领"],
        "P02": ["社会保障卡补领换领"],
        "P24": ["高龄津贴申领", "高龄补贴"],
        "P17": ["居住证申领"],
    }
    assert sorted(short_names(names)) == [("P17", "居住证"), ("P24", "高龄津贴")]


def test_distinctive_and_frequent_terms() -> None:
    names = {"E02": ["个体户执照", "办个体户"], "P06": ["个人交社保", "自己交社保"], "P07": ["领失业金"]}
    assert ("E02", "个体户") in distinctive_terms(names)
    assert ("P06", "交社保") in distinctive_terms(names)
    assert "个体户" in frequent_terms(["个体户执照", "办个体户", "领失业金"])
