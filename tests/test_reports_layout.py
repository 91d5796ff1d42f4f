"""Reports a reader can use: figures that fit the page, readable numbers, groups with their sizes."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import qualcode as qc
from qualcode import plotting, reports
from qualcode.errors import InvalidParameterError


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory, sample_dir, codebooks_dir):
    """Study 2 of the sample (62 cases in the codebook's scope), reported as the main job does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = qc.read_corpus(sample_dir)
    cb = qc.Codebook.load(codebooks_dir / "ai_in_government.yaml")
    gold = qc.read_codings(sample_dir / "gold_codings.csv", corpus)
    corpus = qc.Coder(cb).in_scope(corpus)
    gold = gold.filter(code=[c for c in gold.codes if c in cb], doc_id=corpus.doc_ids)
    out = tmp_path_factory.mktemp("report")
    report, sheets = reports.build_report(corpus, cb, gold, settings={"unit": "sentence"},
                                          figures_dir=out / "figures")
    reports.write_docx(out / "report.docx", report)
    return corpus, report, sheets, out


def test_every_docx_figure_fits_the_page(sample_report):
    import docx

    corpus, report, _sheets, out = sample_report
    doc = docx.Document(str(out / "report.docx"))
    section = doc.sections[0]
    usable_w = section.page_width - section.left_margin - section.right_margin
    usable_h = section.page_height - section.top_margin - section.bottom_margin
    shapes = list(doc.inline_shapes)
    assert len(shapes) == len(report.figures) >= 5
    for shape in shapes:
        assert shape.width <= usable_w, (shape.width, usable_w)
        assert shape.height <= usable_h * 0.9, (shape.height.inches, usable_h.inches)  # room for its heading


def test_tall_heatmaps_are_split_across_pages(sample_report):
    corpus, report, _sheets, _out = sample_report
    n_cases = len(corpus.cases)
    parts = [t for t, _p in report.figures if t.startswith("Coded segments per case and code")]
    assert len(parts) > 1
    spans = [tuple(map(int, re.search(r"cases (\d+)[–-](\d+) of (\d+)", t).groups())) for t in parts]
    assert spans[0][0] == 1 and spans[-1][1] == spans[-1][2] == n_cases
    assert all(b - a + 1 <= 25 for a, b, _n in spans)
    assert all(spans[i + 1][0] == spans[i][1] + 1 for i in range(len(spans) - 1))


@pytest.mark.parametrize(("fmt", "value", "text"), [
    (".0f", 12.4, "12"),
    ("{:.1f}", 12.44, "12.4"),
    ("{x:.1%}", 0.125, "12.5%"),
    ("%.2f", 3.14159, "3.14"),
    ("d", 7.0, "7"),
    (",.0f", 12345.0, "12,345"),
    (lambda v: f"<{v:g}>", 2.5, "<2.5>"),
])
def test_heatmap_accepts_format_specs_as_matplotlib_and_pandas_do(fmt, value, text):
    m = pd.DataFrame([[value, value]], index=pd.Index(["a"], name="case_id"),
                     columns=pd.Index(["x", "y"], name="code"))
    fig = plotting.heatmap(m, fmt=fmt)
    cells = [t.get_text() for t in fig.axes[0].texts]
    assert cells == [text, text]


def test_heatmap_rejects_a_format_it_cannot_use():
    m = pd.DataFrame(np.ones((1, 1)), index=pd.Index(["a"]), columns=pd.Index(["x"]))
    with pytest.raises(InvalidParameterError, match=r"'fmt' parameter of heatmap.*'zz'"):
        plotting.heatmap(m, fmt="zz")


def test_attribute_tables_and_charts_show_group_sizes(sample_report):
    corpus, report, sheets, _out = sample_report
    cases = corpus.cases
    n = len(cases)
    table = dict(report.tables)
    title = next(t for t in table if t.startswith("Codes × gender"))
    gender = table[title]
    sizes = cases["gender"].value_counts()
    for value, size in sizes.items():
        assert f"{value} (n={size})" in gender.columns
    missing = int(cases["gender"].isna().sum())
    assert missing and f"{missing} of {n} cases have no gender" in title
    # the per-code text says "k of n", not a bare count
    female = int(sizes["female"])
    assert any(re.search(rf"female: \d+ of {female}\b", s.groups.get("gender", "")) for s in report.sections)


def test_charts_leave_out_attributes_most_cases_lack(sample_report):
    corpus, report, _sheets, _out = sample_report
    cases = corpus.cases
    charted = {t for t, _p in report.figures if t.startswith("Share of cases with each code")}
    for attribute in reports.report_attributes(corpus):
        has = int(cases[attribute].notna().sum())
        named = any(f"by {attribute}" in t for t in charted)
        assert named == (has * 2 >= len(cases)), (attribute, has, len(cases))
    assert charted  # at least one attribute is charted, as shares of each group
    lacking = [a for a in reports.report_attributes(corpus) if cases[a].notna().sum() * 2 < len(cases)]
    assert lacking  # and at least one is left out


def test_docx_theme_line_and_no_quotes_note_are_italic(tmp_path):
    import docx

    from qualcode.reports._data import CodeSection, ReportData

    report = ReportData(
        title="Italics", summary={"documents": "1"},
        codebook=pd.DataFrame({"id": ["child"], "name": ["Child"], "parent": ["theme"], "definition": ["d"]}),
        sections=[CodeSection(code="child", name="Child", parent="theme", definition="d",
                              n_cases=0, n_cases_total=3, n_segments=0)],
        tables=[], figures=[], methods="Run with qualcode.",
    )
    reports.write_docx(tmp_path / "r.docx", report)
    paras = {p.text: p for p in docx.Document(str(tmp_path / "r.docx")).paragraphs}
    for text in ("Theme: theme", "No passage was coded with this code."):
        runs = paras[text].runs
        assert runs and all(r.italic for r in runs), text
