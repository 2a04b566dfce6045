"""BM25 tokens: the tokenizer's word cache gives exactly the tokens of stemming every word again."""

from __future__ import annotations

import pytest

from index import lexical
from index.lexical import STOPWORDS, LexicalConfig, tokenize
from index.loading import load_corpus
from index.settings import BUNDLED_CORPUS
from tests.conftest import NEWS_DIR

EDGES = [
    "3,200 troops, 2.5% and 1,000,000.", "U.S. don't won't s t", "Ünïcödé façade naïve café", "I a 5 , ,5 5,", "",
    # Non-ASCII that lower-cases to ASCII (the Kelvin sign to "k"), and the other way ("İ" to "i" + a combining dot).
    "300 \u212aM of road", "İstanbul 2,5 snake_case x1.5 1.5x ١٢٣ digits",
]  # fmt: skip


def uncached(text: str, config: LexicalConfig) -> list[str]:
    """The tokenizer as it was before the cache: every word through the whole pipeline."""
    words = [w.replace(",", "") for w in lexical._TOKEN.findall(text.lower())]
    if config.drop_stopwords:
        words = [w for w in words if w not in STOPWORDS]
    if config.stem and words:
        words = list(lexical._stemmer().stemWords(words))
    return words


def texts() -> list[str]:
    articles = [*load_corpus(NEWS_DIR).articles, *load_corpus(BUNDLED_CORPUS).articles]
    return [t for a in articles for t in (a.title, a.text, *a.text.split(". "))] + EDGES


CONFIGS = [LexicalConfig(), LexicalConfig(stem=False), LexicalConfig(drop_stopwords=False)]


def test_cached_tokens_are_the_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cold and warm, each kind of tokenising in turn on the same texts (a word's token depends on the kind)."""
    monkeypatch.setattr(lexical, "_TOKENS", {})
    for _ in ("cold", "warm"):
        for text in texts():
            for config in CONFIGS:
                assert tokenize(text, config) == uncached(text, config), (config, text[:80])


def test_the_word_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexical, "_TOKENS", {})
    monkeypatch.setattr(lexical, "TOKEN_CACHE", 50)
    for text in texts():
        assert tokenize(text) == uncached(text, LexicalConfig())
        assert all(len(known) <= 50 for known in lexical._TOKENS.values())


def test_ascii_texts_are_read_by_the_plain_pattern_into_the_same_words() -> None:
    """The ASCII pattern (lexical._words) finds exactly the Unicode pattern's words, and both kinds of text occur."""
    lowered = [t.lower() for t in texts()]
    assert any(t.isascii() for t in lowered) and any(not t.isascii() for t in lowered)
    for text in lowered:
        assert lexical._words(text) == lexical._TOKEN.findall(text), text[:80]


def test_never_uses_is_true_only_when_a_term_is_in_no_text() -> None:
    index = lexical.LexicalIndex.build(["The ferry sailed to Bergen.", "Growers picked apples in the valley."])
    assert index.never_uses("Oslo") and index.never_uses("Bergen harbour")  # "harbour" is in neither
    assert not index.never_uses("Bergen") and not index.never_uses("sailing ferries")  # stems: sail, ferri
    assert not index.never_uses("Bergen apples")  # each term in some text, not necessarily the same one
    assert not index.never_uses("the of")  # stop words only: no term to miss
    assert lexical.LexicalIndex.build(["the of"]).never_uses("Bergen")  # an index without terms holds none
