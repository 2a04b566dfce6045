from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from index.errors import CorpusError
from index.loading import load_corpus
from index.settings import BUNDLED_CORPUS

STORY = "The council met on Tuesday. It agreed to fund the new bridge. Work starts in May."


def test_bundled_corpus_metadata() -> None:
    articles = {a.id[:3]: a for a in load_corpus(BUNDLED_CORPUS).articles}
    assert (articles["000"].outlet, articles["000"].date) == ("DW", dt.date(2014, 12, 29))
    assert articles["000"].title == "Taliban declare 'defeat' of NATO"
    assert (articles["001"].outlet, articles["001"].date) == ("RFE/RL", dt.date(2020, 10, 21))
    assert articles["002"].title == "NATO allies to begin withdrawal from Afghanistan"
    # Headline and dateline are metadata, not story text.
    assert not articles["002"].text.startswith("NATO allies to begin")
    assert "April 14, 2021" not in articles["002"].text[:40]


def test_title_and_date_inferred_from_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Skip to content\n\nCity Opens Bridge\n\nMarch 3, 2019\n\n" + STORY)
    (article,) = load_corpus(tmp_path).articles
    assert article.title == "City Opens Bridge"
    assert article.date == dt.date(2019, 3, 3)
    assert article.text == STORY


def test_front_matter_jsonl_and_html(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(f"---\nid: bridge\ntitle: Bridge\noutlet: Gazette\ndate: 2020-01-02\n---\n{STORY}")
    rows = [
        {"id": "j1", "title": "One", "text": "Jets landed in Oslo. " * 3, "date": "2021-05-06", "outlet": "X"},
        {"id": "j2", "title": "Two", "text": "Rain fell in Bergen all day. " * 3, "url": "https://x/2"},
    ]
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    html = (
        "<html><head><title>Harbour Reopens</title></head><body><nav>Home | World</nav><article>"
        "<h1>Harbour Reopens</h1><p>The harbour of Tromso reopened on Friday after a long repair of "
        "its quays, the port authority said.</p><p>Ships had waited for three weeks to unload fish "
        "and timber at the northern port.</p></article></body></html>"
    )
    (tmp_path / "c.html").write_text(html)
    articles = {a.id: a for a in load_corpus(tmp_path).articles}
    assert articles["bridge"].outlet == "Gazette" and articles["bridge"].date == dt.date(2020, 1, 2)
    assert articles["j1"].date == dt.date(2021, 5, 6) and articles["j2"].url == "https://x/2"
    assert "Tromso reopened" in articles["c"].text and "Home | World" not in articles["c"].text


def test_bad_files_are_skipped_with_a_warning_and_the_rest_loads(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(STORY)
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02abc")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 opens in the town square today.".encode("latin-1"))
    (tmp_path / "badmeta.md").write_text("---\ntitle: [unclosed\n---\n" + STORY + " More.")
    (tmp_path / "lines.jsonl").write_text('{"text": 5}\nnot json\n{"id": "ok", "text": "Snow fell in Tromso today."}\n')
    result = load_corpus(tmp_path)
    # A Latin-1 file is read (by detection) with a warning naming the encoding; it is not lost.
    assert sorted(a.id for a in result.articles) == ["good", "latin1", "ok"]
    assert {a.id: a.text for a in result.articles}["latin1"] == "Caf\u00e9 opens in the town square today."
    joined = "\n".join(result.warnings)
    for name in ("empty.txt", "binary.txt", "badmeta.md", "lines.jsonl:1", "lines.jsonl:2"):
        assert f"skipped {name}" in joined
    assert "latin1.txt: not UTF-8, read as windows-1252" in joined
    assert all("\n" not in w for w in result.warnings)


def test_duplicate_text_is_indexed_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(STORY)
    (tmp_path / "b.txt").write_text(STORY + "\n")
    result = load_corpus(tmp_path)
    assert [a.id for a in result.articles] == ["a"]
    assert any("b.txt" in w and "same text" in w for w in result.warnings)


def test_missing_file_and_empty_corpus_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")
    (tmp_path / "file.txt").write_text(STORY)
    with pytest.raises(CorpusError, match="is a file"):
        load_corpus(tmp_path / "file.txt")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="no readable article"):
        load_corpus(empty)
