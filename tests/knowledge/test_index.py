"""Index build, save, load and refusal, with a deterministic embedder (no model needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.corpus import load_corpus
from knowledge.index import IndexMismatch, IndexMissing, KnowledgeIndex, domain_words, read_manifest
from tests.utils.knowledge import HashEmbedder


def test_build_save_load_round_trip(kb_copy: Path, tmp_path: Path) -> None:
    corpus = load_corpus(kb_copy)
    embedder = HashEmbedder()
    built = KnowledgeIndex.build(corpus, embedder)
    built.save(tmp_path / "index")
    loaded = KnowledgeIndex.load(tmp_path / "index", corpus, "hash")
    assert [p.pid for p in loaded.passages] == [p.pid for p in built.passages]
    assert loaded.manifest == built.manifest
    assert loaded.dense.ntotal == len(built.passages)
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["embedder"] == "hash" and manifest["dimension"] == 16 and manifest["dense_index"] == "flat"
    assert manifest["corpus_digest"] == corpus.digest


def test_passages_cite_item_and_section(kb_copy: Path) -> None:
    index = KnowledgeIndex.build(load_corpus(kb_copy), HashEmbedder())
    sections = {(p.doc_code, p.section) for p in index.passages}
    assert {("P01", "materials"), ("P01", "fee"), ("P01", "faq"), ("POL01", "article")} <= sections
    assert len({p.pid for p in index.passages}) == len(index.passages)


def test_missing_index(tmp_path: Path, kb_copy: Path) -> None:
    with pytest.raises(IndexMissing, match="zhiban kb build"):
        KnowledgeIndex.load(tmp_path / "none", load_corpus(kb_copy), "hash")


def test_index_of_another_embedder_is_refused(kb_copy: Path, tmp_path: Path) -> None:
    corpus = load_corpus(kb_copy)
    KnowledgeIndex.build(corpus, HashEmbedder()).save(tmp_path / "index")
    with pytest.raises(IndexMismatch, match="ZHIBAN_EMBEDDER"):
        KnowledgeIndex.load(tmp_path / "index", corpus, "usem3")


def test_index_of_a_changed_corpus_is_refused(kb_copy: Path, tmp_path: Path) -> None:
    KnowledgeIndex.build(load_corpus(kb_copy), HashEmbedder()).save(tmp_path / "index")
    (kb_copy / "items" / "P02.yml").unlink()
    with pytest.raises(IndexMismatch, match="changed"):
        KnowledgeIndex.load(tmp_path / "index", load_corpus(kb_copy), "hash")


def test_unreadable_manifest(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(IndexMismatch, match="unreadable"):
        read_manifest(tmp_path)


def test_rebuild_embeds_only_changed_passages(kb_copy: Path, tmp_path: Path) -> None:
    first = HashEmbedder()
    KnowledgeIndex.build(load_corpus(kb_copy), first).save(tmp_path / "index")
    path = kb_copy / "items" / "P01.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("首次申领不收费", "首次申领免收费用"), encoding="utf-8")
    second = HashEmbedder()
    rebuilt = KnowledgeIndex.build(load_corpus(kb_copy), second, previous=tmp_path / "index")
    assert 0 < second.embedded <= 3  # the fee passage and the FAQ that mentions it
    assert rebuilt.manifest.reused_embeddings == len(rebuilt.passages) - second.embedded
    # another embedder's vectors are never reused
    other = HashEmbedder(name="other")
    KnowledgeIndex.build(load_corpus(kb_copy), other, previous=tmp_path / "index")
    assert other.embedded == len(rebuilt.passages)


def test_save_replaces_atomically(kb_copy: Path, tmp_path: Path) -> None:
    corpus = load_corpus(kb_copy)
    store = tmp_path / "store"
    KnowledgeIndex.build(corpus, HashEmbedder()).save(store / "index")
    KnowledgeIndex.build(corpus, HashEmbedder()).save(store / "index")
    assert [p.name for p in store.iterdir()] == ["index"]  # no staging or old copies left behind


def test_domain_words_feed_the_tokenizer(kb_copy: Path) -> None:
    words = domain_words(load_corpus(kb_copy))
    assert "社会保障卡申领" in words and "高龄津贴申领" in words and "居民身份证" in words


def test_index_from_older_indexing_code_is_refused(kb_copy: Path, tmp_path: Path) -> None:
    corpus = load_corpus(kb_copy)
    KnowledgeIndex.build(corpus, HashEmbedder()).save(tmp_path / "index")
    manifest_path = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["analysis"] = "0" * 16
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="indexing code changed"):
        KnowledgeIndex.load(tmp_path / "index", corpus, "hash")
