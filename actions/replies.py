"""Turning knowledge answers into messages, and the shared access to settings and the searcher."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
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
        "title": f"【{reply.doc_name}】{reply.citations[0].section}" if reply.citations else "",
        "text": f"{reply.text}\n{source_line(reply.citations)}",
        "items": list(reply.lines),
        "citations": [citation_dict(c) for c in reply.citations],
        "item_code": reply.doc_code,
        "aspect": reply.aspect,
    }


def send(
    dispatcher: CollectingDispatcher, payload: dict[str, Any], buttons: list[dict[str, str]] | None = None
) -> None:
    """Send a structured message (the gateway renders ``type``, ``text``, ``items``, ``citations`` and ``buttons``).

    The buttons travel inside the message: Rasa's REST channel drops a custom message's own buttons.
    """
    dispatcher.utter_message(json_message={**payload, "buttons": buttons or []})


def candidate_buttons(candidates: list[tuple[str, str]], intent: str = "ask_service") -> list[dict[str, str]]:
    """Buttons that answer "which one?" with the chosen document's code as the service_item entity."""
    return [{"title": name, "payload": f'/{intent}{{"service_item": "{code}"}}'} for code, name in candidates]


#: In 长辈版 a list longer than ELDER_STEP + 1 lines is told ELDER_STEP lines at a time.
ELDER_STEP = 3
CONTINUE_BUTTON = {"title": "继续", "payload": "/continue"}


def is_elder(tracker: Tracker) -> bool:
    """Whether the person uses 长辈版 (the gateway sends ``elder`` in the message metadata)."""
    metadata = tracker.latest_message.get("metadata") or {}
    return bool(metadata.get("elder")) if isinstance(metadata, dict) else False


def short_sentences(line: str) -> str:
    """One clause per sentence: semicolons become full stops (easier to read and to listen to)."""
    return line.replace("；", "。").replace(";", "。")


def elder_parts(payload: dict[str, Any], step: int = ELDER_STEP) -> list[dict[str, Any]]:
    """Split a long list answer into parts of ``step`` lines, each with its title, position and source.

    A list of at most ``step + 1`` lines (or a message without a title) stays whole. The source line is repeated on every
    part, so each part still says where its facts come from.
    """
    items = [short_sentences(str(line)) for line in payload.get("items") or []]
    title = str(payload.get("title") or "")
    if len(items) <= step + 1 or not title:
        return [payload]
    sources = source_line(tuple(_citation(c) for c in payload.get("citations") or []))
    parts = []
    for start in range(0, len(items), step):
        chunk = items[start : start + step]
        end = start + len(chunk)
        lines = "\n".join(f"{number}. {line}" for number, line in enumerate(chunk, start + 1))
        text = f"{title}（共{len(items)}项，这是第{start + 1}到{end}项）：\n{lines}"
        if sources:
            text += f"\n{sources}"
        if end < len(items):
            text += f"\n后面还有{len(items) - end}项，请说“继续”或点“继续”。"
        parts.append({**payload, "text": text, "items": chunk, "part": [start + 1, end, len(items)]})
    return parts


def _citation(data: dict[str, str]) -> Citation:
    return Citation(
        data["item_code"], data["item_name"], data["section"], data.get("source", ""), data.get("updated_at", "")
    )


def deliver(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    payload: dict[str, Any],
    buttons: list[dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Send an answer — whole, or in 长辈版 a long list in parts — and remember it for "再说一遍" and "继续".

    The answer's own buttons go with its last part; the earlier parts carry a 继续 button.
    """
    parts = elder_parts(payload) if is_elder(tracker) else [payload]
    queued: list[dict[str, Any]] = [
        {"payload": part, "buttons": buttons or [] if i == len(parts) - 1 else [CONTINUE_BUTTON]}
        for i, part in enumerate(parts)
    ]
    send(dispatcher, queued[0]["payload"], queued[0]["buttons"])
    return [SlotSet("last_answer", queued[0]), SlotSet("pending_parts", queued[1:])]
