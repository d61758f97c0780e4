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
    shared: bool = False  # the surface also occurs inside another document's names (营业执照 in 个体营业执照)

    @property
    def strength(self) -> float:
        """How strongly the match points at its document, 0–1: longer, official, exact and specific is stronger."""
        base = 1.0 if self.is_name else 0.85
        length = min(len(self.surface), 8) / 8
        return base * (0.55 + 0.45 * length) * (1.0 if self.exact else 0.8) * (0.6 if self.shared else 1.0)


@lru_cache(maxsize=65536)
def _pinyin(char: str) -> str:
    return lazy_pinyin(char)[0]


def _syllables(text: str) -> list[str]:
    return [_pinyin(ch) for ch in text]


class NameMatcher:
    """Names and aliases of the documents of one knowledge base."""

    def __init__(self, entries: Iterable[tuple[str, str, bool]], terms: Iterable[str] = ()) -> None:
        """``entries``: (document code, name or alias, whether it is the official name).

        ``terms``: domain words that name no single document (社保卡, 公积金); only used to correct homophones.
        """
        self._surfaces: list[tuple[str, str, bool]] = []
        for code, surface, is_name in entries:
            compact = _NON_CJK.sub("", surface)
            if len(compact) >= 2:
                self._surfaces.append((code, compact, is_name))
        # Longest first: a longer name contained in the query wins over the shorter ones inside it.
        self._surfaces.sort(key=lambda entry: -len(entry[1]))
        self._shared = {
            (code, surface)
            for code, surface, _ in self._surfaces
            if any(surface in other for c, other, _ in self._surfaces if c != code)
        }
        # Sound → what sounds like that, for homophone look-ups in one dictionary probe per query window.
        self._by_sound: dict[tuple[str, ...], list[tuple[str | None, str, bool]]] = {}
        for code, surface, is_name in self._surfaces:
            if len(surface) >= 3:
                self._by_sound.setdefault(tuple(_syllables(surface)), []).append((code, surface, is_name))
        for term in {t for t in terms if len(t) >= 3}:
            self._by_sound.setdefault(tuple(_syllables(term)), []).append((None, term, False))
        self._widths = sorted({len(key) for key in self._by_sound}, reverse=True)

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
            shared = (code, surface) in self._shared
            self._keep(best, NameMatch(code, surface, surface, exact=not shadowed, is_name=is_name, shared=shared))
        for window, owner, surface, is_name in self._homophones(compact_query):
            if owner is not None and owner not in best:
                shared = (owner, surface) in self._shared
                self._keep(best, NameMatch(owner, surface, window, exact=False, is_name=is_name, shared=shared))
        return sorted(best.values(), key=lambda m: -m.strength)

    def correct(self, text: str) -> str:
        """``text`` with homophone typos of names and domain terms replaced (社宝卡 → 社保卡, 公基金 → 公积金)."""
        for window, _, surface, _ in self._homophones(_NON_CJK.sub("", text)):
            text = text.replace(window, surface)
        return text

    def _homophones(self, query: str) -> list[tuple[str, str | None, str, bool]]:
        """(window of the query, code, surface, is_name) for windows that sound like a surface but are spelt otherwise."""
        sounds = _syllables(query)
        found = []
        for width in self._widths:
            limit = max(1, width // 3)
            for start in range(0, len(query) - width + 1):
                candidates = self._by_sound.get(tuple(sounds[start : start + width]))
                if not candidates:
                    continue
                window: str = query[start : start + width]
                for code, surface, is_name in candidates:
                    differing = sum(1 for a, b in zip(window, surface, strict=True) if a != b)
                    if 0 < differing <= limit:
                        found.append((window, code, surface, is_name))
        return found

    @staticmethod
    def _keep(best: dict[str, NameMatch], match: NameMatch) -> None:
        current = best.get(match.code)
        if current is None or match.strength > current.strength:
            best[match.code] = match


#: Action words that end official item names; without them the rest is what people call the item (高龄津贴).
_ACTION_SUFFIXES = (
    "申领",
    "办理",
    "登记",
    "申请",
    "核发",
    "处理",
    "备案",
    "认定",
    "提取",
    "换领补领",
    "补领换领",
    "公示",
)


def short_names(names: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(code, short name) for official names that end in an action word, when the short name is unambiguous.

    ``names`` maps each document code to its name and aliases. A short name that appears inside another document's
    name or alias (社会保障卡 inside 社会保障卡补领换领) is left out: it would point at two documents.
    """
    result = []
    for code, surfaces in names.items():
        official = surfaces[0]
        for suffix in _ACTION_SUFFIXES:
            if official.endswith(suffix) and len(official) - len(suffix) >= 3:
                short = official[: -len(suffix)]
                clash = any(short in other for c, others in names.items() if c != code for other in others)
                if not clash:
                    result.append((code, short))
                break
    return result


def distinctive_terms(names: dict[str, list[str]], sizes: tuple[int, ...] = (3, 4)) -> list[tuple[str, str]]:
    """(code, term) for character n-grams that recur in one document's names and aliases and in no other's.

    These are the words people use for that document (个体户 for 个体工商户设立登记) even when no alias is spelt exactly.
    """
    owners: dict[str, set[str]] = {}
    counts: dict[tuple[str, str], int] = {}
    for code, surfaces in names.items():
        for surface in {_NON_CJK.sub("", s) for s in surfaces}:
            for gram in {surface[i : i + n] for n in sizes for i in range(len(surface) - n + 1)}:
                owners.setdefault(gram, set()).add(code)
                counts[(code, gram)] = counts.get((code, gram), 0) + 1
    return sorted((code, gram) for (code, gram), count in counts.items() if count >= 2 and owners[gram] == {code})


def frequent_terms(surfaces: Iterable[str], min_count: int = 2, sizes: tuple[int, ...] = (3, 4)) -> list[str]:
    """Character n-grams that recur across names and aliases: the domain's key terms (社保卡, 公积金, 营业执照)."""
    counts: dict[str, int] = {}
    for surface in {_NON_CJK.sub("", s) for s in surfaces}:
        grams = {surface[i : i + n] for n in sizes for i in range(len(surface) - n + 1)}
        for gram in grams:
            counts[gram] = counts.get(gram, 0) + 1
    return sorted(gram for gram, count in counts.items() if count >= min_count)
