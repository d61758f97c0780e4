"""A fake Rasa server and action server behind ``httpx.MockTransport``, speaking the REST channel's JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class FakeRasa:
    """Answers the REST webhook with ``reply(sender, text)``; records what it received."""

    reply: Callable[[str, str], list[dict[str, Any]]] = lambda sender, text: [{"recipient_id": sender, "text": "您好"}]
    actions_up: bool = True
    rasa_status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            self.received.append(body)
            if self.rasa_status != 200:
                return httpx.Response(self.rasa_status, text="Internal Server Error")
            return httpx.Response(200, json=self.reply(body["sender"], body["message"]))
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "zhiban-x.tar.gz", "num_active_training_jobs": 0})
        if request.url.path == "/health":
            if self.actions_up:
                return httpx.Response(200, json={"status": "ok"})
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(404)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)
