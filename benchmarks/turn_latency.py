"""NLU parse latency and full-turn latency through the real stack, one user and ten concurrent users.

Starts `zhiban run` (the real gateway, Rasa server and action server) on free ports, then measures:
- NLU parse: POST /model/parse on Rasa (what the NLU pipeline alone costs);
- full turn: POST /api/v1/chat on the gateway with knowledge questions (NLU → policies → action_answer → reply);
- ten users at once, each with its own conversation, for the throughput and the latency under load.
Every request loop is bounded; all traffic stays on 127.0.0.1. Prints markdown for docs/benchmarks.md.

Run: make bench-turns
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.stack import Stack  # noqa: E402

QUESTIONS = [
    "社保卡丢了怎么补办", "那要带什么材料", "在哪里办", "公积金租房提取每月能提多少", "居住证多久能办好",
    "结婚登记要带什么", "高龄津贴怎么申请", "开饭店要办什么许可", "身份证到期了怎么换", "低保标准是多少",
]  # fmt: skip


def percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def parse_latency(stack: Stack, rounds: int) -> list[float]:
    url = f"http://127.0.0.1:{stack.ports['rasa']}/model/parse"
    token = stack.env.get("ZHIBAN_RASA_TOKEN", "zhiban-local-rasa-token")
    timings = []
    with httpx.Client(timeout=30) as client:
        for i in range(rounds):
            started = time.perf_counter()
            client.post(url, params={"token": token}, json={"text": QUESTIONS[i % len(QUESTIONS)]}).raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def user(stack: Stack, turns: int, timings: list[float], lock: threading.Lock) -> None:
    session = None
    with httpx.Client(timeout=60) as client:
        for i in range(turns):
            body: dict[str, object] = {"text": QUESTIONS[i % len(QUESTIONS)]}
            if session:
                body["session_id"] = session
            started = time.perf_counter()
            response = client.post(f"{stack.url}/api/v1/chat", json=body)
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            session = response.json()["session_id"]
            with lock:
                timings.append(elapsed)


def concurrent(stack: Stack, users: int, turns: int) -> tuple[list[float], float]:
    timings: list[float] = []
    lock = threading.Lock()
    threads = [threading.Thread(target=user, args=(stack, turns, timings, lock)) for _ in range(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp))
        stack.start()
        try:
            concurrent(stack, 1, 10)  # warm up every process
            parse = parse_latency(stack, 200)
            single, _ = concurrent(stack, 1, 100)
            loaded, seconds = concurrent(stack, 10, 20)
        finally:
            stack.stop()
    print("| measurement | requests | p50 ms | p95 ms | throughput |")
    print("|---|---|---|---|---|")
    for label, timings, rate in [
        ("NLU parse (Rasa /model/parse)", parse, ""),
        ("full turn, 1 user (gateway → Rasa → action_answer)", single, ""),
        ("full turn, 10 concurrent users", loaded, f"{len(loaded) / seconds:.1f} turns/s"),
    ]:
        p50, p95 = percentiles(timings)
        print(f"| {label} | {len(timings)} | {p50:.0f} | {p95:.0f} | {rate} |")


if __name__ == "__main__":
    main()
