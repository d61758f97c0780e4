"""The synthesizer: text → speech through the first backend that works, with retries, circuit breakers and a cache.

For each piece of text the backends are tried in order (edge-tts, then espeak-ng). A backend is skipped while its
circuit is open; a failed attempt is retried with exponential backoff (edge-tts only: espeak-ng either works or is
missing), except after a timeout, which has already cost the caller the time a retry would need. The cache is consulted per backend, so a cached edge-tts rendering wins, and while edge-tts is down the
espeak-ng renderings cached then are reused. Which backend spoke is logged and returned in ``Speech.backend``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from assistant.settings import Settings
from voice.audio import AudioError, Pcm, decode, encode_mp3, resample
from voice.speech_text import for_speech
from voice.tts.base import (
    MP3_RATE,
    PCM_RATE,
    Backend,
    BackendAudio,
    BackendFailed,
    Format,
    Profile,
    Speech,
    TtsError,
    TtsUnavailable,
)
from voice.tts.cache import SpeechCache, cache_key
from voice.tts.edge import EdgeBackend
from voice.tts.espeak import EspeakBackend
from voice.tts.resilience import CircuitBreaker, CircuitOpen, Sleep, backoff_delays, retry

log = logging.getLogger(__name__)

_ENDINGS = tuple("。！？；，、：")


class NothingToSay(TtsError):
    """The text holds nothing that can be spoken (only symbols, emoji, whitespace)."""


def spoken_text(pieces: Sequence[str]) -> str:
    """Sentences from :func:`for_speech` joined back into one text, each ending with punctuation."""
    return "".join(p if p.endswith(_ENDINGS) else p + "。" for p in pieces)


def convert(audio: BackendAudio, fmt: Format, rate: int | None) -> tuple[bytes, int]:
    """A backend's audio in the requested format; MP3 from edge-tts at its own 24 kHz is passed through untouched.

    Raises:
        AudioError: the backend's audio cannot be decoded.
    """
    if fmt == "mp3":
        target = rate or MP3_RATE
        if audio.container == "mp3" and target == MP3_RATE:
            return audio.data, MP3_RATE
        return encode_mp3(resample(decode(audio.data), target)), target
    pcm: Pcm = resample(decode(audio.data), rate or PCM_RATE)
    return pcm.samples, pcm.rate


@dataclass
class Lane:
    """One backend with its retry delays and (optionally) its circuit breaker."""

    backend: Backend
    delays: list[float] = field(default_factory=list)
    breaker: CircuitBreaker | None = None


class Synthesizer:
    """Speaks text with failover across ``lanes`` (in order) and an optional disk cache."""

    def __init__(
        self, lanes: Sequence[Lane], cache: SpeechCache | None = None, *, sleep: Sleep = asyncio.sleep
    ) -> None:
        if not lanes:
            raise ValueError("a synthesizer needs at least one backend")
        self.lanes = list(lanes)
        self.cache = cache
        self._sleep = sleep

    @property
    def backends(self) -> list[str]:
        return [lane.backend.name for lane in self.lanes]

    async def synthesize(
        self, text: str, profile: Profile = "standard", fmt: Format = "mp3", rate: int | None = None
    ) -> Speech:
        """The whole text as one piece of speech.

        Raises:
            NothingToSay: nothing in ``text`` can be spoken.
            TtsUnavailable: every backend failed (``failures`` says why).
        """
        pieces = for_speech(text)
        if not pieces:
            raise NothingToSay("nothing to speak", context=repr(text[:80]))
        return await self.speak(spoken_text(pieces), profile, fmt, rate)

    async def stream(
        self, text: str, profile: Profile = "standard", fmt: Format = "mp3", rate: int | None = None
    ) -> AsyncIterator[Speech]:
        """One piece of speech per short sentence, each as soon as it is ready (the phone plays the first at once)."""
        pieces = for_speech(text)
        if not pieces:
            raise NothingToSay("nothing to speak", context=repr(text[:80]))
        for piece in pieces:
            yield await self.speak(spoken_text([piece]), profile, fmt, rate)

    async def speak(self, spoken: str, profile: Profile, fmt: Format, rate: int | None) -> Speech:
        """Speak text that is already prepared for speech (no further normalisation)."""
        if fmt not in ("mp3", "pcm"):
            raise ValueError(f"unknown format {fmt!r}")
        if profile not in ("standard", "elder"):
            raise ValueError(f"unknown profile {profile!r}")
        failures: list[str] = []
        for lane in self.lanes:
            backend = lane.backend
            key = cache_key(spoken, backend.voice(profile), profile, fmt, rate or 0)
            if self.cache is not None:
                cached = await asyncio.to_thread(self.cache.get, key)
                if cached is not None:
                    log.info("tts spoke: backend=%s cached=yes profile=%s chars=%d", backend.name, profile, len(spoken))
                    return Speech(cached, fmt, _rate(fmt, rate), backend.name, spoken, cached=True)
            try:
                audio, out_rate = await self._attempt(lane, spoken, profile, fmt, rate)
            except CircuitOpen:
                failures.append(f"{backend.name}: circuit open")
                log.info("tts skipped %s: circuit open", backend.name)
                continue
            except BackendFailed as exc:
                failures.append(str(exc))
                log.warning("tts backend failed, trying the next one: %s", exc)
                continue
            if self.cache is not None:
                await asyncio.to_thread(self.cache.put, key, audio)
            log.info("tts spoke: backend=%s cached=no profile=%s chars=%d", backend.name, profile, len(spoken))
            return Speech(audio, fmt, out_rate, backend.name, spoken)
        raise TtsUnavailable(failures)

    async def _attempt(
        self, lane: Lane, spoken: str, profile: Profile, fmt: Format, rate: int | None
    ) -> tuple[bytes, int]:
        breaker = lane.breaker

        async def once() -> tuple[bytes, int]:
            audio = await lane.backend.synthesize(spoken, profile)
            try:
                return await asyncio.to_thread(convert, audio, fmt, rate)
            except AudioError as exc:
                raise BackendFailed(lane.backend.name, f"unreadable audio: {exc}") from exc

        def failed(exc: BaseException) -> None:
            if breaker is not None:
                breaker.record_failure()
                log.info("tts %s failure %d (circuit %s)", lane.backend.name, breaker.failures, breaker.state.value)

        result = await retry(
            once,
            lane.delays,
            retry_on=(BackendFailed,),
            sleep=self._sleep,
            before_attempt=breaker.allow if breaker is not None else lambda: True,
            on_failure=failed,
            should_retry=lambda exc: getattr(exc, "retryable", True),
        )
        if breaker is not None:
            breaker.record_success()
        return result


def _rate(fmt: Format, rate: int | None) -> int:
    return rate or (MP3_RATE if fmt == "mp3" else PCM_RATE)


def build_synthesizer(settings: Settings) -> Synthesizer:
    """A new synthesizer configured by the ``tts_*`` settings (see docs/voice.md)."""
    lanes: list[Lane] = []
    for name in settings.tts_backends.split(","):
        if name == "edge":
            edge = EdgeBackend(
                settings.tts_voice,
                {
                    "standard": (settings.tts_rate, settings.tts_volume),
                    "elder": (settings.tts_elder_rate, settings.tts_elder_volume),
                },
                timeout=settings.tts_timeout,
                url=settings.tts_edge_url,
            )
            breaker = CircuitBreaker(settings.tts_breaker_failures, settings.tts_breaker_cooldown)
            lanes.append(Lane(edge, backoff_delays(settings.tts_retries, settings.tts_backoff), breaker))
        elif name == "espeak":
            espeak = EspeakBackend(
                settings.tts_espeak_voice,
                {"standard": settings.tts_espeak_speed, "elder": settings.tts_espeak_elder_speed},
                {"standard": settings.tts_espeak_amplitude, "elder": settings.tts_espeak_elder_amplitude},
            )
            lanes.append(Lane(espeak))
    cache = SpeechCache(settings.data_dir / "tts-cache", int(settings.tts_cache_mb * 1024 * 1024))
    return Synthesizer(lanes, cache)


_shared: dict[str, Synthesizer] = {}
_shared_lock = threading.Lock()


def get_synthesizer(settings: Settings) -> Synthesizer:
    """The process's synthesizer for these settings (shared, so its circuit breakers see every request)."""
    fingerprint = settings.model_dump_json(include={name for name in Settings.model_fields if name.startswith("tts_")})
    fingerprint += str(settings.data_dir)
    with _shared_lock:
        synthesizer = _shared.get(fingerprint)
        if synthesizer is None:
            synthesizer = _shared[fingerprint] = build_synthesizer(settings)
        return synthesizer
