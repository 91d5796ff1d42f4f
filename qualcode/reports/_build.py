"""Assemble the matrices, figures and text of a coding report from a Codings table."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..codings._codings import Codings
from ..corpus._model import Corpus
from ._data import CodeSection, Quote, ReportData

__all__ = ["HEATMAP_ROWS_PER_PAGE", "build_matrices", "build_report", "charted", "coverage_percent", "report_attributes"]

log = logging.getLogger("qualcode")

#: Case attributes that say something about a group (ids and free text are skipped).
_MAX_GROUPS = 12


def report_attributes(corpus: Corpus | pd.DataFrame) -> list[str]:
    """Case attributes worth a code × attribute matrix: 2..12 distinct values, not unique ids.

    Args:
        corpus: the corpus, or its case table (``corpus.cases``).

    Returns:
        The column names, in table order.
    """
    cases = corpus if isinstance(corpus, pd.DataFrame) else corpus.cases
    out = []
    for col in cases.columns:
        values = cases[col].dropna().astype(str)
        values = values[values != ""]
        n = values.nunique()
        if 2 <= n <= _MAX_GROUPS and n < max(len(values), 1):
            out.append(str(col))
    return out


def coverage_percent(coverage: pd.DataFrame) -> pd.DataFrame:
    """A coverage matrix (fractions, as the matrices give it) in percent to 2 decimals, as the reports show it."""
    percent = (coverage * 100).round(2)
    percent.attrs = {**coverage.attrs, "unit_of_value": "percent of the case's characters"}
    return percent


def build_matrices(
    codings: Codings, corpus: Corpus, codebook: Any, *, quotes: int = 2
) -> dict[str, pd.DataFrame]:
    """Every matrix the report shows, keyed by sheet name (in display order)."""
    from .. import matrices

    sheets: dict[str, pd.DataFrame] = {}
    kw = {"codebook": codebook, "aggregate": "children"}
    sheets["case x code (segments)"] = matrices.case_by_code(
        codings, corpus, value="n_segments", margins=True, **kw
    )
    sheets["case x code (coverage %)"] = coverage_percent(matrices.case_by_code(codings, corpus, value="coverage", **kw))
    sheets["case x code (presence)"] = matrices.case_by_code(codings, corpus, value="present", **kw)
    for attribute in report_attributes(corpus):
        sheets[f"code x {attribute}"] = matrices.code_by_attribute(
            codings, corpus, attribute, value="n_cases", **kw
        )
    sheets["co-occurrence"] = matrices.cooccurrence(codings, level="segment", measure="count")
    sheets["co-occurrence (c)"] = matrices.cooccurrence(codings, level="segment", measure="c")
    sheets["framework matrix"] = matrices.framework_matrix(codings, corpus, quotes=quotes, **kw)
    return sheets


#: Rows of a heatmap per figure: a taller one is split so that every part fits a page
#: (landscape letter/A4 with the report's margins) at a readable size.
HEATMAP_ROWS_PER_PAGE = 20


def _without_value(frame: pd.DataFrame) -> tuple[int, int]:
    """(cases without a value, cases) of a code × attribute matrix, from its group sizes."""
    sizes = frame.attrs.get("group_sizes") or {}
    total = int(sum(int(v) for v in sizes.values()))
    return int(sizes.get("(missing)", 0)), total


def charted(frame: pd.DataFrame) -> bool:
    """Whether a code × attribute matrix gets a chart: at least half of its cases have a value.

    A chart of an attribute most cases lack would compare a few cases while looking like a
    comparison of all of them; its table (with group sizes and the number of cases without a
    value) is still in the report and the workbook.
    """
    missing, total = _without_value(frame)
    return total > 0 and 2 * (total - missing) >= total


def _group_label(group: Any, sizes: Mapping[Any, Any]) -> str:
    size = sizes.get(group)
    return f"{group} (n={int(size)})" if size is not None else str(group)


def _attribute_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The code × attribute counts with each group's size in its column label."""
    sizes = frame.attrs.get("group_sizes") or {}
    out = frame.rename(columns={c: _group_label(c, sizes) for c in frame.columns if c != "All"})
    out.attrs = dict(frame.attrs)
    return out


def _missing_note(frame: pd.DataFrame, attribute: str) -> str:
    missing, total = _without_value(frame)
    return f"{missing} of {total} cases have no {attribute}" if missing else ""


def _figures(
    sheets: Mapping[str, pd.DataFrame], summary: Any, figures_dir: Path
) -> list[tuple[str, Path]]:
    from .. import plotting

    figures_dir.mkdir(parents=True, exist_ok=True)
    out: list[tuple[str, Path]] = []

    def save(fig: Any, name: str, title: str) -> None:
        path = figures_dir / f"{name}.png"
        fig.savefig(path, dpi=130, bbox_inches="tight")  # qualcode figures are not pyplot's
        out.append((title, path))

    def heatmaps(matrix: pd.DataFrame, name: str, title: str) -> None:
        n = len(matrix)
        if n <= HEATMAP_ROWS_PER_PAGE:
            save(plotting.heatmap(matrix, title=title), name, title)
            return
        parts = -(-n // HEATMAP_ROWS_PER_PAGE)
        size = -(-n // parts)  # parts of equal size
        for k, start in enumerate(range(0, n, size), 1):
            part = matrix.iloc[start:start + size]
            part.attrs = dict(matrix.attrs)
            label = f"{title} (cases {start + 1}–{start + len(part)} of {n})"
            save(plotting.heatmap(part, title=label, width=9.5, height=0.24 * len(part) + 2.0),
                 f"{name}_{k}", label)

    seg = sheets["case x code (segments)"]
    seg = seg.drop(index="All", errors="ignore").drop(columns="All", errors="ignore")
    heatmaps(seg, "case_by_code_heatmap", "Coded segments per case and code")
    heatmaps(sheets["case x code (coverage %)"], "coverage_heatmap", "Coverage (% of each case's characters)")
    save(plotting.cooccurrence_heatmap(sheets["co-occurrence"]), "cooccurrence",
         "Code co-occurrence (segments coded with both)")
    for name, frame in sheets.items():
        if not name.startswith("code x ") or not charted(frame):
            continue
        attribute = name[len("code x "):]
        sizes = frame.attrs.get("group_sizes") or {}
        groups = [g for g in frame.columns if g not in ("All", "(missing)") and sizes.get(g)]
        share = frame[groups].astype(float).div(pd.Series({g: float(sizes[g]) for g in groups})) * 100
        share.columns = pd.Index([_group_label(g, sizes) for g in groups], name=attribute)
        share.attrs = {**frame.attrs, "value": "% of the group's cases with the code"}
        note = _missing_note(frame, attribute)
        title = f"Share of cases with each code, by {attribute}" + (f" ({note}; left out)" if note else "")
        save(plotting.attribute_bars(share, title=title), f"by_{attribute}", title)
    save(plotting.saturation_curve(summary), "saturation", "Saturation: new codes per document")
    return out


def _quote_rows(codings: Codings, code: str, k: int) -> list[Quote]:
    f = codings.to_frame()
    f = f[f["code"] == code]
    if not len(f):
        return []
    f = f.assign(_human=(f["source"] == "human").astype(int))
    f = f.sort_values(["_human", "score", "doc_id", "start"], ascending=[False, False, True, True])
    f = f.drop_duplicates(subset=["case_id"]).head(k)
    quotes = []
    for row in f.itertuples():
        page, page_end = getattr(row, "page", None), getattr(row, "page_end", None)
        quotes.append(
            Quote(
                text=str(getattr(row, "text", "")),
                doc_id=str(row.doc_id),
                speaker=str(getattr(row, "speaker", "") or ""),
                case_id=str(row.case_id),
                source=str(row.source),
                score=float(row.score) if pd.notna(row.score) else 1.0,
                page=None if page is None or pd.isna(page) else int(page),
                page_end=None if page_end is None or pd.isna(page_end) else int(page_end),
            )
        )
    return quotes


def build_report(
    corpus: Corpus,
    codebook: Any,
    codings: Codings,
    *,
    settings: Mapping[str, Any],
    figures_dir: Path | None = None,
    quotes: int = 3,
) -> tuple[ReportData, dict[str, pd.DataFrame]]:
    """Compute the matrices and figures and assemble the report content.

    Args:
        corpus: the coded corpus.
        codebook: the codebook the codings refer to.
        codings: the codings (machine, human or both); ``text`` and ``speaker`` are looked
            up in the corpus when missing, and the pages of PDF sources are computed.
        settings: run settings; shown in the methods paragraph (model, thresholds...).
        figures_dir: where to save the PNG figures (no figures when None).
        quotes: exemplar quotes per code.

    Returns:
        The report content and the matrices (sheet name -> DataFrame).
    """
    from .. import __version__, matrices

    if "text" not in codings.to_frame().columns or "speaker" not in codings.to_frame().columns:
        codings = _with_text(codings, corpus)
    codings = codings.with_pages(corpus)  # quotes from PDF sources cite their page
    sheets = build_matrices(codings, corpus, codebook)
    summary = matrices.cross_case_summary(codings, corpus, codebook=codebook)
    per_code = summary.codes
    figures = _figures(sheets, summary, figures_dir) if figures_dir is not None else []

    n_cases_total = len(corpus.cases)
    cb_rows = []
    sections: list[CodeSection] = []
    attributes = report_attributes(corpus)
    for code in codebook.codes:
        cb_rows.append(
            {"code": code.id, "name": code.name, "parent": code.parent or "",
             "definition": code.definition}
        )
        n_cases = int(per_code.loc[code.id, "n_cases"]) if code.id in per_code.index else 0
        n_seg = int(per_code.loc[code.id, "n_segments"]) if code.id in per_code.index else 0
        groups: dict[str, str] = {}
        for attribute in attributes:
            frame = sheets.get(f"code x {attribute}")
            if frame is not None and code.id in frame.index:
                row = frame.loc[code.id]
                sizes = frame.attrs.get("group_sizes") or {}
                parts = [f"{col}: {int(v)} of {int(sizes[col])}" if sizes.get(col) is not None else f"{col}: {int(v)}"
                         for col, v in row.items() if str(col) not in ("All", "(missing)")]
                note = _missing_note(frame, attribute)
                groups[attribute] = ", ".join(parts) + " cases" + (f" ({note})" if note else "")
        sections.append(
            CodeSection(
                code=code.id,
                name=code.name,
                parent=codebook[code.parent].name if code.parent else None,
                definition=code.definition,
                n_cases=n_cases,
                n_cases_total=n_cases_total,
                n_segments=n_seg,
                groups=groups,
                quotes=tuple(_quote_rows(codings, code.id, quotes)),
            )
        )
    f = codings.to_frame()
    run_summary = {
        "Documents": str(len(corpus)),
        "Cases": str(n_cases_total),
        "Segments coded": str(settings.get("n_segments", "")),
        "Codings": str(len(f)),
        "Codebook": f"{codebook.name} v{codebook.version}",
    }
    by_source = f["source"].value_counts().to_dict()
    run_summary["Codings by source"] = ", ".join(f"{k}: {v}" for k, v in sorted(by_source.items()))
    methods = _methods(corpus, codebook, settings, __version__)
    seg_table = sheets["case x code (segments)"]
    coded = seg_table.drop(index="All", errors="ignore")
    coded = coded[coded.drop(columns="All", errors="ignore").sum(axis=1) > 0].index
    n_empty = len(seg_table.drop(index="All", errors="ignore")) - len(coded)
    note = f" ({n_empty} cases without any coding omitted; all cases are in matrices.xlsx)" if n_empty else ""
    keep = [*coded, "All"] if "All" in seg_table.index else list(coded)
    tables = [
        ("Cases × codes: coded segments" + note, seg_table.loc[keep]),
        ("Cases × codes: coverage (% of characters)" + note,
         sheets["case x code (coverage %)"].loc[list(coded)].round(1)),
    ]
    for name, frame in sheets.items():
        if name.startswith("code x "):
            attribute = name[len("code x "):]
            note = _missing_note(frame, attribute)
            tables.append((f"Codes × {attribute}: cases with the code (n = cases in the group)"
                           + (f"; {note}" if note else ""), _attribute_table(frame)))
    tables.append(("Code co-occurrence (segments)", sheets["co-occurrence"]))
    report = ReportData(
        title=f"qualcode report: {codebook.name}",
        summary=run_summary,
        codebook=pd.DataFrame(cb_rows),
        sections=sections,
        tables=tables,
        figures=figures,
        methods=methods,
        settings=dict(settings),
    )
    return report, sheets


def _with_text(codings: Codings, corpus: Corpus) -> Codings:
    f = codings.with_roles(corpus).to_frame()
    f["text"] = [corpus[d].text[s:e] if d in corpus else "" for d, s, e in
                 zip(f["doc_id"], f["start"], f["end"], strict=True)]
    return Codings(f, meta=codings.meta)


def _methods(corpus: Corpus, codebook: Any, settings: Mapping[str, Any], version: str) -> str:
    thresholds = settings.get("thresholds") or {}
    parts = []
    if isinstance(thresholds, Mapping):
        for source, values in sorted(thresholds.items()):
            if isinstance(values, Mapping):
                if values:
                    inner = ", ".join(f"{k} {float(v):.3f}" for k, v in sorted(values.items()))
                    parts.append(f"{source} ({inner})")
            else:
                parts.append(f"{source} {float(values):.3f}")
    thr = "; ".join(parts) or str(settings.get("threshold") or "default")
    return (
        f"The corpus ({len(corpus)} documents, corpus hash {corpus.fingerprint}) was segmented "
        f"into {settings.get('unit', 'sentence')} units and coded automatically with qualcode "
        f"{version} against the codebook “{codebook.name}” version {codebook.version} "
        f"(fingerprint {codebook.fingerprint}). "
        f"Rule matching: {'on' if settings.get('rules', True) else 'off'}; embedding matching: "
        f"{'on' if settings.get('embeddings', True) else 'off'} with model "
        f"{settings.get('model_id', 'n/a')}. Thresholds: {thr}."
        "\n\n"
        "Every coding records its source (rule, embedding, classifier or human), its score and "
        "its evidence (the rule and matched text, or the nearest codebook example and its "
        "similarity), so that each number in this report can be traced back to quotes "
        "(codings.csv). Matrices count coded segments per coder; coverage is the share of a "
        "case's characters inside the union of its coded spans; parent themes aggregate their "
        "sub-codes without double counting. Machine codings are suggestions for a researcher to "
        "review, not findings; agreement with human coding should be checked on a coded sample "
        "(qualcode evaluate). "
        f"To reproduce: qualcode {version}, the same corpus and codebook files, and the settings "
        "in run.json."
    )
