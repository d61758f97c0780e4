"""voice.tts.resilience: backoff delays, the circuit breaker on a fake clock, and retry with a fake sleep."""

from __future__ import annotations

import asyncio

import pytest

from voice.tts.resilience import CircuitBreaker, CircuitOpen, State, backoff_delays, retry


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("retries", "base", "cap", "delays"),
    [
        (0, 0.25, 10.0, []),  # no retry
        (1, 0.25, 10.0, [0.25]),
        (3, 0.25, 10.0, [0.25, 0.5, 1.0]),  # doubles
        (5, 1.0, 4.0, [1.0, 2.0, 4.0, 4.0, 4.0]),  # capped
        (-1, 1.0, 4.0, []),  # nonsense count: none
    ],
)
def test_backoff_delays(retries: int, base: float, cap: float, delays: list[float]) -> None:
    assert backoff_delays(retries, base, cap=cap) == delays


def test_breaker_opens_after_n_failures_and_half_opens_after_the_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_after=30.0, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is State.CLOSED
    assert breaker.allow()
    breaker.record_failure()  # the third
    assert breaker.state is State.OPEN  # type: ignore[comparison-overlap]
    assert not breaker.allow()
    clock.now += 29.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.state is State.HALF_OPEN
    assert breaker.allow()  # one trial
    assert not breaker.allow()  # and only one at a time
    breaker.record_success()
    assert breaker.state is State.CLOSED and breaker.failures == 0
    assert breaker.allow()


def test_a_failed_trial_reopens_for_a_full_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_after=10.0, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is State.OPEN
    clock.now += 9.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_after=10.0, clock=FakeClock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is State.CLOSED


class Flaky:
    """Fails ``failures`` times, then returns "ok"."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"failure {self.calls}")
        return "ok"


def run_retry(attempt: Flaky, delays: list[float], **kwargs: object) -> tuple[object, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def main() -> object:
        try:
            return await retry(attempt, delays, retry_on=(ConnectionError,), sleep=sleep, **kwargs)  # type: ignore[arg-type]
        except Exception as exc:
            return exc

    return asyncio.run(main()), slept


def test_retry_waits_the_backoff_between_attempts() -> None:
    attempt = Flaky(failures=2)
    result, slept = run_retry(attempt, [0.25, 0.5, 1.0])
    assert result == "ok"
    assert attempt.calls == 3
    assert slept == [0.25, 0.5]


def test_retry_gives_up_with_the_last_error() -> None:
    attempt = Flaky(failures=5)
    failures: list[BaseException] = []
    result, slept = run_retry(attempt, [0.1, 0.2], on_failure=failures.append)
    assert isinstance(result, ConnectionError) and str(result) == "failure 3"
    assert attempt.calls == 3 and len(failures) == 3
    assert slept == [0.1, 0.2]


def test_retry_stops_when_the_circuit_refuses() -> None:
    attempt = Flaky(failures=5)
    result, _ = run_retry(attempt, [0.1, 0.2], before_attempt=lambda: False)
    assert isinstance(result, CircuitOpen) and attempt.calls == 0
    allowed = iter([True, False])
    attempt = Flaky(failures=5)
    result, _ = run_retry(attempt, [0.1, 0.2], before_attempt=lambda: next(allowed))
    assert isinstance(result, ConnectionError) and attempt.calls == 1


def test_retry_stops_at_a_final_error() -> None:
    attempt = Flaky(failures=5)
    result, slept = run_retry(attempt, [0.1, 0.2], should_retry=lambda exc: "1" not in str(exc))
    assert isinstance(result, ConnectionError) and attempt.calls == 1 and slept == []


def test_retry_does_not_catch_other_errors() -> None:
    async def broken() -> str:
        raise KeyError("bug")

    async def main() -> None:
        await retry(broken, [0.0], retry_on=(ConnectionError,))

    with pytest.raises(KeyError):
        asyncio.run(main())
