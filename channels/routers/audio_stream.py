"""A WebSocket endpoint for FreeSWITCH's mod_audio_stream: a hotline's switch forks a call's audio to us and plays back
what the assistant says. The conversation is the phone's (:class:`voice.phone.dialogue.PhoneDialogue`).

The protocol, as mod_audio_stream speaks it (``uuid_audio_stream <uuid> start <ws-url> mono 8k|16k <metadata>``):

- the switch connects and sends the ``metadata`` argument first, as one text message. We read it as JSON
  ``{"call_id": "<uuid>", "sample_rate": 8000}`` (``uuid`` / ``sampleRate`` / ``rate`` are accepted too); anything
  else means an anonymous call at 8 kHz, FreeSWITCH's default;
- then binary messages: L16 (signed 16-bit little-endian) mono at the negotiated rate, 20 ms per message by default;
- later text messages (sent from the dialplan or ESL with ``uuid_audio_stream <uuid> send_text <json>``) carry keys
  and the end of the call: ``{"type": "dtmf", "digit": "0"}``, ``{"type": "hangup"}``; closing the socket ends the
  call too.

What we send back are text messages. Speech is mod_audio_stream's playback message, one per sentence::

    {"type": "streamAudio", "data": {"audioDataType": "raw", "sampleRate": 8000, "audioData": "<base64 L16>"}}

(field names as read by mod_audio_stream's ``AudioStreamer::processMessage`` in amigniter/mod_audio_stream,
``audio_streamer_glue.cpp``: ``type == "streamAudio"``, ``data.audioDataType`` "raw" or "wav", ``data.sampleRate``
for raw audio, ``data.audioData`` base64). mod_audio_stream fires every other message as a ``mod_audio_stream::json``
event for the switch's own logic; we use that for ``{"type": "stopAudio"}`` (a key was pressed: stop playing),
``{"type": "transfer", "data": {"destination": "<sip uri>"}}`` and ``{"type": "hangup"}``.

The endpoint is off (the handshake is refused) unless ``ZHIBAN_PHONE_STREAM_TOKEN`` is set; the switch presents it as
``?token=…`` in the URL or as ``Authorization: Bearer …``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import logging
import time
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from assistant.settings import Settings, get_settings
from voice.audio import Pcm, resample
from voice.phone.dialogue import Audio, HangUp, Key, PhoneDialogue, PhoneServices

log = logging.getLogger(__name__)

router = APIRouter(tags=["phone"])

STREAM_PATH = "/api/v1/phone/stream"
RATES = (8000, 16000)
DTMF_DIGITS = set("0123456789*#")
#: WebSocket close codes: policy violation (no or wrong token) and "try again later" (too many calls).
CLOSE_POLICY, CLOSE_BUSY = 1008, 1013


def stream_audio_message(pcm: Pcm) -> str:
    """mod_audio_stream's playback message for raw L16 audio."""
    return json.dumps(
        {
            "type": "streamAudio",
            "data": {
                "audioDataType": "raw",
                "sampleRate": pcm.rate,
                "audioData": base64.b64encode(pcm.samples).decode("ascii"),
            },
        }
    )


def parse_metadata(text: str) -> tuple[str, int]:
    """(call id, sample rate) from the switch's first message; a new id and 8000 Hz for what is not ours."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return f"stream-{uuid.uuid4().hex}", 8000
    call_id = next((str(data[k]) for k in ("call_id", "uuid", "callId") if data.get(k)), f"stream-{uuid.uuid4().hex}")
    rate = next((data[k] for k in ("sample_rate", "sampleRate", "rate") if k in data), 8000)
    try:
        rate = int(rate)
    except (TypeError, ValueError):
        rate = 8000
    return call_id, rate if rate in RATES else 8000


def parse_event(text: str) -> Key | HangUp | None:
    """A key or the end of the call from a text message; None for anything else (ignored)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    kind = str(data.get("type") or data.get("event") or "").lower()
    if kind == "dtmf":
        digit = str(data.get("digit") or (data.get("data") or {}).get("digit") or "")
        return Key(digit) if digit in DTMF_DIGITS and len(digit) == 1 else None
    if kind in ("hangup", "stop"):
        return HangUp()
    return None


class StreamChannel:
    """A :class:`~voice.phone.dialogue.CallChannel` over one mod_audio_stream WebSocket.

    The switch plays what it is sent; how long that takes is the audio's length, so "played" is tracked by the clock.
    """

    def __init__(self, websocket: WebSocket, rate: int) -> None:
        self.websocket = websocket
        self.rate = rate
        self._played_at = 0.0  # monotonic time at which everything sent so far has been heard
        self._open = True

    async def _send(self, message: str) -> None:
        if not self._open:
            return
        try:
            await self.websocket.send_text(message)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._open = False

    async def play(self, pcm: Pcm) -> None:
        pcm = pcm if pcm.rate == self.rate else resample(pcm, self.rate)
        await self._send(stream_audio_message(pcm))
        self._played_at = max(self._played_at, time.monotonic()) + pcm.duration

    async def wait_played(self) -> None:
        delay = self._played_at - time.monotonic()
        if delay > 0 and self._open:
            await asyncio.sleep(delay)

    async def stop_playing(self) -> None:
        self._played_at = 0.0
        await self._send(json.dumps({"type": "stopAudio"}))

    async def transfer(self, uri: str) -> bool:
        # the switch's event handler transfers the channel; from here the call is no longer ours
        await self._send(json.dumps({"type": "transfer", "data": {"destination": uri}}))
        return self._open

    async def hang_up(self) -> None:
        await self._send(json.dumps({"type": "hangup"}))

    async def close(self) -> None:
        if self._open:
            self._open = False
            with contextlib.suppress(RuntimeError, OSError):
                await self.websocket.close()


def _token_ok(websocket: WebSocket, settings: Settings) -> bool:
    expected = settings.phone_stream_token
    if not expected:
        return False
    given = websocket.query_params.get("token", "")
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        given = given or header[7:].strip()
    return hmac.compare_digest(given.encode(), expected.encode())


def _services(websocket: WebSocket, settings: Settings) -> PhoneServices:
    state = websocket.app.state
    services: PhoneServices | None = getattr(state, "phone_services", None)
    if services is None:
        from voice.phone.services import build_services  # the speech stack loads only when a switch connects

        services = build_services(settings, state.rasa)
        state.phone_services = services
    return services


@router.websocket(STREAM_PATH)
async def audio_stream(websocket: WebSocket) -> None:
    settings: Settings = websocket.app.dependency_overrides.get(get_settings, get_settings)()
    if not _token_ok(websocket, settings):
        await websocket.close(code=CLOSE_POLICY)  # before accept: the handshake is refused (HTTP 403)
        return
    state = websocket.app.state
    active: int = getattr(state, "phone_streams", 0)
    if active >= settings.sip_max_calls:
        await websocket.close(code=CLOSE_BUSY)
        return
    state.phone_streams = active + 1
    await websocket.accept()
    dialogue_task: asyncio.Task[Any] | None = None
    channel: StreamChannel | None = None
    dialogue: PhoneDialogue | None = None
    try:
        first = await websocket.receive()
        if first.get("type") == "websocket.disconnect":
            return
        call_id, rate = parse_metadata(first.get("text") or "")
        channel = StreamChannel(websocket, rate)
        dialogue = PhoneDialogue(_services(websocket, settings), channel, call_id)
        dialogue_task = asyncio.create_task(dialogue.run(), name=f"stream call {call_id}")
        log.info("audio stream %s connected at %d Hz", call_id, rate)
        receiver = asyncio.create_task(_receive(websocket, dialogue, rate))
        done, _ = await asyncio.wait({dialogue_task, receiver}, return_when=asyncio.FIRST_COMPLETED)
        if receiver in done:
            dialogue.deliver(HangUp())
            await dialogue_task
        else:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await receiver
    except WebSocketDisconnect:
        if dialogue is not None:
            dialogue.deliver(HangUp())
        if dialogue_task is not None:
            await dialogue_task
    finally:
        state.phone_streams = getattr(state, "phone_streams", 1) - 1
        if channel is not None:
            await channel.close()


async def _receive(websocket: WebSocket, dialogue: PhoneDialogue, rate: int) -> None:
    """Feed the switch's messages to the dialogue until the switch hangs up or closes the socket."""
    leftover = b""
    while True:
        message = await websocket.receive()
        if message.get("type") == "websocket.disconnect":
            return
        data = message.get("bytes")
        if data:
            data = leftover + data
            cut = len(data) - len(data) % 2
            leftover = data[cut:]
            if cut:
                dialogue.deliver(Audio(Pcm(data[:cut], rate)))
            continue
        event = parse_event(message.get("text") or "")
        if isinstance(event, HangUp):
            dialogue.deliver(event)
            return
        if event is not None:
            dialogue.deliver(event)
