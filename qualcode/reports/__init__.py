"""Reports of a coding run: matrices workbook (xlsx), Word report (docx), HTML report."""

from __future__ import annotations

from ._build import build_matrices, build_report, report_attributes
from ._data import CodeSection, Quote, ReportData
from ._docx import write_docx
from ._html import render_html, write_html
from ._xlsx import write_xlsx

__all__ = [
    "CodeSection",
    "Quote",
    "ReportData",
    "build_matrices",
    "build_report",
    "render_html",
    "report_attributes",
    "write_docx",
    "write_html",
    "write_xlsx",
]
