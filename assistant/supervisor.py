"""Starts the assistant's processes, waits until each is healthy, and stops them all together.

Exception tree::

    SupervisorError            base
    ├── PortInUse              a configured port is already taken before start
    ├── ProcessDied            a process exited (carries its name, exit code and last output lines)
    └── StartupTimeout         a process did not become healthy in time

Every process's output is printed line by line with its name as a prefix, and the last lines of each are kept so
that a crash can be explained.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

#: Lines of output kept per process for crash reports.
TAIL_LINES = 40


class SupervisorError(RuntimeError):
    """Base class of the supervisor's errors."""


class PortInUse(SupervisorError):
    def __init__(self, name: str, port: int, variable: str) -> None:
        self.name, self.port = name, port
        super().__init__(f"端口 {port} 已被占用，{name} 无法启动。请停止占用它的程序，或用 {variable} 换一个端口。")


class ProcessDied(SupervisorError):
    def __init__(self, name: str, returncode: int | None, tail: Sequence[str]) -> None:
        self.name, self.returncode, self.tail = name, returncode, list(tail)
        shown = "\n".join(f"  {line}" for line in self.tail) or "  (no output)"
        super().__init__(f"{name} 退出了 (exit {returncode})。最后的输出:\n{shown}")


class StartupTimeout(SupervisorError):
    def __init__(self, name: str, seconds: float, tail: Sequence[str]) -> None:
        self.name, self.tail = name, list(tail)
        shown = "\n".join(f"  {line}" for line in self.tail[-15:]) or "  (no output)"
        super().__init__(f"{name} 在 {seconds:.0f} 秒内没有就绪。最后的输出:\n{shown}")


@dataclass(frozen=True)
class ProcessSpec:
    """What to start and how to tell it is ready."""

    name: str
    command: list[str]
    health_url: str
    port: int
    port_variable: str
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    #: Optional check of the health response body (e.g. "a model is loaded").
    healthy: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200


def spawn(
    command: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, own_session: bool = False
) -> subprocess.Popen[str]:
    """Start ``command`` with stdout and stderr merged into one line-buffered text pipe (bad bytes replaced)."""
    return subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env or None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
        start_new_session=own_session,
    )


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class Printer:
    """Writes prefixed lines from several threads without interleaving them."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._lock = threading.Lock()
        self.width = 8

    def line(self, name: str, text: str) -> None:
        with self._lock:
            self._out.write(f"{name:<{self.width}}| {text}\n")
            self._out.flush()


class ManagedProcess:
    """One child process in its own session, its output pumped to the printer."""

    def __init__(self, spec: ProcessSpec, printer: Printer) -> None:
        self.spec = spec
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._printer = printer
        self._popen: subprocess.Popen[str] | None = None
        self._pump: threading.Thread | None = None

    def start(self) -> None:
        # Own session: a Ctrl-C in the terminal reaches only the supervisor, which stops children in order.
        self._popen = spawn(self.spec.command, cwd=self.spec.cwd, env=self.spec.env, own_session=True)
        self._pump = threading.Thread(target=self._read, name=f"pump-{self.spec.name}", daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self._popen is not None and self._popen.stdout is not None
        for raw in self._popen.stdout:
            text = raw.rstrip("\n")
            self.tail.append(text)
            self._printer.line(self.spec.name, text)

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll() if self._popen else None

    @property
    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL after ``grace`` seconds."""
        if self._popen is None:
            return
        if self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._popen.pid, signal.SIGTERM)
            try:
                self._popen.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._popen.pid, signal.SIGKILL)
                self._popen.wait(5)
        if self._pump is not None:
            self._pump.join(2)


class Supervisor:
    """Starts processes in order, each only after the previous one is healthy; stops them in reverse order."""

    def __init__(self, specs: Sequence[ProcessSpec], out: IO[str], *, startup_timeout: float) -> None:
        self.printer = Printer(out)
        self.printer.width = max(len(s.name) for s in specs)
        self.processes = [ManagedProcess(spec, self.printer) for spec in specs]
        self.startup_timeout = startup_timeout
        self.stopping = threading.Event()

    def check_ports(self) -> None:
        for process in self.processes:
            if not port_is_free(process.spec.port):
                raise PortInUse(process.spec.name, process.spec.port, process.spec.port_variable)

    def start_all(self) -> None:
        """Start every process and wait until it is healthy.

        Raises:
            PortInUse, ProcessDied, StartupTimeout: the others are already stopped when this is raised.
        """
        self.check_ports()
        try:
            for process in self.processes:
                process.start()
                self._wait_healthy(process)
        except BaseException:
            self.stop_all()
            raise

    def _wait_healthy(self, process: ManagedProcess) -> None:
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.stopping.is_set():
                    raise KeyboardInterrupt
                if not process.alive:
                    raise ProcessDied(process.spec.name, process.returncode, process.tail)
                try:
                    if process.spec.healthy(client.get(process.spec.health_url)):
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
        raise StartupTimeout(process.spec.name, self.startup_timeout, process.tail)

    def watch(self) -> ManagedProcess | None:
        """Block until a process dies (returned) or :attr:`stopping` is set (``None``)."""
        while not self.stopping.wait(0.5):
            for process in self.processes:
                if not process.alive:
                    return process
        return None

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()
