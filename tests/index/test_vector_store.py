"""The vector-store seam on Milvus Lite: same hits as FAISS, filters inside Milvus, incremental and
crash-safe updates, and switching stores without re-embedding. On the made-up articles and the fake
embedder (tests/conftest.py): what is compared is the engines, given the same vectors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from index.builder import open_index
from index.errors import ConfigError
from index.milvus_store import VECTOR_STORE_NAME, MilvusVectorStore, filter_expression
from index.newsdesk import Newsdesk
from index.search import SearchFilters, allowed_chunks, dense_pairs, vector_filter
from index.settings import load_settings
from index.store import ANN_NAME, read_index
from index.vector_store import VectorFilter
from tests.conftest import NEWS_DIR, fake_settings, open_fake_desk

QUESTION = "How many vehicles crossed the bridge on its first day?"


@pytest.fixture(scope="module")
def lite_desk(tmp_path_factory: pytest.TempPathFactory, fake_embedder) -> Newsdesk:
    """The made-up articles indexed with their vectors in a Milvus Lite file."""
    folder = tmp_path_factory.mktemp("lite")
    return open_fake_desk(fake_settings(NEWS_DIR, folder / "index", vector_store=str(folder / "nd.db")), fake_embedder)


def test_the_generation_names_its_collection_instead_of_a_faiss_file(lite_desk) -> None:
    stored = lite_desk.stored
    assert (stored.path / VECTOR_STORE_NAME).is_file() and not (stored.path / ANN_NAME).exists()
    placement = json.loads((stored.path / VECTOR_STORE_NAME).read_text())
    assert placement["count"] == len(stored.chunks) == stored.vector_store().count()
    assert isinstance(stored.vector_store(), MilvusVectorStore)


def test_answers_from_milvus_lite(lite_desk, news_desk) -> None:
    answer = lite_desk.ask(QUESTION)
    assert "15,000" in answer.text and not answer.abstained
    assert (answer.citations[0].outlet, answer.citations[0].date) == ("Coastal Times", "2022-03-20")
    assert answer.text == news_desk.ask(QUESTION).text  # the same answer as from FAISS


def test_dense_hits_equal_faiss(lite_desk, news_desk) -> None:
    assert [c.text for c in lite_desk.stored.chunks] == [c.text for c in news_desk.stored.chunks]
    for question in (QUESTION, "Who cut the ribbon?", "When will the bridge open?"):
        query = news_desk.embedder.encode([question])[0]
        milvus = dense_pairs(lite_desk.stored, query, 8)
        faiss = dense_pairs(news_desk.stored, query, 8)
        assert [i for i, _ in milvus] == [i for i, _ in faiss]
        np.testing.assert_allclose([s for _, s in milvus], [s for _, s in faiss], atol=1e-5)


@pytest.mark.parametrize(
    "filters",
    [
        SearchFilters(since=dt.date(2021, 1, 1)),
        SearchFilters(until=dt.date(2020, 1, 1)),
        SearchFilters(outlet="valley"),
        SearchFilters(since=dt.date(2019, 1, 1), until=dt.date(2021, 12, 31), outlet="Coastal"),
        SearchFilters(exclude=frozenset({"bridge-opens"})),
    ],
)
def test_filtered_search_equals_faiss(lite_desk, news_desk, filters: SearchFilters) -> None:
    query = news_desk.embedder.encode([QUESTION])[0]
    mask = allowed_chunks(lite_desk.stored, filters)
    assert mask is not None and mask.any() and not mask.all()
    milvus = dense_pairs(lite_desk.stored, query, 5, mask, filters)
    assert [i for i, _ in milvus] == [i for i, _ in dense_pairs(news_desk.stored, query, 5, mask, filters)]
    assert all(mask[i] for i, _ in milvus)


def test_filters_run_inside_milvus(lite_desk) -> None:
    """With a mask that allows everything, only the engine's filter expression can exclude chunks."""
    stored = lite_desk.stored
    query = stored.vectors[0]
    everything = np.ones(len(stored.chunks), dtype=bool)
    dated = VectorFilter(mask=everything, since=dt.date(2020, 1, 1))
    hits = stored.vector_store().search(query, len(stored.chunks), dated)
    assert hits and len(hits) < len(stored.chunks)
    assert all(stored.articles[stored.chunks[i].article_id].date >= dt.date(2020, 1, 1) for i, _ in hits)
    exact = vector_filter(stored, everything, SearchFilters(outlet="valley"))
    assert exact.outlets == ("Valley Herald",)
    only = VectorFilter(everything, outlets=("Valley Herald",))
    outlet_hits = stored.vector_store().search(query, len(stored.chunks), only)
    assert outlet_hits
    assert {stored.articles[stored.chunks[i].article_id].outlet for i, _ in outlet_hits} == {"Valley Herald"}
    gone = "bridge-approved"
    kept = stored.vector_store().search(query, len(stored.chunks), VectorFilter(everything, exclude=(gone,)))
    assert kept and gone not in {stored.chunks[i].article_id for i, _ in kept}


def test_filter_expression_escapes_outlet_names() -> None:
    where = VectorFilter(np.ones(1, dtype=bool), until=dt.date(2015, 1, 1), outlets=('Say "hi" \\ co',))
    assert filter_expression(where) == (
        f'day > 0 and day <= {dt.date(2015, 1, 1).toordinal()} and outlet in ["Say \\"hi\\" \\\\ co"]'
    )


def _edit(corpus: Path) -> str:
    """Change one article's text; returns its file name."""
    path = sorted(corpus.glob("*.md"))[0]
    path.write_text(path.read_text() + "\nA sentence added to test incremental updates.\n")
    return path.name


@pytest.mark.slow
def test_updates_are_incremental_and_alternate_collections(
    news_copy, make_fake_settings, fake_embedder, tmp_path
) -> None:
    settings = make_fake_settings(news_copy, vector_store=str(tmp_path / "nd.db"))
    first, _ = open_index(settings, fake_embedder)
    first_collection = first.vector_store().collection  # type: ignore[attr-defined]
    _edit(news_copy)
    before = fake_embedder.encoded
    second, report = open_index(settings, fake_embedder)
    assert len(report.changed) == 1 and not report.added
    changed = report.changed[0]
    assert fake_embedder.encoded - before == report.embedded_chunks + report.embedded_sentences
    assert report.embedded_chunks == sum(1 for c in second.chunks if c.article_id == changed) < len(second.chunks)
    store = second.vector_store()
    assert store.collection != first_collection  # type: ignore[attr-defined]
    assert store.count() == len(second.chunks)
    # The previous generation's collection was not touched: a reader that opened it still searches it.
    assert first.vector_store().count() == len(first.chunks)
    # A third update goes back to the first collection and brings it up to date from its own content.
    (news_copy / sorted(p.name for p in news_copy.glob("*.md"))[-1]).unlink()
    third, report = open_index(settings, fake_embedder)
    assert report.removed and report.embedded_chunks == 0
    assert third.vector_store().collection == first_collection  # type: ignore[attr-defined]
    assert third.vector_store().count() == len(third.chunks)
    query = fake_embedder.encode([QUESTION])[0]
    ids = {third.chunks[i].article_id for i, _ in dense_pairs(third, query, len(third.chunks))}
    assert ids == set(third.articles)
    # A reader still on the first generation now searches a collection holding the third: rows of the
    # changed article carry another content key, so they are never mistaken for the chunks it knows.
    stale = {first.chunks[i].article_id for i, _ in first.vector_store().search(query, len(first.chunks))}
    assert stale and changed not in stale


@pytest.mark.slow
def test_a_crash_mid_update_leaves_the_live_index_answering(
    news_copy, make_fake_settings, fake_embedder, tmp_path, monkeypatch
) -> None:  # noqa: E501
    settings = make_fake_settings(news_copy, vector_store=str(tmp_path / "nd.db"))
    live, _ = open_index(settings, fake_embedder)
    _edit(news_copy)
    original_add = MilvusVectorStore.add

    def partial_add(self, rows):
        # Insert half the rows, then die: the target collection is left half-synced.
        from index.milvus_store import _subset

        original_add(self, _subset(rows, list(range(len(rows) // 2))))
        raise RuntimeError("killed mid-insert")

    monkeypatch.setattr(MilvusVectorStore, "add", partial_add)
    with pytest.raises(RuntimeError, match="killed mid-insert"):
        open_index(settings, fake_embedder)
    monkeypatch.setattr(MilvusVectorStore, "add", original_add)
    # Searches still answer from the generation that was live, and its collection is whole.
    reread = read_index(settings.resolved_index_dir())
    assert reread is not None and reread.path == live.path
    assert reread.vector_store().count() == len(reread.chunks)
    # The next update finishes the half-synced collection.
    fixed, report = open_index(settings, fake_embedder)
    assert report.wrote and fixed.vector_store().count() == len(fixed.chunks)
    query = fake_embedder.encode([QUESTION])[0]
    assert {i for i, _ in dense_pairs(fixed, query, len(fixed.chunks))} == set(range(len(fixed.chunks)))


@pytest.mark.slow
def test_switching_store_re_embeds_nothing(news_copy, make_fake_settings, fake_embedder, tmp_path) -> None:
    faiss_settings = make_fake_settings(news_copy)
    on_faiss, _ = open_index(faiss_settings, fake_embedder)
    before = fake_embedder.encoded
    on_milvus, report = open_index(faiss_settings.replace(vector_store=str(tmp_path / "nd.db")), fake_embedder)
    assert report.wrote and report.embedded_chunks == 0 and fake_embedder.encoded == before
    assert isinstance(on_milvus.vector_store(), MilvusVectorStore)
    np.testing.assert_array_equal(on_milvus.vectors, on_faiss.vectors)
    back, report = open_index(faiss_settings, fake_embedder)
    assert report.wrote and fake_embedder.encoded == before and (back.path / ANN_NAME).is_file()


@pytest.mark.parametrize("value", ["milvus", "localhost:19530", "/tmp/x.sqlite"])
def test_an_unknown_vector_store_is_one_clear_error(value: str) -> None:
    with pytest.raises(ConfigError, match="vector store .* is not understood"):
        load_settings({"vector_store": value}, env={})


@pytest.mark.slow
def test_a_lite_file_open_in_another_process_is_one_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    from index.milvus_store import client_for

    file = tmp_path / "busy.db"
    code = f"from pymilvus import MilvusClient; MilvusClient({str(file)!r}); print('open', flush=True); input()"
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(ConfigError, match="one process open a file at a time"):
            client_for(str(file))
    finally:
        holder.kill()
        holder.wait()
