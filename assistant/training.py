"""Training the Rasa model only when what it is made of changed.

The model's name carries a content fingerprint of everything that shapes it: config.yml, the domain, the training
data, the custom NLU components (their code is part of the model) and the Rasa lock file. An unchanged fingerprint
reuses the existing model, so a warm ``zhiban run`` starts without training.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from assistant.settings import PROJECT_ROOT, Settings
from assistant.supervisor import spawn

log = logging.getLogger(__name__)

#: Paths (relative to the project root) whose content defines the model.
MODEL_INPUTS = (
    "config.yml",
    "assistant/domain",
    "assistant/data",
    "assistant/dictionary",
    "assistant/entities",
    "nlu",
    "requirements/rasa.lock",
)
MODEL_PREFIX = "zhiban-"
#: How many older models to keep next to the current one (for a quick rollback).
KEEP_OLD_MODELS = 2


class TrainingError(RuntimeError):
    """`rasa train` failed; the message carries the tail of its output."""


def _files(root: Path, inputs: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for name in inputs:
        path = root / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(
                p
                for p in path.rglob("*")
                if p.is_file()
                and "__pycache__" not in p.parts
                and p.suffix in {".yml", ".yaml", ".py", ".txt", ".json"}
            )
    return sorted(found)


def model_fingerprint(root: Path = PROJECT_ROOT, inputs: Iterable[str] = MODEL_INPUTS) -> str:
    """A hex digest of the names and contents of every model input under ``root``."""
    digest = hashlib.sha256()
    for path in _files(root, inputs):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def model_path(settings: Settings, fingerprint: str) -> Path:
    return settings.models_dir / f"{MODEL_PREFIX}{fingerprint[:16]}.tar.gz"


def rasa_env(settings: Settings) -> dict[str, str]:
    """Environment for processes of the Rasa environment: quiet, offline, no telemetry."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
        # Rasa's training cache lives with the other generated files, not in the home directory.
        RASA_CACHE_DIRECTORY=str(settings.data_dir / "rasa-cache"),
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    return env


def train_command(settings: Settings, fingerprint: str, root: Path = PROJECT_ROOT) -> list[str]:
    return [
        str(settings.rasa_python),
        "-m",
        "rasa",
        "train",
        "--config",
        str(root / "config.yml"),
        "--domain",
        str(root / "assistant" / "domain"),
        "--data",
        str(root / "assistant" / "data"),
        "--out",
        str(settings.models_dir),
        "--fixed-model-name",
        model_path(settings, fingerprint).name.removesuffix(".tar.gz"),
    ]


def prune_models(models_dir: Path, keep: Path, older: int = KEEP_OLD_MODELS) -> None:
    """Delete all but the ``older`` most recent models besides ``keep``."""
    others = sorted(
        (p for p in models_dir.glob(f"{MODEL_PREFIX}*.tar.gz") if p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in others[older:]:
        stale.unlink(missing_ok=True)


def ensure_model(
    settings: Settings,
    *,
    force: bool = False,
    root: Path = PROJECT_ROOT,
    on_line: Callable[[str], None] = lambda line: None,
) -> Path:
    """Return the model for the current inputs, training it first if it does not exist yet.

    ``on_line`` receives each line of Rasa's training output as it comes (training takes minutes).

    Raises:
        TrainingError: training failed (the message ends with Rasa's last output lines).
    """
    fingerprint = model_fingerprint(root)
    target = model_path(settings, fingerprint)
    if target.exists() and not force:
        log.info("model %s is up to date", target.name)
        return target
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    log.info("training %s (the inputs changed) ...", target.name)
    tail: deque[str] = deque(maxlen=30)
    with spawn(train_command(settings, fingerprint, root), cwd=root, env=rasa_env(settings)) as process:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            tail.append(line)
            on_line(line)
    if process.returncode != 0 or not target.exists():
        shown = "\n".join(tail)
        raise TrainingError(f"rasa train failed (exit {process.returncode}):\n{shown}")
    prune_models(settings.models_dir, target)
    return target
