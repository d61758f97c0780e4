"""Text-to-speech latency: time to first audio and total time, per backend, on a few typical answers.

- espeak-ng: the real engine from Debian (first audio = the first chunk of WAV samples on its stdout).
- edge-tts: the real ``edge-tts`` client, but against the local fake service (tests/voice/fake_edge_tts.py), which
  makes its audio with espeak-ng and PyAV. It measures the client, the protocol and our timeout/stream handling, NOT
  Microsoft's service: no network, no neural synthesis. Measure the real service on a machine that may reach it.
- phone: the synthesizer as the phone uses it (``Synthesizer.stream``, first sentence as 8 kHz PCM, cache off): the
  time until the first sentence can be played, and until the whole answer is ready.

Every answer goes through ``for_speech`` first, as in production. Prints markdown for docs/benchmarks.md.

Run: make bench-tts
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.settings import Settings  # noqa: E402
from tests.voice.fake_edge_tts import FakeEdgeTTS  # noqa: E402
from voice.speech_text import for_speech  # noqa: E402
from voice.tts import Profile, build_synthesizer  # noqa: E402
from voice.tts.edge import EdgeBackend  # noqa: E402
from voice.tts.espeak import EspeakBackend  # noqa: E402
from voice.tts.synthesizer import spoken_text  # noqa: E402

ANSWERS = [
    "您好，请问有什么可以帮您？",
    "补办社保卡请带身份证原件，到示例市人民大道100号政务服务中心办理，一般5个工作日办结。",
    "工作时间：上午9:00-12:00，下午13:30-17:30；周六上午9:00-12:00（部分窗口）。咨询电话0000-83330001。",
    "您的受理编号是SBK-20261121-000123，请记好。办理进度可以拨打12345热线查询，也可以登录网站查询。",
    "需要准备：\n1. 身份证原件\n2. 户口本\n3. 近期2寸免冠照片2张\n首套住房首付不低于20%，贷款额度最高60万元。",
]


def percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


async def time_stream(
    stream: Callable[[str, Profile], AsyncIterator[bytes]], text: str, profile: Profile, header: int = 0
) -> tuple[float, float]:
    """Milliseconds to the first chunk carrying audio (past ``header`` bytes) and to the end."""
    started = time.perf_counter()
    first = None
    received = 0
    async for chunk in stream(text, profile):
        received += len(chunk)
        if first is None and received > header:
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    return (first if first is not None else total) * 1000, total * 1000


async def backend_rounds(
    rounds: int, profile: Profile, fake: FakeEdgeTTS
) -> dict[str, tuple[list[float], list[float]]]:
    espeak = EspeakBackend()
    edge = EdgeBackend(url=fake.url, timeout=10.0)
    results: dict[str, tuple[list[float], list[float]]] = {"espeak-ng": ([], []), "edge-tts (fake service)": ([], [])}
    for _ in range(rounds):
        for answer in ANSWERS:
            text = spoken_text(for_speech(answer))
            for name, backend, header in (("espeak-ng", espeak, 44), ("edge-tts (fake service)", edge, 0)):
                first, total = await time_stream(backend.stream, text, profile, header)
                results[name][0].append(first)
                results[name][1].append(total)
    return results


async def phone_rounds(rounds: int, settings: Settings) -> tuple[list[float], list[float]]:
    synthesizer = build_synthesizer(settings)
    firsts, totals = [], []
    for _ in range(rounds):
        for answer in ANSWERS:
            started = time.perf_counter()
            first = None
            async for _speech in synthesizer.stream(answer, profile="elder", fmt="pcm", rate=8000):
                if first is None:
                    first = time.perf_counter() - started
            totals.append((time.perf_counter() - started) * 1000)
            firsts.append((first or 0) * 1000)
    return firsts, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="times each answer is spoken per backend")
    args = parser.parse_args()
    samples = args.rounds * len(ANSWERS)
    print(f"{len(ANSWERS)} answers × {args.rounds} rounds = {samples} requests per row; milliseconds\n")
    print("| backend | profile | first audio p50 | first audio p95 | total p50 | total p95 |")
    print("|---|---|---|---|---|---|")
    with FakeEdgeTTS().running() as fake, tempfile.TemporaryDirectory() as tmp:
        for profile in ("standard", "elder"):
            results = asyncio.run(backend_rounds(args.rounds, profile, fake))
            for name, (firsts, totals) in results.items():
                f50, f95 = percentiles(firsts)
                t50, t95 = percentiles(totals)
                print(f"| {name} | {profile} | {f50:.0f} | {f95:.0f} | {t50:.0f} | {t95:.0f} |")
        base = Settings(env="test", data_dir=Path(tmp), tts_cache_mb=0, tts_edge_url=fake.url)
        for label, backends in (("espeak-ng", "espeak"), ("edge-tts (fake service)", "edge,espeak")):
            firsts, totals = asyncio.run(phone_rounds(args.rounds, base.model_copy(update={"tts_backends": backends})))
            f50, f95 = percentiles(firsts)
            t50, t95 = percentiles(totals)
            print(
                f"| phone: {label}, first sentence as 8 kHz PCM | elder | {f50:.0f} | {f95:.0f} | {t50:.0f} | {t95:.0f} |"
            )


if __name__ == "__main__":
    main()
