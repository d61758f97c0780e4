"""Speech recognition quality and speed on the generated phone-band test set, with and without hotwords.

The set (tests/voice/asr_set.py): 40 questions citizens ask, spoken by espeak-ng (``-v cmn-latn-pinyin``), resampled to
8 kHz, through G.711 μ-law and back — generated now, nothing downloaded. Each question is recognised by the configured
Whisper recognizer (faster-whisper, Whisper base, int8) twice: without hotwords and with the knowledge base's hotwords;
both share one loaded model and run one after the other on the same audio.

Reported: character error rate over the set (punctuation not scored, 繁/简 folded), how many of the hotwords spoken in
the questions were recognised exactly, the real-time factor (recognition time / audio time, model already loaded) and
per-utterance latency. Whisper's temperature fallback samples at random when a greedy decode looks garbled, which is
frequent on this audio, so each variant runs once per seed (CTranslate2's random seed) and the table shows the mean and
the range. The machine's load average is printed too: on a shared machine it explains slow runs.

Run: make bench-asr   (options: --speed WPM, --limit N, --seeds N, --details)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import ctranslate2  # type: ignore[import-untyped]
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.settings import get_settings  # noqa: E402
from tests.voice.asr_set import QUESTIONS, Utterance, generate  # noqa: E402
from voice.asr.cer import cer, corpus_cer  # noqa: E402
from voice.asr.hotwords import SEPARATOR  # noqa: E402
from voice.asr.whisper import WhisperRecognizer, whisper_recognizer  # noqa: E402


def run(
    recognizer: WhisperRecognizer, utterances: list[Utterance], words: list[str], label: str, details: bool
) -> dict[str, float]:
    hypotheses, latencies = [], []
    for spoken in utterances:
        transcript = recognizer.transcribe_sync(spoken.pcm)
        hypotheses.append(transcript.text)
        latencies.append(transcript.seconds_taken)
        if details:
            print(f"  [{label}] {cer(spoken.text, transcript.text):.2f}  {spoken.text}  →  {transcript.text}")
    audio = sum(u.pcm.duration for u in utterances)
    return {
        "cer": corpus_cer(zip([u.text for u in utterances], hypotheses, strict=True)),
        "rtf": sum(latencies) / audio,
        "p50": float(np.percentile(latencies, 50)),
        "p95": float(np.percentile(latencies, 95)),
        "names": words_found(utterances, hypotheses, words),
    }


def words_found(utterances: list[Utterance], hypotheses: list[str], words: list[str]) -> float:
    """Share of (question, hotword) pairs — a hotword spoken in the question — recognised exactly."""
    pairs = [(w, h) for u, h in zip(utterances, hypotheses, strict=True) for w in words if w in u.text]
    return sum(w in h for w, h in pairs) / len(pairs) if pairs else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speed", type=int, default=150, help="espeak-ng words per minute (default 150)")
    parser.add_argument("--limit", type=int, default=len(QUESTIONS), help="use the first N questions")
    parser.add_argument("--seeds", type=int, default=3, help="runs per variant, with random seeds 1..N (default 3)")
    parser.add_argument("--details", action="store_true", help="print every question and what was recognised")
    args = parser.parse_args()

    settings = get_settings()
    started = time.perf_counter()
    utterances = generate(QUESTIONS[: args.limit], speed=args.speed)
    audio = sum(u.pcm.duration for u in utterances)
    print(
        f"generated {len(utterances)} utterances, {audio:.1f} s of 8 kHz μ-law audio in {time.perf_counter() - started:.1f} s"
    )

    with_hotwords = whisper_recognizer(settings.model_copy(update={"asr_hotwords": True}))
    started = time.perf_counter()
    with_hotwords.model()
    print(f"model ready (joined/verified if needed, loaded) in {time.perf_counter() - started:.1f} s")
    hotwords = with_hotwords.decode_options().hotwords
    print(f"hotwords ({with_hotwords.count_tokens(hotwords)} tokens): {hotwords}")
    without = with_hotwords.with_options(hotwords="")
    words = [w for w in hotwords.split(SEPARATOR) if w]
    spoken = sum(any(w in u.text for w in words) for u in utterances)
    print(f"{spoken} of {len(utterances)} questions contain a hotword")

    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict[str, float]]] = {"without hotwords": [], "with hotwords": []}
    for seed in range(1, args.seeds + 1):
        for name, recognizer in (("without hotwords", without), ("with hotwords", with_hotwords)):
            ctranslate2.set_random_seed(seed)
            runs[name].append(run(recognizer, utterances, words, f"{name}, seed {seed}", args.details))
    load_after = os.getloadavg()[0]

    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"threads={settings.asr_threads}, beam={settings.asr_beam_size}, int8; "
        f"load average {load_before:.1f} → {load_after:.1f}"
    )
    print()
    print(f"{len(utterances)} utterances, {args.seeds} seed(s) per variant: mean (min–max)")
    print()
    print("| variant | CER | hotwords heard exactly | RTF | p50 s | p95 s |")
    print("|---|---|---|---|---|---|")
    for name, results in runs.items():
        cells = [
            stat(results, key, fmt)
            for key, fmt in (("cer", ".3f"), ("names", ".0%"), ("rtf", ".2f"), ("p50", ".2f"), ("p95", ".2f"))
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")


def stat(results: list[dict[str, float]], key: str, fmt: str) -> str:
    """Mean (min–max) of ``key`` over the runs, formatted with ``fmt``."""
    values = [r[key] for r in results]
    mean = sum(values) / len(values)
    return f"{mean:{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})" if len(values) > 1 else f"{mean:{fmt}}"


if __name__ == "__main__":
    main()
