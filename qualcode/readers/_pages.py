"""Page numbers of paged sources (PDF): which page a character offset lies on.

A document read from a paged source carries ``Document.attributes["pages"]``: a list of
ints, the offset in ``Document.text`` at which each page's text starts (``pages[0]`` is
page 1 and is always 0).  It is plain JSON, so it travels with the document through
REFI-QDA descriptions, YAML and CSV exports unchanged.  Pages follow each other in the text
in order, separated by a blank line; a page without text (a blank or skipped scanned page)
starts where the next page starts, so its number is never returned for an offset.

Offsets between two pages (the blank line separating them) belong to the earlier page; an
offset before the start (never happens: ``pages[0] == 0``) or a document without pages gives
``None``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["PAGES_KEY", "page_numbers", "page_of", "page_starts"]

#: the ``Document.attributes`` key holding the page start offsets
PAGES_KEY = "pages"


def page_starts(doc: Any) -> list[int] | None:
    """The page start offsets of a document, or ``None`` when it has no pages.

    Args:
        doc: a :class:`qualcode.Document`.

    Returns:
        The offsets (page 1 first), or ``None`` for documents from unpaged sources.
    """
    pages = getattr(doc, "attributes", {}).get(PAGES_KEY)
    if not pages:
        return None
    return [int(p) for p in pages]


def page_of(doc: Any, offset: int) -> int | None:
    r"""The 1-based page number holding the character ``offset`` of ``doc.text``.

    Args:
        doc: a :class:`qualcode.Document`.
        offset: a character offset into ``doc.text`` (a segment's or coding's ``start``).

    Returns:
        The page number, or ``None`` when the document has no page information.

    Examples:
        >>> import qualcode as qc
        >>> doc = qc.Document("d", "first page\n\nsecond page", attributes={"pages": [0, 12]})
        >>> page_of(doc, 0), page_of(doc, 12), page_of(doc, 20)
        (1, 2, 2)
    """
    starts = page_starts(doc)
    if starts is None or offset < 0:
        return None
    i = bisect_right(starts, int(offset))
    return i if i > 0 else None


def page_numbers(doc: Any, offsets: Iterable[int]) -> np.ndarray:
    """Vectorised :func:`page_of`: the page of every offset, ``0`` where unknown.

    Args:
        doc: a :class:`qualcode.Document`.
        offsets: character offsets into ``doc.text``.

    Returns:
        An int64 array of 1-based page numbers (``0`` for a document without pages or a
        negative offset).
    """
    off = np.asarray(list(offsets), dtype=np.int64)
    starts = page_starts(doc)
    if starts is None:
        return np.zeros(len(off), dtype=np.int64)
    pages = np.searchsorted(np.asarray(starts, dtype=np.int64), off, side="right")
    return np.where(off >= 0, pages, 0).astype(np.int64)
