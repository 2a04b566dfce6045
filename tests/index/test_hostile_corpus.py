"""Hostile corpus files: every bad file is skipped with a warning naming it, every good file beside it is
indexed, and no exception escapes the loader (fuzzed with hypothesis, plus the named nasty cases)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.builder import open_index
from index.loading import CorpusLoad, load_corpus

GOOD_NAME = "good.txt"
GOOD_TEXT = (
    "---\nid: good\ntitle: Harbour reopens\noutlet: Gazette\ndate: 2021-06-01\n---\n"
    "The harbour in Bergen reopened on Tuesday after a month of repairs. "
    "Ferries to the islands will run every hour again, the port authority said.\n"
)
GOOD_JSONL_LINE = json.dumps({"id": "good-line", "title": "Mill closes", "text": "The old mill closed. " * 3})

NESTING = 20_000
HOSTILE_FILES: dict[str, bytes] = {
    "random.txt": bytes(range(256)) * 8,
    "latin1.txt": "Caf\xe9 au lait \xe0 Paris, la r\xe9union a eu lieu mardi.".encode("latin-1"),
    "nul.md": b"Title\x00\x00\x00 with NUL bytes in the middle of the story text and more words.",
    "empty.txt": b"",
    "blank.md": b" \n\n\t \n",
    "picture.html": b"\x89PNG\r\n\x1a\n" + bytes(200),
    "not-yaml.md": b"---\ntitle: [unclosed\n  : : -\n---\nA story that would be fine without its front matter block.\n",
    "list-front-matter.md": b"---\n- a\n- b\n---\nA story whose front matter is a list, not key value lines.\n",
    "nested-title.md": b"---\ntitle: {a: 1}\n---\nA story whose title is a mapping rather than one string.\n",
    "bad-date.txt": b"---\ndate: the day after tomorrow\n---\nA story whose date cannot be read by anyone at all.\n",
    "deep.html": b"<html><body>" + b"<div>" * NESTING + b"deep" + b"</div>" * NESTING + b"</body></html>",
    "broken.html": b"<html><head><title>x</title><body><p>unclosed <b><i><table><tr><td><<<>>>&&&;</scr",
    "wrong-types.jsonl": b"\n".join(
        json.dumps(row).encode()
        for row in [
            ["a", "list", "not", "an", "object"],
            {"id": "t1", "text": 42},
            {"id": "t2", "text": None},
            {"id": "t3", "text": "Some words here in a story.", "title": ["a", "b"]},
            {"id": "t4", "text": "Some more words here in a story.", "date": {"y": 1}},
            {"id": "t5", "text": "Even more words in this story.", "date": 12345},
            "just a string",
        ]
    )
    + b"\n{not json at all\n",
    "one-line-10mb.txt": b"word " * 2_000_000,
    "one-line-10mb.jsonl": json.dumps({"id": "big", "text": "word " * 2_000_000}).encode(),
}


# Files (and JSONL lines) whose text is fine but whose encoding or metadata is not: they are kept (Latin-1
# decoded by detection, an unreadable date or title dropped) with a warning that names them.
KEPT_WITH_A_WARNING = {"latin1.txt": "latin1", "bad-date.txt": "bad-date", "nested-title.md": "nested-title"}
KEPT_JSONL_LINES = {4: "t3", 5: "t4", 6: "t5"}


def warned_about(load: CorpusLoad, name: str) -> bool:
    return any(w.startswith(f"skipped {name}") for w in load.warnings)


def kept_with_warning(load: CorpusLoad, name: str) -> bool:
    return any(w.startswith(f"{name}: ") for w in load.warnings)


@pytest.mark.slow  # measured: 3.3 CPU-seconds (a 10 MB one-line file, 20,000-deep HTML)
def test_every_named_hostile_file_is_skipped_by_name_and_the_good_ones_load(tmp_path: Path) -> None:
    (tmp_path / GOOD_NAME).write_text(GOOD_TEXT)
    for name, data in HOSTILE_FILES.items():
        (tmp_path / name).write_bytes(data)
    started = time.perf_counter()
    load = load_corpus(tmp_path)
    seconds = time.perf_counter() - started
    expected = {"good", *KEPT_WITH_A_WARNING.values(), *KEPT_JSONL_LINES.values()}
    assert sorted(a.id for a in load.articles) == sorted(expected)
    assert all(a.date is None for a in load.articles if a.id in {"bad-date", "t4", "t5"})
    for name in HOSTILE_FILES:
        if name == "wrong-types.jsonl":
            # Each bad line is named by file and line number.
            for n in range(1, 9):
                check = kept_with_warning if n in KEPT_JSONL_LINES else warned_about
                assert check(load, f"{name}:{n}"), (n, load.warnings)
        elif name in KEPT_WITH_A_WARNING:
            assert kept_with_warning(load, name), (name, load.warnings)
        else:
            assert warned_about(load, name), (name, load.warnings)
    assert all("\n" not in w for w in load.warnings)
    # Big or pathological files must not stall the build (generous: the machine is shared).
    assert seconds < 60, f"loading the hostile corpus took {seconds:.0f} s"


def test_a_bad_jsonl_line_does_not_cost_its_good_neighbours(tmp_path: Path) -> None:
    bad = [json.dumps({"id": "x", "text": 7}), "{oops", json.dumps({"id": "y", "text": "Words here.", "date": 5})]
    after = json.dumps({"id": "after", "title": "Dam", "text": "The dam held through the storm. " * 3})
    (tmp_path / "mixed.jsonl").write_text("\n".join([GOOD_JSONL_LINE, *bad, after]))
    load = load_corpus(tmp_path)
    assert [a.id for a in load.articles] == ["good-line", "after"]
    assert all(warned_about(load, f"mixed.jsonl:{n}") for n in (2, 3, 4))


@pytest.mark.slow
def test_the_good_file_beside_hostile_ones_is_indexed_and_answerable(tmp_path: Path, fake_embedder) -> None:
    from tests.conftest import FakeDesk, fake_settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / GOOD_NAME).write_text(GOOD_TEXT)
    for name in ("random.txt", "nul.md", "not-yaml.md", "deep.html", "wrong-types.jsonl", "one-line-10mb.txt"):
        (corpus / name).write_bytes(HOSTILE_FILES[name])
    settings = fake_settings(corpus, tmp_path / "index")
    stored, report = open_index(settings, fake_embedder)
    assert set(stored.articles) == {"good", *KEPT_JSONL_LINES.values()}
    skipped = {w.split(":")[0].split(" ")[1] for w in report.warnings if w.startswith("skipped ")}
    assert skipped >= {"random.txt", "nul.md", "deep.html"}
    desk = FakeDesk(settings, fake_embedder, stored, report)
    answer = desk.ask("When did the harbour in Bergen reopen?")
    assert answer.citations and answer.citations[0].doc_id == "good" and "reopened on Tuesday" in answer.text


# --- fuzzing -----------------------------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
JSONL_RECORDS = (
    st.dictionaries(
        st.sampled_from(["id", "title", "text", "date", "outlet", "url", "source", "extra"]), JSON_VALUES, max_size=6
    )
    | JSON_VALUES
)

FRONT_MATTER = st.text(max_size=80).map(lambda meta: f"---\n{meta}\n---\n")
TEXTUAL = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.tuples(FRONT_MATTER, st.text(max_size=400)).map(lambda p: (p[0] + p[1]).encode("utf-8", "surrogatepass")),
    st.lists(
        st.sampled_from(
            ["<div>", "</div>", "<p>", "<b>", "</p>", "<!--", "-->", "<script>", "text ", "&amp;", "&#0;", "<"]
        ),
        max_size=300,
    ).map(lambda parts: "".join(parts).encode()),
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def load_beside_good(files: dict[str, bytes]) -> CorpusLoad:
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        (folder / GOOD_NAME).write_text(GOOD_TEXT)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        return load_corpus(folder)  # must not raise: the good file is always there
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def assert_each_file_loaded_or_named(load: CorpusLoad, names: list[str]) -> None:
    assert "good" in {a.id for a in load.articles}
    loaded_from = {a.source_path.split(":")[0] for a in load.articles}
    for name in names:
        assert name in loaded_from or warned_about(load, name), (name, load.warnings)


@FUZZ
@given(data=TEXTUAL, suffix=st.sampled_from([".txt", ".md", ".html", ".htm"]))
def test_fuzzed_files_never_escape_and_never_cost_the_good_file(data: bytes, suffix: str) -> None:
    name = "fuzzed" + suffix
    assert_each_file_loaded_or_named(load_beside_good({name: data}), [name])


@FUZZ
@given(records=st.lists(JSONL_RECORDS, min_size=1, max_size=5))
def test_fuzzed_jsonl_lines_never_escape_and_never_cost_good_lines(records: list[object]) -> None:
    lines = [GOOD_JSONL_LINE] + [json.dumps(r) for r in records]
    load = load_beside_good({"feed.jsonl": "\n".join(lines).encode()})
    ids = {a.id for a in load.articles}
    assert {"good", "good-line"} <= ids, load.warnings
    for number in range(2, len(lines) + 1):
        came_in = any(a.source_path == f"feed.jsonl:{number}" for a in load.articles)
        assert came_in or warned_about(load, f"feed.jsonl:{number}"), (number, lines[number - 1], load.warnings)
