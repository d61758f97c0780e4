"""What every speech-recognition backend promises: PCM in, a :class:`Transcript` out.

Exception tree::

    AsrError            base: recognition failed; ``context`` says what was attempted (for the log, not for users)
    ├── ModelError      the Whisper model is missing or does not match its pinned sha256 — it is never loaded
    └── AsrUnavailable  a recognition server is unreachable, too slow, or answered with an error

Audio that cannot be decoded raises :class:`voice.audio.AudioError` before any backend sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from voice.audio import Pcm

#: The rate every backend recognises at (Whisper's and FunASR's); other audio is resampled to it.
ASR_RATE = 16000


class AsrError(Exception):
    """Recognition failed."""

    def __init__(self, message: str, *, context: str = "") -> None:
        self.context = context
        super().__init__(f"{message} ({context})" if context else message)


class ModelError(AsrError):
    """The model files are missing or corrupted; nothing was loaded."""


class AsrUnavailable(AsrError):
    """A recognition server is unreachable, timed out or reported an error."""


@dataclass(frozen=True)
class Transcript:
    """What was said, as normalised simplified Chinese text.

    ``duration`` is the audio's length and ``seconds_taken`` the wall time of recognition, both in seconds; their
    ratio is the real-time factor.
    """

    text: str
    backend: str
    duration: float
    seconds_taken: float

    @property
    def real_time_factor(self) -> float:
        return self.seconds_taken / self.duration if self.duration > 0 else 0.0


@runtime_checkable
class Recognizer(Protocol):
    """A speech recognizer. Implementations are safe to share between concurrent callers."""

    name: str

    async def transcribe(self, pcm: Pcm) -> Transcript:
        """Recognise ``pcm`` (any rate; mono s16).

        Raises:
            AsrError: recognition failed (a subclass says why).
        """
        ...
