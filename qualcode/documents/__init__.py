"""Policy and planning documents: programme items out of tables and lists, and their comparison.

``extract_items(paths)`` reads programme / activity tables and numbered lists of PDF, docx,
text and CSV planning documents into a tidy table (``doc_id, page, section, item_code,
item_name, budget, source``); ``compare_items(a, b)`` matches the items of two documents (or
two sets) by code, normalised name, Indonesian stem, fuzzy similarity and optionally
multilingual embeddings, and gives the overlap table of the technocratic-planning study
(items in A, in B, same name, similar, only in A, only in B) and a plot.

Examples:
    >>> from qualcode.documents import compare_items
    >>> cmp = compare_items(["Program Pengelolaan Pendidikan"], ["PROGRAM PENGELOLAAN PENDIDIKAN"])
    >>> int(cmp.overlap()["same name"].iloc[0])
    1
"""

from __future__ import annotations

from ._compare import (
    ABBREVIATIONS,
    METHODS,
    ItemComparison,
    compare_items,
    name_language,
    normalise_name,
    stem_key,
)
from ._items import ITEM_COLUMNS, ItemsError, extract_items, parse_budget

__all__ = [
    "ABBREVIATIONS",
    "ITEM_COLUMNS",
    "METHODS",
    "ItemComparison",
    "ItemsError",
    "compare_items",
    "extract_items",
    "name_language",
    "normalise_name",
    "parse_budget",
    "stem_key",
]
