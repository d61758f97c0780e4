"""A fake FunASR runtime server on a real loopback port, speaking its websocket protocol and recording what it got.

Protocol as in FunASR's ``runtime/docs/websocket_protocol.md``: a JSON start message, binary PCM, ``{"is_speaking":
false}``; results as JSON ``{"mode", "wav_name", "text", "is_final"}``. Like the real C++ server, the ``offline``
result carries ``is_final: false``. ``behaviour`` selects a failure: ``close`` (closes after the start message),
``garbage`` (answers with text that is not JSON), ``binary`` (answers with bytes), ``silent`` (never answers),
``reject`` (refuses the websocket handshake with HTTP 500), ``no_text`` (a result without text).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import websockets.server
from websockets.datastructures import Headers

ONLINE_PIECES = 3  # the online modes send the text in this many pieces


@dataclass
class FakeFunAsr:
    text: str = "我想补办社保卡"
    behaviour: str = "ok"
    port: int = 0
    starts: list[dict[str, Any]] = field(default_factory=list)
    audio: list[bytes] = field(default_factory=list)  # binary messages of the last connection
    ends: int = 0  # end flags received

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def audio_bytes(self) -> int:
        return sum(len(a) for a in self.audio)

    def _pieces(self) -> list[str]:
        size = max(1, -(-len(self.text) // ONLINE_PIECES))
        return [self.text[i : i + size] for i in range(0, len(self.text), size)]

    async def _reject(self, path: str, headers: Headers) -> tuple[HTTPStatus, list[tuple[str, str]], bytes] | None:
        if self.behaviour == "reject":
            return HTTPStatus.INTERNAL_SERVER_ERROR, [], b"server busy"
        return None

    async def _handle(self, socket: websockets.server.WebSocketServerProtocol) -> None:
        self.audio = []
        start = json.loads(await socket.recv())
        self.starts.append(start)
        mode, name = start["mode"], start["wav_name"]
        if self.behaviour == "close":
            await socket.close(code=1011, reason="internal error")
            return
        sent_online = 0
        pieces = self._pieces()
        async for message in socket:
            if isinstance(message, bytes):
                self.audio.append(message)
                # streaming modes answer while audio arrives: one preview piece every few messages
                if mode in ("online", "2pass") and len(self.audio) % 4 == 0 and sent_online < len(pieces) - 1:
                    kind = "online" if mode == "online" else "2pass-online"
                    await socket.send(
                        json.dumps({"mode": kind, "wav_name": name, "text": pieces[sent_online], "is_final": False})
                    )
                    sent_online += 1
                continue
            if json.loads(message).get("is_speaking") is not False:
                continue
            self.ends += 1
            await self._answer(socket, mode, name, pieces, sent_online)

    async def _answer(
        self, socket: websockets.server.WebSocketServerProtocol, mode: str, name: str, pieces: list[str], sent: int
    ) -> None:
        if self.behaviour == "silent":
            await socket.wait_closed()  # answer nothing until the client gives up
            return
        if self.behaviour == "garbage":
            await socket.send("<html>502 Bad Gateway</html>")
            return
        if self.behaviour == "binary":
            await socket.send(b"\x00\x01")
            return
        if self.behaviour == "no_text":
            await socket.send(json.dumps({"mode": mode, "wav_name": name, "is_final": True}))
            return
        if mode == "offline":
            result = {"mode": "offline", "wav_name": name, "text": self.text, "is_final": False}
            await socket.send(json.dumps(result, ensure_ascii=False))
        elif mode == "online":
            for piece in pieces[sent:-1]:
                await socket.send(json.dumps({"mode": "online", "wav_name": name, "text": piece, "is_final": False}))
            await socket.send(json.dumps({"mode": "online", "wav_name": name, "text": pieces[-1], "is_final": True}))
        else:  # 2pass: the corrected sentence replaces the previews
            await socket.send(
                json.dumps({"mode": "2pass-offline", "wav_name": name, "text": self.text, "is_final": True})
            )


@asynccontextmanager
async def running(fake: FakeFunAsr) -> AsyncIterator[FakeFunAsr]:
    """Serve ``fake`` on a free loopback port for the duration of the block."""
    async with websockets.server.serve(fake._handle, "127.0.0.1", 0, process_request=fake._reject) as server:
        fake.port = next(iter(server.sockets)).getsockname()[1]
        yield fake
