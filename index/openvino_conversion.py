"""The model's own fp32 weights as an OpenVINO model, converted once on this machine and cached on disk.

OpenVINO runs an fp32 model in bf16 on CPUs with AMX: there it measured ~1.6 x faster than the packaged
int8 export and far closer to the fp32 vectors (docs/PERFORMANCE.md; worst cosine to PyTorch fp32 over
real Reuters chunks 0.99997, where the int8 export's is 0.9986-0.9989, under the 0.999 bar of issue 14).
No fp32 export is packaged, so the transformer that sentence-transformers loads (PyTorch, installed
anyway) is converted with ``openvino.convert_model`` the first time it is needed, and the IR
(``model.xml`` + ``model.bin``) is kept in ``Settings.encoder_cache_dir``: later processes compile it
without importing PyTorch.

The cache is keyed by the sha256 of the weights file (what the index manifest records as
``model_sha256``), so another model or another release of it never reuses a stale conversion, and written
into a staging folder renamed into place, so a crash leaves no half-written model behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.durable import fsync_dir, fsync_tree
from index.errors import ConfigError

# Bump when the conversion itself changes (inputs, outputs, options): caches of the old one are ignored.
CONVERSION_VERSION = 1
MODEL_XML = "model.xml"
MODEL_BIN = "model.bin"
META_NAME = "conversion.json"
STAGING_PREFIX = ".staging-"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
log = logging.getLogger("newsdesk.encoders")


@dataclass(frozen=True)
class Conversion:
    """A converted model in the cache: where its IR is, and what the conversion cost (0 when it was reused)."""

    xml: Path
    weights_sha256: str
    seconds: float
    bytes: int


def cache_folder(cache_dir: Path, weights_sha256: str) -> Path:
    """The cache entry of one weights file: its full checksum names it."""
    return cache_dir / f"openvino-fp32-v{CONVERSION_VERSION}-{weights_sha256}"


def cached(cache_dir: Path, weights_sha256: str) -> Conversion | None:
    """The cache entry for ``weights_sha256`` if it is complete and is what it says, else None."""
    folder = cache_folder(cache_dir, weights_sha256)
    try:
        meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
        sizes = {name: (folder / name).stat().st_size for name in (MODEL_XML, MODEL_BIN)}
    except (OSError, ValueError):
        return None
    if (
        not isinstance(meta, dict)
        or meta.get("weights_sha256") != weights_sha256
        or meta.get("conversion_version") != CONVERSION_VERSION
        or meta.get("sizes") != sizes
    ):
        return None
    return Conversion(folder / MODEL_XML, weights_sha256, 0.0, sum(sizes.values()))


def ensure_converted(cache_dir: Path, weights_sha256: str, load_transformer: Callable[[], Any]) -> Conversion:
    """The cached IR of the weights ``weights_sha256``, converting ``load_transformer()`` (a Hugging Face
    encoder such as ``BertModel``, loaded only when needed) first if the cache has no valid entry."""
    if not weights_sha256:
        raise ConfigError("document backend 'openvino-fp32' needs a model with a weights file to convert")
    found = cached(cache_dir, weights_sha256)
    if found is not None:
        return found
    final = cache_folder(cache_dir, weights_sha256)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_staging(cache_dir)
        staging = cache_dir / f"{STAGING_PREFIX}{os.getpid()}-{time.monotonic_ns()}"
        staging.mkdir()
    except OSError as err:
        raise ConfigError(
            f"cannot write the OpenVINO model cache in {cache_dir} ({err.strerror or err}): "
            "set encoder_cache_dir (NEWSDESK_ENCODER_CACHE_DIR) to a writable folder"
        ) from None
    try:
        log.warning("converting the model's fp32 weights for OpenVINO, once (about 15 s); cached in %s", final)
        started = time.perf_counter()
        _convert(load_transformer(), staging)
        seconds = time.perf_counter() - started
        sizes = {name: (staging / name).stat().st_size for name in (MODEL_XML, MODEL_BIN)}
        meta = {
            "weights_sha256": weights_sha256,
            "conversion_version": CONVERSION_VERSION,
            "openvino": _openvino_version(),
            "sizes": sizes,
            "seconds": round(seconds, 2),
        }
        (staging / META_NAME).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        fsync_tree(staging)
        if cached(cache_dir, weights_sha256) is None:
            _move_into_place(staging, final)
        else:  # another process converted the same weights meanwhile: keep its entry, which may be in use
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, Exception) and not isinstance(err, ConfigError):
            raise ConfigError(
                f"could not convert the model for OpenVINO ({type(err).__name__}: {_first_line(err)}): "
                "set document_backend = 'openvino' (the int8 export) or 'sentence-transformers'"
            ) from err
        raise
    found = cached(cache_dir, weights_sha256)
    if found is None:  # another process replaced the entry with something that is not this conversion
        raise ConfigError(f"the OpenVINO model cache entry {final} is unreadable: delete it and run again")
    return Conversion(found.xml, weights_sha256, seconds, found.bytes)


def _convert(transformer: Any, target: Path) -> None:
    """Trace ``transformer`` (its last hidden state, all three BERT inputs, any batch and length) into
    an OpenVINO IR in ``target``, weights kept in fp32 (``save_model`` halves them by default)."""
    import openvino
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.full((2, 16), 1000, dtype=torch.int64)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0  # a padded row: an all-ones mask would let the trace drop masking (transformers skips it)
    wrapper = LastHiddenState(transformer).eval()
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer's warnings about Python-side branches concern decoder caches, not this encoder.
        warnings.simplefilter("ignore")
        model = openvino.convert_model(
            wrapper,
            example_input=(ids, mask, torch.zeros_like(ids)),
            input=[(name, openvino.PartialShape([-1, -1]), openvino.Type.i64) for name in INPUT_NAMES],
        )
    for port, name in zip(model.inputs, INPUT_NAMES, strict=True):
        port.get_tensor().set_names({name})
    openvino.save_model(model, str(target / MODEL_XML), compress_to_fp16=False)


def _move_into_place(staging: Path, final: Path) -> None:
    """Rename the finished conversion into place; an invalid entry already there is set aside first. If
    another process renamed its own conversion in between, that one stays and ours is dropped."""
    if final.exists():
        trash = final.with_name(f"{STAGING_PREFIX}{os.getpid()}-{time.monotonic_ns()}-old")
        with contextlib.suppress(FileNotFoundError):
            final.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
    try:
        staging.rename(final)
    except OSError:
        if not final.is_dir():
            raise
        shutil.rmtree(staging, ignore_errors=True)
    fsync_dir(final.parent)


def _remove_abandoned_staging(cache_dir: Path) -> None:
    """Delete staging folders whose process is gone (a crash mid-conversion); running ones stay."""
    for folder in cache_dir.glob(f"{STAGING_PREFIX}*"):
        pid = folder.name[len(STAGING_PREFIX) :].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _openvino_version() -> str:
    import openvino

    return str(openvino.__version__)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:200] if text else "no message"
