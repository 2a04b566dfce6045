"""Document embedding spread over a Ray cluster with Ray Data (``newsdesk index --ray [ADDRESS]``).

:class:`RayEmbedder` is an :class:`index.embedding.Embedder`: the index builder calls ``encode`` as it
does on one process, and gets the same vectors. The texts become a Ray dataset of (row number, text);
``map_batches`` runs them through a pool of actors, each loading the model once (the same
sentence-transformers model, from the same installed package, on every worker) and embedding whole
batches; the rows come back in any order and are put in place by their row number.

Tokenising, counting tokens and everything else stay on this process; only ``encode`` is distributed.
``ray_address`` ``local`` starts a Ray instance on this machine (its CPUs become the actors), anything
else is passed to ``ray.init(address=...)``. The workers must run the same Python environment (this
package and the model package installed), as Ray requires for any task.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import numpy as np

from index.embedding import Embedder, SentenceTransformerEmbedder
from index.errors import ConfigError
from index.extras import require_extra

log = logging.getLogger("newsdesk.ray")
LOCAL = "local"


class _EncodeActor:
    """One model per actor, loaded once; ``__call__`` embeds one batch of rows."""

    def __init__(self, model: str, threads: int) -> None:
        import torch

        # Each actor owns its CPU share: without this every actor would use every core of its node.
        torch.set_num_threads(max(1, threads))
        self.embedder = SentenceTransformerEmbedder(model)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.encode([str(t) for t in batch["text"]], batch_size=len(batch["text"]))
        return {"row": batch["row"], "vector": vectors}


class RayEmbedder:
    """``documents`` with :meth:`encode` run on Ray actors (the other methods stay local)."""

    def __init__(self, documents: Embedder, address: str, show_progress: bool = False) -> None:
        self.documents = documents
        self.model_id = documents.model_id
        self.address = address
        self.show_progress = show_progress
        self._started = False

    @property
    def dimension(self) -> int:
        return self.documents.dimension

    @property
    def max_tokens(self) -> int:
        return self.documents.max_tokens

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.documents.count_tokens(texts)

    def describe(self) -> dict[str, str]:
        """The encoder the actors run (the index manifest records it): the sentence-transformers model."""
        return SentenceTransformerEmbedder(self.model_id).describe()

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ray = self._ray()
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        batches = -(-len(texts) // batch_size)
        actors = max(1, min(cpus, batches))
        dataset = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)], override_num_blocks=actors)
        embedded = dataset.map_batches(
            _EncodeActor,
            fn_constructor_args=(self.model_id, 1),
            batch_size=batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=1,
        )
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        filled = np.zeros(len(texts), dtype=bool)
        for batch in embedded.iter_batches(batch_format="numpy", batch_size=None):
            rows = batch["row"].astype(np.int64)
            out[rows] = np.stack(list(batch["vector"])).astype(np.float32)
            filled[rows] = True
        if not filled.all():
            raise RuntimeError(f"Ray returned {int(filled.sum())} of {len(texts)} vectors")
        return out

    def _ray(self) -> Any:
        ray = require_extra("ray", "--ray")
        if not ray.is_initialized():
            address = None if self.address == LOCAL else self.address
            try:
                ray.init(
                    address=address,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.WARNING,
                    configure_logging=True,
                )
            except (ConnectionError, ValueError, RuntimeError) as err:
                raise ConfigError(
                    f"cannot reach the Ray cluster at {self.address!r} ({err}): start it or fix --ray"
                ) from None
            self._started = True
            importlib.import_module("ray.data")  # Ray Data is a submodule: encode needs it loaded

            context = ray.data.DataContext.get_current()
            context.enable_progress_bars = self.show_progress
            log.info("Ray: %s CPUs", ray.cluster_resources().get("CPU"))
        return ray

    def close(self) -> None:
        """Leave the cluster (and stop the local Ray instance) if this embedder joined it."""
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


def ray_embedder(documents: Embedder, address: str, show_progress: bool = False) -> RayEmbedder:
    return RayEmbedder(documents, address or LOCAL, show_progress)
