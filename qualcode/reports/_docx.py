"""Render a ReportData as a Word document (python-docx)."""

from __future__ import annotations

import os

import pandas as pd

from .._io import atomic_path
from ._data import ReportData

__all__ = ["write_docx"]

_MAX_TABLE_ROWS = 60
_MAX_TABLE_COLS = 12


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return f"{value:.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return "" if value is None else str(value)


def _add_table(document, frame: pd.DataFrame, *, font_pt: float = 8) -> None:
    from docx.shared import Pt

    flat = frame.copy()
    if isinstance(flat.columns, pd.MultiIndex):
        flat.columns = [" / ".join(str(p) for p in c if str(p)) for c in flat.columns]
    flat = flat.reset_index() if not isinstance(flat.index, pd.RangeIndex) else flat
    clipped_cols = flat.shape[1] > _MAX_TABLE_COLS
    clipped_rows = len(flat) > _MAX_TABLE_ROWS
    flat = flat.iloc[:_MAX_TABLE_ROWS, :_MAX_TABLE_COLS]
    table = document.add_table(rows=1, cols=flat.shape[1])
    table.style = "Light Grid Accent 1"
    for j, col in enumerate(flat.columns):
        cell = table.rows[0].cells[j]
        cell.text = str(col).replace("_", " ")
    for row in flat.itertuples(index=False):
        cells = table.add_row().cells
        for j, value in enumerate(row):
            cells[j].text = _fmt(value)
    from docx.shared import Cm

    # a wide first column for case ids and code names; the rest share the page width
    table.autofit = False
    n_cols = flat.shape[1]
    first = Cm(min(6.5, 26.0 / n_cols * 2.2)) if n_cols > 1 else Cm(26.0)
    rest = Cm((26.0 - first.cm) / max(n_cols - 1, 1))
    for j, column in enumerate(table.columns):
        column.width = first if j == 0 else rest
    for row in table.rows:
        for j, cell in enumerate(row.cells):
            cell.width = first if j == 0 else rest
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(font_pt)
    if clipped_rows or clipped_cols:
        note = document.add_paragraph()
        note.add_run(
            f"(Table shortened to {min(len(frame), _MAX_TABLE_ROWS)} rows and at most "
            f"{_MAX_TABLE_COLS} columns; the full table is in matrices.xlsx.)"
        ).italic = True


def _picture_size(png: object) -> tuple[int, int]:
    """Natural size of a PNG in EMU (from its pixels and dpi; 96 dpi when it has none)."""
    from PIL import Image

    with Image.open(str(png)) as img:
        px_w, px_h = img.size
        dpi = img.info.get("dpi") or (96, 96)
    emu_per_inch = 914400
    return int(px_w / float(dpi[0] or 96) * emu_per_inch), int(px_h / float(dpi[1] or 96) * emu_per_inch)


def write_docx(path: str | os.PathLike[str], report: ReportData, *, overwrite: bool = True) -> None:
    """Write ``report`` as a .docx file atomically.

    Args:
        path: destination ``.docx``.
        report: the content (see :class:`ReportData`).
        overwrite: refuse to replace an existing file when False.
    """
    from docx import Document as DocxDocument
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    doc = DocxDocument()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    page_w, page_h = section.page_height, section.page_width  # landscape: the sides swap
    assert page_w is not None and page_h is not None  # python-docx's default template sets them
    section.page_width, section.page_height = page_w, page_h
    margin = Cm(1.8)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, margin)
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(10)

    doc.add_heading(report.title, level=0)
    summary = doc.add_table(rows=0, cols=2)
    summary.style = "Light List Accent 1"
    for label, value in report.summary.items():
        cells = summary.add_row().cells
        cells[0].text = label
        cells[1].text = value

    doc.add_heading("Codebook", level=1)
    _add_table(doc, report.codebook, font_pt=8)

    doc.add_heading("Codes across cases", level=1)
    for sec in report.sections:
        title = f"{sec.name} ({sec.code})"
        doc.add_heading(title, level=2)
        if sec.parent:
            doc.add_paragraph().add_run(f"Theme: {sec.parent}").italic = True
        p = doc.add_paragraph()
        p.add_run("Definition. ").bold = True
        p.add_run(sec.definition or "(no definition)")
        p = doc.add_paragraph()
        p.add_run("Prevalence. ").bold = True
        p.add_run(
            f"Coded in {sec.n_cases} of {sec.n_cases_total} cases "
            f"({sec.n_segments} coded segments)."
        )
        for attribute, text in sec.groups.items():
            doc.add_paragraph(f"By {attribute}: {text}", style="List Bullet")
        if sec.quotes:
            doc.add_paragraph().add_run("Exemplar quotes").bold = True
            for q in sec.quotes:
                para = doc.add_paragraph(style="Quote")
                para.add_run(f"“{q.text}”")
                para.add_run(
                    f" — {q.speaker}, {q.where} (case {q.case_id}; {q.source}, score {q.score:.2f})"
                ).italic = True
        else:
            doc.add_paragraph().add_run("No passage was coded with this code.").italic = True

    doc.add_heading("Matrices", level=1)
    for title, frame in report.tables:
        doc.add_heading(title, level=2)
        _add_table(doc, frame)

    if report.figures:
        from docx.enum.text import WD_BREAK
        from docx.shared import Emu

        doc.add_heading("Figures", level=1)
        usable_w = page_w - 2 * margin
        usable_h = page_h - 2 * margin
        room_h = usable_h - Cm(2.2)  # the figure's heading above it
        for i, (title, png) in enumerate(report.figures):
            if i:
                doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)  # one figure per page
            heading = doc.add_heading(title, level=2)
            heading.paragraph_format.keep_with_next = True
            w, h = _picture_size(png)
            scale = min(1.0, usable_w / w, room_h / h)  # fit the page, never enlarge
            doc.add_picture(str(png), width=Emu(int(w * scale)), height=Emu(int(h * scale)))

    doc.add_heading("Methods and reproducibility", level=1)
    for block in report.methods.split("\n\n"):
        doc.add_paragraph(block)

    with atomic_path(path, overwrite=overwrite) as tmp:
        doc.save(str(tmp))
