"""The mod_audio_stream WebSocket endpoint, driven by an emulated switch over a real socket (uvicorn in a thread).

Speech is faked (a tone for the assistant, a fixed transcript for the caller) but the endpointer is the real one
(voice.vad with its energy detector), so the switch's real-time L16 frames are what ends each utterance.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from assistant.settings import Settings
from channels.main import create_app
from channels.routers.audio_stream import STREAM_PATH, parse_event, parse_metadata, stream_audio_message
from tests.channels.fake_rasa import FakeRasa
from tests.voice.phone_doubles import FixedRecognizer, ScriptedRasa, ToneSynthesizer, fake_redact, tone
from tests.voice.switch_emulator import SwitchEmulator, decode_stream_audio
from voice.phone.dialogue import HangUp, Key, PhoneServices
from voice.phone.listen import make_listener
from voice.phone.spoken import PROMPTS
from voice.vad import EndpointConfig

TOKEN = "switch-token-0123456789"


@pytest.mark.parametrize(
    ("text", "expected_rate"),
    [
        ('{"call_id": "abc", "sample_rate": 16000}', 16000),  # ours
        ('{"uuid": "abc", "sampleRate": "8000"}', 8000),  # FreeSWITCH-style names, rate as text
        ('{"call_id": "abc", "rate": 44100}', 8000),  # a rate mod_audio_stream cannot send: its default
        ("caller 13800000000", 8000),  # free text metadata: an anonymous call at 8 kHz
        ("", 8000),  # no metadata at all
    ],
)
def test_metadata_gives_the_call_id_and_rate(text: str, expected_rate: int) -> None:
    call_id, rate = parse_metadata(text)
    assert rate == expected_rate
    assert (call_id == "abc") == text.startswith("{")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type": "dtmf", "digit": "0"}', Key("0")),
        ('{"event": "DTMF", "data": {"digit": "*"}}', Key("*")),  # nested, upper case
        ('{"type": "dtmf", "digit": "12"}', None),  # one key per message
        ('{"type": "dtmf", "digit": "A"}', None),  # not a phone key
        ('{"type": "hangup"}', HangUp()),
        ('{"type": "something"}', None),  # unknown events are ignored
        ("not json", None),
        ("[1, 2]", None),
    ],
)
def test_text_messages_are_keys_or_the_end_of_the_call(text: str, expected: Any) -> None:
    assert parse_event(text) == expected


def test_playback_messages_have_mod_audio_stream_s_field_names() -> None:
    pcm = tone(0.1, 8000)
    message = stream_audio_message(pcm)
    assert '"type": "streamAudio"' in message and '"audioDataType": "raw"' in message
    assert '"sampleRate": 8000' in message and '"audioData": "' in message
    assert decode_stream_audio(message) == pcm


@pytest.mark.parametrize(
    ("token", "url"),
    [
        ("", f"{STREAM_PATH}?token={TOKEN}"),  # no token configured: the endpoint is off
        (TOKEN, STREAM_PATH),  # configured, not presented
        (TOKEN, f"{STREAM_PATH}?token=wrong-token-0123456789"),  # wrong
    ],
)
def test_the_handshake_is_refused_without_the_right_token(settings: Settings, token: str, url: str) -> None:
    app = create_app(settings.model_copy(update={"phone_stream_token": token}), rasa_transport=FakeRasa().transport())
    with TestClient(app) as client, pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(url):
        pass
    assert refused.value.code == 1008


def stream_services(settings: Settings, rasa: ScriptedRasa, recognizer: FixedRecognizer) -> PhoneServices:
    return PhoneServices(
        settings=settings,
        synthesizer=ToneSynthesizer(),
        recognizer=recognizer,
        rasa=rasa,
        redact=fake_redact,
        endpointer=functools.partial(make_listener, EndpointConfig(detector="energy", silence_ms=500)),
    )


@pytest.fixture
def gateway(settings: Settings) -> Iterator[tuple[str, Any, ScriptedRasa, FixedRecognizer]]:
    configured = settings.model_copy(update={"phone_stream_token": TOKEN, "phone_silence_seconds": 8.0})
    app = create_app(configured, rasa_transport=FakeRasa().transport())
    rasa, recognizer = ScriptedRasa(), FixedRecognizer()
    app.state.phone_services = stream_services(configured, rasa, recognizer)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=configured.gateway_port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    yield f"ws://127.0.0.1:{configured.gateway_port}{STREAM_PATH}?token={TOKEN}", app, rasa, recognizer
    server.should_exit = True
    thread.join(10)


def seconds(played: list[Any]) -> float:
    return float(sum(p.pcm.duration for p in played))


@pytest.mark.slow
@pytest.mark.parametrize("rate", [8000, 16000])
def test_a_streamed_call_is_greeted_heard_answered_and_repeats_on_star(
    gateway: tuple[str, Any, ScriptedRasa, FixedRecognizer], rate: int
) -> None:
    url, app, rasa, recognizer = gateway

    async def call() -> tuple[SwitchEmulator, list[Any], list[Any], list[Any]]:
        async with SwitchEmulator(url, rate=rate) as switch:
            greeting = await switch.wait_for_playback(quiet=0.5)
            await asyncio.sleep(seconds(greeting))  # the caller listens to the greeting first
            await switch.say(tone(1.5, rate, hz=300, amplitude=6000))
            answer = await switch.wait_for_playback(after=switch.speech_sent_at, quiet=0.5)
            await asyncio.sleep(seconds(answer))
            pressed = time.monotonic()
            await switch.key("*")
            repeated = await switch.wait_for_playback(after=pressed, quiet=0.5)
        return switch, greeting, answer, repeated

    switch, greeting, answer, repeated = asyncio.run(call())
    assert {p.pcm.rate for p in switch.played} == {rate}
    greeting_chars = len("".join(PROMPTS["greeting"].split()))
    assert seconds(greeting) == pytest.approx(0.03 * greeting_chars, rel=0.25)  # every sentence of it, in order
    assert len(recognizer.durations) == 1 and 1.5 <= recognizer.durations[0] <= 2.4
    assert [r["message"] for r in rasa.received] == ["社保卡丢了怎么补办"]
    assert seconds(answer) == pytest.approx(seconds(repeated), rel=0.05) and seconds(answer) > 0.3
    deadline = time.monotonic() + 5
    while getattr(app.state, "phone_streams", 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert app.state.phone_streams == 0  # the hang-up ended the dialogue and freed its place


@pytest.mark.slow
def test_key_zero_without_a_transfer_target_says_goodbye_and_the_server_ends_the_call(
    gateway: tuple[str, Any, ScriptedRasa, FixedRecognizer],
) -> None:
    url, _, rasa, _ = gateway
    rasa.reply = lambda text: [
        {"text": "已为您转接人工服务。"},
        {"custom": {"type": "handoff", "text": "", "ticket": "GD-20261130-000042"}},
    ]

    async def call() -> SwitchEmulator:
        async with SwitchEmulator(url) as switch:
            await switch.wait_for_playback(quiet=0.3)
            await switch.key("0")
            deadline = time.monotonic() + 20
            while not switch.closed_by_server and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return switch

    switch = asyncio.run(call())
    assert rasa.received[0]["message"] == "转人工"
    assert switch.closed_by_server
    assert {"type": "stopAudio"} in switch.events  # the key stopped the greeting
    assert switch.events[-1] == {"type": "hangup"}
