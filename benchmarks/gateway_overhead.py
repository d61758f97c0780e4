"""What the gateway adds to a turn: the same conversations sent to Rasa's REST webhook directly and through POST /api/v1/chat,
interleaved in one run; then 20 concurrent sessions through the gateway.

Starts `zhiban run` (the real gateway, Rasa server and action server) on free ports. Each round plays every script twice, as
a new conversation each time: once straight to Rasa (`/webhooks/rest/webhook`, what the gateway itself calls) and once
through the gateway (checks, normalisation, vault redaction, Rasa, the tracker read for `state`, the reply models); which of
the two goes first alternates, so both see the same warm caches and the same background load. The ratio is gateway p50 over
direct p50 (and p95 over p95) of the same turns. Then 20 sessions talk at once through the gateway, each playing the
scripts in turn: p50/p95, turns per second, errors (anything but 200). All traffic stays on 127.0.0.1; every loop is
bounded. Prints markdown for docs/benchmarks.md.

Run: make bench-gateway   (options: --rounds N, --users N, --turns N)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.stack import Stack  # noqa: E402

#: Conversation scripts: knowledge questions with follow-ups, small talk, and opening application forms (answered a
#: little, then cancelled, so each script ends where it started).
SCRIPTS: list[list[str]] = [
    ["社保卡丢了怎么补办", "那要带什么材料", "在哪里办"],
    ["我要申请补办社保卡", "卡被人偷了", "我自己办", "取消申请"],
    ["你好", "结婚登记要带什么", "多久能办好", "谢谢"],
    ["公积金租房提取每月能提多少", "我要申请公积金租房提取", "取消申请"],
    ["高龄津贴怎么申请", "开饭店要办什么许可", "好的，再见"],
]


#: seconds the gateway waits for Rasa (ZHIBAN_RASA_TIMEOUT's default)
RASA_TIMEOUT = 15


def percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


class Paths:
    """The two ways of sending one turn; each returns the milliseconds it took, or raises on a failure."""

    def __init__(self, stack: Stack, client: httpx.Client) -> None:
        self.webhook = f"http://127.0.0.1:{stack.ports['rasa']}/webhooks/rest/webhook"
        self.chat = f"{stack.url}/api/v1/chat"
        self.client = client

    def direct(self, sender: str, text: str) -> float:
        started = time.perf_counter()
        response = self.client.post(
            self.webhook, json={"sender": sender, "message": text, "metadata": {"elder": False}}
        )
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        return elapsed

    def gateway(self, session: dict[str, str], text: str) -> float:
        body: dict[str, object] = {"text": text, "elder": False}
        if "id" in session:
            body["session_id"] = session["id"]
        started = time.perf_counter()
        response = self.client.post(self.chat, json=body)
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        session["id"] = response.json()["session_id"]
        return elapsed


def play(paths: Paths, script: list[str], via_gateway: bool) -> list[float | None]:
    """Play ``script`` as a new conversation on one path: each turn's milliseconds, None for a failed turn."""
    session: dict[str, str] = {}
    sender = uuid.uuid4().hex
    timings: list[float | None] = []
    for text in script:
        try:
            timings.append(paths.gateway(session, text) if via_gateway else paths.direct(sender, text))
        except httpx.HTTPError:
            timings.append(None)
    return timings


def interleaved(stack: Stack, rounds: int) -> tuple[list[float | None], list[float | None]]:
    """Turn times of both paths, in the same order (round, script, turn), so that equal indices are the same turn."""
    direct: list[float | None] = []
    gateway: list[float | None] = []
    with httpx.Client(timeout=60) as client:
        paths = Paths(stack, client)
        for number in range(rounds):
            for index, script in enumerate(SCRIPTS):
                gateway_first = (number + index) % 2 == 0
                for via_gateway in (gateway_first, not gateway_first):
                    (gateway if via_gateway else direct).extend(play(paths, script, via_gateway))
    return direct, gateway


def concurrent(stack: Stack, users: int, turns: int) -> tuple[list[float], Counter[str], float]:
    timings: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()

    def user(offset: int) -> None:
        script_turns = [text for script in SCRIPTS[offset:] + SCRIPTS[:offset] for text in script]
        session: dict[str, str] = {}
        with httpx.Client(timeout=60) as client:
            paths = Paths(stack, client)
            for i in range(turns):
                try:
                    elapsed = paths.gateway(session, script_turns[i % len(script_turns)])
                except httpx.HTTPError as exc:
                    kind = (
                        str(exc.response.status_code) if isinstance(exc, httpx.HTTPStatusError) else type(exc).__name__
                    )
                    with lock:
                        errors[kind] += 1
                    continue
                with lock:
                    timings.append(elapsed)

    threads = [threading.Thread(target=user, args=(n % len(SCRIPTS),)) for n in range(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, errors, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="rounds of every script on each path (default 6)")
    parser.add_argument("--users", type=int, default=20, help="concurrent sessions (default 20)")
    parser.add_argument("--turns", type=int, default=12, help="turns per concurrent session (default 12)")
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        # the deployed default (the test stack waits 10 s): a turn slower than this is a 503, counted as an error
        stack = Stack(Path(tmp), {"ZHIBAN_RASA_TIMEOUT": str(RASA_TIMEOUT)})
        stack.start()
        try:
            interleaved(stack, 1)  # warm up every process and both paths (the knowledge index loads on first use)
            direct, gateway = interleaved(stack, args.rounds)
            loaded, errors, seconds = concurrent(stack, args.users, args.turns)
        finally:
            stack.stop()
    if sum(errors.values()):  # why: the gateway logs each failed turn with its cause
        causes = dict.fromkeys(line for line in stack.lines if " -> " in line or "ERROR" in line)
        print("\n".join(list(causes)[:20]), file=sys.stderr)
    load_after = os.getloadavg()

    direct_ok = [t for t in direct if t is not None]
    gateway_ok = [t for t in gateway if t is not None]
    # the same turn on both paths, played one right after the other: the gateway's own cost, less exposed to load drift
    paired = [g - d for d, g in zip(direct, gateway, strict=True) if d is not None and g is not None]
    d50, d95 = percentiles(direct_ok)
    g50, g95 = percentiles(gateway_ok)
    l50, l95 = percentiles(loaded)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; ZHIBAN_RASA_TIMEOUT={RASA_TIMEOUT}"
    )
    print(f"scripts: {len(SCRIPTS)} ({sum(map(len, SCRIPTS))} turns), {args.rounds} rounds per path")
    print(f"paired difference gateway − direct, same turn: median {np.median(paired):+,.0f} ms\n")
    print("| measurement | turns | p50 ms | p95 ms | ratio / throughput | errors |")
    print("|---|---|---|---|---|---|")
    print(
        f"| Rasa REST webhook directly | {len(direct_ok)} | {d50:,.0f} | {d95:,.0f} | | {len(direct) - len(direct_ok)} |"
    )
    print(
        f"| through the gateway (`POST /api/v1/chat`) | {len(gateway_ok)} | {g50:,.0f} | {g95:,.0f} | "
        f"p50 ×{g50 / d50:.2f}, p95 ×{g95 / d95:.2f} ({g50 - d50:+,.0f} / {g95 - d95:+,.0f} ms) "
        f"| {len(gateway) - len(gateway_ok)} |"
    )
    print(
        f"| gateway, {args.users} concurrent sessions | {len(loaded)} | {l50:,.0f} | {l95:,.0f} | "
        f"{len(loaded) / seconds:.1f} turns/s | {sum(errors.values())} {dict(errors) or ''} |"
    )


if __name__ == "__main__":
    main()
