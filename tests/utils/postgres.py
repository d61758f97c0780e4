"""A throw-away PostgreSQL server for tests: initdb into a temporary folder, started on a free loopback port.

Uses the machine's PostgreSQL binaries (Debian's postgresql package; `.ci/run` installs it when missing). PostgreSQL refuses
to run as root, so when the tests run as root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.utils.net import free_port

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def postgres_bin(name: str) -> str | None:
    for folder in BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a server with its data in a new temporary folder; yields a SQLAlchemy URL of an empty database.

    The folder is made directly in the system's temporary directory: pytest's own folders are private to the user running
    the tests, and the server's user must be able to reach its data.
    """
    initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql); `.ci/run` installs it")
    root = Path(tempfile.mkdtemp(prefix="zhiban-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        root.chmod(0o700)
    data, port = root / "data", free_port()
    subprocess.run(_as_server_user([initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]),
                   check=True, capture_output=True)  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]),
                   check=True, capture_output=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", str(port)], capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not become ready")
            time.sleep(0.2)
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c", "CREATE DATABASE zhiban"],
                       check=True, capture_output=True)  # fmt: skip
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/zhiban"
    finally:
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def new_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the test server at ``server_url`` and return its URL."""
    port = server_url.rsplit(":", 1)[1].split("/")[0]
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-c", f"CREATE DATABASE {name}"],
        check=True,
        capture_output=True,
    )
    return server_url.rsplit("/", 1)[0] + f"/{name}"
