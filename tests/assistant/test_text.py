from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.text import normalize_message


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  你好  ", "你好"),  # ends trimmed
        ("社保卡　补办", "社保卡 补办"),  # ideographic space becomes one ASCII space
        ("ＡＢＣ１２３", "ABC123"),  # full-width letters and digits become half-width
        ("身份證過期了怎麼辦", "身份证过期了怎么办"),  # traditional becomes simplified
        ("你\u200b好\x07", "你好"),  # zero-width and control characters removed
        ("第一行\r\n第二行", "第一行\n第二行"),  # Windows line ends
        ("材料。地点、时间", "材料。地点、时间"),  # Chinese punctuation kept
        ("\n\n\t ", ""),  # nothing left
    ],
)
def test_normalize_message(raw: str, clean: str) -> None:
    assert normalize_message(raw) == clean


@given(st.text(max_size=200))
def test_normalize_is_idempotent_and_strips_controls(text: str) -> None:
    once = normalize_message(text)
    assert normalize_message(once) == once
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in once)
    assert once == once.strip()
