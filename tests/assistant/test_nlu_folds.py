"""Stratified folds, intent F1 and the choice of fallback thresholds used by the NLU benchmarks."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from assistant.nlu_data import (
    Example,
    Prediction,
    best_fallback,
    fallback_grid,
    intent_f1,
    macro_f1,
    nlu_yaml,
    stratified_folds,
)

intents = st.sampled_from(["greet", "ask_service", "deny", "cancel"])
example_lists = st.lists(st.builds(Example, st.text("你好办证吗", min_size=1, max_size=6), intents), max_size=60)


@given(example_lists, st.integers(2, 6))
def test_folds_partition_the_examples_and_balance_each_intent(examples: list[Example], k: int) -> None:
    folds = stratified_folds(examples, k, seed=1)
    assert len(folds) == k
    assert Counter(e for fold in folds for e in fold) == Counter(examples)
    for intent in {e.intent for e in examples}:
        shares = [sum(e.intent == intent for e in fold) for fold in folds]
        assert max(shares) - min(shares) <= 1
    sizes = [len(fold) for fold in folds]
    assert max(sizes) - min(sizes) <= 1


def test_folds_need_two() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        stratified_folds([], 1)


def test_intent_f1_and_macro() -> None:
    pairs = [("a", "a"), ("a", "b"), ("b", "b"), ("c", "b")]
    scores = intent_f1(pairs)
    assert scores == pytest.approx({"a": 2 / 3, "b": 2 * (1 / 3) * 1 / (1 / 3 + 1), "c": 0.0})
    assert macro_f1(pairs) == pytest.approx(sum(scores.values()) / 3)
    assert macro_f1([]) == 0.0


def test_nlu_yaml_round_trips_through_rasa_format() -> None:
    text = nlu_yaml(
        [Example("你好", "greet"), Example("在哪办", "ask_service"), Example("您好", "greet")],
        [{"regex": "x", "examples": "- a\n"}],
    )
    data = yaml.safe_load(text)
    assert data["nlu"][0] == {"intent": "greet", "examples": "- 你好\n- 您好\n"}
    assert data["nlu"][-1]["regex"] == "x"


@pytest.mark.parametrize(
    ("ranking", "threshold", "ambiguity", "falls_back"),
    [
        ((("a", 0.9), ("b", 0.05)), 0.5, 0.1, False),
        ((("a", 0.45), ("b", 0.05)), 0.5, 0.1, True),  # below the threshold
        ((("a", 0.55), ("b", 0.5)), 0.5, 0.1, True),  # too close to the second
        ((("a", 0.55),), 0.5, 0.1, False),
        ((), 0.5, 0.1, True),
    ],
)
def test_falls_back(
    ranking: tuple[tuple[str, float], ...], threshold: float, ambiguity: float, falls_back: bool
) -> None:
    assert Prediction("a", ranking).falls_back(threshold, ambiguity) is falls_back


def test_grid_prefers_catching_confident_mistakes_only_when_it_pays() -> None:
    right = [Prediction("a", (("a", 0.95), ("b", 0.02)))] * 8 + [Prediction("a", (("a", 0.55), ("b", 0.3)))] * 2
    wrong = [Prediction("a", (("b", 0.45), ("a", 0.4)))] * 3
    outcomes = fallback_grid(right + wrong, (0.3, 0.5, 0.6), (0.0,))
    best = best_fallback(outcomes)
    # 0.5 keeps all ten right predictions and sends the three wrong ones to the fallback
    assert (best.threshold, best.right_kept, best.wrong_caught) == (0.5, 1.0, 1.0)
    assert outcomes[0].utility == pytest.approx((10 - 2 * 3) / 13)
    # 0.6 also catches the mistakes but detours two right predictions
    assert outcomes[2].utility == pytest.approx((8 - 1 * 2) / 13)
