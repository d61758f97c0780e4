"""Finding the service items a query names: exact names and aliases, and homophone typos by pinyin (社宝卡 → 社保卡).

:class:`NameMatcher` is built once per corpus; :meth:`NameMatcher.find` is a pure function of the query text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin

_NON_CJK = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]")


@dataclass(frozen=True)
class NameMatch:
    code: str
    surface: str  # the name or alias as the knowledge base writes it
    found: str  # what the query contains (differs from surface for a homophone)
    exact: bool
    is_name: bool  # the official 事项名称 rather than an alias

    @property
    def strength(self) -> float:
        """How strongly the match points at its document, 0–1: longer, official and exact is stronger."""
        base = 1.0 if self.is_name else 0.85
        length = min(len(self.surface), 8) / 8
        return base * (0.55 + 0.45 * length) * (1.0 if self.exact else 0.8)


@lru_cache(maxsize=65536)
def _pinyin(char: str) -> str:
    return lazy_pinyin(char)[0]


def _syllables(text: str) -> list[str]:
    return [_pinyin(ch) for ch in text]


class NameMatcher:
    """Names and aliases of the documents of one knowledge base."""

    def __init__(self, entries: Iterable[tuple[str, str, bool]]) -> None:
        """``entries``: (document code, name or alias, whether it is the official name)."""
        self._surfaces: list[tuple[str, str, bool]] = []
        for code, surface, is_name in entries:
            compact = _NON_CJK.sub("", surface)
            if len(compact) >= 2:
                self._surfaces.append((code, compact, is_name))
        # Longest first: a longer name contained in the query wins over the shorter ones inside it.
        self._surfaces.sort(key=lambda entry: -len(entry[1]))
        self._pinyin = {surface: _syllables(surface) for _, surface, _ in self._surfaces}

    def find(self, compact_query: str) -> list[NameMatch]:
        """Matches in ``compact_query`` (no punctuation), strongest first, one per document.

        Exact matches are found anywhere; a homophone match needs at least three characters, the same pinyin and no
        more than a third of the characters different (so 社宝卡 matches 社保卡, but 公交卡 does not match 公积金).
        """
        best: dict[str, NameMatch] = {}
        covered: list[tuple[int, int, str]] = []
        for code, surface, is_name in self._surfaces:
            start = compact_query.find(surface)
            if start < 0:
                continue
            end = start + len(surface)
            # A short alias inside a longer name of another document (社保卡 inside 社保卡补领换领) is weak evidence.
            shadowed = any(s <= start and end <= e and other != code for s, e, other in covered)
            covered.append((start, end, code))
            self._keep(best, NameMatch(code, surface, surface, exact=not shadowed, is_name=is_name))
        for code, surface, is_name in self._surfaces:
            if code in best or len(surface) < 3:
                continue
            found = self._homophone(compact_query, surface)
            if found:
                self._keep(best, NameMatch(code, surface, found, exact=False, is_name=is_name))
        return sorted(best.values(), key=lambda m: -m.strength)

    def correct(self, compact_query: str) -> str:
        """``compact_query`` with homophone typos of names replaced by the names themselves."""
        for match in self.find(compact_query):
            if match.found != match.surface:
                compact_query = compact_query.replace(match.found, match.surface)
        return compact_query

    def _homophone(self, query: str, surface: str) -> str:
        width = len(surface)
        target = self._pinyin[surface]
        limit = max(1, width // 3)
        for start in range(0, len(query) - width + 1):
            window = query[start : start + width]
            differing = sum(1 for a, b in zip(window, surface, strict=True) if a != b)
            if 0 < differing <= limit and _syllables(window) == target:
                return window
        return ""

    @staticmethod
    def _keep(best: dict[str, NameMatch], match: NameMatch) -> None:
        current = best.get(match.code)
        if current is None or match.strength > current.strength:
            best[match.code] = match
