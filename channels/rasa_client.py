"""A small client for the Rasa server's REST channel and the action server's health endpoint.

The transport is injectable (``httpx.AsyncBaseTransport``) so tests can put ``httpx.MockTransport`` in Rasa's place;
in production it talks to Rasa on loopback. Every failure to get an answer becomes :class:`AssistantUnavailable`
with the cause in its context, so callers never see an httpx exception.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx

from channels.errors import AssistantUnavailable

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/rest/webhook"


class RasaClient:
    """Sends one user message to Rasa and returns the bot messages Rasa produced."""

    def __init__(
        self,
        rasa_url: str,
        actions_url: str,
        *,
        timeout: float,
        token: str = "",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._rasa_url = rasa_url.rstrip("/")
        self._actions_url = actions_url.rstrip("/")
        self._token = token
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)), transport=transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Send ``text`` as ``sender`` and return Rasa's messages (possibly empty).

        Raises:
            AssistantUnavailable: Rasa is unreachable, timed out, answered with an error or with something that is
                not a list of messages.
        """
        payload = {"sender": sender, "message": text, "metadata": metadata or {}}
        try:
            response = await self._client.post(f"{self._rasa_url}{WEBHOOK_PATH}", json=payload)
        except httpx.TimeoutException as exc:
            raise AssistantUnavailable(context=f"Rasa did not answer in time: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise AssistantUnavailable(context=f"Rasa unreachable: {exc!r}") from exc
        if response.status_code != 200:
            raise AssistantUnavailable(context=f"Rasa answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            messages = response.json()
        except ValueError as exc:
            raise AssistantUnavailable(context="Rasa answered something that is not JSON") from exc
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise AssistantUnavailable(context=f"unexpected answer from Rasa: {str(messages)[:200]}")
        return messages

    async def stream(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Send ``text`` as ``sender`` and yield Rasa's messages one by one, as Rasa produces them.

        Uses the REST channel's streaming mode (``?stream=true``): Rasa writes each bot message as one line of JSON as
        soon as an action has uttered it. The client's timeout applies to each wait for the next line, so a Rasa that
        stops writing (it does when an exception escapes its message handling) ends the stream with an error.

        Raises:
            AssistantUnavailable: Rasa is unreachable, timed out, answered with an error or wrote a line that is not a
                message — possibly after some messages were yielded.
        """
        payload = {"sender": sender, "message": text, "metadata": metadata or {}}
        url = f"{self._rasa_url}{WEBHOOK_PATH}"
        try:
            async with self._client.stream("POST", url, params={"stream": "true"}, json=payload) as response:
                if response.status_code != 200:
                    body = (await response.aread()).decode("utf-8", "replace")
                    raise AssistantUnavailable(context=f"Rasa answered HTTP {response.status_code}: {body[:200]}")
                async for line in response.aiter_lines():
                    if line.strip():
                        yield _message(line)
        except httpx.TimeoutException as exc:
            raise AssistantUnavailable(context=f"Rasa did not go on in time: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise AssistantUnavailable(context=f"Rasa unreachable or stream broken: {exc!r}") from exc

    async def tracker(self, sender: str, *, events: str = "ALL") -> dict[str, Any]:
        """The conversation's tracker from Rasa's HTTP API: ``slots``, ``latest_message``, ``active_loop`` and, unless
        ``events`` is ``"NONE"``, its ``events`` (``"AFTER_RESTART"``, ``"APPLIED"`` and ``"ALL"`` as in Rasa's API).

        Raises:
            AssistantUnavailable: Rasa is unreachable, timed out or answered with something that is not a tracker.
        """
        try:
            response = await self._client.get(
                f"{self._rasa_url}/conversations/{quote(sender, safe='')}/tracker",
                params={"include_events": events, "token": self._token},
            )
        except httpx.HTTPError as exc:
            raise AssistantUnavailable(context=f"Rasa tracker unreachable: {exc!r}") from exc
        if response.status_code != 200:
            raise AssistantUnavailable(
                context=f"Rasa tracker answered HTTP {response.status_code}: {response.text[:200]}"
            )
        try:
            tracker = response.json()
        except ValueError as exc:
            raise AssistantUnavailable(context="Rasa's tracker is not JSON") from exc
        if not isinstance(tracker, dict):
            raise AssistantUnavailable(context=f"unexpected tracker from Rasa: {str(tracker)[:200]}")
        return tracker

    async def rasa_ready(self) -> bool:
        """Whether Rasa is up and has a model loaded."""
        try:
            response = await self._client.get(f"{self._rasa_url}/status", params={"token": self._token}, timeout=3.0)
        except httpx.HTTPError:
            return False
        if response.status_code != 200:
            return False
        try:
            return bool(response.json().get("model_file"))
        except ValueError:
            return False

    async def actions_ready(self) -> bool:
        """Whether the action server answers its health check."""
        try:
            response = await self._client.get(f"{self._actions_url}/health", timeout=3.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


def _message(line: str) -> dict[str, Any]:
    """One line of Rasa's message stream as a message."""
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise AssistantUnavailable(context=f"Rasa streamed a line that is not JSON: {line[:200]!r}") from exc
    if not isinstance(message, dict):
        raise AssistantUnavailable(context=f"unexpected message streamed by Rasa: {line[:200]!r}")
    return message
