"""Normalisation of text that people type or speak, shared by the gateway and the knowledge base.

Pure functions; the OpenCC converter is built lazily on first use and shared.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Protocol


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


# Control and format characters (C0/C1, zero-width, bidi overrides) except newline and tab.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Terminal escape sequences (colour codes pasted from a console) carry no text.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_SPACES = re.compile(r"[ \t\u3000]+")
_NEWLINES = re.compile(r"\n{3,}")


@lru_cache(maxsize=1)
def _t2s() -> _Converter:
    from opencc import OpenCC

    converter: _Converter = OpenCC("t2s")
    return converter


def to_simplified(text: str) -> str:
    """Convert traditional Chinese characters to simplified ones (繁→简); other text is unchanged."""
    return _t2s().convert(text)


def normalize_message(text: str) -> str:
    """Clean a chat message before it reaches the NLU.

    Full-width letters, digits and ASCII punctuation become half-width (NFKC), traditional characters become simplified,
    invisible control characters are removed, runs of spaces collapse to one and the ends are trimmed. Chinese
    punctuation such as 。、 is kept.
    """
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", _ANSI.sub("", text))
    text = _SPACES.sub(" ", text)
    text = _NEWLINES.sub("\n\n", text).strip()
    return to_simplified(text) if text else text
