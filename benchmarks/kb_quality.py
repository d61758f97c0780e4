"""Retrieval quality of the fusion against its parts, side by side on the same index and question sets.

Variants: BM25 alone, dense alone, plain reciprocal rank fusion (k=60, equal weights, no name matching or priors), and
the configured hybrid. Prints a markdown table of recall@1, recall@5, MRR@10 and latency for each question set.

Run: make bench-kb
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.settings import get_settings  # noqa: E402
from knowledge.evaluate import evaluate, load_questions  # noqa: E402
from knowledge.search import Searcher, SearchWeights  # noqa: E402
from knowledge.service import get_searcher  # noqa: E402

SETS = {
    "shared dev (80)": ROOT.parent / "shared" / "eval" / "dev-questions.jsonl",
    "own personal (279)": ROOT / "tests" / "knowledge" / "data" / "own-questions-personal.jsonl",
    "own enterprise (106)": ROOT / "tests" / "knowledge" / "data" / "own-questions-enterprise.jsonl",
}
NO_PRIORS = {"name": 0.0, "policy_prior": 1.0, "bundle_prior": 1.0, "bundle_members": 0.0}
VARIANTS = {
    "BM25 only": SearchWeights(dense=0.0, **NO_PRIORS),
    "dense only": SearchWeights(bm25=0.0, **NO_PRIORS),
    "plain RRF (k=60)": SearchWeights(bm25=1.0, dense=1.0, rrf_k=60.0, **NO_PRIORS),
    "hybrid (default)": SearchWeights(),
}


def main() -> None:
    base = get_searcher(get_settings())
    names = {d.name: d.code for d in base.index.corpus.guides}
    base.search("热身")
    print("| question set | variant | recall@1 | recall@5 | MRR@10 | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for label, path in SETS.items():
        if not path.exists():
            continue
        questions = load_questions(path, names)
        for variant, weights in VARIANTS.items():
            searcher = Searcher(base.index, base.embedder, weights=replace(weights))
            report = evaluate(searcher, questions)
            print(
                f"| {label} | {variant} | {report.recall_at_1:.3f} | {report.recall_at_5:.3f} | "
                f"{report.mrr_at_10:.3f} | {report.latency_p50_ms:.1f} | {report.latency_p95_ms:.1f} |"
            )


if __name__ == "__main__":
    main()
