"""The supervisor with real child processes: tiny HTTP servers written for each case."""

from __future__ import annotations

import io
import socket
import sys
import time
from pathlib import Path

import pytest

from assistant.supervisor import PortInUse, ProcessDied, ProcessSpec, StartupTimeout, Supervisor, port_is_free
from tests.utils.net import free_port

SERVER = """
import http.server, sys, time
port, delay, life = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print("booting", flush=True)
time.sleep(delay)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", port), H)
srv.timeout = 0.1
print("serving", port, flush=True)
end = time.monotonic() + life
while time.monotonic() < end:
    srv.handle_request()
print("giving up", flush=True)
sys.exit(3)
"""


def spec(tmp_path: Path, name: str, *, delay: float = 0.0, life: float = 60.0, port: int | None = None) -> ProcessSpec:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    port = port or free_port()
    return ProcessSpec(
        name=name,
        command=[sys.executable, str(script), str(port), str(delay), str(life)],
        health_url=f"http://127.0.0.1:{port}/",
        port=port,
        port_variable=f"ZHIBAN_{name.upper()}_PORT",
    )


def test_starts_in_order_prefixes_output_and_stops_all(tmp_path: Path) -> None:
    out = io.StringIO()
    specs = [spec(tmp_path, "first", delay=0.5), spec(tmp_path, "second")]
    supervisor = Supervisor(specs, out, startup_timeout=20)
    supervisor.start_all()
    try:
        assert all(p.alive for p in supervisor.processes)
    finally:
        supervisor.stop_all()
    assert not any(p.alive for p in supervisor.processes)
    assert all(port_is_free(s.port) for s in specs)
    lines = out.getvalue().splitlines()
    assert "first | booting" in lines
    assert any(line.startswith("second| serving") for line in lines)


def test_a_process_that_dies_during_start_stops_the_others(tmp_path: Path) -> None:
    crashing = ProcessSpec(
        name="rasa",
        command=[sys.executable, "-c", "print('loading model'); print('ModelNotFound: no model'); raise SystemExit(2)"],
        health_url=f"http://127.0.0.1:{free_port()}/",
        port=free_port(),
        port_variable="ZHIBAN_RASA_PORT",
    )
    supervisor = Supervisor([spec(tmp_path, "actions"), crashing], io.StringIO(), startup_timeout=20)
    with pytest.raises(ProcessDied) as died:
        supervisor.start_all()
    assert died.value.name == "rasa"
    assert died.value.returncode == 2
    assert "ModelNotFound: no model" in str(died.value)
    assert not supervisor.processes[0].alive


def test_watch_reports_a_process_that_dies_after_start(tmp_path: Path) -> None:
    supervisor = Supervisor(
        [spec(tmp_path, "gateway"), spec(tmp_path, "actions", life=1.5)], io.StringIO(), startup_timeout=20
    )
    supervisor.start_all()
    try:
        dead = supervisor.watch()
    finally:
        supervisor.stop_all()
    assert dead is not None and dead.spec.name == "actions"
    assert dead.returncode == 3
    assert list(dead.tail)[-1] == "giving up"
    assert not supervisor.processes[0].alive


def test_watch_returns_none_when_asked_to_stop(tmp_path: Path) -> None:
    supervisor = Supervisor([spec(tmp_path, "gateway")], io.StringIO(), startup_timeout=20)
    supervisor.start_all()
    supervisor.stopping.set()
    try:
        assert supervisor.watch() is None
    finally:
        supervisor.stop_all()


def test_startup_timeout_names_the_process(tmp_path: Path) -> None:
    slow = spec(tmp_path, "rasa", delay=30)
    supervisor = Supervisor([slow], io.StringIO(), startup_timeout=1.5)
    started = time.monotonic()
    with pytest.raises(StartupTimeout, match="rasa"):
        supervisor.start_all()
    assert time.monotonic() - started < 10
    assert not supervisor.processes[0].alive


def test_port_in_use_is_reported_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        supervisor = Supervisor([spec(tmp_path, "gateway", port=port)], io.StringIO(), startup_timeout=5)
        with pytest.raises(PortInUse, match="ZHIBAN_GATEWAY_PORT"):
            supervisor.start_all()
        assert supervisor.processes[0].pid is None


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    stubborn = ProcessSpec(
        name="stubborn",
        command=[
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)",
        ],
        health_url="http://127.0.0.1:1/",
        port=free_port(),
        port_variable="X",
    )
    supervisor = Supervisor([stubborn], io.StringIO(), startup_timeout=5)
    process = supervisor.processes[0]
    process.start()
    time.sleep(0.5)
    started = time.monotonic()
    process.stop(grace=1.0)
    assert not process.alive
    assert time.monotonic() - started < 5
