"""Faults with the real processes: a hung or dead action server, and `zhiban run` reacting to a death."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from assistant.supervisor import port_is_free
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 4.0


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("faulty"), {"ZHIBAN_RASA_TIMEOUT": str(TIMEOUT)})
    running.start()
    yield running
    running.stop()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "assistant_unavailable"
    assert "12345" in error["message"]


def test_hung_action_server_gets_503_within_the_timeout(faulty: Stack) -> None:
    actions = faulty.pid_of("actions")
    os.kill(actions, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = faulty.chat("你好")  # greet runs the custom action, which now hangs
        elapsed = time.monotonic() - started
    finally:
        os.kill(actions, signal.SIGCONT)
    assert_unavailable(response)
    assert elapsed < TIMEOUT + 3
    # once it answers again, so does the assistant
    assert faulty.chat("你好").status_code == 200


def test_dead_action_server_gets_503_and_zhiban_run_stops_everything(faulty: Stack) -> None:
    assert faulty.process is not None
    supervisor = faulty.process.pid
    # Freeze the supervisor so the gateway can be asked while the action server is dead.
    os.kill(supervisor, signal.SIGSTOP)
    try:
        os.kill(faulty.pid_of("actions"), signal.SIGKILL)
        time.sleep(0.5)
        assert_unavailable(faulty.chat("你好"))
        ready = httpx.get(f"{faulty.url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["parts"] == {"gateway": True, "rasa": True, "actions": False}
    finally:
        os.kill(supervisor, signal.SIGCONT)
    faulty.process.wait(60)
    assert faulty.process.returncode == 1
    output = "\n".join(faulty.lines)
    assert "actions 意外退出" in output
    assert all(port_is_free(port) for port in faulty.ports.values())


def test_run_stops_with_a_clear_message_when_rasa_cannot_start(tmp_path) -> None:
    fake_python = tmp_path / "python3.10"
    fake_python.write_text("#!/bin/sh\necho 'Traceback: rasa is broken here' >&2\nexit 7\n")
    fake_python.chmod(0o755)
    broken = Stack(tmp_path / "var", {"ZHIBAN_RASA_PYTHON": str(fake_python)})
    with pytest.raises(RuntimeError) as failed:
        broken.start(timeout=120)
    assert broken.process is not None and broken.process.returncode == 1
    message = str(failed.value)
    assert "rasa 退出了 (exit 7)" in message and "rasa is broken here" in message
    assert all(port_is_free(port) for port in broken.ports.values())
