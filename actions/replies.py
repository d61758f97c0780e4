"""Turning knowledge answers into messages, and the shared access to settings and the searcher."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from assistant.settings import Settings, get_settings
from knowledge.answer import Answer
from knowledge.passages import Citation
from knowledge.search import Searcher
from knowledge.service import get_searcher


def settings() -> Settings:
    return get_settings()


def searcher() -> Searcher:
    """The action server's searcher (loaded on first use; the index is built by `zhiban run` / `zhiban kb build`)."""
    return get_searcher(get_settings(), build=False)


def citation_dict(citation: Citation) -> dict[str, str]:
    return {
        "item_code": citation.item_code,
        "item_name": citation.item_name,
        "section": citation.section,
        "source": citation.source,
        "updated_at": citation.updated_at,
    }


def source_line(citations: tuple[Citation, ...]) -> str:
    return "；".join(f"来源：{c.item_name} · {c.section}" for c in citations)


def answer_payload(reply: Answer, kind: str = "answer") -> dict[str, Any]:
    """The structured message for an answer: its text with the source line, the list lines and the citations."""
    return {
        "type": kind,
        "text": f"{reply.text}\n{source_line(reply.citations)}",
        "items": list(reply.lines),
        "citations": [citation_dict(c) for c in reply.citations],
        "item_code": reply.doc_code,
        "aspect": reply.aspect,
    }


def send(
    dispatcher: CollectingDispatcher, payload: dict[str, Any], buttons: list[dict[str, str]] | None = None
) -> None:
    """Send a structured message (the gateway renders ``type``, ``text``, ``items``, ``citations`` and buttons)."""
    dispatcher.utter_message(json_message=payload, buttons=buttons or [])


def candidate_buttons(candidates: list[tuple[str, str]], intent: str = "ask_service") -> list[dict[str, str]]:
    """Buttons that answer "which one?" with the chosen document's code as the service_item entity."""
    return [{"title": name, "payload": f'/{intent}{{"service_item": "{code}"}}'} for code, name in candidates]
