"""Where a knowledge base's index lives, building it when the corpus changed, and the shared searcher per process."""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from assistant.settings import Settings
from knowledge.corpus import load_corpus
from knowledge.dictionary import write_dictionary
from knowledge.embedders import make_embedder
from knowledge.index import IndexError_, KnowledgeIndex
from knowledge.search import Searcher

log = logging.getLogger(__name__)


def index_dir_for(settings: Settings, kb_dir: Path | None = None) -> Path:
    """Each knowledge-base directory gets its own index directory, so several can coexist."""
    kb = (kb_dir or settings.knowledge_dir).resolve()
    tag = hashlib.sha256(str(kb).encode()).hexdigest()[:8]
    return settings.index_root / f"{kb.name}-{tag}"


def ensure_index(
    settings: Settings, kb_dir: Path | None = None, *, force: bool = False, update_nlu: bool = False
) -> tuple[KnowledgeIndex, bool]:
    """Load the index of ``kb_dir``, building (and saving) it first if it is missing or stale.

    Returns the index and whether it was (re)built. Unchanged passages keep their embeddings. With ``update_nlu`` and
    ``kb_dir`` being the assistant's own knowledge base, the NLU's word list and item names are regenerated too
    (`zhiban run` and `zhiban kb build` do this; they are part of the Rasa model).

    Raises:
        CorpusError: the knowledge base has problems (nothing is built from a broken corpus).
        EmbedderError: the configured embedder cannot be loaded.
    """
    kb = kb_dir or settings.knowledge_dir
    corpus = load_corpus(kb)
    if update_nlu and kb.resolve() == settings.knowledge_dir.resolve():
        write_dictionary(corpus)
    directory = index_dir_for(settings, kb)
    embedder = make_embedder(settings.embedder)
    if not force:
        try:
            return KnowledgeIndex.load(directory, corpus, embedder.name), False
        except IndexError_ as exc:
            log.info("building the knowledge index: %s", exc)
    index = KnowledgeIndex.build(corpus, embedder, previous=directory)
    index.save(directory)
    return index, True


_searchers: dict[tuple[str, str, str], Searcher] = {}
_lock = threading.Lock()


def get_searcher(settings: Settings, kb_dir: Path | None = None, *, build: bool = True) -> Searcher:
    """The process's shared searcher for ``kb_dir``, loaded on first use and reused afterwards.

    With ``build=False`` (servers) a missing or stale index raises instead of being built inside a request:
    `zhiban run` and `zhiban kb build` build it.

    Raises:
        IndexError_: (build=False) the index is missing or does not match the corpus and embedder.
    """
    kb = kb_dir or settings.knowledge_dir
    key = (str(kb.resolve()), settings.embedder, str(settings.index_root))
    with _lock:
        if key not in _searchers:
            if build:
                index, _ = ensure_index(settings, kb)
            else:
                index = KnowledgeIndex.load(index_dir_for(settings, kb), load_corpus(kb), settings.embedder)
            _searchers[key] = Searcher(index, make_embedder(settings.embedder))
        return _searchers[key]


def reset_searchers() -> None:
    """Forget loaded searchers (after a rebuild or an import)."""
    with _lock:
        _searchers.clear()
