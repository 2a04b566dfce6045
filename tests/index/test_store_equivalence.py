"""FAISS and Milvus (Lite and the real server) give the same answers and citations on the seed set."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from index.builder import open_index
from index.newsdesk import Newsdesk
from index.settings import BUNDLED_CORPUS, load_settings

SEED = Path(__file__).resolve().parents[1] / "questions" / "seed.yaml"
_FAISS_ANSWERS: list[tuple[object, ...]] = []  # computed once for both engines


def _desk(index_dir: Path, vector_store: str, embedder) -> Newsdesk:  # type: ignore[no-untyped-def]
    settings = load_settings(
        {"corpus_dir": BUNDLED_CORPUS, "index_dir": index_dir, "vector_store": vector_store, "show_progress": False},
        env={},
    )
    stored, report = open_index(settings, embedder)
    return Newsdesk(settings, embedder, stored, report)


def _answers(desk: Newsdesk) -> list[tuple[object, ...]]:
    out = []
    for entry in yaml.safe_load(SEED.read_text(encoding="utf-8")):
        answer = desk.ask(entry["question"])
        cited = [(c.number, c.doc_id, c.outlet, c.date, c.passage, c.quote, c.start, c.end) for c in answer.citations]
        out.append((entry["id"], answer.text, answer.abstained, cited, [round(c.score, 4) for c in answer.citations]))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["lite", pytest.param("server", marks=pytest.mark.milvus_server)])
def test_seed_set_answers_are_identical(engine: str, seed_desk, embedder, tmp_path: Path, request) -> None:  # type: ignore[no-untyped-def]
    uri = str(tmp_path / "nd.db") if engine == "lite" else request.getfixturevalue("milvus_server").uri
    milvus = _desk(tmp_path / "index", uri, embedder)
    if not _FAISS_ANSWERS:
        _FAISS_ANSWERS.extend(_answers(seed_desk))
    expected = _FAISS_ANSWERS
    assert len(expected) >= 50
    assert _answers(milvus) == expected
