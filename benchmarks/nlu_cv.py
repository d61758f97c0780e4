"""k-fold cross-validation of the NLU pipeline on the training data, and the FallbackClassifier thresholds it supports.

Splits assistant/data/nlu into k stratified folds, trains the pipeline of config.yml on k-1 of them (NLU only, Rasa
environment) and ranks the intents of the held-out fold. From the pooled rankings it prints the macro-F1 per fold and, for a
grid of (threshold, ambiguity_threshold) pairs, how many right predictions would still reach the dialogue and how many wrong
ones would go to the knowledge search instead; the pair with the best utility (+1 per right prediction kept, -1 per right one
detoured to the search, -2 per wrong one kept; see assistant.nlu_data.fallback_grid) is the one to put in config.yml. The pooled
predictions are written to var/nlu-cv-predictions.jsonl for further analysis. Prints markdown for docs/benchmarks.md.

Run: make nlu-cv  (k=5 by default: five trainings, about 20 minutes on 2 cores; ``--folds N`` to change)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from nlu_eval import predict  # noqa: E402

from assistant.nlu_data import (  # noqa: E402
    best_fallback,
    fallback_grid,
    macro_f1,
    nlu_yaml,
    other_blocks,
    read_examples,
    stratified_folds,
)
from assistant.settings import get_settings  # noqa: E402
from assistant.training import rasa_env  # noqa: E402

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
AMBIGUITIES = (0.0, 0.05, 0.1, 0.15, 0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    settings = get_settings()
    data = ROOT / "assistant" / "data" / "nlu"
    examples = read_examples(data)
    blocks = other_blocks(data)
    folds = stratified_folds(examples, args.folds, seed=42)
    pooled = []
    scores = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, test in enumerate(folds):
            train = [e for i, fold in enumerate(folds) if i != index for e in fold]
            folder = Path(tmp) / f"fold{index}"
            folder.mkdir()
            (folder / "nlu.yml").write_text(nlu_yaml(train, blocks), encoding="utf-8")
            subprocess.run(
                [str(settings.rasa_python), "-m", "rasa", "train", "nlu", "-c", str(ROOT / "config.yml"), "--nlu",
                 str(folder), "--out", str(folder), "--fixed-model-name", "model"],
                cwd=ROOT, env=rasa_env(settings), check=True, capture_output=True,
            )  # fmt: skip
            predictions = predict(settings, folder / "model.tar.gz", test)
            pairs = [(p.intent, p.ranking[0][0] if p.ranking else "") for p in predictions]
            scores.append(macro_f1(pairs))
            pooled += predictions
            print(f"fold {index + 1}/{args.folds}: {len(test)} examples, macro-F1 {scores[-1]:.3f}", flush=True)
    print(
        f"\n{args.folds}-fold cross-validation on {len(examples)} training examples: intent macro-F1 "
        f"{statistics.mean(scores):.3f} ± {statistics.stdev(scores):.3f}\n"
    )
    saved = settings.data_dir / "nlu-cv-predictions.jsonl"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(
        "".join(json.dumps({"intent": p.intent, "ranking": p.ranking}, ensure_ascii=False) + "\n" for p in pooled),
        "utf-8",
    )
    outcomes = fallback_grid(pooled, THRESHOLDS, AMBIGUITIES)
    print("| threshold | ambiguity | right kept | wrong caught | utility |\n|---|---|---|---|---|")
    for outcome in outcomes:
        print(
            f"| {outcome.threshold:.2f} | {outcome.ambiguity:.2f} | {outcome.right_kept:.3f} | "
            f"{outcome.wrong_caught:.3f} | {outcome.utility:.3f} |"
        )
    best = best_fallback(outcomes)
    configured = next(
        c for c in yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
        if c["name"] == "FallbackClassifier"
    )  # fmt: skip
    print(
        f"\nbest: threshold {best.threshold}, ambiguity_threshold {best.ambiguity} "
        f"(config.yml has {configured['threshold']}, {configured['ambiguity_threshold']})"
    )


if __name__ == "__main__":
    main()
