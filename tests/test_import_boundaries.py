"""The layers stay apart: ``bot/`` uses only ``index``'s public face, ``index/`` knows nothing of chat.

Imports are read from the source with :mod:`ast` (nothing is imported), including those inside functions,
so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What the retrieval layer must never reach for: the front ends and the chat libraries they use.
CHAT_MODULES = ("bot", "discord", "prompt_toolkit", "rich", "typer")
# What the front ends must never reach for: the vector engines behind index (README: bot knows nothing of FAISS).
ENGINE_MODULES = ("faiss", "pymilvus", "bm25s", "sentence_transformers", "onnxruntime", "openvino")


def imports(source: str) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, module, names) of every import in ``source``; ``names`` is empty for ``import x``."""
    found: list[tuple[int, str, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, tuple(alias.name for alias in node.names)))
    return sorted(found)


def public_names() -> set[str]:
    """``index.__all__``, read from index/__init__.py."""
    tree = ast.parse((ROOT / "index" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return {ast.literal_eval(item) for item in node.value.elts}  # type: ignore[attr-defined]
    raise AssertionError("index/__init__.py has no __all__")


def _within(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


def bot_violations(source: str, public: set[str]) -> list[str]:
    """What a front-end module imports past ``index``'s public face, or from the engines behind it."""
    out = []
    for line, module, names in imports(source):
        if module.startswith("index."):
            out.append(f"line {line}: imports {module}; import it from index (add it to index/__init__.py)")
        elif module == "index":
            out += [f"line {line}: index.{n} is not in index.__all__" for n in names if n not in public]
        elif _within(module, ENGINE_MODULES):
            out.append(f"line {line}: imports {module}, which belongs behind index")
    return out


def index_violations(source: str) -> list[str]:
    """What a retrieval-layer module imports from the front ends or chat libraries."""
    return [f"line {line}: imports {module}" for line, module, _ in imports(source) if _within(module, CHAT_MODULES)]


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _sources("bot"), ids=lambda p: p.name)
def test_front_ends_import_only_the_public_face_of_index(path: Path) -> None:
    assert bot_violations(path.read_text(encoding="utf-8"), public_names()) == []


@pytest.mark.parametrize("path", _sources("index"), ids=lambda p: p.name)
def test_the_retrieval_layer_knows_nothing_of_chat(path: Path) -> None:
    assert index_violations(path.read_text(encoding="utf-8")) == []


def test_every_public_name_of_index_exists() -> None:
    import index

    assert sorted(name for name in public_names() if not hasattr(index, name)) == []


def test_the_checks_see_lazy_and_aliased_imports() -> None:
    # The checks themselves: each kind of crossing, also inside a function, is reported.
    source = (
        "import index.store\n"
        "from index import Newsdesk, store\n"
        "def late():\n"
        "    from index.answering import compose_answer\n"
        "    import faiss as f\n"
    )
    found = bot_violations(source, {"Newsdesk"})
    assert [v.split(":")[0] for v in found] == ["line 1", "line 2", "line 4", "line 5"]
    assert index_violations("def f():\n    from bot.chat import ChatCore\nimport discord.ui\n") == [
        "line 2: imports bot.chat",
        "line 3: imports discord.ui",
    ]
    assert bot_violations("from index import Newsdesk\nimport json\n", {"Newsdesk"}) == []
