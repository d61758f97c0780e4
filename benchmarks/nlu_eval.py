"""NLU quality of the current model: intents on the development and blind splits, entities on the blind entity set.

- tests/nlu/ — the development split: never trained on, but its errors were looked at while improving the training data;
- tests/nlu_blind/ — the blind split: written from the intent definitions alone by someone who saw neither the training data
  nor the development split; only its totals are read, never its errors;
- tests/nlu_blind/entities.jsonl — sentences with every entity value they contain (written the same way), scored at value
  level against the pipeline's entity extractor (``nlu.extract``, the code GovEntityExtractor runs) with the set's fixed date.

Prints markdown for docs/benchmarks.md. Run: make nlu-eval
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import datetime as dt  # noqa: E402

from assistant.nlu_data import Example, Prediction, intent_f1, macro_f1, read_examples  # noqa: E402
from assistant.settings import Settings, get_settings  # noqa: E402
from assistant.training import ensure_model, rasa_env  # noqa: E402
from knowledge.names import NameMatcher  # noqa: E402
from nlu.extract import extract  # noqa: E402

#: "Today" of the entity set's relative dates (下周一, 明天 …).
ENTITY_SET_TODAY = dt.date(2026, 11, 30)
SPLITS = {"development": ROOT / "tests" / "nlu", "blind": ROOT / "tests" / "nlu_blind"}


def predict(settings: Settings, model: Path, examples: Sequence[Example]) -> list[Prediction]:
    """The ranking the model gives each example (parsed by benchmarks/nlu_predict.py in the Rasa environment)."""
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        source.write_text("".join(json.dumps({"text": e.text}, ensure_ascii=False) + "\n" for e in examples), "utf-8")
        subprocess.run(
            [str(settings.rasa_python), str(ROOT / "benchmarks" / "nlu_predict.py"), str(model), str(source), str(target)],
            cwd=ROOT, env={**rasa_env(settings), "PYTHONPATH": str(ROOT)}, check=True, capture_output=True,
        )  # fmt: skip
        rows = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    return [
        Prediction(e.intent, tuple((name, conf) for name, conf in row["ranking"]))
        for e, row in zip(examples, rows, strict=True)
    ]


def entity_scores(path: Path, matcher: NameMatcher) -> dict[str, tuple[int, int, int]]:
    """Per entity type: (right values found, values found, values expected), multiset-matched per sentence."""
    right: Counter[str] = Counter()
    found: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        got = Counter(
            (e.entity, e.value) for e in extract(row["text"], matcher, today=ENTITY_SET_TODAY) if e.entity != "aspect"
        )
        want = Counter((kind, value) for kind, values in row["entities"].items() for value in values)
        for (kind, _), n in got.items():
            found[kind] += n
        for (kind, value), n in want.items():
            expected[kind] += n
            right[kind] += min(n, got[(kind, value)])
    return {kind: (right[kind], found[kind], expected[kind]) for kind in sorted(set(found) | set(expected))}


def _f1(right: int, found: int, expected: int) -> tuple[float, float, float]:
    precision = right / found if found else 0.0
    recall = right / expected if expected else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def main() -> None:
    settings = get_settings()
    model = ensure_model(settings)
    threshold = 0.5  # the FallbackClassifier threshold in config.yml (chosen by benchmarks/nlu_cv.py)
    per_split = {}
    for name, folder in SPLITS.items():
        examples = read_examples(folder)
        predictions = predict(settings, model, examples)
        pairs = [(p.intent, p.ranking[0][0] if p.ranking else "") for p in predictions]
        per_split[name] = intent_f1(pairs)
        accuracy = sum(a == b for a, b in pairs) / len(pairs)
        below = sum(p.ranking[0][1] < threshold for p in predictions) / len(predictions)
        print(
            f"{name} split: {len(examples)} examples, intent macro-F1 {macro_f1(pairs):.3f}, accuracy {accuracy:.3f}, "
            f"{below:.1%} below the fallback threshold {threshold}"
        )
    print("\n| intent | development F1 | blind F1 |\n|---|---|---|")
    for intent in sorted(per_split["development"]):
        print(
            f"| {intent} | {per_split['development'][intent]:.3f} | {per_split['blind'].get(intent, float('nan')):.3f} |"
        )
    names = json.loads((ROOT / "assistant" / "entities" / "service_items.json").read_text(encoding="utf-8"))
    matcher = NameMatcher([(code, s, i == 0) for code, surfaces in names.items() for i, s in enumerate(surfaces)])
    scores = entity_scores(ROOT / "tests" / "nlu_blind" / "entities.jsonl", matcher)
    print("\n| entity | precision | recall | F1 | expected values |\n|---|---|---|---|---|")
    for kind, (right, found, expected) in scores.items():
        precision, recall, f1 = _f1(right, found, expected)
        print(f"| {kind} | {precision:.3f} | {recall:.3f} | {f1:.3f} | {expected} |")
    total = [sum(s[i] for s in scores.values()) for i in range(3)]
    precision, recall, f1 = _f1(*total)
    print(f"| all (micro) | {precision:.3f} | {recall:.3f} | {f1:.3f} | {total[2]} |")


if __name__ == "__main__":
    main()
