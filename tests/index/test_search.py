"""Retrieval: the three retrievers, filters, diversity, BM25 tokenizing/persistence and fusion maths."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from index.fusion import Fusion, min_max, rank_order, reciprocal_rank_fusion, weighted_sum
from index.lexical import LexicalIndex, tokenize
from index.records import Hit
from index.search import DEFAULT_FUSION, SearchFilters, SearchOptions, diversify, retrieve

# The made-up articles of tests/fixtures/news, searched on the fake embedder (tests/fake_embedder.py):
# what is tested here is how hits are found, filtered, scored and merged, not what the model understands.
QUESTIONS = [
    "How many vehicles crossed on the first day?",
    "What did Okafor say about the bridge?",
    "When will the bridge open?",
    "How many tonnes of apples were picked?",
]
APPROVED, DELAYED, OPENS, HARVEST = "bridge-approved", "bridge-delayed", "bridge-opens", "apple-harvest"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, fake_embedder):
    """Small chunks (80 tokens, 20 overlapping), so that articles have several, some overlapping."""
    from tests.conftest import NEWS_DIR, fake_settings, open_fake_desk

    settings = fake_settings(NEWS_DIR, tmp_path_factory.mktemp("search"), chunk_tokens=80, chunk_overlap_tokens=20)
    return open_fake_desk(settings, fake_embedder)


def run(desk, question: str, retriever: str, k: int = 5, filters: SearchFilters | None = None, **options):
    query = desk.embedder.encode([question])[0]
    return retrieve(desk.stored, question, query, k, filters, SearchOptions(retriever=retriever, **options))


# --- fusion -------------------------------------------------------------------------------------------


def test_rrf_adds_reciprocal_ranks() -> None:
    fused = reciprocal_rank_fusion([[7, 3, 5], [3, 9]], [1.0, 1.0], k=60)
    assert fused[3] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[7] == pytest.approx(1 / 61)
    assert fused[9] == pytest.approx(1 / 62)
    # Second on one list and first on the other beats first on one list only.
    assert rank_order(fused)[0] == 3


def test_rrf_weights_favour_one_side() -> None:
    dense_first, lexical_first = [1, 2], [2, 1]
    assert rank_order(reciprocal_rank_fusion([dense_first, lexical_first], [0.8, 0.2]))[0] == 1
    assert rank_order(reciprocal_rank_fusion([dense_first, lexical_first], [0.2, 0.8]))[0] == 2


def test_min_max_and_weighted_sum() -> None:
    assert min_max({1: 2.0, 2: 4.0, 3: 3.0}) == {1: 0.0, 2: 1.0, 3: 0.5}
    assert min_max({1: 5.0, 2: 5.0}) == {1: 1.0, 2: 1.0}
    assert min_max({}) == {}
    # A candidate missing on one side counts 0 there.
    assert weighted_sum({1: 0.8}, {2: 1.0}, 0.6) == {1: pytest.approx(0.48), 2: pytest.approx(0.4)}


def test_absolute_fusion_keeps_scale_but_minmax_does_not() -> None:
    weak_dense, weak_lexical = {1: 0.20, 2: 0.10}, {1: 0.05, 2: 0.02}
    absolute = Fusion("absolute", 0.5).fuse(weak_dense, weak_lexical)
    minmax = Fusion("minmax", 0.5).fuse(weak_dense, weak_lexical)
    # A weak best match stays weak in absolute fusion; min-max makes any best match look perfect.
    assert absolute[1] == pytest.approx(0.125) and minmax[1] == pytest.approx(1.0)


def test_fusion_rejects_unknown_method_and_weight() -> None:
    with pytest.raises(ValueError, match="unknown fusion"):
        Fusion("sum")
    with pytest.raises(ValueError, match="between 0 and 1"):
        Fusion("rrf", 1.5)


# --- BM25 ---------------------------------------------------------------------------------------------


def test_tokenizer_stems_drops_stopwords_and_keeps_numbers() -> None:
    assert tokenize("The troops were deployed") == tokenize("troop deployment") == ["troop", "deploy"]
    assert "3200" in tokenize("Almost 3,200 Afghan civilians")
    assert "2.5" in tokenize("a 2.5 percent rise")
    assert tokenize("how many of them were there?") == []


def test_relative_score_is_about_one_for_a_full_match_whatever_the_question() -> None:
    texts = ["the bridge opened in oslo", "ministers met in brussels", "a storm hit the coast", "kabul airport"]
    index = LexicalIndex.build(texts)
    for question, expected in [("When did the bridge in Oslo open?", 0), ("Where have the ministers met?", 1)]:
        best = index.search(question, 2)[0]
        assert best.position == expected and 0.8 < best.relative < 1.3
    partial = index.search("Did the storm reach Oslo airport?", 3)
    assert all(m.relative < 0.6 for m in partial)
    assert index.search("completely unrelated words", 3) == []


def test_lexical_index_round_trips_through_a_file(tmp_path: Path) -> None:
    texts = ["NATO troops deployed to Kabul.", "Germany deployed 850 soldiers.", "Weather in Paris."]
    index = LexicalIndex.build(texts)
    index.save(tmp_path / "lexical.npz")
    loaded = LexicalIndex.load(tmp_path / "lexical.npz")
    assert loaded.search("How many soldiers were deployed?", 3) == index.search("How many soldiers were deployed?", 3)
    empty = LexicalIndex.build(["", ""])
    empty.save(tmp_path / "empty.npz")
    assert LexicalIndex.load(tmp_path / "empty.npz").search("anything", 2) == []


# --- retrievers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_every_retriever_finds_the_vehicle_count(desk, retriever: str) -> None:
    hits = run(desk, "How many vehicles crossed on the first day?", retriever)
    assert hits[0].chunk.article_id == OPENS and "15,000 vehicles crossed" in hits[0].chunk.text
    assert [h.rank for h in hits] == list(range(len(hits)))
    assert all(h.dense_score is not None and h.bm25_score is not None for h in hits)


def test_each_retriever_scores_as_documented(desk) -> None:
    question = "What did Okafor say about the bridge?"
    dense = run(desk, question, "dense", diverse=False)
    assert [h.score for h in dense] == [h.dense_score for h in dense]
    assert dense == sorted(dense, key=lambda h: -h.score)
    bm25 = run(desk, question, "bm25", diverse=False)
    assert bm25 and bm25 == sorted(bm25, key=lambda h: -(h.bm25_score or 0))
    raw, weight = desk.stored.lexical_index().scores(question)
    hybrid = run(desk, question, "hybrid", diverse=False)
    w = DEFAULT_FUSION.dense_weight
    for h in hybrid:
        assert h.score == pytest.approx(w * (h.dense_score or 0) + (1 - w) * (h.bm25_score or 0) / weight, abs=1e-5)
    assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
@pytest.mark.parametrize("diverse", [False, True])
def test_hit_scores_are_exactly_the_row_dot_product_and_the_raw_bm25(desk, retriever: str, diverse: bool) -> None:
    """Each hit carries its chunk's own cosine (one row times the question, as the answer stage's features
    read it) and raw BM25, bit for bit, however the ranking computed them; the order is by score, ties by position."""
    question = "What did Okafor say about the bridge?"
    query = desk.embedder.encode([question])[0]
    raw, _ = desk.stored.lexical_index().scores(question)
    position = {(c.article_id, c.ordinal): i for i, c in enumerate(desk.stored.chunks)}
    hits = run(desk, question, retriever, k=8, diverse=diverse)
    assert hits
    for h in hits:
        i = position[(h.chunk.article_id, h.chunk.ordinal)]
        assert h.bm25_score == float(raw[i])
        # Dense hits too: a flat index is searched by the same row products (index.ann.exact_search).
        assert h.dense_score == float(desk.stored.vectors[i] @ query)
    if not diverse:
        keys = [(-h.score, position[(h.chunk.article_id, h.chunk.ordinal)]) for h in hits]
        assert keys == sorted(keys)


def test_retrievers_really_differ(desk) -> None:
    # A question with no word in the articles: BM25 has nothing; dense still ranks the nearest passages.
    question = "Bundeswehr headcount?"
    assert run(desk, question, "bm25") == []
    assert run(desk, question, "dense")
    assert run(desk, question, "hybrid")


def test_newsdesk_search_and_ask_take_a_retriever(desk) -> None:
    assert desk.search("Bundeswehr headcount?", retriever="bm25") == []
    assert desk.search("Bundeswehr headcount?", retriever="dense")
    answer = desk.ask("How many vehicles crossed on the first day?", retriever="bm25")
    assert "15,000" in answer.text and answer.citations[0].doc_id == OPENS
    with pytest.raises(ValueError, match="unknown retriever"):
        desk.search("bridge", retriever="sparse")


# --- filters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_filters_are_honoured(desk, retriever: str) -> None:
    question = "harbour bridge cost"
    courier = run(desk, question, retriever, filters=SearchFilters(outlet="northvale courier"))
    assert courier and {h.chunk.article_id for h in courier} == {APPROVED}
    recent = run(desk, question, retriever, filters=SearchFilters(since=dt.date(2021, 1, 1)))
    assert recent and {h.chunk.article_id for h in recent} <= {DELAYED, OPENS}
    window = SearchFilters(since=dt.date(2019, 1, 1), until=dt.date(2019, 12, 31))
    assert {h.chunk.article_id for h in run(desk, question, retriever, filters=window)} == {APPROVED}
    assert run(desk, question, retriever, filters=SearchFilters(outlet="Reuters")) == []


# --- diversity -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
@pytest.mark.parametrize("question", QUESTIONS)
def test_no_passage_twice_and_no_overlapping_passages(desk, retriever: str, question: str) -> None:
    hits = run(desk, question, retriever, k=8)
    raw = run(desk, question, retriever, k=8, diverse=False)
    spans = sorted((h.chunk.article_id, h.chunk.start, h.chunk.end) for h in hits)
    for (a1, _, end1), (a2, start2, _) in zip(spans, spans[1:], strict=False):
        assert a1 != a2 or start2 >= end1, f"overlapping passages of {a1}"
    for h in hits:
        assert h.chunk.text == desk.stored.articles[h.chunk.article_id].text[h.chunk.start : h.chunk.end]
    assert len(hits) <= len(raw)


def _ranked(desk, positions: list[int]) -> list[tuple[int, Hit]]:
    return [(i, Hit(desk.stored.chunks[i], 1.0 - n / 100, n)) for n, i in enumerate(positions)]


def _position(desk, article: str, ordinal: int) -> int:
    return next(i for i, c in enumerate(desk.stored.chunks) if c.article_id == article and c.ordinal == ordinal)


def _overlap(a, b) -> bool:
    return a.start < b.end and b.start < a.end


def test_overlapping_chunks_of_one_article_merge_into_one_passage(desk) -> None:
    first, second = _position(desk, APPROVED, 0), _position(desk, APPROVED, 1)
    chunks = desk.stored.chunks
    assert chunks[second].start < chunks[first].end  # they overlap in this index
    hits = diversify(desk.stored, _ranked(desk, [second, first]), 5, per_article=2)
    assert len(hits) == 1
    merged = hits[0].chunk
    assert (merged.start, merged.end, merged.ordinal) == (0, chunks[second].end, 1)
    assert merged.text == desk.stored.articles[APPROVED].text[: chunks[second].end]
    assert hits[0].score == pytest.approx(1.0)  # the better-ranked chunk's score is kept


def test_one_article_does_not_crowd_out_others(desk) -> None:
    # Three chunks of the opening story that do not overlap, all outranking the delay story's chunk.
    chunks = desk.stored.chunks
    story = [_position(desk, OPENS, o) for o in (3, 0, 2)]
    assert not any(_overlap(chunks[a], chunks[b]) for a in story for b in story if a != b)
    other = _position(desk, DELAYED, 0)
    hits = diversify(desk.stored, _ranked(desk, [*story, other]), 3, per_article=2)
    assert [h.chunk.article_id for h in hits] == [OPENS, OPENS, DELAYED]
    # With nothing else to show, the capped article fills the free slots.
    alone = diversify(desk.stored, _ranked(desk, story), 3, per_article=2)
    assert [h.chunk.ordinal for h in alone] == [3, 0, 2]


def test_a_merge_that_bridges_two_passages_joins_all_three(desk) -> None:
    # Chunks 0 and 2 of the approval story do not overlap; chunk 1 overlaps both: all three become one passage.
    positions = [_position(desk, APPROVED, o) for o in (0, 2, 1)]
    first, third, middle = (desk.stored.chunks[p] for p in positions)
    assert not _overlap(first, third) and _overlap(first, middle) and _overlap(middle, third)
    hits = diversify(desk.stored, _ranked(desk, positions), 5, per_article=3)
    assert len(hits) == 1 and (hits[0].chunk.start, hits[0].chunk.end) == (first.start, third.end)


def test_a_copied_story_is_not_shown_twice(fake_embedder, news_copy: Path, make_fake_settings) -> None:
    from index.builder import open_index

    copy = news_copy / "copy.md"
    shutil.copy(news_copy / "bridge-opens.md", copy)
    # A near copy (exact copies are already dropped by the loader): the same story with a credit line.
    text = copy.read_text().replace("id: bridge-opens", "id: wire-copy")
    credit = "This story was first published by the Coastal Times and is republished with permission."
    copy.write_text(f"{text}\n\n{credit}\n")
    settings = make_fake_settings(news_copy, chunk_tokens=80, chunk_overlap_tokens=20)
    stored, _ = open_index(settings, fake_embedder)
    assert {"wire-copy", OPENS} <= set(stored.articles)
    question = "How many vehicles crossed on the first day?"
    query = fake_embedder.encode([question])[0]
    for retriever in ("dense", "bm25", "hybrid"):
        hits = retrieve(stored, question, query, 6, None, SearchOptions(retriever=retriever))
        texts = [" ".join(h.chunk.text.split()) for h in hits]
        assert len(texts) == len(set(texts)), retriever
        raw = retrieve(stored, question, query, 6, None, SearchOptions(retriever=retriever, diverse=False))
        assert len({h.chunk.text for h in raw}) < len(raw), "the control: copies do rank next to each other"


def test_hybrid_score_separates_related_from_unrelated_questions(seed_desk) -> None:
    # What the fused score means with the real model's cosines: on the bundled articles, with their questions.
    questions = [
        "How many German troops will be deployed to Afghanistan?",
        "What did Stoltenberg say about leaving Afghanistan?",
        "When will the withdrawal be finished?",
        "How many Afghan civilians were killed?",
    ]
    related = [run(seed_desk, q, "hybrid")[0].score for q in questions]
    unrelated = [
        run(seed_desk, q, "hybrid")[0].score
        for q in ("What is the boiling point of water?", "Who won the 1998 football World Cup?", "Best pasta recipe")
    ]
    assert min(related) > max(unrelated)


@pytest.mark.parametrize("retriever", ["dense", "hybrid"])
@pytest.mark.parametrize(
    "filters", [None, SearchFilters(since=dt.date(2021, 1, 1)), SearchFilters(exclude=frozenset({OPENS}))]
)
def test_a_flat_index_searched_by_numpy_retrieves_what_faiss_retrieved(desk, retriever: str, filters) -> None:
    """Flat indexes are searched by numpy (index.ann.exact_search) instead of FAISS: the same hits, every
    chunk's own text and the test questions asked, with filters; hybrid scores to the bit (they are computed
    apart from the search), dense ones within float32 rounding of FAISS's inner products."""
    store = desk.stored.vector_store()
    assert store.exact
    questions = QUESTIONS + [c.text[:120] for c in desk.stored.chunks]
    try:
        for question in questions:
            store.exact = False
            before = run(desk, question, retriever, filters=filters)
            store.exact = True
            after = run(desk, question, retriever, filters=filters)
            assert [(h.chunk, h.bm25_score) for h in after] == [(h.chunk, h.bm25_score) for h in before], question
            if retriever == "hybrid":
                assert [(h.score, h.dense_score) for h in after] == [(h.score, h.dense_score) for h in before]
            else:
                assert [h.score for h in after] == pytest.approx([h.score for h in before], abs=1e-6)
    finally:
        store.exact = True
