"""Endpointing on generated audio: silence, tones, noise and espeak-ng speech, at phone (8 kHz) and wideband rates."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from assistant.settings import Settings
from tests.voice.asr_set import espeak_available, phone_band, speak
from voice import vad
from voice.audio import Pcm, chunks, concat, resample, silence
from voice.vad import EndpointConfig, Endpointer, EnergyDetector, SpeechEnded, SpeechStarted, make_detector

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed (make system-deps)")

RATE = 8000


def tone(seconds: float, rate: int = RATE, hz: float = 440.0, amplitude: float = 0.3) -> Pcm:
    t = np.arange(round(seconds * rate)) / rate
    return Pcm((amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes(), rate)


def with_noise(pcm: Pcm, amplitude: float, seed: int = 7) -> Pcm:
    noise = np.random.default_rng(seed).normal(0, amplitude * 32767, pcm.frames)
    mixed = (pcm.array().astype(np.float64) + noise).clip(-32768, 32767)
    return Pcm(mixed.astype("<i2").tobytes(), pcm.rate)


@lru_cache
def question(rate: int = RATE) -> Pcm:
    """A spoken question through the phone band (and back up to ``rate``), with espeak-ng's own silences trimmed."""
    pcm = resample(phone_band(speak("我想补办社保卡需要带什么材料")), rate)
    samples = pcm.array()
    loud = np.flatnonzero(np.abs(samples) > 500)
    return Pcm(samples[loud[0] : loud[-1] + 1].tobytes(), rate)


def run(audio: Pcm, config: EndpointConfig | None = None, frame_ms: int = 20) -> list[vad.Event]:
    endpointer = Endpointer(audio.rate, config or EndpointConfig())
    events = endpointer.feed_all(chunks(audio, frame_ms))
    return events + endpointer.flush()


def shape(events: list[vad.Event]) -> list[str]:
    return [type(e).__name__ for e in events]


@needs_espeak
@pytest.mark.parametrize("detector", ["silero", "energy"])
@pytest.mark.parametrize("rate", [8000, 16000])
def test_a_question_between_silences_is_one_utterance(detector: str, rate: int) -> None:
    speech = question(rate)
    audio = concat([silence(1.0, rate), speech, silence(1.5, rate)])
    events = run(audio, EndpointConfig(detector=detector))  # type: ignore[arg-type]
    assert shape(events) == ["SpeechStarted", "SpeechEnded"]
    started, ended = events
    assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
    assert started.at == pytest.approx(1.0, abs=0.15)
    assert ended.at == pytest.approx(1.0 + speech.duration, abs=0.3)
    assert ended.reason == "silence"
    # the utterance holds the speech, a little before it and a short tail, not the 1.5 s of silence
    assert speech.duration <= ended.pcm.duration <= speech.duration + 0.9
    assert ended.pcm.rate == rate


@needs_espeak
@pytest.mark.parametrize("detector", ["silero", "energy"])
def test_steady_noise_is_not_speech_but_speech_in_noise_is(detector: str) -> None:
    assert run(with_noise(silence(4.0, RATE), 0.02), EndpointConfig(detector=detector)) == []  # type: ignore[arg-type]
    noisy = with_noise(concat([silence(1.0, RATE), question(), silence(1.5, RATE)]), 0.005)
    events = run(noisy, EndpointConfig(detector=detector))  # type: ignore[arg-type]
    assert shape(events) == ["SpeechStarted", "SpeechEnded"]
    assert events[0].at == pytest.approx(1.0, abs=0.2)


def test_silero_ignores_a_tone_that_the_energy_detector_takes_for_speech() -> None:
    beep = concat([silence(1.0, RATE), tone(2.0), silence(1.0, RATE)])
    assert run(beep, EndpointConfig(detector="silero")) == []
    assert shape(run(beep, EndpointConfig(detector="energy"))) == ["SpeechStarted", "SpeechEnded"]


# The state machine, driven by tone bursts and the energy detector (deterministic frame decisions).
BURST = tone(0.5)


@pytest.mark.parametrize(
    ("pieces", "config", "expected"),
    [
        # a 60 ms click is shorter than the minimum speech: nothing
        ([silence(0.5, RATE), tone(0.06), silence(1.0, RATE)], EndpointConfig(detector="energy"), []),
        # a 400 ms pause inside an utterance does not end it with 700 ms of required silence
        (
            [silence(0.5, RATE), BURST, silence(0.4, RATE), BURST, silence(1.0, RATE)],
            EndpointConfig(detector="energy"),
            ["SpeechStarted", "SpeechEnded"],
        ),
        # … but does with 300 ms
        (
            [silence(0.5, RATE), BURST, silence(0.4, RATE), BURST, silence(1.0, RATE)],
            EndpointConfig(detector="energy", silence_ms=300),
            ["SpeechStarted", "SpeechEnded", "SpeechStarted", "SpeechEnded"],
        ),
        # speech that never pauses is cut at the maximum length, and goes on as a new utterance
        (
            [silence(0.5, RATE), tone(4.5), silence(1.0, RATE)],
            EndpointConfig(detector="energy", max_utterance_s=2.0),
            ["SpeechStarted", "SpeechEnded", "SpeechStarted", "SpeechEnded", "SpeechStarted", "SpeechEnded"],
        ),
    ],
)
def test_endpointing_rules(pieces: list[Pcm], config: EndpointConfig, expected: list[str]) -> None:
    assert shape(run(concat(pieces), config)) == expected


def test_an_utterance_cut_at_the_maximum_says_so() -> None:
    config = EndpointConfig(max_utterance_s=2.0, detector="energy")
    events = run(concat([silence(0.5, RATE), tone(3.0), silence(1.0, RATE)]), config)
    ends = [e for e in events if isinstance(e, SpeechEnded)]
    assert [e.reason for e in ends] == ["max_length", "silence"]
    assert ends[0].at == pytest.approx(2.5, abs=0.05)
    assert ends[0].pcm.duration == pytest.approx(0.3 + 2.0, abs=0.05)  # the pre-roll and two seconds


@pytest.mark.parametrize("frame_ms", [7, 20, 45])
def test_any_chunking_of_the_stream_gives_the_same_events(frame_ms: int) -> None:
    audio = concat([silence(0.5, RATE), BURST, silence(1.0, RATE)])
    config = EndpointConfig(detector="energy")
    assert run(audio, config, frame_ms) == run(audio, config, 20)


def test_hanging_up_mid_utterance_ends_it() -> None:
    endpointer = Endpointer(RATE, EndpointConfig(detector="energy"))
    events = endpointer.feed_all(chunks(concat([silence(0.5, RATE), tone(1.0)])))
    assert shape(events) == ["SpeechStarted"] and endpointer.speaking
    (ended,) = endpointer.flush()
    assert isinstance(ended, SpeechEnded) and ended.pcm.duration > 1.0
    assert endpointer.flush() == [] and not endpointer.speaking


def test_reset_forgets_the_utterance_in_progress() -> None:
    endpointer = Endpointer(RATE, EndpointConfig(detector="energy"))
    endpointer.feed_all(chunks(concat([silence(0.5, RATE), tone(1.0)])))
    endpointer.reset()
    assert not endpointer.speaking and endpointer.flush() == []
    events = endpointer.feed_all(chunks(concat([silence(0.3, RATE), BURST, silence(1.0, RATE)])))
    assert events[0] == SpeechStarted(0.3)


def test_config_comes_from_the_settings(settings: Settings) -> None:
    custom = settings.model_copy(
        update={"asr_vad_silence_ms": 500, "asr_vad_min_speech_ms": 100, "asr_vad_max_utterance_s": 8.0}
    )
    config = EndpointConfig.from_settings(custom, detector="energy")
    assert (config.silence_ms, config.min_speech_ms, config.max_utterance_s, config.detector) == (
        500,
        100,
        8.0,
        "energy",
    )


def test_without_onnxruntime_the_energy_detector_takes_over(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(*args: object, **kwargs: object) -> None:
        raise ImportError("onnxruntime")

    monkeypatch.setattr(vad.SileroDetector, "__init__", unavailable)
    assert isinstance(make_detector("silero"), EnergyDetector)
    assert isinstance(Endpointer(RATE).detector, EnergyDetector)
