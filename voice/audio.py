"""Audio in one shape: 16-bit mono PCM, and the conversions the voice package needs around it.

Everything here goes through PyAV (FFmpeg's libavformat/libavcodec/libswresample): decoding whatever a browser or a
TTS service sends, resampling, G.711 μ-law for the phone, and MP3 for the page. No ffmpeg binary, no audioop
(deprecated, gone in Python 3.13).

``Pcm`` is the currency between the modules: ``samples`` are signed 16-bit little-endian mono samples, which is also
what FreeSWITCH's mod_audio_stream calls L16. Functions are pure: bytes in, bytes out.

Exception tree::

    AudioError      data that PyAV cannot read, or a request it cannot honour (e.g. no audio stream)
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream

SAMPLE_WIDTH = 2  # bytes per sample: s16
PHONE_RATE = 8000  # G.711 narrowband
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)  # what MPEG-1/2/2.5 layer III can carry
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


class AudioError(Exception):
    """Audio that cannot be decoded, encoded or converted; ``context`` says what was attempted."""

    def __init__(self, message: str, *, context: str = "") -> None:
        self.context = context
        super().__init__(f"{message} ({context})" if context else message)


@dataclass(frozen=True)
class Pcm:
    """Signed 16-bit little-endian mono samples at ``rate`` Hz."""

    samples: bytes
    rate: int

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"sample rate must be positive, got {self.rate}")
        if len(self.samples) % SAMPLE_WIDTH:
            raise ValueError(f"s16 samples need an even number of bytes, got {len(self.samples)}")

    @property
    def frames(self) -> int:
        """Number of samples (one channel, so samples = frames)."""
        return len(self.samples) // SAMPLE_WIDTH

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.rate

    def array(self) -> np.ndarray:
        """The samples as a read-only int16 numpy array (no copy)."""
        return np.frombuffer(self.samples, dtype="<i2")


def silence(seconds: float, rate: int) -> Pcm:
    """``seconds`` of digital silence."""
    return Pcm(bytes(SAMPLE_WIDTH * round(seconds * rate)), rate)


def concat(parts: Iterable[Pcm], rate: int | None = None) -> Pcm:
    """Join ``parts`` end to end, resampling any part whose rate differs from ``rate`` (default: the first part's)."""
    parts = list(parts)
    if rate is None:
        if not parts:
            raise ValueError("concat of no parts needs a rate")
        rate = parts[0].rate
    return Pcm(b"".join(resample(p, rate).samples for p in parts), rate)


def chunks(pcm: Pcm, ms: int = 20) -> Iterator[bytes]:
    """Split into frames of ``ms`` milliseconds (the last one zero-padded), as RTP and audio streams send them."""
    size = SAMPLE_WIDTH * pcm.rate * ms // 1000
    if size <= 0:
        raise ValueError(f"a {ms} ms frame at {pcm.rate} Hz holds no samples")
    for start in range(0, len(pcm.samples), size):
        piece = pcm.samples[start : start + size]
        yield piece + bytes(size - len(piece))


def _frame(pcm: Pcm) -> AudioFrame:
    frame = AudioFrame.from_ndarray(pcm.array().reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = pcm.rate
    return frame


def _s16_bytes(frames: Iterable[AudioFrame]) -> bytes:
    # to_ndarray() trims the padding that FFmpeg leaves at the end of a plane
    return b"".join(f.to_ndarray().astype("<i2", copy=False).tobytes() for f in frames)


def decode(data: bytes) -> Pcm:
    """Decode any container PyAV reads (mp3, wav, webm/opus, ogg, …) to mono s16 at the stream's own rate.

    Multi-channel audio is downmixed. Raises ``AudioError`` for empty, unreadable or audio-less data.
    """
    if not data:
        raise AudioError("no audio data", context="0 bytes")
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise AudioError("no audio stream", context=f"{len(data)} bytes, format {container.format.name}")
            stream = container.streams.audio[0]
            resampler: AudioResampler | None = None
            out: list[AudioFrame] = []
            rate = stream.rate or 0
            damaged = 0
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    damaged += 1  # a glitch in a stream (or two MP3 files glued together): skip it, like ffmpeg does
                    continue
                for frame in frames:
                    if resampler is None:
                        rate = frame.sample_rate or rate
                        resampler = AudioResampler(format="s16", layout="mono", rate=rate)
                    out.extend(resampler.resample(frame))
            if resampler is None and damaged:
                raise AudioError("no decodable audio", context=f"{len(data)} bytes, {damaged} damaged packets")
            if resampler is not None:
                out.extend(resampler.resample(None))
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError, EOFError) as exc:
        raise AudioError("cannot decode audio", context=f"{len(data)} bytes: {exc}") from exc
    if rate <= 0:
        raise AudioError("audio stream without a sample rate", context=f"{len(data)} bytes")
    return Pcm(_s16_bytes(out), rate)


def resample(pcm: Pcm, rate: int) -> Pcm:
    """Convert to ``rate`` Hz with libswresample; a no-op when the rate already matches."""
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate}")
    if pcm.rate == rate or not pcm.samples:
        return Pcm(pcm.samples, rate)
    resampler = AudioResampler(format="s16", layout="mono", rate=rate)
    out = list(resampler.resample(_frame(pcm)))
    out.extend(resampler.resample(None))
    return Pcm(_s16_bytes(out), rate)


def to_mulaw(pcm: Pcm) -> bytes:
    """G.711 μ-law, one byte per sample, at the PCM's own rate (resample to 8 kHz first for the phone)."""
    if not pcm.samples:
        return b""
    ctx = av.CodecContext.create("pcm_mulaw", "w")
    ctx.sample_rate = pcm.rate
    ctx.layout = "mono"
    ctx.format = "s16"
    packets = list(ctx.encode(_frame(pcm)))
    packets.extend(ctx.encode(None))
    return b"".join(bytes(p) for p in packets)


def from_mulaw(data: bytes, rate: int = PHONE_RATE) -> Pcm:
    """Decode G.711 μ-law bytes (one per sample) to s16 PCM at ``rate``."""
    if not data:
        return Pcm(b"", rate)
    ctx = av.CodecContext.create("pcm_mulaw", "r")
    ctx.sample_rate = rate
    ctx.layout = "mono"
    frames = list(ctx.decode(av.Packet(data)))
    return Pcm(_s16_bytes(frames), rate)


def encode(
    pcm: Pcm,
    container: str,
    codec: str,
    *,
    rate: int | None = None,
    bit_rate: int | None = None,
    container_options: dict[str, str] | None = None,
    codec_options: dict[str, str] | None = None,
) -> bytes:
    """Encode into ``container`` (an FFmpeg muxer name: "mp3", "webm", "ogg", "wav") with ``codec``.

    The PCM is resampled to ``rate`` if given, and converted to whatever sample format the encoder wants.
    ``container_options`` go to the muxer (e.g. ``{"id3v2_version": "0", "write_xing": "0"}``: bare MP3 frames),
    ``codec_options`` to the encoder (e.g. ``{"compression_level": "7"}``: LAME's faster search).
    """
    if rate is not None and rate != pcm.rate:
        pcm = resample(pcm, rate)
    buffer = io.BytesIO()
    try:
        with av.open(buffer, mode="w", format=container, container_options=container_options or {}) as out:
            stream = out.add_stream(codec, rate=pcm.rate, options=codec_options or {})
            if not isinstance(stream, AudioStream):
                raise AudioError("not an audio codec", context=codec)
            stream.layout = "mono"
            if bit_rate:
                stream.bit_rate = bit_rate
            fmt = stream.codec_context.format.name if stream.codec_context.format else "s16"
            stream.codec_context.open(strict=False)
            frame_size = stream.codec_context.frame_size or 0
            resampler = AudioResampler(format=fmt, layout="mono", rate=pcm.rate, frame_size=frame_size or None)
            frames = list(resampler.resample(_frame(pcm))) if pcm.samples else []
            frames.extend(resampler.resample(None))
            pts = 0
            for frame in frames:
                frame.pts = pts
                pts += frame.samples
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError("cannot encode audio", context=f"{container}/{codec} at {pcm.rate} Hz: {exc}") from exc
    return buffer.getvalue()


def encode_mp3(pcm: Pcm, bit_rate: int = 48_000) -> bytes:
    """MP3 for the page's <audio>; rates MP3 cannot carry are resampled to 24 kHz (edge-tts' own rate)."""
    rate = pcm.rate if pcm.rate in MP3_RATES else 24000
    # LAME's quality 7 is about twice as fast as its default and indistinguishable for speech at 48 kbit/s
    return encode(pcm, "mp3", "libmp3lame", rate=rate, bit_rate=bit_rate, codec_options={"compression_level": "7"})


def to_wav(pcm: Pcm) -> bytes:
    """A RIFF/WAVE file with 16-bit mono PCM."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(SAMPLE_WIDTH)
        w.setframerate(pcm.rate)
        w.writeframes(pcm.samples)
    return buffer.getvalue()


def read_wav(path: str | Path) -> Pcm:
    """Read a WAV file (any encoding and channel count PyAV reads) as mono s16 at its own rate."""
    return decode(Path(path).read_bytes())
