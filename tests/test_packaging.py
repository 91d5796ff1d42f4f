"""The installed package: public API, metadata, data files, and what importing it pulls in."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import qualcode


def test_every_name_in_all_resolves() -> None:
    for name in qualcode.__all__:
        assert getattr(qualcode, name) is not None, name


def test_version_comes_from_the_installed_metadata() -> None:
    assert qualcode.__version__ == importlib.metadata.version("qualcode")


def test_console_script_is_declared() -> None:
    eps = importlib.metadata.entry_points(group="console_scripts")
    assert any(ep.name == "qualcode" and ep.value == "qualcode.cli:main" for ep in eps)


def test_package_data_ships_the_refi_schemas_and_typing_marker() -> None:
    root = Path(qualcode.__file__).parent
    assert (root / "py.typed").exists()
    assert (root / "data" / "refi" / "Project.xsd").exists()
    assert (root / "data" / "refi" / "Codebook.xsd").exists()


def test_import_is_light_and_never_pulls_torch() -> None:
    code = (
        "import sys, qualcode; light = 'spacy' not in sys.modules and 'sklearn' not in sys.modules; "
        "qualcode.Codebook; qualcode.read_corpus; qualcode.matrices; qualcode.reliability; "
        "from qualcode.backends import get_embedder; get_embedder(); "
        "print(light, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


def test_core_dependencies_exclude_torch() -> None:
    requires = importlib.metadata.requires("qualcode") or []
    core = [r for r in requires if "extra ==" not in r]
    assert not [r for r in core if r.lower().startswith(("torch", "sentence-transformers"))]
