"""Shared pytest fixtures (keep this file small and generic)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]

# One embedding cache for the whole session, shared with the notebooks and CLI runs the tests
# start (they inherit the environment): the sample is embedded once, never into the user's
# cache. Set QUALCODE_TEST_CACHE_DIR to keep it between local runs.
_OWN_CACHE = not os.environ.get("QUALCODE_TEST_CACHE_DIR")
os.environ["QUALCODE_CACHE_DIR"] = os.environ.get("QUALCODE_TEST_CACHE_DIR") or tempfile.mkdtemp(
    prefix="qualcode-test-cache-"
)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _OWN_CACHE:
        shutil.rmtree(os.environ["QUALCODE_CACHE_DIR"], ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> list[str]:
    import qualcode

    return [f"qualcode {qualcode.__version__}; embedding cache {os.environ['QUALCODE_CACHE_DIR']}"]


@pytest.fixture(scope="session")
def default_embedder():
    """The real default embedding model (multilingual-e5-small q4), loaded once per session."""
    from qualcode.backends import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled synthetic sample."""
    return REPO / "transcripts_sample"


@pytest.fixture(scope="session")
def codebooks_dir() -> Path:
    """The shipped codebooks."""
    return REPO / "codebooks"
