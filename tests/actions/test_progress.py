"""Reading proofs and explaining a status."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.progress import progress_text, proof_in
from assistant.applications import Receipt


@pytest.mark.parametrize(
    ("text", "proof"),
    [
        ("1234", "1234"),
        ("后四位是002x", "002X"),
        ("尾号 5678 谢谢", "5678"),
        ("不记得了", None),
        ("123", None),
        ("12345", None),
    ],
)
def test_proof_in(text: str, proof: str | None) -> None:
    assert proof_in(text) == proof


def test_progress_text_explains_the_status_and_its_note() -> None:
    at = dt.datetime(2026, 11, 30, 9, 30)
    receipt = Receipt(
        "SBK-20261130-000001", "f", "P02", "社会保障卡补领换领申请", "correction", at, at, (),
        (("submitted", "", at), ("correction", "照片不清晰", at)),
    )  # fmt: skip
    text = progress_text(receipt)
    assert "当前状态：需补正" in text and "说明：照片不清晰" in text and text.endswith("补正后会重新审核。")
