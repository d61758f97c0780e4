"""NLU quality on the held-out split (tests/nlu/*.yml, never trained on) and the fallback threshold it supports.

Runs `rasa test nlu` with the current model, then reads Rasa's reports: macro-F1 and per-intent F1, and for each candidate
FallbackClassifier threshold how many right predictions it would keep and how many wrong ones it would send to the
knowledge-search fallback instead. Prints markdown for docs/benchmarks.md.

Run: make nlu-eval
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.settings import get_settings  # noqa: E402
from assistant.training import ensure_model, rasa_env  # noqa: E402


def main() -> None:
    settings = get_settings()
    model = ensure_model(settings)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        subprocess.run(
            [str(settings.rasa_python), "-m", "rasa", "test", "nlu", "--nlu", str(ROOT / "tests" / "nlu"),
             "--model", str(model), "--out", str(out), "--successes"],
            cwd=ROOT, env=rasa_env(settings), check=True, capture_output=True,
        )  # fmt: skip
        report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
        right = json.loads((out / "intent_successes.json").read_text(encoding="utf-8"))
        wrong = json.loads((out / "intent_errors.json").read_text(encoding="utf-8"))
    macro = report["macro avg"]
    print(
        f"held-out examples: {macro['support']}  intent macro-F1: {macro['f1-score']:.3f}  accuracy: {report['accuracy']:.3f}\n"
    )
    print("| intent | F1 | support |")
    print("|---|---|---|")
    for name, figures in sorted(report.items()):
        if isinstance(figures, dict) and name not in {"macro avg", "weighted avg", "micro avg"}:
            print(f"| {name} | {figures['f1-score']:.3f} | {figures['support']} |")
    print("\n| fallback threshold | right predictions kept | wrong predictions sent to search |")
    print("|---|---|---|")
    right_conf = [r["intent_prediction"]["confidence"] for r in right]
    wrong_conf = [r["intent_prediction"]["confidence"] for r in wrong]
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        kept = sum(c >= threshold for c in right_conf) / max(1, len(right_conf))
        caught = sum(c < threshold for c in wrong_conf) / max(1, len(wrong_conf))
        print(f"| {threshold:.1f} | {kept:.3f} | {caught:.3f} |")


if __name__ == "__main__":
    main()
