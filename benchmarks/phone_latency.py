"""Phone latency: from the moment the caller stops speaking to the first audio of the answer, p50/p95.

Starts `zhiban run` (real Rasa, action server, gateway) on free ports and runs the phone's conversation loop
(:class:`voice.phone.dialogue.PhoneDialogue`) in this process with the real speech stack: Silero endpointing, Whisper
base, Rasa through the REST channel, and the TTS backends given (espeak-ng by default: the machine may be offline).
Each question is a new call: after the greeting, the question (espeak-ng, 8 kHz, through G.711 μ-law) is streamed in
real time, 20 ms frames, followed by silence as a phone line would; the clock runs from the last frame of speech to
the first audio of the answer handed to the line. The split:

- VAD tail: audio after the end of speech until the endpointer is sure (``asr_vad_silence_ms``);
- ASR: Whisper on the utterance; Rasa: the turn (vault, NLU, policies, action, knowledge search);
- TTS first audio: synthesis of the answer's first sentence (the rest is synthesised while it plays).

Prints markdown for docs/benchmarks.md. Run: make bench-phone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.settings import Settings  # noqa: E402
from channels.rasa_client import RasaClient  # noqa: E402
from tests.e2e.stack import Stack  # noqa: E402
from tests.voice.asr_set import utterance  # noqa: E402
from voice.audio import Pcm, chunks, silence  # noqa: E402
from voice.phone.dialogue import Audio, HangUp, PhoneDialogue, TurnTiming  # noqa: E402
from voice.phone.services import build_services, warm_up  # noqa: E402

QUESTIONS = [
    "社保卡丢了怎么补办", "公积金租房提取怎么办理", "外地人怎么办居住证", "结婚登记需要带什么证件",
    "高龄津贴每个月发多少钱", "身份证丢了怎么补办", "新生儿怎么上户口", "失业金怎么领取",
    "异地就医备案怎么办", "低保怎么申请", "营业执照办下来要几天", "开个体户需要什么手续",
]  # fmt: skip
FRAME_MS = 20


class LineChannel:
    """A phone line in this process: plays instantly (the benchmark does not wait for the greeting to be heard) and
    notes when the first audio after the question was handed over."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.question_ended_at = 0.0
        self.first_audio_at = 0.0

    async def play(self, pcm: Pcm) -> None:
        if self.question_ended_at and not self.first_audio_at:
            self.first_audio_at = time.monotonic()

    async def wait_played(self) -> None:
        await asyncio.sleep(0)

    async def stop_playing(self) -> None:
        pass

    async def transfer(self, uri: str) -> bool:
        return False

    async def hang_up(self) -> None:
        pass

    async def close(self) -> None:
        pass


@dataclass(frozen=True)
class Result:
    question: str
    heard: str
    total: float
    timing: TurnTiming


async def one_call(services: Any, question: str, pcm: Pcm, index: int) -> Result:
    channel = LineChannel(pcm.rate)
    dialogue = PhoneDialogue(services, channel, f"bench-{index}-{time.time_ns()}")
    call = asyncio.create_task(dialogue.run())
    while not dialogue._listening:  # the greeting has been "played"
        await asyncio.sleep(0.005)
    frames = [*chunks(silence(0.3, pcm.rate), FRAME_MS), *chunks(pcm, FRAME_MS)]
    tick = time.monotonic()
    for frame in frames:
        dialogue.deliver(Audio(Pcm(frame, pcm.rate)))
        tick += FRAME_MS / 1000
        await asyncio.sleep(max(0.0, tick - time.monotonic()))
    channel.question_ended_at = time.monotonic()
    quiet = bytes(2 * pcm.rate * FRAME_MS // 1000)
    deadline = time.monotonic() + 60
    while not channel.first_audio_at and time.monotonic() < deadline:
        dialogue.deliver(Audio(Pcm(quiet, pcm.rate)))  # the line goes on, silent
        tick += FRAME_MS / 1000
        await asyncio.sleep(max(0.0, tick - time.monotonic()))
    dialogue.deliver(HangUp())
    record = await call
    if not channel.first_audio_at or not record.turns:
        raise RuntimeError(f"no answer to {question!r}: heard {record.heard}, said {record.said[-1:]}")
    return Result(question, record.heard[0], channel.first_audio_at - channel.question_ended_at, record.turns[0])


def trimmed(pcm: Pcm, level: int = 300) -> Pcm:
    """``pcm`` without the quiet before and after the speech, so that the clock starts at the real end of speech."""
    loud = np.flatnonzero(np.abs(pcm.array().astype(np.int32)) > level)
    if not loud.size:
        return pcm
    return Pcm(pcm.samples[2 * int(loud[0]) : 2 * (int(loud[-1]) + 1)], pcm.rate)


def percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


async def measure(settings: Settings, questions: list[str]) -> list[Result]:
    rasa = RasaClient(settings.rasa_url, settings.actions_url, timeout=60, token=settings.rasa_token)
    services = build_services(settings, rasa)
    await warm_up(services)
    await rasa.send("bench-warm-up", "你好")  # the first turn loads the knowledge index in the action server
    audio = {q: trimmed(utterance(q).pcm) for q in questions}
    results = []
    try:
        for i, question in enumerate(questions):
            results.append(await one_call(services, question, audio[question], i))
            print(f"  {question}: {results[-1].total:.2f} s (heard {results[-1].heard})", file=sys.stderr)
    finally:
        await rasa.aclose()
    return results


def report(results: list[Result], settings: Settings) -> str:
    rows = [
        ("end of speech → first audio", [r.total for r in results]),
        ("VAD tail", [r.timing.vad_tail for r in results]),
        ("ASR (Whisper base)", [r.timing.asr for r in results]),
        ("Rasa turn", [r.timing.rasa for r in results]),
        (f"TTS first audio ({settings.tts_backends})", [r.timing.tts_first for r in results]),
    ]
    lines = ["| step | p50 (s) | p95 (s) |", "|---|---|---|"]
    for name, values in rows:
        p50, p95 = percentiles(values)
        lines.append(f"| {name} | {p50:.2f} | {p95:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=len(QUESTIONS), help="questions (calls) to measure")
    parser.add_argument("--tts", default="espeak", help="ZHIBAN_TTS_BACKENDS for the phone (default: espeak)")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "var" / "models", help="trained Rasa models")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    args = parser.parse_args()
    questions = (QUESTIONS * (args.n // len(QUESTIONS) + 1))[: args.n]
    with tempfile.TemporaryDirectory() as folder:
        stack = Stack(Path(folder) / "stack", {"ZHIBAN_MODELS_DIR": str(args.models_dir), "ZHIBAN_RASA_TIMEOUT": "60"})
        stack.start()
        try:
            settings = Settings(
                env="test",
                data_dir=Path(folder) / "stack",
                rasa_port=stack.ports["rasa"],
                actions_port=stack.ports["actions"],
                gateway_port=stack.ports["gateway"],
                tts_backends=args.tts,
            )
            results = asyncio.run(measure(settings, questions))
        finally:
            stack.stop()
    print(
        f"\nPhone latency, {len(results)} calls, 8 kHz, silence to end an utterance {settings.asr_vad_silence_ms} ms:\n"
    )
    print(report(results, settings))
    if args.json:
        print(json.dumps([{"question": r.question, "heard": r.heard, "total": r.total, **r.timing.__dict__} for r in results],
                         ensure_ascii=False))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
