"""The vocabulary of text-to-speech: profiles, the audio a backend returns, the speech a caller gets, and the errors.

Exception tree::

    TtsError                 base
    ├── BackendFailed        one backend could not speak (timeout, refused connection, bad stream, exit status)
    └── TtsUnavailable       no backend could speak the text (each failed, or its circuit is open)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

Profile = Literal["standard", "elder"]
Format = Literal["mp3", "pcm"]

PROFILES: tuple[Profile, ...] = ("standard", "elder")
MP3_RATE = 24000  # edge-tts' own output rate; MP3 from every backend is made at this rate unless asked otherwise
PCM_RATE = 8000  # the phone's rate


class TtsError(Exception):
    """A speech request that failed; ``context`` is for the log, never for users."""

    def __init__(self, message: str, *, context: str = "") -> None:
        self.context = context
        super().__init__(f"{message}: {context}" if context else message)


class BackendFailed(TtsError):
    """One backend could not speak the text."""

    def __init__(self, backend: str, context: str, *, retryable: bool = True) -> None:
        self.backend = backend
        self.retryable = retryable  # False after a timeout: the caller has already waited long enough
        super().__init__(f"{backend} failed", context=context)


class TtsUnavailable(TtsError):
    """Every backend failed or was skipped; ``failures`` lists why, one line per backend."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        super().__init__("no text-to-speech backend could speak", context="; ".join(failures))


@dataclass(frozen=True)
class Boundary:
    """A sentence or word boundary reported by a backend (edge-tts sends them as ``audio.metadata``)."""

    kind: str  # "SentenceBoundary" | "WordBoundary"
    offset: float  # seconds from the start of the audio
    duration: float
    text: str


@dataclass(frozen=True)
class BackendAudio:
    """What a backend produced: encoded audio in its own container, and the boundaries it reported."""

    data: bytes
    container: Literal["mp3", "wav"]
    boundaries: tuple[Boundary, ...] = field(default=())


@dataclass(frozen=True)
class Speech:
    """Speech ready to play.

    ``audio`` is MP3 (``fmt`` "mp3") or signed 16-bit little-endian mono PCM (``fmt`` "pcm", L16) at ``rate`` Hz;
    ``backend`` names the backend that spoke; ``text_spoken`` is the text after :func:`voice.speech_text.for_speech`.
    """

    audio: bytes
    fmt: Format
    rate: int
    backend: str
    text_spoken: str
    cached: bool = False


class Backend(Protocol):
    """A voice engine. ``voice`` identifies what it sounds like (it is part of the cache key)."""

    name: str

    def voice(self, profile: Profile) -> str: ...

    async def synthesize(self, text: str, profile: Profile) -> BackendAudio:
        """Speak ``text`` (already prepared for speech) or raise :class:`BackendFailed`."""
        ...

    def stream(self, text: str, profile: Profile) -> AsyncIterator[bytes]:
        """The same audio as it arrives, in chunks of the backend's container (for time-to-first-audio)."""
        ...
