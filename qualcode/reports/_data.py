"""The content of a coding report, independent of its output format."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["CodeSection", "Quote", "ReportData"]


@dataclass(frozen=True, slots=True)
class Quote:
    """One exemplar passage with where it comes from.

    ``page`` and ``page_end`` are the pages of a passage from a PDF source (``None``
    otherwise); :attr:`where` is the citation the reports print.
    """

    text: str
    doc_id: str
    speaker: str
    case_id: str
    source: str
    score: float
    page: int | None = None
    page_end: int | None = None

    @property
    def where(self) -> str:
        """``doc_id`` or ``doc_id, p. 12`` (``pp. 12–13`` across a page break)."""
        from ..codings._pages import page_label

        pages = page_label(self.page, self.page_end)
        return f"{self.doc_id}, {pages}" if pages else self.doc_id


@dataclass(frozen=True, slots=True)
class CodeSection:
    """Everything the report says about one code."""

    code: str
    name: str
    parent: str | None
    definition: str
    n_cases: int
    n_cases_total: int
    n_segments: int
    groups: dict[str, str] = field(default_factory=dict)
    quotes: tuple[Quote, ...] = ()


@dataclass(slots=True)
class ReportData:
    """A report: summary, codebook, per-code sections, tables, figures and a methods paragraph.

    Attributes:
        title: the report title.
        summary: label -> value pairs shown first (documents, segments, codings...).
        codebook: one row per code (id, name, parent, definition).
        sections: one section per code, in codebook order.
        tables: (title, DataFrame) pairs shown as tables.
        figures: (title, PNG path) pairs.
        methods: the reproducibility paragraph.
        settings: the run settings (also written to run.json).
    """

    title: str
    summary: dict[str, str]
    codebook: pd.DataFrame
    sections: list[CodeSection]
    tables: list[tuple[str, pd.DataFrame]]
    figures: list[tuple[str, Path]]
    methods: str
    settings: dict[str, object] = field(default_factory=dict)
