"""voice.tts.synthesizer: failover, retries, circuit breaker, cache and output formats — with fake backends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import Settings
from voice.audio import Pcm, decode, encode_mp3, to_wav
from voice.tts import (
    BackendAudio,
    BackendFailed,
    Lane,
    NothingToSay,
    Profile,
    Synthesizer,
    TtsUnavailable,
    build_synthesizer,
    get_synthesizer,
)
from voice.tts.cache import SpeechCache
from voice.tts.edge import EdgeBackend
from voice.tts.espeak import EspeakBackend
from voice.tts.resilience import CircuitBreaker, State
from voice.tts.synthesizer import spoken_text


def tone(seconds: float = 0.5, rate: int = 22050) -> Pcm:
    t = np.arange(round(seconds * rate)) / rate
    return Pcm((np.sin(2 * np.pi * 300 * t) * 8000).astype("<i2").tobytes(), rate)


class FakeBackend:
    """Says a tone (WAV or MP3); fails while ``failing`` is true; records what it was asked."""

    def __init__(self, name: str, container: str = "wav", failing: bool = False) -> None:
        self.name = name
        self.container = container
        self.failing = failing
        self.calls: list[tuple[str, Profile]] = []

    def voice(self, profile: Profile) -> str:
        return f"{self.name}-voice"

    async def synthesize(self, text: str, profile: Profile) -> BackendAudio:
        self.calls.append((text, profile))
        if self.failing:
            raise BackendFailed(self.name, "connection refused")
        if self.container == "mp3":
            return BackendAudio(encode_mp3(tone(rate=24000)), "mp3")
        if self.container == "garbage":
            return BackendAudio(b"not audio at all" * 20, "wav")
        return BackendAudio(to_wav(tone()), "wav")

    async def stream(self, text: str, profile: Profile) -> AsyncIterator[bytes]:
        yield (await self.synthesize(text, profile)).data


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slept() -> list[float]:
    return []


def make(
    primary: FakeBackend, fallback: FakeBackend, slept: list[float], *, cache: SpeechCache | None = None
) -> tuple[Synthesizer, CircuitBreaker, FakeClock]:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_after=30.0, clock=clock)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    synthesizer = Synthesizer(
        [Lane(primary, [0.25], breaker), Lane(fallback)],
        cache,
        sleep=sleep,
    )
    return synthesizer, breaker, clock


def test_the_first_backend_speaks_when_it_works(slept: list[float]) -> None:
    edge, espeak = FakeBackend("edge-tts", "mp3"), FakeBackend("espeak-ng")
    synthesizer, _, _ = make(edge, espeak, slept)
    speech = asyncio.run(synthesizer.synthesize("请拨打12345。", profile="elder"))
    assert speech.backend == "edge-tts"
    assert speech.fmt == "mp3" and speech.rate == 24000
    assert speech.text_spoken == "请拨打幺二三四五。"
    assert edge.calls == [("请拨打幺二三四五。", "elder")] and not espeak.calls
    assert speech.audio == asyncio.run(edge.synthesize("", "elder")).data  # edge-tts' MP3 passes through untouched


def test_failover_after_retries_is_logged(slept: list[float], caplog: pytest.LogCaptureFixture) -> None:
    edge, espeak = FakeBackend("edge-tts", "mp3", failing=True), FakeBackend("espeak-ng")
    synthesizer, breaker, _ = make(edge, espeak, slept)
    with caplog.at_level(logging.INFO, logger="voice.tts.synthesizer"):
        speech = asyncio.run(synthesizer.synthesize("你好。"))
    assert speech.backend == "espeak-ng"
    assert len(edge.calls) == 2 and slept == [0.25]  # one retry after 0.25 s
    assert breaker.failures == 2
    assert "backend=espeak-ng" in caplog.text
    assert "edge-tts failed" in caplog.text
    assert decode(speech.audio).rate == 24000  # espeak's WAV made into MP3 at the same rate as edge-tts'


def test_the_circuit_opens_and_edge_is_skipped_until_the_cooldown(slept: list[float]) -> None:
    edge, espeak = FakeBackend("edge-tts", "mp3", failing=True), FakeBackend("espeak-ng")
    synthesizer, breaker, clock = make(edge, espeak, slept)
    asyncio.run(synthesizer.synthesize("一。"))  # 2 failures
    asyncio.run(synthesizer.synthesize("二。"))  # the 3rd opens the circuit; no retry once open
    assert breaker.state is State.OPEN
    calls = len(edge.calls)
    assert calls == 3
    speech = asyncio.run(synthesizer.synthesize("三。"))
    assert speech.backend == "espeak-ng" and len(edge.calls) == calls  # not even tried
    edge.failing = False
    clock.now += 30  # half-open: one trial, which succeeds and closes the circuit
    assert asyncio.run(synthesizer.synthesize("四。")).backend == "edge-tts"
    assert breaker.state is State.CLOSED  # type: ignore[comparison-overlap]


def test_all_backends_failing_raises_with_the_reasons(slept: list[float]) -> None:
    synthesizer, _, _ = make(FakeBackend("edge-tts", failing=True), FakeBackend("espeak-ng", failing=True), slept)
    with pytest.raises(TtsUnavailable) as caught:
        asyncio.run(synthesizer.synthesize("你好"))
    assert len(caught.value.failures) == 2
    assert "edge-tts failed" in caught.value.failures[0] and "espeak-ng failed" in caught.value.failures[1]


def test_unreadable_audio_counts_as_a_failure(slept: list[float]) -> None:
    synthesizer, _, _ = make(FakeBackend("edge-tts", "garbage"), FakeBackend("espeak-ng"), slept)
    assert asyncio.run(synthesizer.synthesize("你好", fmt="pcm")).backend == "espeak-ng"


@pytest.mark.parametrize("text", ["", "   ", "😀👍", "**"])
def test_nothing_to_say(slept: list[float], text: str) -> None:
    synthesizer, _, _ = make(FakeBackend("edge-tts"), FakeBackend("espeak-ng"), slept)
    with pytest.raises(NothingToSay):
        asyncio.run(synthesizer.synthesize(text))


@pytest.mark.parametrize(
    ("fmt", "rate", "expected_rate"),
    [
        ("pcm", None, 8000),  # the phone's default
        ("pcm", 16000, 16000),
        ("mp3", None, 24000),
        ("mp3", 16000, 16000),
    ],
)
def test_output_formats(slept: list[float], fmt: str, rate: int | None, expected_rate: int) -> None:
    synthesizer, _, _ = make(FakeBackend("edge-tts", "mp3"), FakeBackend("espeak-ng"), slept)
    speech = asyncio.run(synthesizer.synthesize("你好", fmt=fmt, rate=rate))  # type: ignore[arg-type]
    assert speech.rate == expected_rate
    if fmt == "pcm":
        pcm = Pcm(speech.audio, speech.rate)
        assert abs(pcm.duration - 0.5) < 0.08  # the backend's half second, resampled
    else:
        assert abs(decode(speech.audio).duration - 0.5) < 0.1
        assert decode(speech.audio).rate == expected_rate


def test_the_cache_answers_repeats_per_voice_profile_format_and_rate(slept: list[float], tmp_path: Path) -> None:
    edge, espeak = FakeBackend("edge-tts", "mp3"), FakeBackend("espeak-ng")
    synthesizer, _, _ = make(edge, espeak, slept, cache=SpeechCache(tmp_path, 10**7))
    first = asyncio.run(synthesizer.synthesize("请带身份证。"))
    again = asyncio.run(synthesizer.synthesize("请带身份证。"))
    assert not first.cached and again.cached
    assert again.audio == first.audio and again.backend == "edge-tts" and again.rate == first.rate
    assert len(edge.calls) == 1
    asyncio.run(synthesizer.synthesize("请带身份证。", profile="elder"))
    asyncio.run(synthesizer.synthesize("请带身份证。", fmt="pcm"))
    asyncio.run(synthesizer.synthesize("请带身份证。", fmt="pcm", rate=16000))
    assert len(edge.calls) == 4


def test_while_edge_is_down_cached_espeak_speech_is_reused(slept: list[float], tmp_path: Path) -> None:
    edge, espeak = FakeBackend("edge-tts", "mp3", failing=True), FakeBackend("espeak-ng")
    synthesizer, breaker, clock = make(edge, espeak, slept, cache=SpeechCache(tmp_path, 10**7))
    asyncio.run(synthesizer.synthesize("你好。"))
    again = asyncio.run(synthesizer.synthesize("你好。"))
    assert again.cached and again.backend == "espeak-ng" and len(espeak.calls) == 1
    assert breaker.state is State.OPEN
    edge.failing = False  # edge-tts is back: after the cool-down its voice is preferred again
    clock.now += 30
    assert asyncio.run(synthesizer.synthesize("你好。")).backend == "edge-tts"


def test_stream_yields_one_speech_per_sentence(slept: list[float]) -> None:
    edge, espeak = FakeBackend("edge-tts", "mp3"), FakeBackend("espeak-ng")
    synthesizer, _, _ = make(edge, espeak, slept)

    async def collect() -> list[str]:
        return [s.text_spoken async for s in synthesizer.stream("需要准备：\n1. 身份证\n2. 户口本", fmt="pcm")]

    assert asyncio.run(collect()) == ["需要准备。", "第一，身份证。", "第二，户口本。"]


def test_spoken_text_ends_every_sentence() -> None:
    assert spoken_text(["第一，身份证", "好的。", "请问？"]) == "第一，身份证。好的。请问？"


def test_settings_build_the_backends_in_order(settings: Settings) -> None:
    configured = settings.model_copy(update={"tts_elder_rate": "-30%", "tts_retries": 2, "tts_backoff": 0.5})
    synthesizer = build_synthesizer(configured)
    assert synthesizer.backends == ["edge-tts", "espeak-ng"]
    edge = synthesizer.lanes[0].backend
    assert isinstance(edge, EdgeBackend) and edge.prosody["elder"] == ("-30%", "+20%")
    assert synthesizer.lanes[0].delays == [0.5, 1.0]
    assert isinstance(synthesizer.lanes[1].backend, EspeakBackend)
    assert synthesizer.cache is not None and synthesizer.cache.directory == settings.data_dir / "tts-cache"
    offline = build_synthesizer(settings.model_copy(update={"tts_backends": "espeak"}))
    assert offline.backends == ["espeak-ng"]
    # shared per configuration, so the circuit breaker sees every request
    assert get_synthesizer(configured) is get_synthesizer(configured.model_copy())
    assert get_synthesizer(configured) is not get_synthesizer(settings)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tts_backends", "edge,google"),  # unknown backend
        ("tts_backends", ""),  # none
        ("tts_backends", "edge,edge"),  # twice
        ("tts_elder_rate", "slow"),  # not a percentage
        ("tts_volume", "20%"),  # unsigned
        ("tts_edge_url", "http://127.0.0.1:1/"),  # not a websocket URL
    ],
)
def test_invalid_tts_settings_are_refused(field: str, value: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Settings(**{field: value})  # type: ignore[arg-type]
