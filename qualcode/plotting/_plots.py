"""Figures for matrices (matplotlib; return the Figure, never show it)."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["attribute_bars", "cooccurrence_heatmap", "heatmap", "saturation_curve", "timeline"]


class QualcodeFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG in Jupyter.

    qualcode draws without pyplot (no global state, nothing shown by surprise), so the
    notebook's matplotlib integration never registers; this repr makes a returned figure
    display wherever it is the value of a cell.
    """

    def _repr_png_(self) -> bytes:
        import io

        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        return buf.getvalue()


def _short(label: Any, width: int = 18, max_lines: int = 2) -> str:
    s = " / ".join(map(str, label)) if isinstance(label, tuple) else str(label)
    # break long ids at underscores rather than inside words
    lines = [ln.replace("_ ", "_") for ln in textwrap.wrap(s.replace("_", "_ "), width)] or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "\u2026"
    return "\n".join(lines)


def _axis_name(idx: pd.Index) -> str:
    """The axis title: its name, or ``theme / code`` for a (theme, code) MultiIndex."""
    names = [str(n) for n in idx.names if n is not None]
    return " / ".join(names)


def _leaf_labels(idx: pd.Index) -> list[Any]:
    """Tick labels: the last level of a MultiIndex (the code of a (theme, code) pair)."""
    if isinstance(idx, pd.MultiIndex):
        return [t[-1] for t in idx]
    return list(idx)


def _theme_groups(ax: Any, idx: pd.Index, axis: str) -> None:
    """Mark the themes of a (theme, code) MultiIndex axis.

    Draws white lines between themes and writes each theme's name once, on the opposite
    side (top for columns, right for rows).
    """
    if not isinstance(idx, pd.MultiIndex) or len(idx) == 0:
        return
    first = [str(t[0]) for t in idx]
    starts = [i for i in range(len(first)) if i == 0 or first[i] != first[i - 1]]
    ends = [*starts[1:], len(first)]
    centres = [(a + b - 1) / 2 for a, b in zip(starts, ends, strict=True)]
    names = [_short(first[a], 16, 2) for a in starts]
    for b in ends[:-1]:
        (ax.axvline if axis == "x" else ax.axhline)(b - 0.5, color="white", linewidth=2)
    if axis == "x":
        sec = ax.secondary_xaxis("top")
        sec.set_xticks(centres, names, fontsize=8, fontweight="bold")
    else:
        sec = ax.secondary_yaxis("right")
        sec.set_yticks(centres, names, fontsize=8, fontweight="bold")
    sec.tick_params(length=0)


def _check(df: Any, func: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        msg = f"{func} takes a DataFrame made by qualcode.matrices. Got {type(df).__name__} instead."
        raise TypeError(msg)
    return df


def value_formatter(fmt: Any, func: str = "heatmap") -> Any:
    """A function number -> text for ``fmt``, read as matplotlib and pandas read formats.

    Accepted: a format spec (``".0f"``, ``",.1f"``, ``".1%"``, ``"d"``), a ``str.format``
    pattern (``"{:.1f}"``, or ``"{x:.1f}"`` as matplotlib's ``StrMethodFormatter`` writes
    it), a printf pattern (``"%.2f"``), or a callable.

    Raises:
        InvalidParameterError: ``fmt`` formats no number.
    """
    from ..errors import InvalidParameterError

    if callable(fmt):
        return lambda v: str(fmt(v))
    if not isinstance(fmt, str):
        fn = None
    elif "{" in fmt:
        def fn(v: float) -> str:
            return fmt.format(v, x=v)
    elif "%" in fmt and not fmt.endswith("%"):
        def fn(v: float) -> str:
            return fmt % v
    else:
        def fn(v: float) -> str:
            if fmt.endswith("d"):  # integer presentation: counts held as floats
                return format(round(v), fmt)
            return format(v, fmt)
    try:
        if fn is None:
            raise TypeError
        fn(1.5), fn(2.0)  # noqa: B018 - probe: raises for a format that formats no number
    except (ValueError, TypeError, KeyError, IndexError):
        msg = (f"The 'fmt' parameter of {func} must be a format spec such as '.0f', '{{:.1%}}' or "
               f"'%.2f', or a callable. Got {fmt!r} instead.")
        raise InvalidParameterError(msg) from None
    return fn


def heatmap(matrix: pd.DataFrame, *, cmap: str = "viridis", annotate: bool = True, title: str | None = None,
            fmt: Any = None, width: float = 9.0, height: float | None = None) -> Figure:
    """Annotated heatmap of any numeric matrix (rows × columns), colour-blind-safe colours.

    Args:
        matrix: a numeric matrix (e.g. from :func:`qualcode.matrices.case_by_code`).
        cmap: a perceptually uniform colormap (``viridis``, ``cividis``...).
        annotate: write each value in its cell.
        title: the title (default: the ``value`` in ``attrs``).
        fmt: number format, as matplotlib and pandas take it: a format spec (``".0f"``,
            ``".1%"``), a pattern (``"{:.1f}"``, ``"{x:.1f}"``, ``"%.2f"``) or a callable
            (default: integers for counts, 2 decimals otherwise).
        width: figure width in inches (notebook width is about 8–10).
        height: figure height in inches (default: from the number of rows, at most 14).

    Returns:
        The matplotlib Figure.

    Raises:
        InvalidParameterError: ``fmt`` formats no number.
    """
    m = _check(matrix, "heatmap")
    vals = m.to_numpy(dtype=float)
    nr, nc = vals.shape
    if fmt is not None:
        fmt_value = value_formatter(fmt, "heatmap")
    if height is None:
        height = min(max(2.5, 0.45 * nr + 1.8), 14)
    fig = QualcodeFigure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(np.ma.masked_invalid(vals), cmap=cmap, aspect="auto")
    ax.set_xticks(range(nc), [_short(c) for c in _leaf_labels(m.columns)], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(nr), [_short(r, 24, 1) for r in _leaf_labels(m.index)], fontsize=8)
    ax.set_xlabel(_axis_name(m.columns))
    ax.set_ylabel(_axis_name(m.index))
    _theme_groups(ax, m.columns, "x")
    _theme_groups(ax, m.index, "y")
    value = m.attrs.get("value", "")
    ax.set_title(title if title is not None else f"{value} (coder: {m.attrs.get('coder', 'all')})")
    if fmt is None:
        integral = np.all(np.isnan(vals) | (vals == np.round(vals)))
        fmt_value = value_formatter(".0f" if integral else ".2f")
    if annotate and nr * nc <= 900:
        finite = vals[np.isfinite(vals)]
        mid = (finite.max() + finite.min()) / 2 if finite.size else 0
        for i in range(nr):
            for j in range(nc):
                v = vals[i, j]
                txt = "" if np.isnan(v) else fmt_value(v)
                ax.text(j, i, txt, ha="center", va="center", fontsize=7,
                        color="black" if (not np.isnan(v) and v > mid) else "white")
    fig.colorbar(im, ax=ax, shrink=0.8, label=str(value))
    return fig


def cooccurrence_heatmap(matrix: pd.DataFrame, *, cmap: str = "cividis", show_diagonal: bool = False, **kwargs: Any) -> Figure:
    """Heatmap of a :func:`qualcode.matrices.cooccurrence` result (diagonal blanked by default)."""
    m = _check(matrix, "cooccurrence_heatmap").astype(float).copy()
    if not show_diagonal:
        arr = m.to_numpy(copy=True)
        np.fill_diagonal(arr, np.nan)
        m = pd.DataFrame(arr, index=matrix.index, columns=matrix.columns)
    m.attrs = dict(matrix.attrs)
    title = kwargs.pop("title", f"co-occurrence ({matrix.attrs.get('measure', '')}, {matrix.attrs.get('level', '')} level)")
    return heatmap(m, cmap=cmap, title=title, **kwargs)


def attribute_bars(matrix: pd.DataFrame, *, width: float = 9.0, title: str | None = None) -> Figure:
    """Grouped bars: one group per code (rows), one bar per attribute value (columns)."""
    m = _check(matrix, "attribute_bars").drop(index="All", columns="All", errors="ignore")
    vals = m.to_numpy(dtype=float)
    nr, nc = vals.shape
    fig = QualcodeFigure(figsize=(width, 4.5), layout="constrained")
    ax = fig.add_subplot()
    import matplotlib as mpl

    colours = mpl.colormaps["viridis"](np.linspace(0.1, 0.9, max(nc, 1)))
    bw = 0.8 / max(nc, 1)
    x = np.arange(nr)
    for j, col in enumerate(m.columns):
        ax.bar(x + (j - (nc - 1) / 2) * bw, np.nan_to_num(vals[:, j]), bw, label=_short(col), color=colours[j])
    ax.set_xticks(x, [_short(r) for r in m.index], rotation=45, ha="right", fontsize=8)
    ax.set_xlabel(str(m.index.name or "code"))
    ax.set_ylabel(str(m.attrs.get("value", "value")))
    ax.legend(title=_axis_name(m.columns), fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(title or f"{m.attrs.get('value', '')} by {m.columns.name}")
    return fig


def timeline(timeline_df: pd.DataFrame, *, width: float = 9.0, title: str | None = None) -> Figure:
    """Codes (rows) through the positions of one document (columns), as filled cells."""
    m = _check(timeline_df, "timeline")
    vals = (m.to_numpy(dtype=float) > 0).astype(float)
    nr, nc = vals.shape
    fig = QualcodeFigure(figsize=(width, min(max(2.5, 0.4 * nr + 1.8), 12)), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(np.ma.masked_equal(vals, 0), cmap="cividis", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_yticks(range(nr), [_short(r, 24, 1) for r in m.index], fontsize=8)
    pos = m.attrs.get("positions") or []
    step = max(1, nc // 30)
    labels = [f"{c}\n{pos[c]['speaker']}" if c < len(pos) else str(c) for c in range(0, nc, step)]
    ax.set_xticks(range(0, nc, step), labels, fontsize=7)
    ax.set_xticks(np.arange(-0.5, nc, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, nr, 1), minor=True)
    ax.grid(which="minor", color="0.85", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel(str(m.columns.name or "position"))
    ax.set_ylabel("code")
    ax.set_title(title or f"codes through {m.attrs.get('doc_id', 'the document')}")
    return fig


def saturation_curve(summary_or_df: Any, *, width: float = 8.0, title: str | None = None) -> Figure:
    """Cumulative distinct codes (line) and new codes (bars) per additional document."""
    df = summary_or_df.saturation if hasattr(summary_or_df, "saturation") else summary_or_df
    df = _check(df, "saturation_curve")
    fig = QualcodeFigure(figsize=(width, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(df["step"], df["n_new"], color="#3b528b", alpha=0.6, label="new codes")
    ax.plot(df["step"], df["cumulative"], marker="o", color="#21918c", label="cumulative codes")
    ax.set_xlabel("documents analysed (in order)")
    ax.set_ylabel("codes")
    ax.legend()
    ax.set_title(title or "code saturation")
    return fig
