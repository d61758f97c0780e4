"""The offline recognizer: faster-whisper (CTranslate2) with Whisper base, int8 on the CPU.

The model directory is assembled and verified by :mod:`voice.asr.model_files` before CTranslate2 sees it; the model is
loaded lazily on first use, once per process (and directory, thread count), and shared by every recognizer — so a
recognizer with hotwords and one without (the benchmark) cost one model in memory.

Decoding is tuned for short questions on two cores: Chinese only, no timestamps, no conditioning on earlier text (one
utterance at a time), Silero VAD to drop leading and trailing silence, a small beam, and a 简体 ``initial_prompt`` that
also steers Whisper away from traditional characters. Output is converted to simplified characters and normalised like
typed chat (:func:`assistant.text.normalize_message`), with spaces Whisper puts between Chinese words removed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.text import normalize_message
from voice.asr.model_files import ModelParts, prepare_model
from voice.asr.recognizer import ASR_RATE, AsrError, Transcript
from voice.audio import Pcm, resample

if TYPE_CHECKING:
    from assistant.settings import Settings

log = logging.getLogger(__name__)

#: A short 简体 sentence in the register of the questions: Whisper continues in the style of its prompt (simplified
#: characters, full-width punctuation). It names no item on purpose: words in the prompt are echoed when the audio is
#: unclear, and item names are the hotwords' job (so the benchmark can measure them separately).
INITIAL_PROMPT = "您好，我想咨询一下，这个业务怎么办理？"

#: Whisper's decoder context: prompt and generated tokens together must fit.
MAX_LENGTH = 448

_CJK_SPACE = re.compile(
    r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])"
)


@dataclass(frozen=True)
class DecodeOptions:
    """The faster-whisper options that matter for speed and accuracy on our audio."""

    beam_size: int = 2
    initial_prompt: str = INITIAL_PROMPT
    hotwords: str = ""
    # One temperature fallback re-decodes garbled output. On the generated set (docs/benchmarks.md) it was as accurate as
    # faster-whisper's six-step default or two fallbacks and kept the slowest utterances shorter on two cores.
    temperatures: tuple[float, ...] = (0.0, 0.4)
    vad_min_silence_ms: int = 500
    # Speech carries about 5 characters (7 tokens) a second; a decoder caught in a loop (床 床 床 …) stops here.
    tokens_per_second: float = 12.0

    def max_new_tokens(self, seconds: float, prompt_tokens: int) -> int:
        """Tokens one 30-second window may produce: enough for fast speech, never past Whisper's context."""
        wanted = 16 + round(self.tokens_per_second * min(seconds, 30.0))
        return max(8, min(wanted, MAX_LENGTH - prompt_tokens - 8))

    def kwargs(self) -> dict[str, Any]:
        return {
            "language": "zh",
            "task": "transcribe",
            "beam_size": self.beam_size,
            "best_of": self.beam_size,
            "temperature": list(self.temperatures),
            "initial_prompt": self.initial_prompt or None,
            "hotwords": self.hotwords or None,
            "condition_on_previous_text": False,
            "without_timestamps": True,
            "vad_filter": True,
            "vad_parameters": {"min_silence_duration_ms": self.vad_min_silence_ms, "speech_pad_ms": 300},
        }


def clean_text(text: str, prompt: str = INITIAL_PROMPT) -> str:
    """Whisper's output as chat text: simplified, normalised, no spaces between Chinese characters.

    An echo of the initial prompt (what Whisper writes for unintelligible audio) is dropped.
    """
    text = normalize_message(text)
    text = _CJK_SPACE.sub("", text)
    echo = _CJK_SPACE.sub("", normalize_message(prompt)) if prompt else ""
    if echo and echo in text:
        text = text.replace(echo, "").strip()
    return text


def pcm_to_float(pcm: Pcm) -> np.ndarray:
    """16 kHz float32 samples in [-1, 1), what faster-whisper takes."""
    samples = resample(pcm, ASR_RATE).array()
    return samples.astype(np.float32) / 32768.0


_load_lock = threading.Lock()


def load_model(directory: Path, threads: int) -> Any:
    """The faster-whisper model in ``directory`` (verified first), loaded once per directory and thread count.

    Concurrent first requests wait for one load instead of each loading a copy.

    Raises:
        ModelError: the model files are missing or fail their sha256 check (nothing is cached: the next call retries).
    """
    with _load_lock:
        return _load_model(directory, threads)


@lru_cache(maxsize=2)
def _load_model(directory: Path, threads: int) -> Any:
    from faster_whisper import WhisperModel  # type: ignore[import-untyped]

    prepare_model(directory, ModelParts.from_packages())
    started = time.perf_counter()
    model = WhisperModel(str(directory), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1)
    log.info("Whisper model loaded from %s in %.1f s", directory, time.perf_counter() - started)
    return model


class WhisperRecognizer:
    """Speech recognition with faster-whisper. Calls are serialised: one inference uses all ``threads`` cores."""

    name = "whisper"

    def __init__(
        self,
        model_dir: Path,
        *,
        threads: int = 2,
        options: DecodeOptions | None = None,
        loader: Callable[[Path, int], Any] = load_model,
        hotword_source: Callable[[Callable[[str], int]], str] | None = None,
    ) -> None:
        """``hotword_source``, if given, computes the hotwords on first use from a token counter (the model's
        tokenizer), replacing ``options.hotwords``; it runs after the model is loaded, so construction stays cheap."""
        self.model_dir = model_dir
        self.threads = threads
        self.options = options or DecodeOptions()
        self._loader = loader
        self._hotword_source = hotword_source
        self._lock = threading.Lock()

    def with_options(self, **changes: Any) -> WhisperRecognizer:
        """A recognizer sharing this one's model with other decoding options (e.g. ``hotwords=""``)."""
        options = DecodeOptions(**{**self.decode_options().__dict__, **changes})
        return WhisperRecognizer(self.model_dir, threads=self.threads, options=options, loader=self._loader)

    def decode_options(self) -> DecodeOptions:
        """The options in force, with the hotwords computed if they come from a source."""
        with self._lock:
            if self._hotword_source is not None:
                words = self._hotword_source(self.count_tokens)
                self.options = DecodeOptions(**{**self.options.__dict__, "hotwords": words})
                self._hotword_source = None
                log.info("ASR hotwords (%d tokens): %s", self.count_tokens(words) if words else 0, words)
            return self.options

    def model(self) -> Any:
        """The loaded model (loading and verifying it on first use)."""
        return self._loader(self.model_dir, self.threads)

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in Whisper's prompt (as faster-whisper encodes hotwords: after a space)."""
        return len(self.model().hf_tokenizer.encode(" " + text, add_special_tokens=False).ids)

    def prompt_tokens(self, options: DecodeOptions) -> int:
        """Tokens of the decoder prompt: hotwords, initial prompt and the start-of-transcript sequence."""
        parts = [options.hotwords, options.initial_prompt]
        return 6 + sum(self.count_tokens(part) for part in parts if part)

    def transcribe_sync(self, pcm: Pcm) -> Transcript:
        """Recognise ``pcm`` in the calling thread.

        Raises:
            ModelError: the model cannot be assembled or fails its check.
            AsrError: faster-whisper failed on this audio.
        """
        started = time.perf_counter()
        model = self.model()
        options = self.decode_options()
        audio = pcm_to_float(pcm)
        prompt_tokens = self.prompt_tokens(options)
        try:
            with self._lock:
                segments, _info = model.transcribe(
                    audio, max_new_tokens=options.max_new_tokens(pcm.duration, prompt_tokens), **options.kwargs()
                )
                raw = "".join(segment.text for segment in segments)
        except (RuntimeError, ValueError) as exc:
            raise AsrError("Whisper failed", context=f"{pcm.duration:.1f} s of audio: {exc}") from exc
        text = clean_text(raw, options.initial_prompt)
        taken = time.perf_counter() - started
        log.debug("whisper: %.2f s audio in %.2f s: %r", pcm.duration, taken, text)
        return Transcript(text=text, backend=self.name, duration=pcm.duration, seconds_taken=taken)

    async def transcribe(self, pcm: Pcm) -> Transcript:
        return await asyncio.to_thread(self.transcribe_sync, pcm)


def whisper_recognizer(settings: Settings) -> WhisperRecognizer:
    """The configured Whisper recognizer, hotwords included (the model still loads lazily, on first use)."""
    from voice.asr.hotwords import hotwords

    def source(count_tokens: Callable[[str], int]) -> str:
        return hotwords(settings, count_tokens)

    return WhisperRecognizer(
        settings.asr_model_path,
        threads=settings.asr_threads,
        options=DecodeOptions(beam_size=settings.asr_beam_size),
        hotword_source=source if settings.asr_hotwords else None,
    )
