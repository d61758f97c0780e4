"""Chinese tokenisation for BM25: jieba words (with the government dictionary) plus character bigrams.

Words carry meaning when jieba cuts well; bigrams keep a match when it does not (an unseen name, a typo that splits a
word differently). Each :class:`Tokenizer` owns its own jieba instance so that dictionaries of several knowledge bases do
not leak into each other, and it initialises jieba lazily (loading its dictionary takes about a second).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

import jieba

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_WORD_OK = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")

#: Function words and question fillers that say nothing about which service is meant.
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "啊",
        "吧",
        "呀",
        "嘛",
        "哦",
        "么",
        "是",
        "在",
        "和",
        "与",
        "及",
        "或",
        "也",
        "都",
        "就",
        "还",
        "又",
        "才",
        "把",
        "被",
        "给",
        "让",
        "对",
        "向",
        "从",
        "到",
        "于",
        "之",
        "其",
        "这",
        "那",
        "这个",
        "那个",
        "我",
        "我们",
        "你",
        "你们",
        "您",
        "他",
        "她",
        "它",
        "他们",
        "自己",
        "请问",
        "一下",
        "一个",
        "有",
        "没有",
        "什么",
        "怎么",
        "怎样",
        "如何",
        "哪些",
        "哪个",
        "能",
        "能不能",
        "可以",
        "可不可以",
        "要",
        "需要",
        "想",
        "想要",
        "应该",
        "得",
        "该",
        "会",
        "吗",
        "呢",
        "请",
        "问",
        "下",
        "个",
        "些",
        "啥",
        "咋",
        "多少",
        "几",
        "吧",
        "呀",
        "嗯",
    ]
)


def char_bigrams(text: str) -> list[str]:
    """Overlapping two-character grams of every run of Chinese characters (a lone character stays a unigram)."""
    grams: list[str] = []
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            grams.append(run)
        else:
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


class Tokenizer:
    """jieba words plus character bigrams, with a dictionary of domain words."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self._user_words = sorted({w.strip() for w in user_words if len(w.strip()) >= 2})
        self._jieba: jieba.Tokenizer | None = None
        self._lock = threading.Lock()

    def _segmenter(self) -> jieba.Tokenizer:
        with self._lock:
            if self._jieba is None:
                jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary loading at DEBUG to stderr
                segmenter = jieba.Tokenizer()
                segmenter.initialize()
                for word in self._user_words:
                    segmenter.add_word(word, freq=max(2000, 200 * len(word)))
                self._jieba = segmenter
            return self._jieba

    def words(self, text: str) -> list[str]:
        """Content words of ``text`` (lower-cased, no punctuation, no stopwords), long words with their parts."""
        return [
            w
            # search mode: a long domain word also yields the words inside it (居住证申领 → 居住证, 申领, 居住证申领)
            for w in (t.strip().lower() for t in self._segmenter().lcut_for_search(text, HMM=True))
            if w and w not in STOPWORDS and _WORD_OK.search(w)
        ]

    def terms(self, text: str) -> list[str]:
        """What BM25 indexes and searches: content words followed by character bigrams."""
        return self.words(text) + [g for g in char_bigrams(text) if g not in STOPWORDS]
