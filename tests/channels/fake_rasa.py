"""A fake Rasa server and action server behind ``httpx.MockTransport``, speaking the REST channel's JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
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
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tracker_status: int = 200

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            self.received.append(body)
            if self.rasa_status != 200:
                return httpx.Response(self.rasa_status, text="Internal Server Error")
            messages = self.reply(body["sender"], body["message"])
            log = self.events.setdefault(body["sender"], [])
            log.append({"event": "user", "text": body["message"], "timestamp": float(len(log)), "metadata": {}})
            for message in messages:
                data = {k: v for k, v in message.items() if k not in ("recipient_id", "text")}
                log.append({"event": "bot", "text": message.get("text"), "data": data, "timestamp": float(len(log))})
            return httpx.Response(200, json=messages)
        if request.url.path.startswith("/conversations/") and request.url.path.endswith("/tracker"):
            sender = unquote(request.url.path.removeprefix("/conversations/").removesuffix("/tracker"))
            if self.tracker_status != 200:
                return httpx.Response(self.tracker_status, text="Internal Server Error")
            events = self.events.get(sender, [])
            tracker: dict[str, Any] = {
                "sender_id": sender,
                "slots": self.slots.get(sender, {}),
                "latest_message": next((e for e in reversed(events) if e["event"] == "user"), {}),
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
