"""A submitted 社会保障卡补领换领 application for tests that need one in the store."""

from __future__ import annotations

from assistant import applications as apps
from assistant.settings import Settings


def submit_card_application(
    settings: Settings,
    *,
    user: str,
    key: str,
    answers: dict[str, str],
    summary: list[str],
    proofs: list[str],
) -> tuple[apps.Receipt, bool]:
    return apps.submit(
        settings,
        form_code="social_security_card",
        item_code="P02",
        title="社会保障卡补领换领申请",
        receipt_prefix="SBK",
        user_key=user,
        idempotency_key=key,
        answers=answers,
        summary=summary,
        proofs=proofs,
    )
