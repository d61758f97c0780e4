"""The government word list for jieba, generated from the knowledge base, shared by search and by Rasa's tokenizer.

Rasa's JiebaTokenizer reads every file in ``assistant/dictionary/`` (config.yml: ``dictionary_path``); the file is part of the
Rasa model's fingerprint, so a knowledge base with new names retrains the NLU on the next `zhiban run`. The file is generated
(`zhiban kb build`, `zhiban run`); do not edit it by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.settings import PROJECT_ROOT
from knowledge.corpus import Corpus
from knowledge.index import domain_words

#: The file Rasa's JiebaTokenizer loads (it is committed for the bundled knowledge base).
DICTIONARY_FILE = PROJECT_ROOT / "assistant" / "dictionary" / "government.txt"
#: Names and aliases per document for nlu.components.GovEntityExtractor (service_item mentions).
NAMES_FILE = PROJECT_ROOT / "assistant" / "entities" / "service_items.json"


def jieba_dictionary(corpus: Corpus) -> str:
    """jieba user-dictionary text: one ``word frequency`` per line, longer words more frequent so they stay whole."""
    # No comment line: jieba would read it as a word, and Rasa loads every file in the directory as a dictionary.
    lines = [f"{word} {max(2000, 200 * len(word))}" for word in domain_words(corpus) if " " not in word]
    return "\n".join(lines) + "\n"


def item_names(corpus: Corpus) -> str:
    """JSON {code: [official name, alias, …]} of the items and bundles, for the NLU's service_item extractor."""
    names = {doc.code: [doc.name, *doc.aliases] for doc in corpus.guides}
    return json.dumps(names, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def write_dictionary(corpus: Corpus, path: Path = DICTIONARY_FILE, names_path: Path = NAMES_FILE) -> bool:
    """Write the jieba dictionary and the item names if their content changed; returns whether either did."""
    changed = _write_if_changed(path, jieba_dictionary(corpus))
    return _write_if_changed(names_path, item_names(corpus)) or changed
