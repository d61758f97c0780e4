"""Character error rate, the usual measure of Chinese speech recognition.

Both texts are normalised first (simplified characters, half-width) and reduced to what is spoken: Chinese characters,
letters and digits — punctuation and spaces are not scored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.text import normalize_message

_UNSPOKEN = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]")


def spoken_chars(text: str) -> str:
    return _UNSPOKEN.sub("", normalize_message(text)).lower()


def edit_distance(reference: str, hypothesis: str) -> int:
    """Levenshtein distance: substitutions, deletions and insertions of single characters."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_char in enumerate(reference, 1):
        current = [i]
        for j, hyp_char in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_char != hyp_char)))
        previous = current
    return previous[-1]


def cer(reference: str, hypothesis: str) -> float:
    """Errors per reference character of one utterance (can exceed 1 when the hypothesis is longer)."""
    ref, hyp = spoken_chars(reference), spoken_chars(hypothesis)
    if not ref:
        return float(bool(hyp))
    return edit_distance(ref, hyp) / len(ref)


def corpus_cer(pairs: Iterable[tuple[str, str]]) -> float:
    """Total errors over total reference characters of (reference, hypothesis) pairs: long utterances weigh more."""
    errors = characters = 0
    for reference, hypothesis in pairs:
        ref = spoken_chars(reference)
        errors += edit_distance(ref, spoken_chars(hypothesis))
        characters += len(ref)
    return errors / characters if characters else 0.0
