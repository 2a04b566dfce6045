"""``newsdesk index --ray``: embedding on a local Ray cluster writes the vectors one process writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.builder import open_index
from index.ray_embedding import RayEmbedder
from index.settings import BUNDLED_CORPUS, load_settings


@pytest.mark.slow
def test_ray_index_has_the_single_process_vectors(seed_desk, embedder, tmp_path: Path) -> None:
    settings = load_settings(
        {"corpus_dir": BUNDLED_CORPUS, "index_dir": tmp_path / "index", "show_progress": False, "ray_address": "local"},
        env={},
    )
    distributed = RayEmbedder(embedder, "local")
    try:
        before = embedder.encoded
        stored, report = open_index(settings, distributed)
        import ray

        workers = ray.cluster_resources().get("CPU", 0)
    finally:
        distributed.close()
    assert workers >= 1
    assert embedder.encoded == before  # nothing was embedded on this process
    assert report.embedded_chunks == len(seed_desk.stored.chunks) and report.embedded_sentences > 0
    single = seed_desk.stored
    assert [c.text for c in stored.chunks] == [c.text for c in single.chunks]
    np.testing.assert_allclose(stored.vectors, single.vectors, atol=2e-5)
    assert stored.sentences is not None and single.sentences is not None
    np.testing.assert_allclose(
        stored.sentences.vectors.astype(np.float32), single.sentences.vectors.astype(np.float32), atol=2e-3
    )
    # And the rows are in place: each chunk's vector is nearest to its own single-process vector.
    nearest = (stored.vectors @ single.vectors.T).argmax(axis=1)
    assert nearest.tolist() == list(range(len(single.chunks)))
