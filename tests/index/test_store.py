"""The index on disk: incremental updates, full rebuilds, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import store
from index.builder import open_index
from index.store import read_index


def chunk_count(stored, article_prefix: str) -> int:
    return sum(1 for c in stored.chunks if c.article_id.startswith(article_prefix))


def test_second_open_embeds_nothing(fake_embedder, news_copy: Path, make_fake_settings) -> None:
    settings = make_fake_settings(news_copy)
    first, report = open_index(settings, fake_embedder)
    assert report.wrote and report.embedded_chunks == len(first.chunks) > 0
    before = fake_embedder.encoded
    again, report = open_index(settings, fake_embedder)
    assert not report.wrote and fake_embedder.encoded == before
    assert [c.text for c in again.chunks] == [c.text for c in first.chunks]


def test_changing_one_article_embeds_only_its_chunks(fake_embedder, news_copy: Path, make_fake_settings) -> None:
    settings = make_fake_settings(news_copy)
    open_index(settings, fake_embedder)
    path = news_copy / "bridge-delayed.md"
    path.write_text(path.read_text() + "\n\nA new closing paragraph says the council met again in December.\n")
    before = fake_embedder.encoded
    stored, report = open_index(settings, fake_embedder)
    assert report.changed == ["bridge-delayed"] and not report.added and not report.removed
    assert stored.sentences is not None
    assert report.embedded_chunks == chunk_count(stored, "bridge-delayed")
    # Its sentences are embedded again too (for answer extraction), and nothing of the other articles.
    assert report.embedded_sentences == len(stored.sentences.rows_of("bridge-delayed")) > 0
    assert fake_embedder.encoded - before == report.embedded_chunks + report.embedded_sentences
    assert any("council met again in December" in c.text for c in stored.chunks)


def test_deleting_an_article_prunes_its_chunks(fake_embedder, news_copy: Path, make_fake_settings) -> None:
    settings = make_fake_settings(news_copy)
    open_index(settings, fake_embedder)
    (news_copy / "bridge-opens.md").unlink()
    before = fake_embedder.encoded
    stored, report = open_index(settings, fake_embedder)
    assert report.removed == ["bridge-opens"] and fake_embedder.encoded == before
    assert chunk_count(stored, "bridge-opens") == 0 and "bridge-opens" not in stored.articles
    assert stored.sentences is not None
    assert not stored.sentences.rows_of("bridge-opens")
    assert set(stored.sentences.article_ids) == set(stored.articles)
    assert stored.ann.ntotal == len(stored.chunks)


def test_changing_the_model_or_chunking_rebuilds_everything(fake_embedder, news_copy: Path, make_fake_settings) -> None:
    settings = make_fake_settings(news_copy)
    first, _ = open_index(settings, fake_embedder)
    stored, report = open_index(settings.replace(chunk_tokens=128), fake_embedder)
    assert report.rebuilt and report.embedded_chunks == len(stored.chunks) > len(first.chunks)
    # A different model id (same weights, another name) is a different recipe too; its vectors are
    # never re-embedded unasked (tests/index/test_config_mistakes.py), only with rebuild=True.
    renamed = "fake-hashing-renamed"
    stored, report = open_index(settings.replace(chunk_tokens=128, model=renamed), fake_embedder, rebuild=True)
    assert report.rebuilt and report.embedded_chunks == len(stored.chunks)
    assert stored.manifest.model_id == renamed


def test_a_crash_mid_write_leaves_the_old_index(fake_embedder, news_copy, make_fake_settings, monkeypatch) -> None:
    settings = make_fake_settings(news_copy)
    old, _ = open_index(settings, fake_embedder)
    (news_copy / "extra.txt").write_text("Extra story. It says the bridge opened in Oslo on Monday.")

    def explode(*args, **kwargs):
        raise RuntimeError("simulated crash while writing the index")

    monkeypatch.setattr(store, "write_ann", explode)
    with pytest.raises(RuntimeError, match="simulated crash"):
        open_index(settings, fake_embedder)
    monkeypatch.undo()
    index_dir = settings.resolved_index_dir()
    assert not list(index_dir.glob("tmp-*"))
    survivor = read_index(index_dir)
    assert survivor is not None and survivor.manifest.files == old.manifest.files
    assert "extra" not in survivor.articles
    stored, report = open_index(settings, fake_embedder)
    assert report.added == ["extra"] and "extra" in stored.articles


def test_a_damaged_file_is_detected_on_open(fake_embedder, news_copy: Path, make_fake_settings) -> None:
    from index.errors import IndexUnusableError

    settings = make_fake_settings(news_copy)
    stored, _ = open_index(settings, fake_embedder)
    vectors = stored.path / "vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-10] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexUnusableError, match="damaged.*--rebuild"):
        read_index(settings.resolved_index_dir())


def test_bm25_is_stored_checksummed_and_follows_updates(fake_embedder, news_copy: Path, make_fake_settings) -> None:
    from index.lexical import LEXICAL_NAME

    settings = make_fake_settings(news_copy)
    stored, _ = open_index(settings, fake_embedder)
    assert LEXICAL_NAME in stored.manifest.files and (stored.path / LEXICAL_NAME).is_file()
    assert stored.lexical is not None and stored.lexical.doc_count == len(stored.chunks)
    assert stored.lexical.search("zanzibarite quarry", 3) == []
    (news_copy / "extra.txt").write_text("Quarry story. Workers found zanzibarite in a quarry near Oslo on Monday.")
    before = fake_embedder.encoded
    updated, report = open_index(settings, fake_embedder)
    assert report.added == ["extra"] and report.embedded_chunks == 1 and report.embedded_sentences == 2
    assert fake_embedder.encoded - before == report.embedded_chunks + report.embedded_sentences
    reread = read_index(settings.resolved_index_dir())
    assert reread is not None and reread.lexical is not None
    matches = reread.lexical.search("zanzibarite quarry", 3)
    assert [reread.chunks[m.position].article_id for m in matches] == ["extra"]
    # A damaged BM25 file is caught like any other file of the index.
    lexical = reread.path / LEXICAL_NAME
    lexical.write_bytes(lexical.read_bytes()[:-7] + b"garbage")
    from index.errors import IndexUnusableError

    with pytest.raises(IndexUnusableError, match="damaged.*--rebuild"):
        read_index(settings.resolved_index_dir())


def test_an_update_checks_the_generation_it_holds_no_second_time(
    fake_embedder, news_copy: Path, make_fake_settings, monkeypatch
) -> None:
    settings = make_fake_settings(news_copy)
    first, _ = open_index(settings, fake_embedder)
    hashed: list[Path] = []
    real = store.file_sha256

    def recording(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(store, "file_sha256", recording)

    (news_copy / "extra.txt").write_text("Bridge opens. The new bridge over the fjord opened in Oslo on Monday.\n")
    second, report = open_index(settings, fake_embedder, held=first)
    assert report.added == ["extra"]
    # Only the new generation's files are hashed (once each, as they are written); the held one is not re-read.
    assert sorted(p.name for p in hashed) == sorted(second.manifest.files)
    assert not any(p.parent == first.path for p in hashed)

    hashed.clear()
    again, report = open_index(settings, fake_embedder, held=second)
    assert not report.wrote and again is second and hashed == []
    # Holding a generation that is no longer live (or none, a new process): the live one is read and checked.
    third, report = open_index(settings, fake_embedder, held=first)
    assert not report.wrote and third.path == second.path
    assert sorted(p.name for p in hashed) == sorted(second.manifest.files)
