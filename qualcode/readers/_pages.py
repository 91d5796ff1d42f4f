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

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["PAGES_KEY", "check_page_starts", "find_page_starts", "page_numbers", "page_of", "page_starts"]

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


def check_page_starts(pages: Any, text: str) -> list[int] | None:
    """``pages`` as page start offsets if they are valid for ``text``, else ``None``.

    Valid: a non-empty list of whole numbers, the first 0, never decreasing, none beyond
    the end of the text (what :func:`page_starts` may read from ``Document.attributes``
    after an import or a hand edit).
    """
    if not isinstance(pages, (list, tuple)) or not pages:
        return None
    out: list[int] = []
    for p in pages:
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
            return None
        out.append(int(p))
    if out[0] != 0 or any(b < a for a, b in zip(out, out[1:], strict=False)) or out[-1] > len(text):
        return None
    return out


_WORD = re.compile(r"\w+")
#: words of a page's beginning looked for in the text
_ANCHOR_WORDS = 8


def _words(text: str) -> list[tuple[str, int]]:
    """The words of ``text`` (NFKC, case-folded) with their offsets."""
    out = []
    for m in _WORD.finditer(text):
        w = unicodedata.normalize("NFKC", m.group()).casefold()
        out.append((w, m.start()))
    return out


def find_page_starts(text: str, page_texts: Sequence[str]) -> list[int] | None:
    r"""Where each page begins in ``text``, a plain-text rendering of a paged document.

    Used when a PDF arrives with a plain-text representation made by another tool (a
    REFI-QDA ``PDFSource``): each page's text (qualcode's reading of the PDF) is located in
    the representation by its first words, in page order.  Words are compared after NFKC
    normalisation and case folding, so ligatures and case do not matter; punctuation and
    whitespace are ignored.  Lines qualcode drops (running headers and footers) but the
    representation kept go with the page before.

    Args:
        text: the document text.
        page_texts: the text of every page, in order (``""`` for a page without text).

    Returns:
        The page start offsets (``[0, ...]``, one per page; a page without text starts where
        the next one does), or ``None`` when a page's beginning cannot be found in order
        (the texts differ too much to tell the pages apart).

    Examples:
        >>> find_page_starts("One page.\fAnd the second page.", ["One page.", "And the second page."])
        [0, 10]
    """
    if not page_texts:
        return None
    words = _words(text)
    joined = " ".join(w for w, _ in words)
    starts_in_joined = np.zeros(len(words), dtype=np.int64)
    pos = 0
    for i, (w, _) in enumerate(words):
        starts_in_joined[i] = pos
        pos += len(w) + 1
    found: list[int | None] = []
    cursor = 0  # in ``joined``: the end of the previous page's first words
    floor = 0  # in ``text``: where the previous page starts
    for page in page_texts:
        pw = [w for w, _ in _words(page)]
        if not pw:
            found.append(None)
            continue
        head = " ".join(pw[:_ANCHOR_WORDS])
        if all(f is None for f in found):  # the first page with text starts the document
            found.append(0)
            cursor = len(head)
            continue
        at = _find_words(joined, head, cursor)
        if at < 0:
            return None
        offset = words[int(np.searchsorted(starts_in_joined, at))][1]
        while offset > floor and not text[offset - 1].isspace():  # "(2)", "“Kami": from the mark
            offset -= 1
        found.append(offset)
        cursor, floor = at + len(head), offset
    starts: list[int] = []
    nxt = len(text)
    for f in reversed(found):  # a page without text starts where the next page starts
        nxt = f if f is not None else nxt
        starts.append(nxt)
    starts.reverse()
    starts[0] = 0
    return starts


def _find_words(joined: str, words: str, start: int) -> int:
    """The first place at or after ``start`` where ``words`` occur as whole words, or -1."""
    at = joined.find(words, start)
    while at >= 0 and not (
        (at == 0 or joined[at - 1] == " ") and (at + len(words) == len(joined) or joined[at + len(words)] == " ")
    ):
        at = joined.find(words, at + 1)
    return at
