"""The edge-tts backend: Microsoft's online neural voices (zh-CN-XiaoxiaoNeural) through the ``edge-tts`` client.

The client speaks to a WebSocket service; ``url`` replaces the service address (``edge_tts.communicate.WSS_URL``, which
the client reads on every connection) so tests and benchmarks run against a local fake. The process has one such
address: every EdgeBackend sets it before it connects.

Timeouts: ``timeout`` bounds each wait for the service — until the first audio and between two chunks — so a long
text is not cut off while a stalled connection is. Retries and the circuit breaker are the synthesizer's business.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Mapping

import aiohttp
import edge_tts
import edge_tts.communicate
import edge_tts.constants
import edge_tts.exceptions
from edge_tts.typing import TTSChunk

from voice.tts.base import BackendAudio, BackendFailed, Boundary, Profile

log = logging.getLogger(__name__)

TICKS_PER_SECOND = 10_000_000  # edge-tts reports offsets in 100 ns ticks

#: Errors of one attempt: the service refused, closed or garbled the stream, or stayed silent too long.
_FAILURES = (
    aiohttp.ClientError,
    edge_tts.exceptions.EdgeTTSException,
    asyncio.TimeoutError,
    OSError,
    ValueError,
)


class EdgeBackend:
    """edge-tts with one voice and a rate/volume per profile (e.g. elder: ``-20%`` rate, ``+20%`` volume)."""

    name = "edge-tts"

    def __init__(
        self,
        voice: str = "zh-CN-XiaoxiaoNeural",
        prosody: Mapping[Profile, tuple[str, str]] | None = None,
        *,
        timeout: float = 3.0,
        url: str = "",
        boundary: str = "SentenceBoundary",
    ) -> None:
        self._voice = voice
        self.prosody: dict[Profile, tuple[str, str]] = dict(
            prosody or {"standard": ("+0%", "+0%"), "elder": ("-20%", "+20%")}
        )
        self.timeout = timeout
        self.url = url
        self.boundary = boundary

    def voice(self, profile: Profile) -> str:
        rate, volume = self.prosody[profile]
        return f"{self._voice} rate={rate} volume={volume}"

    def _communicate(self, text: str, profile: Profile) -> edge_tts.Communicate:
        rate, volume = self.prosody[profile]
        # the client's own socket timeouts are whole seconds; ours (below) is the precise one
        whole = max(1, math.ceil(self.timeout))
        # the client builds its URL from this module global on every connection
        edge_tts.communicate.WSS_URL = self.url or edge_tts.constants.WSS_URL  # type: ignore[attr-defined]
        return edge_tts.Communicate(
            text,
            self._voice,
            rate=rate,
            volume=volume,
            boundary="WordBoundary" if self.boundary == "WordBoundary" else "SentenceBoundary",
            connect_timeout=whole,
            receive_timeout=whole,
        )

    async def _chunks(self, text: str, profile: Profile) -> AsyncIterator[TTSChunk]:
        communicate = self._communicate(text, profile)
        messages = communicate.stream()
        received = 0
        try:
            while True:
                try:
                    async with asyncio.timeout(self.timeout):
                        chunk = await anext(messages)
                except StopAsyncIteration:
                    break
                except _FAILURES as exc:
                    timeout = isinstance(exc, TimeoutError)
                    kind = "timeout" if timeout else type(exc).__name__
                    raise BackendFailed(self.name, f"{kind}: {exc}", retryable=not timeout) from exc
                if chunk["type"] == "audio":
                    received += len(chunk.get("data", b""))
                yield chunk
        finally:
            await messages.aclose()
        # edge-tts ends quietly when the service closes the socket mid-stream; only ``turn.end`` adds a turn's audio
        # to ``cumulative_audio_bytes`` (edge-tts 7.3.1, tests/voice/test_edge.py checks it), so a shortfall is a cut
        ended = communicate.state["cumulative_audio_bytes"]
        if ended != received:
            raise BackendFailed(self.name, f"stream closed before turn.end ({received} bytes, {ended} complete)")

    async def stream(self, text: str, profile: Profile) -> AsyncIterator[bytes]:
        async for chunk in self._chunks(text, profile):
            if chunk["type"] == "audio" and chunk.get("data"):
                yield chunk["data"]

    async def synthesize(self, text: str, profile: Profile) -> BackendAudio:
        audio: list[bytes] = []
        boundaries: list[Boundary] = []
        async for chunk in self._chunks(text, profile):
            if chunk["type"] == "audio":
                audio.append(chunk.get("data", b""))
            else:
                boundaries.append(
                    Boundary(
                        chunk["type"],
                        chunk.get("offset", 0) / TICKS_PER_SECOND,
                        chunk.get("duration", 0) / TICKS_PER_SECOND,
                        chunk.get("text", ""),
                    )
                )
        return BackendAudio(b"".join(audio), "mp3", tuple(boundaries))
