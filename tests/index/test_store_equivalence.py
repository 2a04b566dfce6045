"""FAISS and Milvus (Lite and the real server) give the same answers and citations, given the same vectors:
the made-up articles on the fake embedder, asked questions that are answered and some that abstain."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.newsdesk import Newsdesk
from tests.conftest import NEWS_DIR, fake_settings, open_fake_desk

QUESTIONS = [
    "How many vehicles crossed the bridge on its first day?",
    "How many euros will the bridge cost?",
    "When will the harbour bridge open?",
    "Who cut the ribbon?",
    "Who chairs the Brennan Valley Growers Association?",
    "How many tonnes of apples did the growers pick?",
    "How many passengers does the ferry company carry?",
    "What did the council leader say about the bridge?",
    "How many workers built the bridge?",
    "How long is the steel arch?",
    "What is the boiling point of water?",
    "When did Finland join NATO?",
]
_FAISS_ANSWERS: list[tuple[object, ...]] = []  # computed once for both engines


def _answers(desk: Newsdesk) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for question in QUESTIONS:
        answer = desk.ask(question)
        cited = [(c.number, c.doc_id, c.outlet, c.date, c.passage, c.quote, c.start, c.end) for c in answer.citations]
        out.append((question, answer.text, answer.abstained, cited, [round(c.score, 4) for c in answer.citations]))
    return out


SERVER = pytest.param("server", marks=[pytest.mark.milvus_server, pytest.mark.slow])


@pytest.mark.parametrize("engine", ["lite", SERVER])
def test_answers_are_identical(engine: str, news_desk, fake_embedder, tmp_path: Path, request) -> None:
    uri = str(tmp_path / "nd.db") if engine == "lite" else request.getfixturevalue("milvus_server").uri
    milvus = open_fake_desk(fake_settings(NEWS_DIR, tmp_path / "index", vector_store=uri), fake_embedder)
    if not _FAISS_ANSWERS:
        _FAISS_ANSWERS.extend(_answers(news_desk))
    expected = _FAISS_ANSWERS
    abstained = sum(1 for row in expected if row[2])
    assert 0 < abstained < len(expected) - 5  # both answers and abstentions are compared
    assert _answers(milvus) == expected
