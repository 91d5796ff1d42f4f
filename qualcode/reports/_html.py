"""Render a ReportData as one self-contained HTML page (figures inlined as base64 PNG)."""

from __future__ import annotations

import base64
import html
import os

import pandas as pd

from .._io import atomic_write_text
from ._data import ReportData

__all__ = ["render_html", "write_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #3b6ea5}h2{margin-top:2em;color:#234}h3{margin-bottom:.3em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1.5em}th,td{border:1px solid #ccd;
padding:3px 6px;vertical-align:top}th{background:#e8eef5}td.num{text-align:right}
blockquote{margin:.4em 0 .4em 1em;padding:.2em .8em;border-left:3px solid #3b6ea5;background:#f6f8fa}
.src{color:#666;font-size:.85em}.wrap{overflow-x:auto}img{max-width:100%}
"""


def _table(frame: pd.DataFrame) -> str:
    flat = frame.copy()
    if isinstance(flat.columns, pd.MultiIndex):
        flat.columns = [" / ".join(str(p) for p in c if str(p)) for c in flat.columns]
    body = flat.to_html(border=0, float_format=lambda v: f"{v:.2f}", na_rep="", escape=True)
    return f'<div class="wrap">{body}</div>'


def render_html(report: ReportData) -> str:
    """The report as an HTML string."""
    e = html.escape
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(report.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(report.title)}</h1><table>",
    ]
    out += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in report.summary.items()]
    out.append("</table><h2>Codebook</h2>")
    out.append(_table(report.codebook))
    out.append("<h2>Codes across cases</h2>")
    for sec in report.sections:
        out.append(f"<h3 id='code-{e(sec.code)}'>{e(sec.name)} <code>{e(sec.code)}</code></h3>")
        if sec.parent:
            out.append(f"<p class='src'>Theme: {e(sec.parent)}</p>")
        out.append(f"<p><b>Definition.</b> {e(sec.definition or '(no definition)')}</p>")
        out.append(
            f"<p><b>Prevalence.</b> Coded in {sec.n_cases} of {sec.n_cases_total} cases "
            f"({sec.n_segments} coded segments).</p>"
        )
        if sec.groups:
            out.append("<ul>")
            out += [f"<li>By {e(a)}: {e(t)}</li>" for a, t in sec.groups.items()]
            out.append("</ul>")
        for q in sec.quotes:
            out.append(
                f"<blockquote>“{e(q.text)}”<br><span class='src'>— {e(q.speaker)}, {e(q.where)} "
                f"(case {e(q.case_id)}; {e(q.source)}, score {q.score:.2f})</span></blockquote>"
            )
        if not sec.quotes:
            out.append("<p class='src'>No passage was coded with this code.</p>")
    out.append("<h2>Matrices</h2>")
    for title, frame in report.tables:
        out.append(f"<h3>{e(title)}</h3>{_table(frame)}")
    if report.figures:
        out.append("<h2>Figures</h2>")
        for title, png in report.figures:
            data = base64.b64encode(png.read_bytes()).decode("ascii")
            out.append(f"<h3>{e(title)}</h3><img alt='{e(title)}' src='data:image/png;base64,{data}'>")
    out.append("<h2>Methods and reproducibility</h2>")
    out += [f"<p>{e(p)}</p>" for p in report.methods.split("\n\n")]
    out.append("</body></html>")
    return "\n".join(out)


def write_html(path: str | os.PathLike[str], report: ReportData, *, overwrite: bool = True) -> None:
    """Write the report as one self-contained HTML file, atomically."""
    atomic_write_text(path, render_html(report), overwrite=overwrite)
