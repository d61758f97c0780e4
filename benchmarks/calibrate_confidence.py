"""Fit the search confidence model (knowledge.search.ConfidenceModel) and show what each threshold means.

Training data: the project's own question sets (label: was the top document right?) and its out-of-scope questions
(label: wrong — any answer would be). Reported: 5-fold cross-validated figures on that data, and the held-out shared
development set. Prints the fitted coefficients to paste into ConfidenceModel.

Run: .venv/bin/python benchmarks/calibrate_confidence.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import cross_val_predict  # noqa: E402

from assistant.settings import get_settings  # noqa: E402
from knowledge.search import ConfidenceModel, Searcher  # noqa: E402
from knowledge.service import get_searcher  # noqa: E402

DATA = ROOT / "tests" / "knowledge" / "data"
DEV = ROOT.parent / "shared" / "eval" / "dev-questions.jsonl"
FEATURES = ["name", "other_named", "bm25_agrees", "dense_agrees", "margin", "dense", "coverage", "topic"]
#: Out-of-scope kinds retrieval itself must decline; harmful requests and other people's data name real services and
#: are refused by the dialogue, not by search.
DECLINE = {"chitchat", "other_service", "nonsense"}


def rows(searcher: Searcher, path: Path, in_scope: bool) -> tuple[list[list[float]], list[int]]:
    names = {d.name: d.code for d in searcher.index.corpus.guides}
    x, y = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        result = searcher.search(record["question"])
        if result.top is None:
            continue
        x.append([result.evidence[f] for f in FEATURES])
        y.append(int(in_scope and result.top.code == names[record["expected_item"]]))
    return x, y


def table(probabilities: np.ndarray, labels: np.ndarray, in_scope: np.ndarray) -> None:
    print("| threshold | answered (in scope) | right among answered | out-of-scope answered |")
    print("|---|---|---|---|")
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        answered = probabilities >= threshold
        inside = answered & in_scope
        right = labels[inside].mean() if inside.any() else float("nan")
        outside = (answered & ~in_scope).sum() / max(1, (~in_scope).sum())
        print(f"| {threshold:.1f} | {inside.sum() / max(1, in_scope.sum()):.3f} | {right:.3f} | {outside:.3f} |")


def main() -> None:
    searcher = get_searcher(get_settings())
    x: list[list[float]] = []
    y: list[int] = []
    scope: list[bool] = []
    for name in ("own-questions-personal.jsonl", "own-questions-enterprise.jsonl"):
        xs, ys = rows(searcher, DATA / name, in_scope=True)
        x += xs
        y += ys
        scope += [True] * len(xs)
    oos_x: list[list[float]] = []
    oos_lines = []
    for name in ("out-of-scope.jsonl", "out-of-scope-more.jsonl"):
        if (DATA / name).exists():
            oos_lines += (DATA / name).read_text(encoding="utf-8").splitlines()
    for line in oos_lines:
        record = json.loads(line)
        if record["kind"] not in DECLINE:
            continue
        result = searcher.search(record["question"])
        if result.top is not None:
            oos_x.append([result.evidence[f] for f in FEATURES])
    x += oos_x
    y += [0] * len(oos_x)
    scope += [False] * len(oos_x)
    features, labels, in_scope = np.array(x), np.array(y), np.array(scope)

    model = LogisticRegression(C=1.0, max_iter=1000)
    print("## 5-fold cross-validated on the own sets + out-of-scope questions")
    table(cross_val_predict(model, features, labels, cv=5, method="predict_proba")[:, 1], labels, in_scope)
    model.fit(features, labels)
    fitted = ConfidenceModel(bias=round(float(model.intercept_[0]), 2), **{
        f: round(float(c), 2) for f, c in zip(FEATURES, model.coef_[0], strict=True)
    })  # fmt: skip
    print("\nfitted:", fitted)

    if DEV.exists():
        dev_x, dev_y = rows(searcher, DEV, in_scope=True)
        probabilities = np.array([fitted.predict(dict(zip(FEATURES, r, strict=True))) for r in dev_x])
        print("\n## held-out development set (all in scope)")
        table(probabilities, np.array(dev_y), np.ones(len(dev_y), dtype=bool))


if __name__ == "__main__":
    main()
