"""Hotwords for speech recognition: the words of the knowledge base that people say, within Whisper's prompt budget.

Whisper has no vocabulary to extend; faster-whisper puts ``hotwords`` into the decoder prompt, which biases it towards
those spellings (社保卡 rather than 设保卡, 高龄津贴 rather than 高零斤斤). The prompt is short — faster-whisper cuts
hotwords at 223 tokens, and every prompt token slows each decoding step — so the words are chosen and ordered:

1. key terms that recur across many names and aliases (公积金, 社保卡, 居住证): one word helps many questions;
2. one spoken name for each document no key term covers yet (高龄津贴, 个体工商户);
3. the remaining names and aliases, most widely shared first,

each skipped when it contains, or is contained in, a word already chosen, until the token budget is spent.
:func:`select_hotwords` is pure; :func:`hotwords` reads the configured knowledge base (cached per directory).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.names import frequent_terms, short_names

if TYPE_CHECKING:
    from assistant.settings import Settings

_NON_CJK = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]")
_CJK = re.compile(r"[\u4e00-\u9fff]")

#: Separator between hotwords: the enumeration comma, one token in Whisper's tokenizer like a space (a full-width comma
#: takes three); Whisper reads "社保卡、公积金、居住证" as a Chinese list. On the generated set (docs/benchmarks.md) the
#: difference to spaces was within run-to-run noise.
SEPARATOR = "、"

#: Default budget in Whisper tokens; faster-whisper truncates hotwords at 223.
DEFAULT_BUDGET = 200


@dataclass(frozen=True)
class Names:
    """What one document is called: its official name first, then its aliases."""

    name: str
    aliases: tuple[str, ...] = ()

    @property
    def surfaces(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def estimate_tokens(text: str) -> int:
    """A conservative count of Whisper tokens: two per Chinese character, one per other character.

    Whisper's byte-level BPE spends one to three tokens on a Chinese character (about 1.4 on average for the names of
    the bundled knowledge base), so this over-counts and a budget computed with it is never exceeded. The recognizer
    counts with the real tokenizer instead.
    """
    cjk = len(_CJK.findall(text))
    return 2 * cjk + (len(text) - cjk)


def _compact(text: str) -> str:
    return _NON_CJK.sub("", text)


def _is_word(gram: str, surfaces: Sequence[str]) -> bool:
    """Whether ``gram`` stands on its own: different characters (or a name's edge) occur on each side of it.

    This is accessor variety, the classic test for words in unsegmented Chinese: 社保卡 follows 办, 补 and 申请 and
    precedes 补办, 挂失 and the end of a name; 房提取 is always at the end and 工许可 always after 施.
    """
    left: set[str] = set()
    right: set[str] = set()
    for surface in surfaces:
        start = surface.find(gram)
        while start >= 0:
            left.add(surface[start - 1] if start else "^")
            end = start + len(gram)
            right.add(surface[end] if end < len(surface) else "$")
            start = surface.find(gram, start + 1)
    return len(left) >= 2 and len(right) >= 2


def _ranked_candidates(
    documents: Sequence[Names], min_count: int
) -> tuple[list[str], list[tuple[int, str]], list[str]]:
    """(key terms, one spoken name per document, every name and alias), each ranked."""
    by_doc = [[c for c in (_compact(s) for s in d.surfaces) if len(c) >= 2] for d in documents]
    surfaces = sorted({s for names in by_doc for s in names})
    coverage: dict[str, int] = {}

    def cover(term: str) -> int:
        if term not in coverage:
            coverage[term] = sum(term in s for s in surfaces)
        return coverage[term]

    grams = [
        g
        for g in frequent_terms(surfaces, min_count=min_count, sizes=(3, 4, 5))
        if _CJK.fullmatch(g[0]) and cover(g) >= min_count and _is_word(g, surfaces)
    ]
    # 养老保 and 老保险 are pieces of 养老保险: keep the longest gram of a group that always occurs together.
    closed = [g for g in grams if not any(g != h and g in h and cover(h) == cover(g) for h in grams)]
    key_terms = sorted(closed, key=lambda g: (-cover(g), -len(g), g))

    by_code = {str(i): names for i, names in enumerate(by_doc) if names}
    shorts = dict(short_names(by_code))
    spoken: list[tuple[int, str]] = []
    for code, names in by_code.items():
        # What people call it: the official name without its action word if that is short (高龄津贴), a short official
        # name (食品经营许可), else its shortest alias (居民医保 rather than 城乡居民基本医疗保险参保).
        aliases = sorted((a for a in names[1:] if len(a) >= 3), key=lambda a: (len(a), a))
        short = shorts.get(code, "")
        if 0 < len(short) <= 5:
            choice = short
        elif len(names[0]) <= 6:
            choice = names[0]
        else:
            choice = aliases[0] if aliases else short or names[0]
        spoken.append((int(code), choice))
    spoken.sort(key=lambda entry: (len(entry[1]), entry[0]))  # short names first: more documents fit the budget

    rest = sorted(set(surfaces), key=lambda s: (-cover(s), len(s), s))
    return key_terms, spoken, rest


def select_hotwords(
    documents: Iterable[Names],
    *,
    budget: int = DEFAULT_BUDGET,
    count_tokens: Callable[[str], int] = estimate_tokens,
    min_count: int = 3,
) -> list[str]:
    """Hotwords for ``documents``, most useful first, whose joined text costs at most ``budget`` tokens.

    Args:
        documents: the names and aliases of each document of the knowledge base.
        budget: the most tokens the joined hotwords (``SEPARATOR.join(result)``) may take.
        count_tokens: counts the tokens of a text; :func:`estimate_tokens` by default.
        min_count: how many names and aliases a key term must occur in.
    """
    documents = list(documents)
    key_terms, spoken, rest = _ranked_candidates(documents, min_count)
    chosen: list[str] = []

    def offer(word: str) -> None:
        if any(word in c or c in word for c in chosen):
            return
        if count_tokens(SEPARATOR.join([*chosen, word])) <= budget:
            chosen.append(word)

    # Terms shared by many names first, then a name for every document still uncovered, then the rest.
    common = [t for t in key_terms if sum(t in s for d in documents for s in d.surfaces) >= 2 * min_count]
    for term in common:
        offer(term)
    for index, word in spoken:
        if not any(c in _compact(s) for c in chosen for s in documents[index].surfaces):
            offer(word)
    for word in key_terms + rest:
        offer(word)
    return chosen


def corpus_names(kb_dir: Path) -> list[Names]:
    """Names and aliases of every item and bundle (一件事) of the knowledge base in ``kb_dir``."""
    from knowledge.corpus import load_corpus

    # Policies are left out: their titles are long (示例市…管理办法) and people ask about them by the item's words.
    return [Names(d.name, tuple(d.aliases)) for d in load_corpus(kb_dir).guides]


@lru_cache(maxsize=8)
def _hotwords_for(kb_dir: Path, digest: str, budget: int, counter: Callable[[str], int] | None) -> str:
    del digest  # part of the cache key only: a changed knowledge base gets new hotwords
    words = select_hotwords(corpus_names(kb_dir), budget=budget, count_tokens=counter or estimate_tokens)
    return SEPARATOR.join(words)


def hotwords(settings: Settings, count_tokens: Callable[[str], int] | None = None) -> str:
    """The hotwords of the configured knowledge base as one string (empty when hotwords are switched off).

    Cached per knowledge base and content (the files' names, sizes and modification times), so a changed knowledge
    base is read again.
    """
    if not settings.asr_hotwords:
        return ""
    kb_dir = settings.knowledge_dir
    stamp = ",".join(
        f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(kb_dir.rglob("*")) if p.is_file()
    )
    return _hotwords_for(kb_dir, stamp, settings.asr_hotword_tokens, count_tokens)
