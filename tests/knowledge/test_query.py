from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.query import MAX_QUERY_CHARS, normalize_query


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("社保卡丢了咋整？", "社保卡丢失怎么办?"),  # dialect and colloquial words rewritten
        ("請問身份證過期了怎麼辦", "身份证过期了怎么办"),  # traditional → simplified, filler removed
        ("你好，麻烦问一下公积金怎么提", ",公积金怎么提"),  # greeting and filler removed
        ("俺娃上学要啥材料", "我孩子上学要什么材料"),  # dialect pronouns and nouns
        ("<b>社保卡</b>怎么办", "社保卡 怎么办"),  # markup removed
    ],
)
def test_normalize_query(raw: str, text: str) -> None:
    assert normalize_query(raw).text.strip(" ,") == text.strip(" ,")


@pytest.mark.parametrize(
    "raw",
    [
        "",  # nothing
        "   \n\t ",  # whitespace only
        "😀😀🎉",  # emoji only
        "？？？！！。。",  # punctuation only
        "\x00\x01\x1b[31m",  # control characters
        "<script></script>",  # markup only
    ],
)
def test_nothing_searchable(raw: str) -> None:
    assert normalize_query(raw).empty


def test_sql_fragment_is_just_text() -> None:
    query = normalize_query("社保卡'; DROP TABLE applications; --")
    assert not query.empty and "社保卡" in query.compact


def test_very_long_input_keeps_the_end() -> None:
    story = "我家里情况比较复杂，" * 600 + "社保卡丢了怎么补办"
    query = normalize_query(story)
    assert len(query.text) <= MAX_QUERY_CHARS
    assert query.text.endswith("社保卡丢失怎么补办")


@given(st.text(max_size=300))
def test_never_raises_and_compact_has_no_punctuation(raw: str) -> None:
    query = normalize_query(raw)
    assert len(query.text) <= MAX_QUERY_CHARS
    assert not any(ch in query.compact for ch in " ，。？！,.?!")
