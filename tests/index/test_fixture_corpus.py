"""The fixture corpus (tests/fixtures/articles): real-looking files of many kinds, each with the title, date,
outlet and first sentence a reader should see (tests/fixtures/expectations.yaml). Every problem of issue 13's
"Why" list is one of these files; 'before' in the YAML says what the old loader made of it."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from index.loading import CorpusLoad, load_corpus
from index.records import Article
from index.sentences import split_sentences

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = FIXTURES / "articles"
EXPECTATIONS: dict[str, dict[str, Any]] = yaml.safe_load((FIXTURES / "expectations.yaml").read_text(encoding="utf-8"))


@cache
def loaded() -> CorpusLoad:
    return load_corpus(CORPUS)


def article(article_id: str) -> Article:
    found = {a.id: a for a in loaded().articles}
    assert article_id in found, f"{article_id} was not loaded: {loaded().warnings}"
    return found[article_id]


def first_sentence(text: str) -> str:
    span = split_sentences(text)[0]
    return text[span.start : span.end]


def test_the_corpus_has_at_least_30_files_of_every_kind_and_loses_none() -> None:
    files = [p for p in CORPUS.rglob("*") if p.is_file()]
    assert len(files) >= 30
    assert {p.suffix for p in files} == {".html", ".txt", ".md", ".jsonl"}
    assert {a.id for a in loaded().articles} == set(EXPECTATIONS)
    assert not [w for w in loaded().warnings if w.startswith("skipped")]


@pytest.mark.parametrize("article_id", sorted(EXPECTATIONS))
def test_fixture_metadata_and_text(article_id: str) -> None:
    expected = EXPECTATIONS[article_id]
    found = article(article_id)
    assert found.source_path == expected["file"]
    assert found.title == expected["title"]
    assert found.date == (dt.date.fromisoformat(expected["date"]) if expected["date"] else None)
    assert (found.outlet or None) == expected["outlet"]
    assert first_sentence(found.text) == expected["first_sentence"]
    assert found.url == expected.get("url", "")
    assert found.byline == expected.get("byline", "")
    for present in expected.get("in_text", []):
        assert present in found.text
    for absent in expected.get("not_in_text", []):
        assert absent not in found.text, absent
    if "warning" in expected:
        assert any(w.startswith(expected["file"]) and expected["warning"] in w for w in loaded().warnings)


def test_no_title_is_a_dateline_a_newsletter_line_or_markup() -> None:
    for found in loaded().articles:
        assert not found.title.rstrip().endswith(("\u2014", "\u2013", "-")), found.title
        assert "newsletter" not in found.title.lower()
        assert not found.title.startswith(("#", "*", "<")), found.title


def test_hard_wrapped_wire_copy_is_read_as_paragraphs() -> None:
    opec = article("reuters-opec-output")
    paragraphs = opec.text.split("\n\n")
    # Four paragraphs as the wire indented them, not one per typed line; the quote is the whole sentence.
    assert len(paragraphs) == 4
    assert paragraphs[1].startswith("Saudi Arabia, which has been cutting prices")
    assert paragraphs[1].endswith("after the OPEC pact is reviewed in June.")
    assert not opec.text.rstrip().endswith("REUTER")


def test_a_date_in_the_story_never_dates_the_article() -> None:
    # "due March 17, 1992" is a bond's maturity in a 1987 story; "February 28, 2021" is the day a meteorite fell.
    assert article("reuters-bond-maturity").date is None
    assert article("cnn-newsletter-first").date is None
    assert article("reut-9").date == dt.date(1987, 2, 26)  # not "April 1, 1987" from its text
