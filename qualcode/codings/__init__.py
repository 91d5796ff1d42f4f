"""Codings: the one table of codings (human or machine), reading it from files, reviewing it."""

from ._codings import CODING_COLUMNS, SOURCES, Codings
from ._pages import PAGE_COLUMNS, page_columns, page_label
from ._read import locate_quote, read_codings
from ._review import DECISION_COLUMNS, explain, load_decisions, review, suggestions

__all__ = [
    "CODING_COLUMNS",
    "DECISION_COLUMNS",
    "PAGE_COLUMNS",
    "SOURCES",
    "Codings",
    "explain",
    "load_decisions",
    "locate_quote",
    "page_columns",
    "page_label",
    "read_codings",
    "review",
    "suggestions",
]
