"""The search index of one knowledge base: passages, BM25 (bm25s) and dense vectors (FAISS), with a manifest.

Exception tree::

    IndexError_                    base
    ├── IndexMissing               no index has been built in the directory
    └── IndexMismatch              the index was built from another corpus, embedder or format

Building re-embeds only passages whose content changed since the previous build in the same directory. Loading refuses an
index whose manifest does not match the configured embedder and the current corpus, with a message saying what to run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from knowledge.corpus import Corpus
from knowledge.embedders import Embedder, Vectors
from knowledge.passages import Passage, build_passages
from knowledge.tokenize import Tokenizer

FORMAT_VERSION = 2


def analysis_version() -> str:
    """Digest of the code that turns the corpus into index entries (passages, tokens): a change there makes every
    existing index stale, even when the corpus did not change."""
    digest = hashlib.sha256()
    for module in ("passages.py", "tokenize.py", "index.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()[:16]


#: Above this many passages the dense index is approximate (HNSW) instead of exact.
HNSW_THRESHOLD = 50_000


class IndexError_(RuntimeError):
    """The knowledge index cannot be used."""


class IndexMissing(IndexError_):
    pass


class IndexMismatch(IndexError_):
    pass


@dataclass(frozen=True)
class Manifest:
    format_version: int
    embedder: str
    dimension: int
    corpus_digest: str
    passages: int
    dense_index: str  # "flat" or "hnsw"
    built_at: str
    analysis: str = ""
    reused_embeddings: int = 0


def domain_words(corpus: Corpus) -> list[str]:
    """Words jieba must keep whole: item names, aliases, material names, policy titles (also fed to Rasa's tokenizer)."""
    words: set[str] = set()
    for doc in corpus.guides:
        words.add(doc.name)
        words.update(doc.aliases)
        words.update(m.name for m in doc.materials)
    for policy in corpus.policies:
        words.add(policy.title)
        words.update(policy.aliases)
    return sorted(w for w in words if 2 <= len(w) <= 20)


def _dense_index(vectors: Vectors) -> tuple[faiss.Index, str]:
    dimension = vectors.shape[1]
    index: faiss.Index
    if len(vectors) > HNSW_THRESHOLD:
        index = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
        kind = "hnsw"
    else:
        index = faiss.IndexFlatIP(dimension)
        kind = "flat"
    index.add(vectors)
    return index, kind


class KnowledgeIndex:
    """Everything search needs, in memory."""

    def __init__(
        self,
        corpus: Corpus,
        passages: list[Passage],
        tokenizer: Tokenizer,
        bm25: bm25s.BM25,
        vectors: Vectors,
        dense: faiss.Index,
        manifest: Manifest,
    ) -> None:
        self.corpus = corpus
        self.passages = passages
        self.tokenizer = tokenizer
        self.bm25 = bm25
        self.vectors = vectors
        self.dense = dense
        self.manifest = manifest
        self.by_pid = {p.pid: i for i, p in enumerate(passages)}

    # ------------------------------------------------------------------ build
    @classmethod
    def build(cls, corpus: Corpus, embedder: Embedder, previous: Path | None = None) -> KnowledgeIndex:
        """Index ``corpus``; embeddings of unchanged passages are taken from the index in ``previous`` if compatible."""
        passages = build_passages(corpus)
        tokenizer = Tokenizer(domain_words(corpus))
        bm25 = bm25s.BM25()
        bm25.index([tokenizer.terms(f"{p.doc_name} {p.text}") for p in passages], show_progress=False)

        cached = _cached_vectors(previous, embedder) if previous else {}
        texts = [f"{p.doc_name}：{p.text}" for p in passages]
        missing = [i for i, p in enumerate(passages) if p.digest not in cached]
        fresh = (
            embedder.embed([texts[i] for i in missing]) if missing else np.zeros((0, embedder.dimension), np.float32)
        )
        vectors = np.zeros((len(passages), embedder.dimension), dtype=np.float32)
        for row, i in enumerate(missing):
            vectors[i] = fresh[row]
        for i, passage in enumerate(passages):
            if passage.digest in cached:
                vectors[i] = cached[passage.digest]
        dense, kind = _dense_index(vectors)
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            embedder=embedder.name,
            dimension=embedder.dimension,
            corpus_digest=corpus.digest,
            passages=len(passages),
            dense_index=kind,
            built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            reused_embeddings=len(passages) - len(missing),
            analysis=analysis_version(),
        )
        return cls(corpus, passages, tokenizer, bm25, vectors, dense, manifest)

    # ------------------------------------------------------------------ save / load
    def save(self, directory: Path) -> None:
        """Write the index atomically: a reader sees the old index or the new one, never a mix."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
        try:
            self.bm25.save(str(staging / "bm25"), show_progress=False)
            np.save(staging / "vectors.npy", self.vectors)
            np.save(staging / "digests.npy", np.array([p.digest for p in self.passages]))
            faiss.write_index(self.dense, str(staging / "dense.faiss"))
            (staging / "manifest.json").write_text(json.dumps(asdict(self.manifest), indent=2), encoding="utf-8")
            old = directory.with_name(f".{directory.name}.old")
            if directory.exists():
                shutil.rmtree(old, ignore_errors=True)
                os.replace(directory, old)
            os.replace(staging, directory)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path, corpus: Corpus, embedder_name: str) -> KnowledgeIndex:
        """Load the index in ``directory`` for ``corpus``.

        Raises:
            IndexMissing: nothing was built there.
            IndexMismatch: built from another corpus, embedder or format; the message says what to run.
        """
        manifest = read_manifest(directory)
        check_manifest(manifest, corpus, embedder_name)
        passages = build_passages(corpus)
        if len(passages) != manifest.passages:
            raise IndexMismatch(f"index in {directory} has {manifest.passages} passages, corpus gives {len(passages)}")
        bm25 = bm25s.BM25.load(str(directory / "bm25"), show_progress=False, mmap=False)
        vectors = np.load(directory / "vectors.npy", mmap_mode="r")
        dense = faiss.read_index(str(directory / "dense.faiss"))
        return cls(corpus, passages, Tokenizer(domain_words(corpus)), bm25, vectors, dense, manifest)


def read_manifest(directory: Path) -> Manifest:
    path = directory / "manifest.json"
    if not path.exists():
        raise IndexMissing(f"no knowledge index in {directory}; run `zhiban kb build`")
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(**data)
    except (ValueError, TypeError) as exc:
        raise IndexMismatch(f"unreadable manifest {path}: {exc}; run `zhiban kb build`") from exc


def check_manifest(manifest: Manifest, corpus: Corpus, embedder_name: str) -> None:
    """Raise :class:`IndexMismatch` unless the manifest fits the corpus and the embedder."""
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatch(f"index format {manifest.format_version} is not {FORMAT_VERSION}; run `zhiban kb build`")
    if manifest.analysis != analysis_version():
        raise IndexMismatch("the indexing code changed since the index was built; run `zhiban kb build`")
    if manifest.embedder != embedder_name:
        raise IndexMismatch(
            f"index was built with embedder {manifest.embedder!r} but {embedder_name!r} is configured "
            "(ZHIBAN_EMBEDDER); run `zhiban kb build`"
        )
    if manifest.corpus_digest != corpus.digest:
        raise IndexMismatch("the knowledge base changed since the index was built; run `zhiban kb build`")


def _cached_vectors(directory: Path, embedder: Embedder) -> dict[str, Vectors]:
    """Embeddings by passage digest from a compatible earlier build (empty if none)."""
    try:
        manifest = read_manifest(directory)
    except IndexError_:
        return {}
    if manifest.embedder != embedder.name or manifest.dimension != embedder.dimension:
        return {}
    try:
        digests = np.load(directory / "digests.npy")
        vectors = np.load(directory / "vectors.npy")
    except (OSError, ValueError):
        return {}
    return {str(d): vectors[i] for i, d in enumerate(digests)}
