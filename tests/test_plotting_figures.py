"""Figures: content (labels, number of cells/bars, texts), not pixels."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _matrix_fixtures import make_codings, make_corpus  # noqa: E402

from qualcode import matrices as M  # noqa: E402
from qualcode import plotting as P  # noqa: E402


@pytest.fixture(scope="module")
def data():
    c = make_corpus()
    return c, make_codings(c)


def test_heatmap_annotates_every_cell(data):
    corpus, cod = data
    m = M.case_by_code(cod, corpus)
    ax = P.heatmap(m).axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == m.size and texts[0] == str(m.iloc[0, 0])
    assert ax.get_xlabel() == "code" and ax.get_ylabel() == "case"
    assert [t.get_text() for t in ax.get_yticklabels()] == list(m.index)


def test_long_names_are_wrapped(data):
    corpus, cod = data
    m = M.case_by_code(cod, corpus).rename(columns={"budget": "budget constraints imposed by the ministry every year"})
    labels = [t.get_text() for t in P.heatmap(m).axes[0].get_xticklabels()]
    assert all(len(line) <= 18 for lab in labels for line in lab.split("\n"))


def test_bars_timeline_cooccurrence_saturation(data):
    corpus, cod = data
    m = M.code_by_attribute(cod, corpus, "region")
    ax = P.attribute_bars(m).axes[0]
    assert len(ax.patches) == m.size
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(m.columns)
    t = M.case_timeline(cod, corpus, "d1")
    assert P.timeline(t).axes[0].get_xlabel() == "turn"
    co = P.cooccurrence_heatmap(M.cooccurrence(cod, corpus, measure="c")).axes[0]
    assert "c" in co.get_title()
    s = M.cross_case_summary(cod, corpus)
    ax = P.saturation_curve(s).axes[0]
    assert list(ax.lines[0].get_ydata()) == s.saturation["cumulative"].tolist()
    with pytest.raises(TypeError):
        P.heatmap([[1]])


def test_figures_display_as_png_in_notebooks_without_pyplot() -> None:
    import pandas as pd

    from qualcode import plotting

    m = pd.DataFrame([[1, 0], [2, 3]], index=pd.Index(["a", "b"], name="case"),
                     columns=pd.Index(["x", "y"], name="code"))
    png = plotting.heatmap(m)._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
