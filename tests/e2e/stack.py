"""Runs the real `zhiban run` (Rasa, action server, gateway) as a subprocess for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from assistant.settings import PROJECT_ROOT
from assistant.supervisor import spawn
from tests.utils.net import free_ports

READY_BANNER = "智办已就绪"


class Stack:
    """One `zhiban run` process with its own ports and data directory; the Rasa model directory is shared."""

    def __init__(self, data_dir: Path, extra_env: Mapping[str, str] | None = None) -> None:
        self.ports = dict(zip(("gateway", "rasa", "actions"), free_ports(3), strict=True))
        self.env = {
            **os.environ,
            "ZHIBAN_ENV": "test",
            "ZHIBAN_DATA_DIR": str(data_dir),
            "ZHIBAN_MODELS_DIR": str(PROJECT_ROOT / "var" / "models"),
            "ZHIBAN_INDEX_DIR": str(PROJECT_ROOT / "var" / "index"),
            "ZHIBAN_GATEWAY_PORT": str(self.ports["gateway"]),
            "ZHIBAN_RASA_PORT": str(self.ports["rasa"]),
            "ZHIBAN_ACTIONS_PORT": str(self.ports["actions"]),
            "ZHIBAN_RASA_TIMEOUT": "10",
            # every test conversation comes from 127.0.0.1 and types faster than a person: no rate limits here
            # (they are tested in tests/channels/test_rate_limits.py)
            "ZHIBAN_RATE_LIMIT_SESSION": "0",
            "ZHIBAN_RATE_LIMIT_IP": "0",
            **(extra_env or {}),
        }
        self.lines: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self._ready = threading.Event()

    def env_path(self, variable: str) -> Path:
        return Path(self.env[variable])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def start(self, timeout: float = 1200) -> None:
        """Start and wait for the ready banner (training, if needed, happens inside)."""
        self.process = spawn([sys.executable, "-m", "assistant.cli", "run"], cwd=PROJECT_ROOT, env=self.env)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("zhiban run did not become ready:\n" + "\n".join(self.lines[-60:]))

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.rstrip("\n")
            self.lines.append(line)
            if READY_BANNER in line:
                self._ready.set()

    def pid_of(self, name: str) -> int:
        """PID of the supervised child whose command line contains ``marker`` for ``name``."""
        assert self.process is not None
        marker = {"actions": "rasa_sdk", "rasa": "rasa run", "gateway": "uvicorn"}[name]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, IndexError, ValueError):
                continue
            if parent == self.process.pid and marker in cmdline:
                return int(stat.parent.name)
        raise LookupError(f"no {name} process under zhiban run")

    def chat(
        self, text: str, session_id: str | None = None, timeout: float = 30, elder: bool = False
    ) -> httpx.Response:
        body: dict[str, object] = {"text": text, "elder": elder}
        if session_id:
            body["session_id"] = session_id
        return httpx.post(f"{self.url}/api/v1/chat", json=body, timeout=timeout)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode
