"""`newsdesk add FILE... | URL...` and `newsdesk sources --json`, run in process on the fake embedder
(``fake_model``, tests/conftest.py); URLs are fetched from a local HTTP server."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from index.errors import CorpusError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "articles"
BARE_PAGE = (
    b"<html><head><title>Harbour reopens after repairs</title></head><body><article><h1>Harbour reopens after "
    b"repairs</h1><p>The harbour of Tromso reopened on Friday after a month-long repair of its quays, the port "
    b"authority said.</p><p>Ships had waited three weeks to unload fish and timber at the northern port, and "
    b"the authority said the quays would now last another forty years.</p></article></body></html>"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "ledger.html").write_bytes((FIXTURES / "html" / "daily-ledger-gannett.html").read_bytes())
    (site / "bare.html").write_bytes(BARE_PAGE)
    (site / "data.json").write_text("{}")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def newsdesk(*args: str, corpus: Path, index: Path) -> tuple[int, str, str, BaseException | None]:
    result = CliRunner().invoke(app, [*args, "--corpus", str(corpus), "--index-dir", str(index)])
    return result.exit_code, result.stdout, result.stderr, result.exception


def test_add_fetches_urls_and_copies_files_then_sources_json_lists_them(
    tmp_path: Path, server: str, fake_model: object
) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    wire = FIXTURES / "wire" / "reuters-opec-output.txt"
    code, out, err, exc = newsdesk(
        "add", f"{server}/ledger.html", f"{server}/bare.html", str(wire), corpus=corpus, index=index
    )
    assert code == 0, (err, exc)
    assert "Egg prices hit record as bird flu spreads to 47 states" in out
    assert "OPEC FEBRUARY OUTPUT ABOVE CEILING, SURVEY SHOWS" in out
    assert len(list(corpus.glob("*.html"))) == 2 and (corpus / wire.name).is_file()

    code, out, err, exc = newsdesk("sources", "--json", corpus=corpus, index=index)
    assert code == 0, (err, exc)
    rows = {row["title"]: row for row in json.loads(out)}
    ledger = rows["Egg prices hit record as bird flu spreads to 47 states"]
    assert set(ledger) >= {"id", "title", "date", "outlet", "url", "chunks"}
    assert (ledger["date"], ledger["outlet"]) == ("2023-01-12", "The Daily Ledger")
    # The page's own address (JSON-LD url) wins over the address it was fetched from...
    assert ledger["url"].startswith("https://www.dailyledger.example/story/money/food/2023/01/12/")
    # ...and a page that does not say its address is cited by the one it came from.
    assert rows["Harbour reopens after repairs"]["url"] == f"{server}/bare.html"
    assert all(row["chunks"] >= 1 for row in rows.values())
    assert rows["OPEC FEBRUARY OUTPUT ABOVE CEILING, SURVEY SHOWS"]["date"] is None

    # Adding the same file again changes nothing.
    code, out, err, exc = newsdesk("add", str(wire), corpus=corpus, index=index)
    assert code == 0 and len(list(corpus.iterdir())) == 3


@pytest.mark.parametrize(
    ("path", "message"), [("missing.html", "the server answered 404"), ("data.json", "is not a web page")]
)
def test_add_refuses_what_it_cannot_fetch_and_adds_nothing(
    tmp_path: Path, server: str, path: str, message: str
) -> None:
    corpus = tmp_path / "corpus"
    good = FIXTURES / "text" / "no-headline-council.txt"
    code, _, _, exc = newsdesk("add", str(good), f"{server}/{path}", corpus=corpus, index=tmp_path / "index")
    assert isinstance(exc, CorpusError) and message in str(exc)
    assert not (corpus / good.name).exists()


def test_add_refuses_unsupported_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    for item, message in ((tmp_path / "notes.pdf", "unsupported file type"), (tmp_path / "nope.txt", "not a file")):
        _, _, _, exc = newsdesk("add", str(item), corpus=tmp_path / "corpus", index=tmp_path / "index")
        assert isinstance(exc, CorpusError) and message in str(exc)
