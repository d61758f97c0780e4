"""The Rasa components with Rasa's LocalModelStorage: train, persist, load, process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import ChineseTokenizer, GovEntityExtractor, normalize_same_length


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "model").mkdir()
    return LocalModelStorage(tmp_path / "model")


@pytest.fixture
def context() -> ExecutionContext:
    return ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]


def test_extractor_stores_names_in_the_model_and_finds_items(tmp_path: Path, storage, context) -> None:
    names = tmp_path / "names.json"
    names.write_text(json.dumps({"P02": ["社会保障卡补领换领", "社保卡补办"]}, ensure_ascii=False), encoding="utf-8")
    config = {**GovEntityExtractor.get_default_config(), "service_items_path": str(names)}
    resource = Resource("extractor")
    GovEntityExtractor.create(config, storage, resource, context).train(TrainingData())
    names.unlink()  # a trained model needs nothing outside itself
    loaded = GovEntityExtractor.load(config, storage, resource, context)
    message = Message(data={TEXT: "社宝卡补办要带什么，我电话13812345678"})
    loaded.process([message])
    values = {(e["entity"], e["value"]) for e in message.get(ENTITIES)}
    assert {("service_item", "P02"), ("phone", "13812345678"), ("aspect", "materials")} <= values


def test_button_payloads_are_left_alone(storage, context) -> None:
    extractor = GovEntityExtractor.create(GovEntityExtractor.get_default_config(), storage, Resource("x"), context)
    message = Message(data={TEXT: '/ask_service{"service_item": "P01"}'})
    extractor.process([message])
    assert not message.get(ENTITIES)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("社保卡 补办", ["社保卡", "补办"]),  # no whitespace tokens (Rasa issue #7910)
        ("身份證補辦", ["身份证", "补办"]),  # traditional characters tokenised as simplified
        ("ＡＢＣ１２３", ["ABC123"]),  # full-width letters and digits
    ],
)
def test_tokenizer(tmp_path: Path, storage, context, text: str, tokens: list[str]) -> None:
    dictionary = tmp_path / "dict"
    dictionary.mkdir()
    (dictionary / "words.txt").write_text("社保卡 5000\n身份证 5000\n", encoding="utf-8")
    config = {**ChineseTokenizer.get_default_config(), "dictionary_path": str(dictionary)}
    tokenizer = ChineseTokenizer.create(config, storage, Resource("tok"), context)
    message = Message(data={TEXT: text})
    found = tokenizer.tokenize(message, TEXT)
    assert [t.text for t in found] == tokens
    for token in found:  # offsets still point into the original text
        assert len(text[token.start : token.end]) == len(token.text)


def test_normalisation_never_moves_characters() -> None:
    for text in ["㎡面积", "１２３", "後來", "abc"]:
        assert len(normalize_same_length(text)) == len(text)


def test_sentence_features_on_every_message_including_button_payloads(storage, context) -> None:
    from nlu.components import USESentenceFeaturizer

    featurizer = USESentenceFeaturizer.create(
        {**USESentenceFeaturizer.get_default_config(), "alias": "use"}, storage, Resource("use"), context
    )
    messages = [Message(data={TEXT: "社保卡丢了怎么补办"}), Message(data={TEXT: '/ask_service{"service_item": "P01"}'})]
    featurizer.process(messages)
    for message in messages:
        _, sentence = message.get_dense_features(TEXT, ["use"])
        assert sentence is not None and sentence.features.shape == (1, 512)
