"""The shared searcher follows the index on disk: a rebuild by any process is picked up at the next search, without a
restart (the action server never hears of the admin page's rebuild); a damaged new index leaves the old one answering."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from assistant.settings import Settings
from knowledge import service
from knowledge.index import IndexError_
from knowledge.service import ensure_index, get_searcher, index_dir_for, index_stamp, reset_searchers
from tests.utils.knowledge import HashEmbedder

FAQ = '{"id": "HZ-001", "question": "护照怎么办理", "answer": "携带身份证到出入境接待大厅申请。", "source": "x.csv"}\n'


@pytest.fixture
def kb(kb_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setattr(service, "make_embedder", lambda spec: HashEmbedder(spec, 16))
    ensure_index(kb_settings)
    reset_searchers()
    yield kb_settings
    reset_searchers()


def add_faq(settings: Settings) -> None:
    (settings.knowledge_dir / "faq").mkdir(exist_ok=True)
    (settings.knowledge_dir / "faq" / "x.jsonl").write_text(FAQ, encoding="utf-8")


def test_unchanged_index_gives_the_same_searcher(kb: Settings) -> None:
    assert get_searcher(kb, build=False) is get_searcher(kb, build=False)


def test_changed_knowledge_base_is_used_only_after_its_index_is_rebuilt(kb: Settings) -> None:
    first = get_searcher(kb, build=False)
    add_faq(kb)
    assert get_searcher(kb, build=False) is first  # the corpus changed but the index did not: keep answering from it
    ensure_index(kb, force=True)  # what `zhiban kb build` or the admin page does, in any process
    second = get_searcher(kb, build=False)
    assert second is not first and "HZ-001" in second.documents
    assert second.embedder is first.embedder  # the loaded model is kept
    assert get_searcher(kb, build=False) is second


def test_damaged_new_index_leaves_the_old_one_answering(kb: Settings, caplog: pytest.LogCaptureFixture) -> None:
    first = get_searcher(kb, build=False)
    manifest = index_dir_for(kb) / "manifest.json"
    manifest.write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="knowledge.service"):
        assert get_searcher(kb, build=False) is first
        assert get_searcher(kb, build=False) is first
    assert caplog.text.count("could not be loaded") == 1  # not retried on every search


def test_missing_index_still_raises_when_nothing_is_loaded(settings: Settings, kb_copy: object) -> None:
    unbuilt = settings.model_copy(update={"kb_dir": kb_copy})
    assert index_stamp(index_dir_for(unbuilt)) is None
    with pytest.raises(IndexError_):
        get_searcher(unbuilt, build=False)
