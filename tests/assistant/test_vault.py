"""Long numbers are swapped for placeholders before Rasa sees a message and put back only for the action server."""

from __future__ import annotations

import pytest

from assistant.settings import Settings
from assistant.vault import PLACEHOLDER, long_numbers, redact, restore

ID = "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        (f"身份证{ID}", [ID]),
        ("电话 138 1234 5678 谢谢", ["138 1234 5678"]),
        ("手机+8613812345678", ["+8613812345678"]),
        ("卡号6222-0000-1234-5678-907", ["6222-0000-1234-5678-907"]),
        ("受理编号SBK-20261121-000123查一下", []),  # receipt numbers stay: people search with them
        ("2026-05-01办的，交了3500元，热线12345", []),
        ("尾号1234", []),
    ],
)
def test_long_numbers(text: str, numbers: list[str]) -> None:
    assert [text[s:e] for s, e in long_numbers(text)] == numbers


def test_round_trip_is_bound_to_the_conversation(settings: Settings) -> None:
    text = f"我叫张三，身份证{ID}，电话13812345678"
    hidden = redact(settings, "conv-1", text)
    assert ID not in hidden and "13812345678" not in hidden
    assert len(PLACEHOLDER.findall(hidden)) == 2 and hidden.startswith("我叫张三，身份证〔号码#")
    assert restore(settings, "conv-1", hidden) == text
    assert restore(settings, "conv-2", hidden) == hidden  # another conversation cannot read them
    raw = b"".join(p.read_bytes() for p in settings.data_dir.glob("zhiban.db*"))
    assert ID.encode() not in raw and b"13812345678" not in raw


def test_text_without_numbers_is_untouched(settings: Settings) -> None:
    assert redact(settings, "c", "社保卡怎么补办") == "社保卡怎么补办"
    assert restore(settings, "c", "没有占位符") == "没有占位符"
