"""The real edge-tts client (voice.tts.edge) against a local fake of the service speaking its WebSocket protocol."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from assistant.settings import Settings
from tests.utils.net import free_port
from tests.voice.fake_edge_tts import FakeEdgeTTS, Mode
from voice.audio import Pcm, decode
from voice.tts import BackendFailed, build_synthesizer
from voice.tts.edge import EdgeBackend

TWO_SENTENCES = "请带身份证原件。到东城区政务服务中心办理。"


@pytest.fixture
def fake() -> Iterator[FakeEdgeTTS]:
    with FakeEdgeTTS().running() as server:
        yield server


@pytest.fixture
def edge(fake: FakeEdgeTTS) -> EdgeBackend:
    return EdgeBackend(url=fake.url, timeout=2.0)


def test_streamed_audio_arrives_in_chunks_before_the_end(fake: FakeEdgeTTS, edge: EdgeBackend) -> None:
    fake.chunk_delay = 0.05

    async def collect() -> list[tuple[float, bytes]]:
        start = time.monotonic()
        return [(time.monotonic() - start, chunk) async for chunk in edge.stream(TWO_SENTENCES, "standard")]

    chunks = asyncio.run(collect())
    assert len(chunks) >= 3
    assert chunks[0][0] < chunks[-1][0] - 0.05  # the first audio is there before the stream ends
    speech = decode(b"".join(chunk for _, chunk in chunks))
    assert speech.rate == 24000 and 3.0 < speech.duration < 15.0


def test_the_request_carries_voice_rate_volume_and_the_client_parameters(fake: FakeEdgeTTS, edge: EdgeBackend) -> None:
    asyncio.run(edge.synthesize("你好。", "elder"))
    asyncio.run(edge.synthesize("你好。", "standard"))
    elder, standard = fake.requests
    assert "XiaoxiaoNeural" in elder.voice
    assert (elder.prosody("rate"), elder.prosody("volume")) == ("-20%", "+20%")
    assert (standard.prosody("rate"), standard.prosody("volume")) == ("+0%", "+0%")
    assert elder.text == "你好。"
    query = parse_qs(urlsplit(elder.path).query)
    assert query["TrustedClientToken"] == ["fake"] and query["ConnectionId"] and query["Sec-MS-GEC"]
    assert elder.config["context"]["synthesis"]["audio"]["outputFormat"] == "audio-24khz-48kbitrate-mono-mp3"


def test_the_elder_profile_is_slower(edge: EdgeBackend) -> None:
    standard = decode(asyncio.run(edge.synthesize(TWO_SENTENCES, "standard")).data)
    elder = decode(asyncio.run(edge.synthesize(TWO_SENTENCES, "elder")).data)
    assert elder.duration > standard.duration * 1.15


def test_sentence_boundaries(fake: FakeEdgeTTS, edge: EdgeBackend) -> None:
    audio = asyncio.run(edge.synthesize(TWO_SENTENCES, "standard"))
    assert [b.text for b in audio.boundaries] == ["请带身份证原件。", "到东城区政务服务中心办理。"]
    assert {b.kind for b in audio.boundaries} == {"SentenceBoundary"}
    first, second = audio.boundaries
    assert first.offset == 0 and second.offset == pytest.approx(first.duration, abs=0.01)
    options = fake.requests[0].config["context"]["synthesis"]["audio"]["metadataoptions"]
    assert options == {"sentenceBoundaryEnabled": "true", "wordBoundaryEnabled": "false"}
    assert second.offset + second.duration == pytest.approx(decode(audio.data).duration, abs=0.3)


def test_word_boundaries_when_asked(fake: FakeEdgeTTS) -> None:
    edge = EdgeBackend(url=fake.url, timeout=2.0, boundary="WordBoundary")
    audio = asyncio.run(edge.synthesize("你好。", "standard"))
    assert [b.text for b in audio.boundaries] == ["你", "好", "。"]
    assert {b.kind for b in audio.boundaries} == {"WordBoundary"}


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("close_before_audio", "NoAudioReceived"),  # the service hangs up after the request
        ("close_mid_stream", "before turn.end"),  # edge-tts itself would return the cut audio as if complete
        ("stall", "timeout"),  # accepts, then says nothing
        ("reject", ""),  # HTTP 503 instead of the WebSocket upgrade
        ("unknown_path", "UnknownResponse"),  # a message the client does not understand
    ],
)
def test_failures_raise_backend_failed(fake: FakeEdgeTTS, mode: Mode, reason: str) -> None:
    fake.mode = mode
    edge = EdgeBackend(url=fake.url, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(BackendFailed) as caught:
        asyncio.run(edge.synthesize(TWO_SENTENCES, "standard"))
    assert reason in str(caught.value)
    assert time.monotonic() - started < 3


def test_a_refused_connection_raises_backend_failed() -> None:
    edge = EdgeBackend(url=f"ws://127.0.0.1:{free_port()}/edge/v1?TrustedClientToken=x", timeout=2.0)
    with pytest.raises(BackendFailed, match="Connect"):
        asyncio.run(edge.synthesize("你好。", "standard"))


@pytest.fixture
def tts_settings(settings: Settings, fake: FakeEdgeTTS) -> Settings:
    return settings.model_copy(update={"tts_edge_url": fake.url, "tts_timeout": 0.5, "tts_backoff": 0.01})


def test_the_synthesizer_speaks_with_edge_when_the_service_works(tts_settings: Settings) -> None:
    speech = asyncio.run(build_synthesizer(tts_settings).synthesize("电话13812345678。", profile="elder"))
    assert speech.backend == "edge-tts"
    assert speech.text_spoken == "电话 幺三八 幺二三四 五六七八。"
    assert decode(speech.audio).duration > 1.0


@pytest.mark.parametrize("mode", ["close_before_audio", "close_mid_stream", "stall", "reject", "unknown_path"])
def test_failures_fail_over_to_espeak(
    tts_settings: Settings, fake: FakeEdgeTTS, mode: Mode, caplog: pytest.LogCaptureFixture
) -> None:
    fake.mode = mode
    with caplog.at_level(logging.INFO, logger="voice.tts"):
        speech = asyncio.run(build_synthesizer(tts_settings).synthesize("你好。", fmt="pcm", rate=8000))
    assert speech.backend == "espeak-ng"
    assert fake.connections == (1 if mode == "stall" else 2)  # the attempt and its one retry (none after a timeout)
    assert Pcm(speech.audio, speech.rate).duration > 0.3
    assert "edge-tts failed" in caplog.text and "backend=espeak-ng" in caplog.text


def test_refused_connection_fails_over_to_espeak(settings: Settings) -> None:
    configured = settings.model_copy(update={"tts_edge_url": f"ws://127.0.0.1:{free_port()}/x?a=b", "tts_backoff": 0})
    assert asyncio.run(build_synthesizer(configured).synthesize("你好。")).backend == "espeak-ng"
