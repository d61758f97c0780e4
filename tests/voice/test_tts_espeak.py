"""voice.tts.espeak: the real espeak-ng from Debian."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from voice.audio import decode
from voice.tts import BackendFailed
from voice.tts.espeak import EspeakBackend

TEXT = "请带身份证原件到东城区政务服务中心办理。"


def test_speaks_mandarin_as_wav() -> None:
    audio = asyncio.run(EspeakBackend().synthesize(TEXT, "standard"))
    assert audio.container == "wav"
    pcm = decode(audio.data)
    assert pcm.rate == 22050 and 2.0 < pcm.duration < 10.0


def test_the_elder_profile_is_slower_and_louder() -> None:
    espeak = EspeakBackend()
    standard = decode(asyncio.run(espeak.synthesize(TEXT, "standard")).data)
    elder = decode(asyncio.run(espeak.synthesize(TEXT, "elder")).data)
    assert elder.duration > standard.duration * 1.15

    def rms(samples: np.ndarray) -> float:
        return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))

    assert rms(elder.array()) > rms(standard.array()) * 1.2


def test_streams_before_it_ends() -> None:
    async def collect() -> list[bytes]:
        return [chunk async for chunk in EspeakBackend().stream(TEXT * 4, "standard")]

    chunks = asyncio.run(collect())
    assert len(chunks) > 1 and chunks[0].startswith(b"RIFF")


def test_text_that_looks_like_an_option_is_spoken_not_parsed() -> None:
    audio = asyncio.run(EspeakBackend().synthesize("--help 你好", "standard"))
    assert decode(audio.data).duration > 0.3


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (EspeakBackend(binary="/nonexistent/espeak-ng"), "cannot start"),  # not installed
        (EspeakBackend(binary="false"), "exit status"),  # exits with an error and no audio
        (EspeakBackend(timeout=0.001), "no result"),  # too slow
    ],
)
def test_failures_raise_backend_failed(backend: EspeakBackend, reason: str) -> None:
    with pytest.raises(BackendFailed, match=reason):
        asyncio.run(backend.synthesize(TEXT * 20, "standard"))


def test_the_voice_names_speed_and_amplitude() -> None:
    espeak = EspeakBackend(speed={"standard": 170, "elder": 120}, amplitude={"standard": 90, "elder": 160})
    assert espeak.voice("elder") == "espeak-ng cmn-latn-pinyin s=120 a=160"
    assert espeak.available()
