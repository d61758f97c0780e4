"""A fake Rasa server and action server behind ``httpx.MockTransport``, speaking the REST channel's JSON.

With ``?stream=true`` the webhook answers as Rasa 3.6's REST channel does (rasa/core/channels/rest.py): one line of JSON
per bot message, ``text/event-stream``, written as the messages come.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx


@dataclass
class FakeRasa:
    """Answers the REST webhook with ``reply(sender, text)``; records what it received."""

    reply: Callable[[str, str], list[dict[str, Any]]] = lambda sender, text: [{"recipient_id": sender, "text": "您好"}]
    actions_up: bool = True
    rasa_status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    #: per sender: the slots its tracker reports (tests set them), and the user/bot events of its exchanges
    slots: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the slots of every sender not in ``slots`` (for tests that do not know the session id in advance)
    default_slots: dict[str, Any] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tracker_status: int = 200
    #: the intent the "NLU" gives a message (reported in the tracker's latest_message)
    intent_of: Callable[[str], str | None] = lambda text: None
    #: streaming: seconds before each line, and the number of lines after which the connection breaks (None: never)
    stream_delay: float = 0.0
    stream_break_after: int | None = None
    #: the times (event-loop clock) at which each streamed line was written
    streamed_at: list[float] = field(default_factory=list)

    def _turn(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        messages = self.reply(body["sender"], body["message"])
        log = self.events.setdefault(body["sender"], [])
        intent = self.intent_of(body["message"])
        parse_data = {"intent": {"name": intent, "confidence": 1.0}} if intent else {}
        log.append(
            {
                "event": "user",
                "text": body["message"],
                "parse_data": parse_data,
                "timestamp": float(len(log)),
                "metadata": body.get("metadata") or {},
            }
        )
        for message in messages:
            data = {k: v for k, v in message.items() if k not in ("recipient_id", "text")}
            log.append({"event": "bot", "text": message.get("text"), "data": data, "timestamp": float(len(log))})
        return messages

    async def _lines(self, messages: list[dict[str, Any]]) -> AsyncIterator[bytes]:
        for number, message in enumerate(messages):
            if self.stream_break_after is not None and number >= self.stream_break_after:
                raise httpx.ReadError("connection reset by peer")
            await asyncio.sleep(self.stream_delay)
            self.streamed_at.append(asyncio.get_running_loop().time())
            yield (json.dumps(message, ensure_ascii=False) + "\n").encode()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            self.received.append(body)
            if self.rasa_status != 200:
                return httpx.Response(self.rasa_status, text="Internal Server Error")
            messages = self._turn(body)
            if request.url.params.get("stream") == "true":
                return httpx.Response(200, content=self._lines(messages), headers={"content-type": "text/event-stream"})
            return httpx.Response(200, json=messages)
        if request.url.path.startswith("/conversations/") and request.url.path.endswith("/tracker"):
            sender = unquote(request.url.path.removeprefix("/conversations/").removesuffix("/tracker"))
            if self.tracker_status != 200:
                return httpx.Response(self.tracker_status, text="Internal Server Error")
            events = self.events.get(sender, [])
            latest = next((e for e in reversed(events) if e["event"] == "user"), None)
            tracker: dict[str, Any] = {
                "sender_id": sender,
                "slots": self.slots.get(sender, self.default_slots),
                "latest_message": {"text": latest["text"], **(latest.get("parse_data") or {})} if latest else {},
                "active_loop": {},
            }
            if request.url.params.get("include_events", "AFTER_RESTART") != "NONE":
                tracker["events"] = events
            return httpx.Response(200, json=tracker)
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "zhiban-x.tar.gz", "num_active_training_jobs": 0})
        if request.url.path == "/health":
            if self.actions_up:
                return httpx.Response(200, json={"status": "ok"})
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(404)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)
