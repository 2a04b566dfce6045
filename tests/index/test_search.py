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

QUESTIONS = [
    "How many German troops will be deployed to Afghanistan?",
    "What did Stoltenberg say about leaving Afghanistan?",
    "When will the withdrawal be finished?",
    "How many Afghan civilians were killed?",
]
DW, RFE, DW_2021 = "000_4dc72540316ceb30", "001_b94ca92403931482", "002_82899474a50329b3"


def run(desk, question: str, retriever: str, k: int = 5, filters: SearchFilters | None = None, **options):  # type: ignore[no-untyped-def]
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


# --- retrievers on the seed corpus ----------------------------------------------------------------------


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_every_retriever_finds_the_troop_numbers(seed_desk, retriever: str) -> None:  # type: ignore[no-untyped-def]
    hits = run(seed_desk, "How many German troops will be deployed to Afghanistan?", retriever)
    assert hits[0].chunk.article_id == DW and "850 German troops" in hits[0].chunk.text
    assert [h.rank for h in hits] == list(range(len(hits)))
    assert all(h.dense_score is not None and h.bm25_score is not None for h in hits)


def test_each_retriever_scores_as_documented(seed_desk) -> None:  # type: ignore[no-untyped-def]
    question = "What did Stoltenberg say about leaving Afghanistan?"
    dense = run(seed_desk, question, "dense", diverse=False)
    assert [h.score for h in dense] == [h.dense_score for h in dense]
    assert dense == sorted(dense, key=lambda h: -h.score)
    bm25 = run(seed_desk, question, "bm25", diverse=False)
    assert bm25 == sorted(bm25, key=lambda h: -(h.bm25_score or 0))
    raw, weight = seed_desk.stored.lexical_index().scores(question)
    hybrid = run(seed_desk, question, "hybrid", diverse=False)
    w = DEFAULT_FUSION.dense_weight
    for h in hybrid:
        assert h.score == pytest.approx(w * (h.dense_score or 0) + (1 - w) * (h.bm25_score or 0) / weight, abs=1e-5)
    assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)


def test_retrievers_really_differ(seed_desk) -> None:  # type: ignore[no-untyped-def]
    # A question with no word in the articles: BM25 has nothing; dense still ranks by meaning.
    question = "Bundeswehr headcount?"
    assert run(seed_desk, question, "bm25") == []
    assert run(seed_desk, question, "dense")
    assert run(seed_desk, question, "hybrid")


def test_newsdesk_search_and_ask_take_a_retriever(seed_desk) -> None:  # type: ignore[no-untyped-def]
    assert seed_desk.search("Bundeswehr headcount?", retriever="bm25") == []
    assert seed_desk.search("Bundeswehr headcount?", retriever="dense")
    answer = seed_desk.ask("How many German troops will be deployed?", retriever="bm25")
    assert "850" in answer.text
    with pytest.raises(ValueError, match="unknown retriever"):
        seed_desk.search("troops", retriever="sparse")


# --- filters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_filters_are_honoured(seed_desk, retriever: str) -> None:  # type: ignore[no-untyped-def]
    question = "NATO troops in Afghanistan"
    only_rfe = run(seed_desk, question, retriever, filters=SearchFilters(outlet="rfe/rl"))
    assert only_rfe and {h.chunk.article_id for h in only_rfe} == {RFE}
    recent = run(seed_desk, question, retriever, filters=SearchFilters(since=dt.date(2020, 1, 1)))
    assert recent and {h.chunk.article_id for h in recent} <= {RFE, DW_2021}
    window = SearchFilters(since=dt.date(2014, 1, 1), until=dt.date(2014, 12, 31))
    assert {h.chunk.article_id for h in run(seed_desk, question, retriever, filters=window)} == {DW}
    assert run(seed_desk, question, retriever, filters=SearchFilters(outlet="Reuters")) == []


# --- diversity -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
@pytest.mark.parametrize("question", QUESTIONS)
def test_no_passage_twice_and_no_overlapping_passages(seed_desk, retriever: str, question: str) -> None:  # type: ignore[no-untyped-def]
    hits = run(seed_desk, question, retriever, k=8)
    spans = sorted((h.chunk.article_id, h.chunk.start, h.chunk.end) for h in hits)
    for (a1, _, end1), (a2, start2, _) in zip(spans, spans[1:], strict=False):
        assert a1 != a2 or start2 >= end1, f"overlapping passages of {a1}"
    for h in hits:
        assert h.chunk.text == seed_desk.stored.articles[h.chunk.article_id].text[h.chunk.start : h.chunk.end]


def _ranked(desk, positions: list[int]) -> list[tuple[int, Hit]]:  # type: ignore[no-untyped-def]
    return [(i, Hit(desk.stored.chunks[i], 1.0 - n / 100, n)) for n, i in enumerate(positions)]


def _position(desk, article: str, ordinal: int) -> int:  # type: ignore[no-untyped-def]
    return next(i for i, c in enumerate(desk.stored.chunks) if c.article_id == article and c.ordinal == ordinal)


def test_overlapping_chunks_of_one_article_merge_into_one_passage(seed_desk) -> None:  # type: ignore[no-untyped-def]
    first, second = _position(seed_desk, DW, 0), _position(seed_desk, DW, 1)
    chunks = seed_desk.stored.chunks
    assert chunks[second].start < chunks[first].end  # they overlap in the seed index
    hits = diversify(seed_desk.stored, _ranked(seed_desk, [second, first]), 5, per_article=2)
    assert len(hits) == 1
    merged = hits[0].chunk
    assert (merged.start, merged.end, merged.ordinal) == (0, chunks[second].end, 1)
    assert hits[0].score == pytest.approx(1.0)  # the better-ranked chunk's score is kept


def test_one_article_does_not_crowd_out_others(seed_desk) -> None:  # type: ignore[no-untyped-def]
    # Chunks 3, 0 and 2 of the 2021 story do not overlap; all three outrank the 2020 story's chunk.
    story = [_position(seed_desk, DW_2021, o) for o in (3, 0, 2)]
    other = _position(seed_desk, RFE, 0)
    hits = diversify(seed_desk.stored, _ranked(seed_desk, [*story, other]), 3, per_article=2)
    assert [h.chunk.article_id for h in hits] == [DW_2021, DW_2021, RFE]
    # With nothing else to show, the capped article fills the free slots.
    alone = diversify(seed_desk.stored, _ranked(seed_desk, story), 3, per_article=2)
    assert [h.chunk.ordinal for h in alone] == [3, 0, 2]


def test_a_merge_that_bridges_two_passages_joins_all_three(seed_desk) -> None:  # type: ignore[no-untyped-def]
    # Chunks 0 and 2 of DW do not overlap; chunk 1 overlaps both, so all three become one passage.
    ranked = _ranked(seed_desk, [_position(seed_desk, DW, o) for o in (0, 2, 1)])
    hits = diversify(seed_desk.stored, ranked, 5, per_article=3)
    chunks = [c for c in seed_desk.stored.chunks if c.article_id == DW]
    assert len(hits) == 1 and (hits[0].chunk.start, hits[0].chunk.end) == (chunks[0].start, chunks[2].end)


@pytest.mark.slow
def test_a_copied_story_is_not_shown_twice(embedder, corpus_copy: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    from index.builder import open_index

    original = next(corpus_copy.glob("000_*"))
    copy = corpus_copy / "copy.md"
    shutil.copy(original, copy)
    # A near copy (exact copies are already dropped by the loader): the same story with a credit line.
    text = copy.read_text().replace("id: 000_4dc72540316ceb30", "id: wire-copy")
    copy.write_text(text + "\n\nThis story was first published by DW and is republished with permission.\n")
    stored, _ = open_index(make_settings(corpus_copy), embedder)
    assert {"wire-copy", DW} <= set(stored.articles)
    question = "How many German troops will be deployed to Afghanistan?"
    query = embedder.encode([question])[0]
    for retriever in ("dense", "bm25", "hybrid"):
        hits = retrieve(stored, question, query, 6, None, SearchOptions(retriever=retriever))
        texts = [" ".join(h.chunk.text.split()) for h in hits]
        assert len(texts) == len(set(texts)), retriever
        raw = retrieve(stored, question, query, 6, None, SearchOptions(retriever=retriever, diverse=False))
        assert len({h.chunk.text for h in raw}) < len(raw), "the control: copies do rank next to each other"


def test_hybrid_score_separates_related_from_unrelated_questions(seed_desk) -> None:  # type: ignore[no-untyped-def]
    related = [run(seed_desk, q, "hybrid")[0].score for q in QUESTIONS]
    unrelated = [
        run(seed_desk, q, "hybrid")[0].score
        for q in ("What is the boiling point of water?", "Who won the 1998 football World Cup?", "Best pasta recipe")
    ]
    assert min(related) > max(unrelated)
