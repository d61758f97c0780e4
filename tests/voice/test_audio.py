"""voice.audio: decoding, resampling, G.711 μ-law, MP3/WAV — all through PyAV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voice.audio import (
    AudioError,
    Pcm,
    chunks,
    concat,
    decode,
    encode,
    encode_mp3,
    from_mulaw,
    read_wav,
    resample,
    silence,
    to_mulaw,
    to_wav,
)


def tone(freq: float = 440.0, seconds: float = 1.0, rate: int = 16000, amplitude: int = 10000) -> Pcm:
    t = np.arange(round(seconds * rate)) / rate
    return Pcm((np.sin(2 * np.pi * freq * t) * amplitude).astype("<i2").tobytes(), rate)


def dominant_frequency(pcm: Pcm) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.array().astype(np.float64)))
    return float(np.argmax(spectrum) * pcm.rate / pcm.frames)


def test_pcm_validates_and_measures() -> None:
    pcm = Pcm(bytes(16000), 8000)
    assert pcm.frames == 8000
    assert pcm.duration == 1.0
    with pytest.raises(ValueError):
        Pcm(b"\x00", 8000)  # half a sample
    with pytest.raises(ValueError):
        Pcm(b"", 0)


# Reference values of ITU-T G.711 μ-law (Sun's g711.c, which FFmpeg's table follows): encoder input → byte → decoded value
MULAW_KNOWN = [
    (0, 0xFF, 0),  # zero is 0xFF (all bits inverted)
    (1, 0xFF, 0),  # below the first step
    (-1, 0x7E, -8),  # smallest negative step
    (8, 0xFE, 8),
    (32767, 0x80, 32124),  # positive clip
    (-32768, 0x00, -32124),  # negative clip
    (1000, 0xCE, 988),
    (-1000, 0x4E, -988),
]


@pytest.mark.parametrize(("linear", "byte", "decoded"), MULAW_KNOWN)
def test_mulaw_known_values(linear: int, byte: int, decoded: int) -> None:
    encoded = to_mulaw(Pcm(np.array([linear], dtype="<i2").tobytes(), 8000))
    assert encoded == bytes([byte])
    assert from_mulaw(encoded).array().tolist() == [decoded]


def test_mulaw_round_trip_is_close() -> None:
    pcm = resample(tone(seconds=0.5), 8000)
    encoded = to_mulaw(pcm)
    assert len(encoded) == pcm.frames  # one byte per sample
    back = from_mulaw(encoded)
    assert back.rate == 8000 and back.frames == pcm.frames
    error = np.abs(back.array().astype(int) - pcm.array().astype(int))
    # μ-law is logarithmic: the error grows with the amplitude but stays under ~3 % of full scale for a 10000 peak
    assert error.max() < 700
    assert from_mulaw(b"") == Pcm(b"", 8000)
    assert to_mulaw(Pcm(b"", 8000)) == b""


@given(st.binary(min_size=1, max_size=400))
@settings(max_examples=50, deadline=None)
def test_every_mulaw_byte_sequence_decodes_and_reencodes_to_itself(data: bytes) -> None:
    # decoding then encoding μ-law is the identity except for the two codes of zero (0x7F and 0xFF both decode to 0)
    canonical = data.replace(b"\x7f", b"\xff")
    assert to_mulaw(from_mulaw(data)) == canonical


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (16000, 8000),  # ASR-rate voice to the phone
        (24000, 8000),  # edge-tts to the phone
        (8000, 16000),  # phone to Whisper
        (48000, 16000),  # browser opus to Whisper
        (22050, 8000),  # espeak-ng to the phone
    ],
)
def test_resample_keeps_duration_and_pitch(source: int, target: int) -> None:
    pcm = tone(freq=440, seconds=1.0, rate=source)
    out = resample(pcm, target)
    assert out.rate == target
    assert abs(out.frames - target) <= target * 0.01  # 1 s stays 1 s (± the filter's edge)
    assert abs(dominant_frequency(out) - 440) < 5


def test_resample_same_rate_and_empty() -> None:
    pcm = tone(seconds=0.1)
    assert resample(pcm, pcm.rate) == pcm
    assert resample(Pcm(b"", 16000), 8000) == Pcm(b"", 8000)
    with pytest.raises(ValueError):
        resample(pcm, 0)


def test_wav_round_trip_is_exact(tmp_path: Path) -> None:
    pcm = tone(seconds=0.3, rate=8000)
    path = tmp_path / "a.wav"
    path.write_bytes(to_wav(pcm))
    assert read_wav(path) == pcm
    assert decode(to_wav(pcm)) == pcm


def test_mp3_made_by_pyav_decodes_back() -> None:
    pcm = tone(freq=440, seconds=1.0, rate=24000)
    data = encode_mp3(pcm)
    assert data[:3] == b"ID3" or data[0] == 0xFF  # a tag or an MPEG frame sync
    back = decode(data)
    assert back.rate == 24000
    assert abs(back.duration - 1.0) < 0.06
    assert abs(dominant_frequency(back) - 440) < 5


def test_mp3_of_a_rate_mp3_cannot_carry_is_resampled() -> None:
    back = decode(encode_mp3(tone(seconds=0.5, rate=7000)))
    assert back.rate == 24000
    assert abs(back.duration - 0.5) < 0.06


@pytest.mark.parametrize("container", ["webm", "ogg"])
def test_opus_made_by_pyav_decodes_back(container: str) -> None:
    # what a browser's MediaRecorder sends: opus at 48 kHz in webm (Chromium) or ogg (Firefox)
    pcm = tone(freq=440, seconds=1.0, rate=16000)
    data = encode(pcm, container, "libopus", rate=48000)
    back = decode(data)
    assert back.rate == 48000
    assert abs(back.duration - 1.0) < 0.06
    assert abs(dominant_frequency(back) - 440) < 5


def test_decode_downmixes_stereo() -> None:
    import io
    import wave

    buffer = io.BytesIO()
    left = tone(seconds=0.1, rate=8000).array()
    stereo = np.stack([left, left], axis=1).astype("<i2")
    with wave.open(buffer, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(stereo.tobytes())
    mono = decode(buffer.getvalue())
    assert mono.rate == 8000 and mono.frames == 800
    assert np.abs(mono.array().astype(int) - left.astype(int)).max() <= 1


@pytest.mark.parametrize(
    "data",
    [
        b"",  # nothing
        b"not audio at all" * 10,  # garbage
        b"RIFF\x00\x00\x00\x00WAVE",  # a header and nothing else
    ],
)
def test_decode_rejects_unreadable_data(data: bytes) -> None:
    with pytest.raises(AudioError):
        decode(data)


def test_chunks_silence_concat() -> None:
    pcm = Pcm(bytes(range(200)) * 3, 8000)  # 300 samples
    frames = list(chunks(pcm, ms=20))  # 160 samples per frame
    assert [len(f) for f in frames] == [320, 320]
    assert b"".join(frames)[: len(pcm.samples)] == pcm.samples
    assert frames[-1].endswith(bytes(20))  # zero padding
    assert silence(0.5, 8000) == Pcm(bytes(8000), 8000)
    joined = concat([tone(seconds=0.5, rate=16000), silence(0.25, 8000)], rate=8000)
    assert joined.rate == 8000 and abs(joined.duration - 0.75) < 0.01
    with pytest.raises(ValueError):
        concat([])
