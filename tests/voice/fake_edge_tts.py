"""A local fake of Microsoft's edge-tts WebSocket service, speaking the protocol edge-tts 7.3.1 expects.

The protocol (edge_tts/communicate.py): the client connects to ``WSS_URL&ConnectionId=…&Sec-MS-GEC=…``, sends a text
message ``Path:speech.config`` (JSON: boundary options, output format) and a text message ``Path:ssml`` (headers, a blank
line, the SSML with ``<prosody rate= volume=>``). The service answers with text messages ``Path:turn.start``, then for
each sentence ``Path:audio.metadata`` (JSON ``{"Metadata": [{"Type": "SentenceBoundary" | "WordBoundary", "Data":
{"Offset", "Duration", "text": {"Text"}}}]}``, offsets in 100 ns ticks) and binary messages ``<2-byte big-endian header
length><headers ending in \\r\\n><MP3 bytes>`` with ``Path:audio``; finally ``Path:turn.end``.

The audio is real speech: espeak-ng says the text (slower or faster as the SSML's rate asks), encoded by PyAV as the
service's ``audio-24khz-48kbitrate-mono-mp3``, so what a test hears can be transcribed. ``mode`` makes the fake
misbehave the ways the real service does: close before or in the middle of the audio, stall, refuse the handshake,
send a message the client does not know.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal
from xml.sax.saxutils import unescape

import websockets
import websockets.exceptions
import websockets.server
from websockets.datastructures import Headers

from voice.audio import Pcm, decode, encode, resample

Mode = Literal["ok", "close_before_audio", "close_mid_stream", "stall", "reject", "unknown_path"]
TICKS = 10_000_000
CHUNK = 4096  # bytes of MP3 per binary message (the real service sends a few KB at a time)
_SENTENCE = re.compile(r"[^。！？；!?;]+[。！？；!?;]*")


@dataclass
class Request:
    """One synthesis request as the fake received it."""

    path: str
    headers: dict[str, str]
    config: dict[str, Any]
    ssml: str

    @property
    def text(self) -> str:
        match = re.search(r"<prosody[^>]*>(.*)</prosody>", self.ssml, re.S)
        return unescape(match.group(1)) if match else ""

    def prosody(self, name: str) -> str:
        match = re.search(rf"{name}='([^']*)'", self.ssml)
        return match.group(1) if match else ""

    @property
    def voice(self) -> str:
        match = re.search(r"<voice name='([^']*)'>", self.ssml)
        return match.group(1) if match else ""


def speak_pcm(text: str, rate: str = "+0%", volume: str = "+0%") -> Pcm:
    """Mandarin speech for ``text`` at 24 kHz (espeak-ng; the SSML's rate and volume change its speed and amplitude)."""
    percent = int(rate.rstrip("%") or 0)
    amplitude = max(0, min(200, round(100 * (1 + int(volume.rstrip("%") or 0) / 100))))
    speed = max(80, round(160 * (1 + percent / 100)))
    wav = subprocess.run(
        ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", str(speed), "-a", str(amplitude), "--stdin", "--stdout"],
        input=text.encode("utf-8"),
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    return resample(decode(wav), 24000)


def bare_mp3(pcm: Pcm) -> bytes:
    """MP3 frames only (no ID3 tag, no Xing frame), 48 kbit/s CBR: what the service streams."""
    return encode(
        pcm,
        "mp3",
        "libmp3lame",
        bit_rate=48_000,
        container_options={"id3v2_version": "0", "write_xing": "0"},
        codec_options={"compression_level": "7"},
    )


def _text_message(request_id: str, path: str, body: str) -> str:
    return f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\nPath:{path}\r\n\r\n{body}"


def _audio_message(request_id: str, data: bytes) -> bytes:
    header = f"X-RequestId:{request_id}\r\nContent-Type:audio/mpeg\r\nX-StreamId:{uuid.uuid4().hex}\r\nPath:audio\r\n"
    encoded = header.encode("utf-8")
    return len(encoded).to_bytes(2, "big") + encoded + data


def _parse_text(message: str) -> tuple[dict[str, str], str]:
    head, _, body = message.partition("\r\n\r\n")
    headers = dict(line.split(":", 1) for line in head.split("\r\n") if ":" in line)
    return headers, body


@dataclass
class FakeEdgeTTS:
    """The fake service; ``mode`` may be changed between requests. ``requests`` records every request."""

    mode: Mode = "ok"
    #: seconds before the first audio (a slow service), and between chunks
    first_audio_delay: float = 0.0
    chunk_delay: float = 0.0
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    @property
    def url(self) -> str:
        """The value for ``settings.tts_edge_url`` (what edge-tts' WSS_URL is set to)."""
        return f"ws://127.0.0.1:{self.port}/consumer/speech/synthesize/readaloud/edge/v1?TrustedClientToken=fake"

    async def _process_request(self, path: str, headers: Headers) -> tuple[HTTPStatus, Headers, bytes] | None:
        self.connections += 1
        if self.mode == "reject":
            return HTTPStatus.SERVICE_UNAVAILABLE, Headers([("Content-Type", "text/plain")]), b"Service Unavailable"
        return None

    async def _handle(self, websocket: websockets.server.WebSocketServerProtocol) -> None:
        with suppress(websockets.exceptions.ConnectionClosed):
            await self._serve(websocket)

    async def _serve(self, websocket: websockets.server.WebSocketServerProtocol) -> None:
        config_headers, config_body = _parse_text(str(await websocket.recv()))
        assert config_headers.get("Path") == "speech.config", config_headers
        ssml_headers, ssml = _parse_text(str(await websocket.recv()))
        assert ssml_headers.get("Path") == "ssml", ssml_headers
        request = Request(websocket.path, dict(websocket.request_headers.raw_items()), json.loads(config_body), ssml)
        self.requests.append(request)
        request_id = ssml_headers.get("X-RequestId", uuid.uuid4().hex)
        if self.mode == "close_before_audio":
            await websocket.close(1011, "internal error")
            return
        await websocket.send(_text_message(request_id, "turn.start", '{"context": {"serviceTag": "fake"}}'))
        if self.mode == "unknown_path":
            await websocket.send(_text_message(request_id, "surprise", "{}"))
            await websocket.wait_closed()
            return
        if self.mode == "stall":
            await websocket.wait_closed()  # the client gives up (or the server shuts down)
            return
        options = request.config["context"]["synthesis"]["audio"]["metadataoptions"]
        words = options.get("wordBoundaryEnabled") == "true"
        await asyncio.sleep(self.first_audio_delay)
        sentences = [s.strip() for s in _SENTENCE.findall(request.text) if s.strip()] or [request.text]
        rate, volume = request.prosody("rate"), request.prosody("volume")
        offset = 0
        sent = 0
        # like the service, sentence by sentence: the first audio goes out before the rest is synthesised
        for sentence in sentences:
            pcm = await asyncio.to_thread(speak_pcm, sentence, rate, volume)
            mp3 = await asyncio.to_thread(bare_mp3, pcm)  # bare frames: the pieces join into one stream
            duration = round(pcm.duration * TICKS)
            pieces = list(sentence) if words else [sentence]
            step = duration // max(1, len(pieces))
            kind = "WordBoundary" if words else "SentenceBoundary"
            for i, piece in enumerate(pieces):
                data = {"Offset": offset + i * step, "Duration": step, "text": {"Text": piece, "Length": len(piece)}}
                metadata = {"Metadata": [{"Type": kind, "Data": data}]}
                await websocket.send(_text_message(request_id, "audio.metadata", json.dumps(metadata)))
            offset += duration
            for start in range(0, len(mp3), CHUNK):
                if self.mode == "close_mid_stream" and sent == 1:
                    await websocket.close(1011, "stream broken")
                    return
                await websocket.send(_audio_message(request_id, mp3[start : start + CHUNK]))
                sent += 1
                await asyncio.sleep(self.chunk_delay)
        await websocket.send(_text_message(request_id, "turn.end", "{}"))

    @contextmanager
    def running(self) -> Iterator[FakeEdgeTTS]:
        """Serve on a free loopback port in a background thread (so sync tests, the gateway and benchmarks can use it)."""
        loop = asyncio.new_event_loop()
        started = threading.Event()
        stop: asyncio.Future[None] | None = None

        async def main() -> None:
            nonlocal stop
            stop = loop.create_future()
            async with websockets.server.serve(
                self._handle, "127.0.0.1", 0, process_request=self._process_request, max_size=2**22
            ) as server:
                self.port = next(iter(server.sockets)).getsockname()[1]
                started.set()
                await stop

        thread = threading.Thread(target=loop.run_until_complete, args=(main(),), name="fake-edge-tts", daemon=True)
        thread.start()
        if not started.wait(10):
            raise RuntimeError("fake edge-tts server did not start")
        try:
            yield self
        finally:
            assert stop is not None
            loop.call_soon_threadsafe(stop.set_result, None)
            thread.join(10)
            loop.close()
