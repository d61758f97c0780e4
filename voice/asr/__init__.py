"""Speech recognition: PCM in, simplified Chinese text out.

Public surface::

    Transcript, Recognizer                     voice.asr.recognizer
    AsrError, ModelError, AsrUnavailable       (exception tree in voice.asr.recognizer)
    get_recognizer(settings) -> Recognizer     the configured backend (asr_backend), shared per process
    hotwords(settings) -> str                  voice.asr.hotwords: item names and aliases for Whisper's prompt

Backends: ``whisper`` (:mod:`voice.asr.whisper`, offline, the default) and ``funasr`` (:mod:`voice.asr.funasr`, a
FunASR websocket runtime server). Nothing is loaded at import time; Whisper loads on its first transcription.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from voice.asr.hotwords import hotwords
from voice.asr.recognizer import AsrError, AsrUnavailable, ModelError, Recognizer, Transcript

if TYPE_CHECKING:
    from assistant.settings import Settings

__all__ = [
    "AsrError",
    "AsrUnavailable",
    "ModelError",
    "Recognizer",
    "Transcript",
    "get_recognizer",
    "hotwords",
    "make_recognizer",
]


def make_recognizer(settings: Settings) -> Recognizer:
    """A new recognizer for ``settings.asr_backend`` (cheap: models load on first use)."""
    if settings.asr_backend == "funasr":
        from voice.asr.funasr import FunAsrRecognizer

        return FunAsrRecognizer.from_settings(settings)
    from voice.asr.whisper import whisper_recognizer

    return whisper_recognizer(settings)


_shared: dict[str, Recognizer] = {}
_shared_lock = threading.Lock()


def get_recognizer(settings: Settings) -> Recognizer:
    """The process-wide recognizer for these settings (one Whisper model however often it is asked for)."""
    key = settings.model_dump_json()
    with _shared_lock:
        if key not in _shared:
            _shared[key] = make_recognizer(settings)
        return _shared[key]
