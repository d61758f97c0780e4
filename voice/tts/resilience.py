"""Retry with exponential backoff, and a circuit breaker: small pure classes with an injectable clock.

The breaker keeps a failing online service from costing every request a timeout: after ``failure_threshold``
consecutive failures it opens and calls are refused at once (the synthesizer goes straight to espeak-ng); after
``reset_after`` seconds it lets one trial call through (half-open) and closes again if that call succeeds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def backoff_delays(retries: int, base: float, factor: float = 2.0, cap: float = 10.0) -> list[float]:
    """The waits before each retry: ``base``, ``base*factor``, … each at most ``cap`` seconds."""
    return [min(cap, base * factor**i) for i in range(max(0, retries))]


class State(Enum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls are refused until the cool-down has passed
    HALF_OPEN = "half_open"  # one trial call is allowed


@dataclass
class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; half-open after ``reset_after`` seconds."""

    failure_threshold: int
    reset_after: float
    clock: Clock = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    _trial_running: bool = False

    @property
    def state(self) -> State:
        if self.opened_at is None:
            return State.CLOSED
        if self.clock() - self.opened_at >= self.reset_after:
            return State.HALF_OPEN
        return State.OPEN

    def allow(self) -> bool:
        """Whether a call may go through now (in half-open state only one at a time)."""
        state = self.state
        if state is State.CLOSED:
            return True
        if state is State.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self.failures += 1
        if self._trial_running or self.failures >= self.failure_threshold:
            self.opened_at = self.clock()  # a failed trial re-opens for a full cool-down
        self._trial_running = False


async def retry(
    attempt: Callable[[], Awaitable[T]],
    delays: list[float],
    *,
    retry_on: tuple[type[BaseException], ...],
    sleep: Sleep = asyncio.sleep,
    before_attempt: Callable[[], bool] = lambda: True,
    on_failure: Callable[[BaseException], None] = lambda exc: None,
    should_retry: Callable[[BaseException], bool] = lambda exc: True,
) -> T:
    """Run ``attempt``; on an exception in ``retry_on`` wait the next delay and try again.

    ``before_attempt`` may refuse an attempt (an open circuit): then the last error is raised. ``on_failure`` sees
    every failed attempt (the breaker counts them). ``should_retry`` may declare an error final (e.g. a timeout).
    """
    last: BaseException | None = None
    for i in range(len(delays) + 1):
        if i:
            await sleep(delays[i - 1])
        if not before_attempt():
            break
        try:
            return await attempt()
        except retry_on as exc:
            on_failure(exc)
            last = exc
            if not should_retry(exc):
                break
    if last is None:
        raise CircuitOpen()
    raise last


class CircuitOpen(Exception):
    """The circuit is open: the call was not attempted."""
