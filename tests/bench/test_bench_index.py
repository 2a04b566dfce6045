"""Benchmark indexes are never another variant's: the encoder and sentence vectors asked for are the ones measured."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from index.builder import open_index
from tests.bench.answer_bench import Case, paired_changes, summarise
from tests.bench.bench_index import IndexVariant, open_exact
from tests.bench.devsets import DevQuestion
from tests.conftest import NEWS_DIR, fake_settings
from tests.fake_embedder import HashingEmbedder


class OtherRuntime(HashingEmbedder):
    """The same vectors named as another runtime, as OpenVINO and PyTorch are two encoders of one model."""

    def describe(self) -> dict[str, str]:
        return {**super().describe(), "backend": "other-runtime"}


def test_an_index_of_other_sentence_vectors_is_rebuilt_not_served(tmp_path: Path) -> None:
    documents = HashingEmbedder()
    open_index(fake_settings(NEWS_DIR, tmp_path, sentence_vectors="encoded"), documents)
    pooled = fake_settings(NEWS_DIR, tmp_path, sentence_vectors="pooled")
    served, _ = open_index(pooled, documents)
    assert served.manifest.sentence_vectors == "encoded"  # what the product does, and why the benchmarks cannot
    stored, report = open_exact(pooled, documents, "news")
    assert stored.manifest.sentence_vectors == "pooled" and report.rebuilt
    again, report = open_exact(pooled, documents, "news")
    assert again.path == stored.path and not report.wrote


def test_an_index_of_other_chunk_vectors_is_rebuilt_and_has_a_folder_of_its_own(tmp_path: Path) -> None:
    documents = HashingEmbedder()
    open_index(fake_settings(NEWS_DIR, tmp_path), documents)
    derived = fake_settings(NEWS_DIR, tmp_path, chunk_vectors="from-sentences")
    stored, report = open_exact(derived, documents, "news")
    assert stored.manifest.chunk_vectors == "from-sentences" and report.rebuilt
    back, report = open_exact(fake_settings(NEWS_DIR, tmp_path), documents, "news")
    assert back.manifest.chunk_vectors == "encoded" and report.rebuilt
    variant = IndexVariant("auto", documents, "encoded", "from-sentences")
    assert variant.tag == "fake-hashing-fp32-encoded+from-sentences" and variant.kind == "encoded+from-sentences"


def test_index_variants_pair_each_kind_that_can_be_built() -> None:
    from argparse import ArgumentParser

    from tests.bench.answer_bench import add_index_arguments, index_variants

    parser = ArgumentParser()
    add_index_arguments(parser, several=True)
    args = parser.parse_args(["--document-backend", "sentence-transformers", "--sentence-vectors", "encoded",
                              "pooled", "--chunk-vectors", "encoded", "from-sentences"])  # fmt: skip
    assert [v.kind for v in index_variants(args)] == ["encoded", "encoded+from-sentences", "pooled"]


def test_an_index_of_another_encoder_is_rebuilt(tmp_path: Path) -> None:
    settings = fake_settings(NEWS_DIR, tmp_path)
    open_index(settings, HashingEmbedder())
    stored, report = open_exact(settings, OtherRuntime(), "news")
    assert stored.manifest.encoder["backend"] == "other-runtime" and report.rebuilt


def test_variant_tags_name_the_encoder_that_runs_and_the_sentence_vectors() -> None:
    tags = {IndexVariant("auto", e, v).tag for e in (HashingEmbedder(), OtherRuntime()) for v in ("encoded", "pooled")}
    assert tags == {"fake-hashing-fp32-encoded", "fake-hashing-fp32-pooled", "other-runtime-fp32-encoded",
                    "other-runtime-fp32-pooled"}  # fmt: skip


def _answer(text: str, abstained: bool = False, cited: str = "", nearest: str | None = None) -> SimpleNamespace:
    """What summarise reads of an Answer: ``nearest`` is the quote of an abstention's closest passage."""
    citations = [SimpleNamespace(doc_id=cited)] if cited else []
    near = None if nearest is None else SimpleNamespace(quote=nearest)
    return SimpleNamespace(text=text, abstained=abstained, citations=citations, confidence=0.5, nearest=near)


def test_paired_changes_count_the_cases_each_side_alone_gets_right() -> None:
    q1 = DevQuestion("1", "How many?", ("850",), frozenset({"a"}), "test")
    q2 = DevQuestion("2", "Who?", ("Ghani",), frozenset({"b"}), "test")
    q3 = DevQuestion("3", "What?", (), frozenset(), "test")
    cases = [Case(q1), Case(q2), Case(q3), Case(q1, near_miss=True)]
    first = [_answer("Up to 850 troops", cited="a"), _answer("", abstained=True), _answer("x"), _answer("y")]
    second = [_answer("No figure", cited="a"), _answer("Ashraf Ghani said", cited="b"), _answer("x"),
              _answer("", abstained=True)]  # fmt: skip
    changes = paired_changes(list(zip(cases, first, strict=True)), list(zip(cases, second, strict=True)))
    assert changes["answer_contains_gold"] == [1, 1]
    assert changes["cited_hit1"] == [0, 1]
    assert changes["false_abstain"] == [1, 0]
    assert changes["false_answer_unanswerable"] == [0, 0]
    assert changes["false_answer_near_miss"] == [1, 0]
    assert summarise(list(zip(cases, second, strict=True)))["answer_contains_gold"] == 0.5


def test_summarise_reads_apart_what_the_false_answer_and_abstention_shares_mix() -> None:
    written = DevQuestion("w", "Which city?", ("Kabul",), frozenset({"a"}), "test")
    unwritten = DevQuestion("u", "Which is not a city?", ("Paris",), frozenset({"b"}), "test", extractive=False)
    outcomes = [
        (Case(written), _answer("", abstained=True, nearest="Troops left Kabul.")),  # abstained, the answer in sight
        (Case(unwritten), _answer("", abstained=True)),  # abstained where no sentence says it
        (Case(written, near_miss=True), _answer("Another story: Kabul. [1]")),  # another article answered
        (Case(unwritten, near_miss=True), _answer("Something else. [1]")),  # a false answer
    ]
    summary = summarise(outcomes)
    assert summary["false_abstain"] == 1.0 and summary["false_abstain_written"] == 1.0
    assert summary["abstained_showing_gold"] == 1.0
    assert summary["false_answer_near_miss"] == 1.0 and summary["near_miss_answered_with_gold"] == 0.5
    outcomes[0] = (Case(written), _answer("", abstained=True, nearest="Troops left the capital."))
    assert summarise(outcomes)["abstained_showing_gold"] == 0.0
