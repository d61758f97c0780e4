"""The NLU training data and its held-out split stay apart, and every intent is both trained and measured."""

from __future__ import annotations

from pathlib import Path

import yaml

from assistant.nlu_data import plain, read_examples

ROOT = Path(__file__).resolve().parents[2]


def examples(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for example in read_examples(folder):
        found.setdefault(example.intent, []).append(example.text)
    return found


TRAIN = examples(ROOT / "assistant" / "data" / "nlu")
HELD_OUT = examples(ROOT / "tests" / "nlu")


def test_no_held_out_sentence_is_trained_on() -> None:
    trained = {plain(e) for lines in TRAIN.values() for e in lines}
    leaked = sorted(plain(e) for lines in HELD_OUT.values() for e in lines if plain(e) in trained)
    assert leaked == []


def test_every_domain_intent_is_trained_and_held_out() -> None:
    intents = set()
    for path in (ROOT / "assistant" / "domain").glob("*.yml"):
        intents |= set(yaml.safe_load(path.read_text(encoding="utf-8")).get("intents", []))
    assert intents == set(TRAIN) == set(HELD_OUT)


def test_main_intents_have_at_least_forty_examples() -> None:
    small = {intent: len(lines) for intent, lines in TRAIN.items() if len(lines) < 40}
    assert small == {}


def test_no_duplicate_training_examples_across_intents() -> None:
    owners: dict[str, set[str]] = {}
    for intent, lines in TRAIN.items():
        for example in lines:
            owners.setdefault(plain(example), set()).add(intent)
    assert {text: names for text, names in owners.items() if len(names) > 1} == {}
