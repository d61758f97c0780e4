"""Factories for knowledge tests: a small copy of the bundled knowledge base and a model-free embedder."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np

from knowledge.corpus import BUNDLED_KB
from knowledge.embedders import Vectors

SMALL_KB = {"items": ["P01.yml", "P02.yml", "P24.yml"], "policies": ["POL01.yml"]}


def copy_knowledge_base(root: Path, files: dict[str, list[str]] | None = None) -> Path:
    """Copy some files of the bundled knowledge base (default: three items and one policy) into ``root``."""
    for kind, names in (files or SMALL_KB).items():
        (root / kind).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy(BUNDLED_KB / kind / name, root / kind / name)
    shutil.copy(BUNDLED_KB / "city.yml", root / "city.yml")
    return root


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
