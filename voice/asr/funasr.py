"""A client for the FunASR runtime's websocket protocol — the production streaming engine a site may run instead of
Whisper (``ZHIBAN_ASR_BACKEND=funasr``).

The protocol (FunASR ``runtime/docs/websocket_protocol.md``), for one utterance on one connection:

1. the client sends a JSON text message: ``{"mode": "offline"|"online"|"2pass", "wav_name", "wav_format": "pcm",
   "audio_fs": 16000, "is_speaking": true, "chunk_size": [5, 10, 5], "chunk_interval": 10, "itn": true,
   "hotwords": "{\\"社保卡\\": 20, …}"}`` — hotwords are a JSON *string* mapping each word to a weight;
2. binary messages of 16-bit little-endian mono PCM at 16 kHz;
3. ``{"is_speaking": false}`` when the utterance ends;
4. the server answers with JSON messages ``{"mode", "wav_name", "text", "is_final", …}``: in ``offline`` mode one
   message with the whole text (its ``is_final`` is not reliable across server versions, so the first ``offline``
   message ends the utterance); in ``online`` mode partial pieces to be concatenated; in ``2pass`` mode
   ``2pass-online`` previews and ``2pass-offline`` corrected sentences, which are what counts. ``is_final: true``
   ends any mode.

:class:`FunAsrSession` streams (the phone feeds it 20 ms frames as they arrive and may show partial text);
:class:`FunAsrRecognizer` implements :class:`voice.asr.recognizer.Recognizer` for whole utterances. Every failure —
refused connection, handshake error, a server that closes early, malformed messages, silence past the timeout — is
raised as :class:`AsrUnavailable` with the URL and what was happening.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import websockets
import websockets.client
import websockets.exceptions

from assistant.text import normalize_message
from voice.asr.recognizer import ASR_RATE, AsrUnavailable, Transcript
from voice.asr.resampling import StreamResampler
from voice.audio import SAMPLE_WIDTH, Pcm

if TYPE_CHECKING:
    from assistant.settings import Settings

log = logging.getLogger(__name__)

Mode = Literal["offline", "online", "2pass"]

#: Weight FunASR gives each hotword (its examples use 20–30).
HOTWORD_WEIGHT = 20


@dataclass(frozen=True)
class FunAsrConfig:
    url: str = "ws://127.0.0.1:10095"
    mode: Mode = "offline"
    timeout: float = 10.0  # seconds to connect, and to wait for the final result after the end flag
    hotwords: tuple[str, ...] = ()
    itn: bool = True  # inverse text normalisation: 二零二四年 → 2024年
    chunk_size: tuple[int, int, int] = (5, 10, 5)  # 600 ms chunks with 300 ms look-back/ahead (streaming modes)
    chunk_interval: int = 10
    send_ms: int = 60  # bytes per binary message, in ms of audio (what FunASR's own client sends)

    def start_message(self, wav_name: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "mode": self.mode,
            "wav_name": wav_name,
            "wav_format": "pcm",
            "audio_fs": ASR_RATE,
            "is_speaking": True,
            "chunk_size": list(self.chunk_size),
            "chunk_interval": self.chunk_interval,
            "itn": self.itn,
        }
        if self.hotwords:
            message["hotwords"] = json.dumps({w: HOTWORD_WEIGHT for w in self.hotwords}, ensure_ascii=False)
        return message


@dataclass
class _Result:
    """Text collected from the server's messages."""

    mode: Mode
    online: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    done: bool = False

    def add(self, message: dict[str, Any]) -> str:
        """Take one result message; return the partial text so far."""
        kind = str(message.get("mode", self.mode))
        text = str(message.get("text", ""))
        if kind == "2pass-offline":
            self.corrected.append(text)
            self.online.clear()  # the previews of this sentence are superseded
        elif kind == "offline":
            self.corrected.append(text)
            self.done = self.done or self.mode == "offline"
        else:  # "online", "2pass-online"
            self.online.append(text)
        if message.get("is_final") is True:
            self.done = True
        return self.text

    @property
    def text(self) -> str:
        return "".join(self.corrected) + "".join(self.online)


class FunAsrSession:
    """One utterance streamed to a FunASR server. Use ``async with``; :meth:`feed` frames, then :meth:`finish`."""

    def __init__(self, config: FunAsrConfig, on_partial: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.on_partial = on_partial
        self.wav_name = f"zhiban-{uuid.uuid4().hex[:12]}"
        self._socket: websockets.client.WebSocketClientProtocol | None = None
        self._result = _Result(config.mode)
        self._reader: asyncio.Task[None] | None = None
        self._buffer = b""
        self._resampler: StreamResampler | None = None

    def _fail(self, what: str, exc: BaseException | None = None) -> AsrUnavailable:
        detail = f"{type(exc).__name__}: {exc}" if exc else ""
        return AsrUnavailable(
            "the FunASR server failed", context=f"{self.config.url} {what}{': ' if detail else ''}{detail}"
        )

    async def __aenter__(self) -> FunAsrSession:
        try:
            self._socket = await asyncio.wait_for(
                websockets.client.connect(self.config.url, max_size=2**20, open_timeout=None, close_timeout=1),
                self.config.timeout,
            )
            await self._socket.send(json.dumps(self.config.start_message(self.wav_name), ensure_ascii=False))
        except (TimeoutError, OSError, websockets.exceptions.WebSocketException) as exc:
            await self.aclose()
            raise self._fail("connecting", exc) from exc
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, AsrUnavailable):
                await self._reader
        if self._socket is not None:
            await self._socket.close()

    async def _read(self) -> None:
        assert self._socket is not None
        try:
            async for raw in self._socket:
                if isinstance(raw, bytes):
                    raise self._fail("sent binary data where a JSON result was expected")
                try:
                    message = json.loads(raw)
                except ValueError as exc:
                    raise self._fail(f"sent a malformed result {raw[:80]!r}", exc) from exc
                if not isinstance(message, dict) or "text" not in message:
                    raise self._fail(f"sent a result without text {raw[:80]!r}")
                partial = self._result.add(message)
                if self.on_partial is not None:
                    self.on_partial(normalize_message(partial))
                if self._result.done:
                    return
        except websockets.exceptions.ConnectionClosed as exc:
            raise self._fail("closed the connection before the final result", exc) from exc
        raise self._fail("closed the connection before the final result")

    async def feed(self, pcm: Pcm) -> None:
        """Send audio (any rate; resampled to 16 kHz) in messages of ``send_ms`` ms.

        Raises:
            AsrUnavailable: the connection is gone (or the server already failed).
        """
        if self._socket is None:
            raise self._fail("feeding audio outside `async with`")
        if self._reader is not None and self._reader.done():
            self._reader.result()  # raises what the reader hit
            return  # the server already gave its final result: the rest of the audio is not needed
        size = SAMPLE_WIDTH * ASR_RATE * self.config.send_ms // 1000
        if self._resampler is None or self._resampler.rate != pcm.rate:
            self._flush_resampler()
            self._resampler = StreamResampler(pcm.rate)
        self._buffer += self._resampler.push(pcm.samples)
        try:
            while len(self._buffer) >= size:
                await self._socket.send(self._buffer[:size])
                self._buffer = self._buffer[size:]
        except websockets.exceptions.ConnectionClosed as exc:
            raise self._fail("closed the connection while receiving audio", exc) from exc

    def _flush_resampler(self) -> None:
        if self._resampler is not None:
            self._buffer += self._resampler.flush()
            self._resampler = None

    async def finish(self) -> str:
        """Flush the audio, send the end flag and wait for the final text (normalised, simplified).

        Raises:
            AsrUnavailable: the server closed early, sent garbage, or gave no final result within the timeout.
        """
        assert self._socket is not None and self._reader is not None
        self._flush_resampler()
        try:
            if self._buffer:
                await self._socket.send(self._buffer)
                self._buffer = b""
            await self._socket.send(json.dumps({"is_speaking": False}))
        except websockets.exceptions.ConnectionClosed as exc:
            if not self._reader.done():
                raise self._fail("closed the connection before the end of the audio", exc) from exc
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), self.config.timeout)
        except TimeoutError as exc:
            raise self._fail(f"gave no final result within {self.config.timeout:g} s", exc) from exc
        return normalize_message(self._result.text)


class FunAsrRecognizer:
    """:class:`voice.asr.recognizer.Recognizer` over a FunASR websocket server: one connection per utterance."""

    name = "funasr"

    def __init__(self, config: FunAsrConfig, hotword_source: Callable[[], tuple[str, ...]] | None = None) -> None:
        """``hotword_source``, if given, supplies ``config.hotwords`` on first use (reading the knowledge base takes
        seconds; constructing a recognizer should not)."""
        self._config = config
        self._hotword_source = hotword_source

    @property
    def config(self) -> FunAsrConfig:
        if self._hotword_source is not None:
            self._config = replace(self._config, hotwords=self._hotword_source())
            self._hotword_source = None
        return self._config

    @classmethod
    def from_settings(cls, settings: Settings) -> FunAsrRecognizer:
        from voice.asr.hotwords import SEPARATOR, hotwords

        def source() -> tuple[str, ...]:
            # FunASR's hotword list has no token limit like Whisper's prompt: the budget counts characters instead
            return tuple(w for w in hotwords(settings, count_tokens=len).split(SEPARATOR) if w)

        config = FunAsrConfig(
            url=settings.asr_funasr_url, mode=settings.asr_funasr_mode, timeout=settings.asr_funasr_timeout
        )
        return cls(config, source if settings.asr_hotwords else None)

    def session(self, on_partial: Callable[[str], None] | None = None) -> FunAsrSession:
        """A streaming session (``async with recognizer.session() as s: await s.feed(...); await s.finish()``)."""
        return FunAsrSession(self.config, on_partial)

    async def transcribe(self, pcm: Pcm) -> Transcript:
        started = time.perf_counter()
        if self._hotword_source is not None:
            await asyncio.to_thread(lambda: self.config)  # read the knowledge base off the event loop, once
        async with self.session() as session:
            await session.feed(pcm)
            text = await session.finish()
        return Transcript(text, self.name, pcm.duration, time.perf_counter() - started)
