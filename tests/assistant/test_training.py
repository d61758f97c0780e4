from __future__ import annotations

import os
import time
from pathlib import Path

from assistant.settings import Settings
from assistant.training import ensure_model, model_fingerprint, model_path, prune_models

INPUTS = ("config.yml", "assistant/domain", "assistant/data", "nlu")


def make_project(root: Path) -> None:
    (root / "assistant" / "domain").mkdir(parents=True)
    (root / "assistant" / "data").mkdir(parents=True)
    (root / "nlu").mkdir()
    (root / "config.yml").write_text("language: zh\n")
    (root / "assistant" / "domain" / "core.yml").write_text("intents: [greet]\n")
    (root / "assistant" / "data" / "nlu.yml").write_text("nlu: []\n")
    (root / "nlu" / "tokenizer.py").write_text("X = 1\n")


def test_fingerprint_follows_content_not_time(tmp_path: Path) -> None:
    make_project(tmp_path)
    first = model_fingerprint(tmp_path, INPUTS)
    os.utime(tmp_path / "config.yml", (time.time() + 100, time.time() + 100))
    assert model_fingerprint(tmp_path, INPUTS) == first


def test_fingerprint_changes_with_any_input(tmp_path: Path) -> None:
    make_project(tmp_path)
    seen = {model_fingerprint(tmp_path, INPUTS)}
    for name, text in [
        ("config.yml", "language: zh\n# tuned\n"),
        ("assistant/domain/core.yml", "intents: [greet, goodbye]\n"),
        ("assistant/data/more.yml", "nlu: []\n"),  # a new file
        ("nlu/tokenizer.py", "X = 2\n"),  # component code is part of the model
    ]:
        (tmp_path / name).write_text(text)
        seen.add(model_fingerprint(tmp_path, INPUTS))
    assert len(seen) == 5


def test_fingerprint_ignores_bytecode(tmp_path: Path) -> None:
    make_project(tmp_path)
    before = model_fingerprint(tmp_path, INPUTS)
    (tmp_path / "nlu" / "__pycache__").mkdir()
    (tmp_path / "nlu" / "__pycache__" / "tokenizer.cpython-310.pyc").write_bytes(b"\0\1")
    assert model_fingerprint(tmp_path, INPUTS) == before


def test_existing_model_is_reused_without_training(settings: Settings, tmp_path: Path) -> None:
    # rasa_python points nowhere: reaching `rasa train` would fail, so success proves no training ran.
    settings = settings.model_copy(update={"rasa_python": tmp_path / "no-python"})
    target = model_path(settings, model_fingerprint())
    target.parent.mkdir(parents=True)
    target.write_bytes(b"model")
    assert ensure_model(settings) == target


def test_prune_keeps_current_and_two_newest(tmp_path: Path) -> None:
    models = []
    for i in range(5):
        model = tmp_path / f"zhiban-{i:016d}.tar.gz"
        model.write_bytes(b"m")
        os.utime(model, (1000 + i, 1000 + i))
        models.append(model)
    prune_models(tmp_path, keep=models[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(m.name for m in (models[0], models[3], models[4]))
