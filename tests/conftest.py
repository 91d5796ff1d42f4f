"""Shared pytest fixtures (keep this file small and generic)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def default_embedder():
    """The real default embedding model (multilingual-e5-small q4), loaded once per session."""
    from qualcode.backends import get_embedder

    return get_embedder()
