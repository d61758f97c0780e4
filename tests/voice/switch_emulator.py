"""The switch's side of FreeSWITCH mod_audio_stream, for tests and the latency benchmark.

Like the module, it connects to the WebSocket, sends the metadata text first, then L16 frames every 20 ms for as long
as the call lasts (silence when the caller says nothing), sends DTMF and hang-up as text messages, and collects what
the assistant sends back: ``streamAudio`` messages (decoded, with their arrival time) and other JSON events.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.client import connect
from websockets.exceptions import ConnectionClosed

from voice.audio import Pcm, chunks

FRAME_MS = 20


@dataclass(frozen=True)
class Played:
    at: float  # monotonic arrival time
    pcm: Pcm


def decode_stream_audio(message: str) -> Pcm | None:
    """The audio of a ``streamAudio`` message, checked field by field as mod_audio_stream reads it; None otherwise."""
    try:
        data = json.loads(message)
        if data.get("type") != "streamAudio":
            return None
        body = data["data"]
        if body["audioDataType"] != "raw":
            return None
        return Pcm(base64.b64decode(body["audioData"], validate=True), int(body["sampleRate"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None


@dataclass
class SwitchEmulator:
    url: str
    rate: int = 8000
    call_id: str = "3a1f6e0c-fs-uuid"
    metadata: str | None = None
    played: list[Played] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    closed_by_server: bool = False
    #: monotonic time at which the last frame of the last :meth:`say` was sent
    speech_sent_at: float = 0.0

    async def __aenter__(self) -> SwitchEmulator:
        self._ws = await connect(self.url, max_size=None)
        await self._ws.send(self.metadata or json.dumps({"call_id": self.call_id, "sample_rate": self.rate}))
        self._speech: list[bytes] = []
        self._speech_done: asyncio.Event = asyncio.Event()
        self._speech_done.set()
        self._sender = asyncio.create_task(self._send_frames())
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.hang_up()

    async def _send_frames(self) -> None:
        silence = bytes(2 * self.rate * FRAME_MS // 1000)
        tick = time.monotonic()
        with contextlib.suppress(ConnectionClosed):
            while True:
                if self._speech:
                    await self._ws.send(self._speech.pop(0))
                    if not self._speech:
                        self.speech_sent_at = time.monotonic()
                        self._speech_done.set()
                else:
                    await self._ws.send(silence)
                tick += FRAME_MS / 1000
                await asyncio.sleep(max(0.0, tick - time.monotonic()))

    async def _read(self) -> None:
        try:
            async for message in self._ws:
                if isinstance(message, bytes):
                    continue
                pcm = decode_stream_audio(message)
                if pcm is not None:
                    self.played.append(Played(time.monotonic(), pcm))
                else:
                    self.events.append(json.loads(message))
        except ConnectionClosed:
            pass
        self.closed_by_server = True

    async def say(self, pcm: Pcm) -> None:
        """Stream ``pcm`` (at the stream's rate) in real time; returns when its last frame has been sent."""
        assert pcm.rate == self.rate
        self._speech_done.clear()
        self._speech.extend(chunks(pcm, FRAME_MS))
        await self._speech_done.wait()

    async def key(self, digit: str) -> None:
        await self._ws.send(json.dumps({"type": "dtmf", "digit": digit}))

    async def wait_for_playback(self, *, after: float = 0.0, quiet: float = 1.0, timeout: float = 30.0) -> list[Played]:
        """The playback that arrives after ``after``, once nothing more has arrived for ``quiet`` seconds (or the
        server closed the call)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            recent = [p for p in self.played if p.at > after]
            last = max((p.at for p in recent), default=0.0)
            if recent and time.monotonic() - last >= quiet:
                return recent
            if self.closed_by_server:
                return recent
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no playback after {after} within {timeout} s")

    async def hang_up(self) -> None:
        if not self.closed_by_server:
            with contextlib.suppress(ConnectionClosed):
                await self._ws.send(json.dumps({"type": "hangup"}))
        self._sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sender
        await self._ws.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._reader, 5)
