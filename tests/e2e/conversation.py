"""A person talking to the assistant through the chat API of a running stack."""

from __future__ import annotations

from typing import Any

from tests.e2e.stack import Stack


class Conversation:
    """One person talking to the assistant through the chat API."""

    def __init__(self, stack: Stack, elder: bool = False) -> None:
        self.stack = stack
        self.elder = elder
        self.session_id: str | None = None

    def say(self, text: str) -> list[dict[str, Any]]:
        response = self.stack.chat(text, self.session_id, elder=self.elder)
        assert response.status_code == 200, response.text
        body = response.json()
        self.session_id = body["session_id"]
        replies: list[dict[str, Any]] = body["replies"]
        return replies

    def click(self, replies: list[dict[str, Any]], title: str) -> list[dict[str, Any]]:
        """Press the button titled ``title`` (sends its payload, as the page does)."""
        button = next(b for r in replies for b in r["buttons"] if b["title"] == title)
        return self.say(button["payload"])

    @property
    def conversation_id(self) -> str:
        assert self.session_id is not None
        return self.session_id.split(".")[0]


def answer_of(replies: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in replies if r["type"] in {"answer", "checklist"})
