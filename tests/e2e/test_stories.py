"""The test conversations in tests/stories, run with `rasa test core` against the trained model.

The dialogue is checked with the intents the stories give (the user sentences are removed), so that a sentence the NLU
misreads shows up in the NLU evaluation (`make nlu-eval`, docs/benchmarks.md) instead of hiding dialogue errors; every
predicted action must match.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.settings import PROJECT_ROOT, Settings
from assistant.training import ensure_model, rasa_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STORIES = PROJECT_ROOT / "tests" / "stories"


def intents_only(story: dict[str, Any]) -> dict[str, Any]:
    steps = [{k: v for k, v in step.items() if k != "user"} for step in story["steps"]]
    return {**story, "steps": steps}


def test_every_story_is_predicted_right(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", models_dir_override=PROJECT_ROOT / "var" / "models")
    model = ensure_model(settings)
    count = 0
    stories_dir = tmp_path / "stories"  # apart from var/: rasa reads every file below --stories
    stories_dir.mkdir()
    for path in sorted(STORIES.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        stories = [intents_only(story) for story in data["stories"]]
        count += len(stories)
        (stories_dir / path.name).write_text(
            yaml.safe_dump({"version": "3.1", "stories": stories}, allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
    assert count >= 60
    result = subprocess.run(
        [str(settings.rasa_python), "-m", "rasa", "test", "core", "--stories", str(stories_dir), "--model", str(model),
         "--out", str(tmp_path / "results"), "--fail-on-prediction-errors", "--no-plot"],
        cwd=PROJECT_ROOT, env=rasa_env(settings), capture_output=True, text=True, check=False,
    )  # fmt: skip
    failed = tmp_path / "results" / "failed_test_stories.yml"
    detail = failed.read_text(encoding="utf-8")[-3000:] if failed.exists() else result.stdout[-3000:]
    assert result.returncode == 0, detail
