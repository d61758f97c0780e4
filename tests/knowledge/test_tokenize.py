from __future__ import annotations

from knowledge.tokenize import Tokenizer, char_bigrams


def test_char_bigrams() -> None:
    assert char_bigrams("社保卡") == ["社保", "保卡"]
    assert char_bigrams("我 a 卡") == ["我", "卡"]  # lone characters stay unigrams


def test_domain_words_stay_whole_and_stopwords_go() -> None:
    plain = Tokenizer()
    domain = Tokenizer(["城乡居民基本养老保险参保登记"])
    assert "城乡居民基本养老保险参保登记" in domain.words("我想办城乡居民基本养老保险参保登记")
    assert "城乡居民基本养老保险参保登记" not in plain.words("我想办城乡居民基本养老保险参保登记")
    assert "的" not in plain.words("我的社保卡")


def test_terms_are_words_then_bigrams() -> None:
    terms = Tokenizer(["社保卡"]).terms("社保卡补办")
    assert "社保卡" in terms[:3]
    assert terms[-4:] == ["社保", "保卡", "卡补", "补办"]


def test_long_domain_words_also_yield_their_parts() -> None:
    words = Tokenizer(["居住证申领"]).words("居住证申领要多久")
    assert "居住证申领" in words and "居住证" in words
