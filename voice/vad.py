"""Endpointing for the phone: when did the caller start speaking, and when have they finished?

Feed 20 ms frames of PCM as they arrive; :meth:`Endpointer.feed` returns the events they complete:

* :class:`SpeechStarted` once at least ``min_speech_ms`` of speech has been heard (coughs and clicks are shorter);
* :class:`SpeechEnded` after ``silence_ms`` of silence following speech, or when the utterance reaches
  ``max_utterance_s`` (an unending stream — a radio, a caller who does not pause — is cut and recognised in pieces).
  It carries the utterance's audio: a little audio before the start (the detector needs a few frames to be sure) up
  to a short tail after the last speech, ready for the recognizer.

Two speech detectors, chosen by ``detector``:

* ``silero`` (default): Silero VAD v6, the ONNX model bundled with faster-whisper (its ``faster_whisper.vad``
  module), run on 512-sample windows at 16 kHz with its recurrent state carried from window to window. It tells
  speech from tones, hum and steady noise.
* ``energy``: frame energy against an adaptive noise floor (fast to follow quieter frames, slow to follow louder
  ones), with a margin and hysteresis. No model; the fallback when onnxruntime is unavailable. It cannot tell a tone
  from a voice.

The state machine is pure and deterministic given the detector's frame decisions, so tests drive it with generated
audio.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from voice.asr.resampling import StreamResampler
from voice.audio import SAMPLE_WIDTH, Pcm

if TYPE_CHECKING:
    from assistant.settings import Settings

FRAME_MS = 20
SILERO_RATE = 16000
SILERO_WINDOW = 512  # samples per Silero window at 16 kHz (32 ms)
SILERO_CONTEXT = 64  # samples of the previous window the v6 model sees in front of each window


class Detector(Protocol):
    """Decides, frame by frame, whether a frame is speech; ``speaking`` lets it apply hysteresis."""

    def is_speech(self, frame: Pcm, speaking: bool) -> bool: ...

    def reset(self) -> None: ...


class SileroDetector:
    """Silero VAD (faster-whisper's bundled ONNX model), streaming with carried state."""

    def __init__(self, threshold: float = 0.5, neg_threshold: float | None = None) -> None:
        from faster_whisper.vad import get_vad_model  # type: ignore[import-untyped]

        self._session: Any = get_vad_model().session
        self.threshold = threshold
        self.neg_threshold = neg_threshold if neg_threshold is not None else max(threshold - 0.15, 0.01)
        self.reset()

    def reset(self) -> None:
        self._resampler: StreamResampler | None = None
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(SILERO_CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.probability = 0.0

    def _window(self, window: np.ndarray) -> float:
        batch = np.concatenate([self._context, window]).reshape(1, -1)
        out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = window[-SILERO_CONTEXT:]
        return float(np.asarray(out).reshape(-1)[0])

    def is_speech(self, frame: Pcm, speaking: bool) -> bool:
        if self._resampler is None or self._resampler.rate != frame.rate:
            self._resampler = StreamResampler(frame.rate, SILERO_RATE)
        resampled = self._resampler.push(frame.samples)
        samples = np.frombuffer(resampled, dtype="<i2").astype(np.float32) / 32768.0
        self._pending = np.concatenate([self._pending, samples])
        while len(self._pending) >= SILERO_WINDOW:
            self.probability = self._window(self._pending[:SILERO_WINDOW])
            self._pending = self._pending[SILERO_WINDOW:]
        return self.probability >= (self.neg_threshold if speaking else self.threshold)


class EnergyDetector:
    """Energy above an adaptive noise floor, in dB, with hysteresis.

    The floor is the quietest frame of the last ``window_s`` seconds (minimum statistics): steady noise becomes the
    floor at once, and speech, which pauses between syllables, does not raise it.
    """

    def __init__(
        self, margin_db: float = 12.0, min_db: float = -50.0, hold_db: float = 4.0, window_s: float = 5.0
    ) -> None:
        self.margin_db = margin_db  # how far above the noise floor speech must be
        self.min_db = min_db  # frames quieter than this are silence whatever the floor
        self.hold_db = hold_db  # once speaking, speech may be this much quieter
        self._levels: deque[float] = deque(maxlen=max(1, round(window_s * 1000 / FRAME_MS)))

    def reset(self) -> None:
        self._levels.clear()

    @staticmethod
    def level_db(frame: Pcm) -> float:
        samples = frame.array().astype(np.float64)
        rms = math.sqrt(float(np.mean(samples * samples))) if len(samples) else 0.0
        return 20 * math.log10(max(rms, 1.0) / 32768.0)

    @property
    def noise_db(self) -> float:
        return min(self._levels) if self._levels else -90.0

    def is_speech(self, frame: Pcm, speaking: bool) -> bool:
        level = self.level_db(frame)
        self._levels.append(level)
        threshold = self.noise_db + self.margin_db - (self.hold_db if speaking else 0.0)
        return level > max(threshold, self.min_db)


@dataclass(frozen=True)
class SpeechStarted:
    at: float  # seconds since the endpointer started (or was reset), where the speech began


@dataclass(frozen=True)
class SpeechEnded:
    at: float  # seconds since the start, where the speech ended
    pcm: Pcm  # the utterance, with a little padding either side
    reason: Literal["silence", "max_length"]


Event = SpeechStarted | SpeechEnded


@dataclass(frozen=True)
class EndpointConfig:
    silence_ms: int = 700  # silence after speech that ends an utterance
    min_speech_ms: int = 200  # speech needed before an utterance counts as started
    max_utterance_s: float = 15.0  # an utterance is cut here
    pre_roll_ms: int = 300  # audio kept from before the detected start
    tail_ms: int = 200  # audio kept after the last speech frame
    detector: Literal["silero", "energy"] = "silero"

    @classmethod
    def from_settings(cls, settings: Settings, **changes: Any) -> EndpointConfig:
        values: dict[str, Any] = {
            "silence_ms": settings.asr_vad_silence_ms,
            "min_speech_ms": settings.asr_vad_min_speech_ms,
            "max_utterance_s": settings.asr_vad_max_utterance_s,
        }
        return cls(**(values | changes))


def make_detector(kind: Literal["silero", "energy"] = "silero") -> Detector:
    """The detector named ``kind``; Silero falls back to energy when onnxruntime or the model is unavailable."""
    if kind == "silero":
        try:
            return SileroDetector()
        except (ImportError, RuntimeError, OSError):
            pass
    return EnergyDetector()


@dataclass
class Endpointer:
    """Turns a stream of PCM frames into :class:`SpeechStarted` / :class:`SpeechEnded` events. One per call leg."""

    rate: int
    config: EndpointConfig = field(default_factory=EndpointConfig)
    detector: Detector | None = None

    def __post_init__(self) -> None:
        if self.detector is None:
            self.detector = make_detector(self.config.detector)
        self._frame_bytes = SAMPLE_WIDTH * self.rate * FRAME_MS // 1000
        self.reset()

    def reset(self) -> None:
        """Forget everything (e.g. after the bot spoke): the next frame is time zero."""
        assert self.detector is not None
        self.detector.reset()
        self._buffer = b""
        self._elapsed_ms = 0
        self._speaking = False
        self._speech_run = 0  # ms of consecutive speech while not speaking yet
        self._silence_run = 0  # ms of consecutive silence while speaking
        # frames before the start is confirmed: the min_speech_ms that confirm it and pre_roll_ms before those
        self._pre_roll: deque[bytes] = deque(
            maxlen=max(1, (self.config.pre_roll_ms + self.config.min_speech_ms) // FRAME_MS)
        )
        self._utterance: list[bytes] = []
        self._start_ms = 0

    @property
    def speaking(self) -> bool:
        return self._speaking

    def feed(self, data: bytes) -> list[Event]:
        """Take PCM bytes (s16 mono at ``rate``; any length — split into 20 ms frames) and return completed events."""
        self._buffer += data
        events: list[Event] = []
        while len(self._buffer) >= self._frame_bytes:
            frame, self._buffer = self._buffer[: self._frame_bytes], self._buffer[self._frame_bytes :]
            event = self._frame(frame)
            if event is not None:
                events.append(event)
        return events

    def feed_all(self, frames: Iterable[bytes]) -> list[Event]:
        return [event for frame in frames for event in self.feed(frame)]

    def flush(self) -> list[Event]:
        """End of stream (hang-up): an utterance in progress ends now."""
        if not self._speaking:
            return []
        return [self._end("silence")]

    def _frame(self, frame: bytes) -> Event | None:
        assert self.detector is not None
        speech = self.detector.is_speech(Pcm(frame, self.rate), self._speaking)
        self._elapsed_ms += FRAME_MS
        if not self._speaking:
            self._pre_roll.append(frame)
            self._speech_run = self._speech_run + FRAME_MS if speech else 0
            if self._speech_run >= self.config.min_speech_ms:
                self._speaking = True
                self._silence_run = 0
                self._start_ms = self._elapsed_ms - self._speech_run
                self._utterance = list(self._pre_roll)
                return SpeechStarted(self._start_ms / 1000)
            return None
        self._utterance.append(frame)
        self._silence_run = 0 if speech else self._silence_run + FRAME_MS
        if self._silence_run >= self.config.silence_ms:
            return self._end("silence")
        if self._elapsed_ms - self._start_ms >= self.config.max_utterance_s * 1000:
            return self._end("max_length")
        return None

    def _end(self, reason: Literal["silence", "max_length"]) -> SpeechEnded:
        # keep a short tail after the last speech frame, drop the rest of the silence that ended the utterance
        trailing = self._silence_run // FRAME_MS
        keep = max(0, trailing - self.config.tail_ms // FRAME_MS)
        frames = self._utterance[: len(self._utterance) - keep] if keep else self._utterance
        ended_at = (self._elapsed_ms - self._silence_run) / 1000
        event = SpeechEnded(ended_at, Pcm(b"".join(frames), self.rate), reason)
        self._speaking = False
        self._speech_run = self._silence_run = 0
        self._utterance = []
        self._pre_roll.clear()
        return event
