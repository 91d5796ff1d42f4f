"""qualcode: computer-assisted qualitative coding from Python and Jupyter.

Ingest interview transcripts and focus-group notes into a :class:`Corpus`, apply a
versioned :class:`Codebook` with explainable rule and embedding matching
(:class:`Coder`), and read the result across cases as theme matrices.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .codings._codings import Codings
from .corpus._model import Corpus, Document, SourceInfo, Turn

try:
    __version__ = version("qualcode")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

# Heavier parts are imported on first use, so `import qualcode` stays fast.
_LAZY: dict[str, tuple[str, str | None]] = {
    "read_corpus": ("qualcode.readers", "read_corpus"),
    "read_document": ("qualcode.readers", "read_document"),
    "read_codings": ("qualcode.codings", "read_codings"),
    "Codebook": ("qualcode.codebook", "Codebook"),
    "Code": ("qualcode.codebook", "Code"),
    "Coder": ("qualcode.coding", "Coder"),
    "matrices": ("qualcode.matrices", None),
    "reliability": ("qualcode.reliability", None),
    "plotting": ("qualcode.plotting", None),
    "backends": ("qualcode.backends", None),
    "refi": ("qualcode.refi", None),
    "readers": ("qualcode.readers", None),
    "errors": ("qualcode.errors", None),
    "testing": ("qualcode.testing", None),
    "explore": ("qualcode.explore", None),
    "reports": ("qualcode.reports", None),
    "documents": ("qualcode.documents", None),
    "default_cache_dir": ("qualcode._io", "default_cache_dir"),
    "Project": ("qualcode.project", "Project"),
    "review": ("qualcode.app", "review"),
}

__all__ = [
    "Code",
    "Codebook",
    "Coder",
    "Codings",
    "Corpus",
    "Document",
    "Project",
    "SourceInfo",
    "Turn",
    "__version__",
    "backends",
    "default_cache_dir",
    "documents",
    "errors",
    "explore",
    "matrices",
    "plotting",
    "read_codings",
    "read_corpus",
    "read_document",
    "readers",
    "refi",
    "reliability",
    "reports",
    "review",
    "testing",
]


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        msg = f"module 'qualcode' has no attribute {name!r}"
        raise AttributeError(msg) from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
