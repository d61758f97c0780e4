"""Cold and warm start of `zhiban run`: seconds from launch until the ready banner.

Cold: empty model and index directories, so the Rasa model is trained and the knowledge index built first. Warm: the same directory again, nothing to train.
Both runs use fresh ports and a fresh data directory, in one process so that the two figures share the machine's state.
Run with `make bench-startup`; copy the printed table into docs/benchmarks.md.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.stack import Stack


def timed_start(data_dir: Path, models_dir: Path) -> float:
    stack = Stack(
        data_dir, {"ZHIBAN_MODELS_DIR": str(models_dir), "ZHIBAN_INDEX_DIR": str(models_dir.parent / "index")}
    )
    started = time.monotonic()
    stack.start(timeout=3600)
    elapsed = time.monotonic() - started
    code = stack.stop()
    if code != 0:
        raise SystemExit(f"zhiban run exited with {code}:\n" + "\n".join(stack.lines[-30:]))
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cold = timed_start(root / "cold", root / "models")
        warm = timed_start(root / "warm", root / "models")
    cpu = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"machine: {platform.machine()}, {cpu} cores, Python {platform.python_version()}")
    print("| start | seconds to ready |")
    print("|---|---|")
    print(f"| cold (trains the model) | {cold:.1f} |")
    print(f"| warm (model up to date) | {warm:.1f} |")
    print(f"| ratio cold/warm | {cold / warm:.2f} |")


if __name__ == "__main__":
    main()
