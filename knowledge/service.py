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


IndexStamp = tuple[int, int, int]

#: per (knowledge base, embedder, index root): the searcher and the stamp of the index files it was loaded from
_searchers: dict[tuple[str, str, str], tuple[Searcher, IndexStamp | None]] = {}
_lock = threading.Lock()


def index_stamp(directory: Path) -> IndexStamp | None:
    """What identifies the index saved in ``directory`` now: its manifest's inode, size and modification time.

    A rebuild writes a new directory and swaps it in, so any rebuild — by this process, another gateway worker, the action
    server or `zhiban kb build` — changes the stamp. One ``stat`` call: cheap enough for every search. None while there
    is no index (or during the swap).
    """
    try:
        info = (directory / "manifest.json").stat()
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def get_searcher(settings: Settings, kb_dir: Path | None = None, *, build: bool = True) -> Searcher:
    """The process's shared searcher for ``kb_dir``, loaded on first use and reloaded when the index on disk changed.

    Every call compares the index's :func:`index_stamp` with the one the searcher was loaded from, so a rebuild made by
    any process (the admin page's rebuild in the gateway, `zhiban kb build`) reaches the action server and every gateway
    worker at their next search, without a restart. If the changed index cannot be loaded (e.g. half-written, or built
    for a knowledge base that has changed again since), the old searcher keeps answering and the failure is logged.

    With ``build=False`` (servers) a missing or stale index raises instead of being built inside a request:
    `zhiban run` and `zhiban kb build` build it.

    Raises:
        IndexError_: (build=False) the index is missing or does not match the corpus and embedder, and no earlier
            searcher is loaded.
    """
    kb = kb_dir or settings.knowledge_dir
    key = (str(kb.resolve()), settings.embedder, str(settings.index_root))
    directory = index_dir_for(settings, kb)
    stamp = index_stamp(directory)
    with _lock:
        cached = _searchers.get(key)
        if cached is not None and (stamp is None or stamp == cached[1]):
            return cached[0]
        try:
            if build:
                index, _ = ensure_index(settings, kb)
                stamp = index_stamp(directory)
            else:
                index = KnowledgeIndex.load(directory, load_corpus(kb), settings.embedder)
        except Exception as exc:
            if cached is None:
                raise
            log.warning(
                "knowledge index in %s changed but could not be loaded; still using the old one: %s", directory, exc
            )
            _searchers[key] = (cached[0], stamp)  # do not retry on every search; the next rebuild changes the stamp
            return cached[0]
        embedder = cached[0].embedder if cached is not None else make_embedder(settings.embedder)  # keeps its model
        searcher = Searcher(index, embedder)
        _searchers[key] = (searcher, stamp)
        if cached is not None:
            log.info("knowledge index reloaded from %s (%d passages)", directory, len(index.passages))
        return searcher


def reset_searchers() -> None:
    """Forget loaded searchers (after a rebuild or an import)."""
    with _lock:
        _searchers.clear()
