"""Parse sentences with a trained Rasa model and write each one's intent ranking (runs in the Rasa environment).

Usage: .venv-rasa/bin/python benchmarks/nlu_predict.py MODEL.tar.gz IN.jsonl OUT.jsonl
Each input line is {"text": ...}; each output line adds "ranking": [[intent, confidence], ...] (best first, without the
FallbackClassifier's nlu_fallback) and "entities": [[entity, value], ...].
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

from rasa.core.agent import Agent


async def predict(model: str, lines: list[dict[str, str]]) -> list[dict[str, object]]:
    agent = Agent.load(model)
    out = []
    for line in lines:
        parsed = await agent.parse_message(line["text"])
        ranking = [
            [r["name"], float(r["confidence"])] for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"
        ]
        entities = [[e["entity"], e["value"]] for e in parsed.get("entities", [])]
        out.append({**line, "ranking": ranking, "entities": entities})
    return out


def main() -> None:
    logging.disable(logging.WARNING)
    model, source, target = sys.argv[1:4]
    lines = [json.loads(row) for row in Path(source).read_text(encoding="utf-8").splitlines() if row.strip()]
    results = asyncio.run(predict(model, lines))
    Path(target).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8")


if __name__ == "__main__":
    main()
