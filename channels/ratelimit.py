"""Sliding-window rate limits for the chat API (per session and per client address), in memory.

Each gateway worker keeps its own counts: behind a load balancer with N workers a client gets at most N times the limit,
which is enough to stop a runaway client or script; a shared limit would need a shared store (Redis).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds for each key; ``limit`` 0 means unlimited."""

    def __init__(
        self, limit: int, window: float = 60.0, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """Record one event for ``key``; 0 when allowed, else the seconds to wait before the next one is."""
        if self.limit <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(0.0, events[0] + self.window - now)
            events.append(now)
            if len(self._events) > self._max_keys:
                self._forget_idle(now)
            return 0.0

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, events in self._events.items() if not events or events[-1] <= now - self.window]:
            del self._events[key]


def wait_seconds(retry_after: float) -> int:
    """Whole seconds to tell the person (at least 1)."""
    return max(1, math.ceil(retry_after))
