from __future__ import annotations

from pathlib import Path

import pytest

from index.errors import ConfigError
from index.settings import BUNDLED_CORPUS, load_settings


def test_defaults_then_file_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "newsdesk.toml"
    config.write_text('k = 7\nmodel = "from-file"\nchunk_tokens = 128\n')
    # NEWSDESK_DATA (the benchmarks' data folder) is not a setting: exporting it must not break the app.
    env = {"NEWSDESK_CONFIG": str(config), "NEWSDESK_K": "9", "DISCORD_TOKEN": "secret", "NEWSDESK_DATA": "../data"}
    settings = load_settings({"chunk_tokens": 100, "k": None}, env=env)
    assert settings.corpus_dir == BUNDLED_CORPUS
    assert (settings.model, settings.k, settings.chunk_tokens) == ("from-file", 9, 100)
    assert settings.discord_token == "secret" and "secret" not in repr(settings)


def test_index_dir_is_per_corpus_and_outside_the_packages() -> None:
    a = load_settings({"corpus_dir": "/tmp/a/corpus"}, env={}).resolved_index_dir()
    b = load_settings({"corpus_dir": "/tmp/b/corpus"}, env={}).resolved_index_dir()
    assert a != b and a.parts[0] == ".newsdesk"


@pytest.mark.parametrize(
    "env,message",
    [
        ({"NEWSDESK_COLOUR": "blue"}, "unknown setting 'colour'"),
        ({"NEWSDESK_K": "many"}, "'k' .* must be a int"),
        ({"NEWSDESK_RETRIEVER": "magic"}, "must be one of dense, bm25, hybrid"),
        ({"NEWSDESK_K": "0"}, "'k' must be positive"),
        ({"NEWSDESK_QUERY_THREADS": "-1"}, "'query_threads' must be >= 0"),
    ],
)
def test_mistakes_are_clear_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)
