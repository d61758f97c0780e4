"""POST /api/v1/asr: voice input for the page. A recording recorder stands in for Whisper, except in the slow test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from assistant.settings import Settings
from channels.main import create_app
from channels.routers.voice import recognizer_for
from tests.channels.fake_rasa import FakeRasa
from tests.channels.test_chat_api import assert_chinese_error
from tests.voice.asr_set import espeak_available, utterance
from voice.asr import AsrUnavailable, ModelError, Transcript
from voice.audio import Pcm, encode, silence, to_wav


@dataclass
class RecordingRecognizer:
    """Answers ``text`` (or raises ``error``) and keeps the PCM it was given."""

    text: str = "我想补办社保卡"
    error: Exception | None = None
    heard: list[Pcm] = field(default_factory=list)
    name: str = "fake"

    async def transcribe(self, pcm: Pcm) -> Transcript:
        self.heard.append(pcm)
        if self.error is not None:
            raise self.error
        return Transcript(self.text, self.name, pcm.duration, 0.01)


def client_for(settings: Settings, recognizer: RecordingRecognizer | None) -> TestClient:
    app = create_app(settings, rasa_transport=FakeRasa().transport())
    if recognizer is not None:
        app.dependency_overrides[recognizer_for] = lambda: recognizer
    return TestClient(app)


@pytest.fixture
def recognizer() -> RecordingRecognizer:
    return RecordingRecognizer()


@pytest.fixture
def client(settings: Settings, recognizer: RecordingRecognizer) -> Iterator[TestClient]:
    with client_for(settings, recognizer) as test_client:
        yield test_client


def tone_pcm(seconds: float, rate: int = 16000) -> Pcm:
    import numpy as np

    t = np.arange(round(seconds * rate)) / rate
    return Pcm((0.3 * 32767 * np.sin(2 * np.pi * 300 * t)).astype("<i2").tobytes(), rate)


WAV = to_wav(tone_pcm(1.5))


@pytest.mark.parametrize(
    ("content_type", "container", "codec"),
    [
        ("audio/webm;codecs=opus", "webm", "libopus"),  # Chromium's MediaRecorder
        ("audio/ogg", "ogg", "libopus"),  # Firefox
        ("audio/wav", None, None),
    ],
)
def test_a_raw_recording_is_recognised(
    client: TestClient, recognizer: RecordingRecognizer, content_type: str, container: str | None, codec: str | None
) -> None:
    body = encode(tone_pcm(1.5), container, codec, rate=48000) if container and codec else WAV
    response = client.post("/api/v1/asr", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    assert response.json() == {"text": "我想补办社保卡", "seconds": pytest.approx(1.5, abs=0.05)}
    (heard,) = recognizer.heard
    assert heard.duration == pytest.approx(1.5, abs=0.05)


def test_a_multipart_upload_is_recognised(client: TestClient, recognizer: RecordingRecognizer) -> None:
    response = client.post("/api/v1/asr", files={"audio": ("voice.wav", WAV, "audio/wav")})
    assert response.status_code == 200
    assert response.json()["text"] == "我想补办社保卡"
    assert len(recognizer.heard) == 1


def test_a_recording_of_two_megabytes_passes_the_body_size_check(client: TestClient) -> None:
    # 40 s of 24 kHz WAV is 1.9 MB: far above the gateway's 64 KB limit for other requests
    body = to_wav(silence(40.0, 24000))
    assert 1_800_000 < len(body) < 2 * 1024 * 1024
    assert client.post("/api/v1/asr", content=body, headers={"Content-Type": "audio/wav"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "fragment"),
    [
        (b"", "audio/wav", 422, "invalid_request", "没有收到录音"),  # empty
        (b"RIFF-not-really-audio" * 10, "audio/wav", 422, "invalid_request", "无法读取"),  # undecodable
        (to_wav(silence(61.0, 8000)), "audio/wav", 422, "invalid_request", "60秒以内"),  # too long
        (to_wav(silence(0.05, 8000)), "audio/wav", 422, "invalid_request", "太短"),  # a tap, not a recording
        (WAV, "audio/mpeg", 415, "unsupported_audio", "WebM"),  # not a type the page sends
        (WAV, "application/json", 415, "unsupported_audio", "WebM"),
        (bytes(2 * 1024 * 1024 + 1), "audio/wav", 413, "audio_too_large", "太大"),  # over 2 MB, no multipart envelope
        (bytes(3 * 1024 * 1024), "audio/wav", 413, "http_413", "太大"),  # refused by Content-Length before reading
    ],
)
def test_bad_audio_gets_a_chinese_error(
    client: TestClient,
    recognizer: RecordingRecognizer,
    body: bytes,
    content_type: str,
    status: int,
    code: str,
    fragment: str,
) -> None:
    response = client.post("/api/v1/asr", content=body, headers={"Content-Type": content_type})
    assert fragment in assert_chinese_error(response, status, code)
    assert recognizer.heard == []


def test_a_chunked_upload_is_cut_at_the_limit(client: TestClient, recognizer: RecordingRecognizer) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is only known while reading
        for _ in range(40):
            yield bytes(64 * 1024)

    response = client.post("/api/v1/asr", content=chunks(), headers={"Content-Type": "audio/wav"})
    assert_chinese_error(response, 413, "audio_too_large")


def test_a_form_without_the_audio_field_is_refused(client: TestClient) -> None:
    response = client.post("/api/v1/asr", files={"file": ("voice.wav", WAV, "audio/wav")})
    assert "audio" in assert_chinese_error(response, 422, "invalid_request")


def test_nothing_recognised_asks_to_repeat(client: TestClient, recognizer: RecordingRecognizer) -> None:
    recognizer.text = ""
    response = client.post("/api/v1/asr", content=WAV, headers={"Content-Type": "audio/wav"})
    assert "再说一遍" in assert_chinese_error(response, 422, "no_speech")


@pytest.mark.parametrize(
    "error",
    [
        AsrUnavailable("the FunASR server failed", context="ws://127.0.0.1:1 connecting"),
        ModelError("the joined Whisper model does not match its pinned sha256"),
    ],
)
def test_a_failing_recognizer_is_503(client: TestClient, recognizer: RecordingRecognizer, error: Exception) -> None:
    recognizer.error = error
    response = client.post("/api/v1/asr", content=WAV, headers={"Content-Type": "audio/wav"})
    assert_chinese_error(response, 503, "asr_unavailable")
    assert "sha256" not in response.text and "ws://" not in response.text  # details stay in the log


def test_recognition_is_rate_limited_per_address(settings: Settings, recognizer: RecordingRecognizer) -> None:
    with client_for(settings.model_copy(update={"rate_limit_ip": 2}), recognizer) as limited:
        for _ in range(2):
            assert limited.post("/api/v1/asr", content=WAV, headers={"Content-Type": "audio/wav"}).status_code == 200
        response = limited.post("/api/v1/asr", content=WAV, headers={"Content-Type": "audio/wav"})
        assert_chinese_error(response, 429, "rate_limited")


@pytest.mark.slow
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed (make system-deps)")
def test_the_real_recognizer_loads_once_and_transcribes_a_webm_recording(settings: Settings) -> None:
    spoken = utterance("高龄津贴每个月发多少钱")
    body = encode(spoken.pcm, "webm", "libopus", rate=48000)
    with client_for(settings, None) as real:
        first = real.post("/api/v1/asr", content=body, headers={"Content-Type": "audio/webm"})
        second = real.post("/api/v1/asr", files={"audio": ("a.webm", body, "audio/webm")})
    assert first.status_code == 200, first.text
    assert "高龄津贴" in first.json()["text"]
    assert second.json() == first.json()
    assert (settings.asr_model_path / "model.bin").is_file()  # assembled in the data directory on first use
