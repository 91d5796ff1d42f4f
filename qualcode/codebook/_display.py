"""How a codebook looks: the code tree as text (``repr``), as HTML (Jupyter), as a table."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from ..rules import ALL_LANGUAGES

if TYPE_CHECKING:
    from ._codebook import Codebook

__all__ = ["FRAME_COLUMNS", "codebook_frame", "codebook_html", "codebook_text"]

#: Columns of :meth:`Codebook.to_frame`.
FRAME_COLUMNS = ["id", "name", "parent", "depth", "definition", "inclusion", "exclusion",
                 "n_examples", "n_counterexamples", "n_rules", "languages"]


def codebook_text(cb: Codebook, *, definitions: bool = True, width: int = 100) -> str:
    """The code tree as text, one line per code, definitions clipped to ``width``."""
    lines = [
        f"Codebook {cb.name!r} v{cb.version} ({', '.join(cb.languages)}): "
        f"{len(cb)} codes, {len(cb.leaves)} leaves, fingerprint {cb.fingerprint}"
    ]
    if cb.scope:
        lines.append("  scope: " + ", ".join(f"{k}={'|'.join(v)}" for k, v in cb.scope.items()))
    if cb.sequence is not None:
        stages = " > ".join("|".join(stage) for stage in cb.sequence.order)
        lines.append(f"  sequence: {stages}" + (f" (skip {', '.join(cb.sequence.skip)})" if cb.sequence.skip else ""))
    if cb.exhaustive:
        lines.append("  exhaustive: every segment gets at least one code")
    for depth, c in cb.walk():
        pad = "  " * (depth + 1)
        head = f"{pad}{c.id}" + (f" ({c.name})" if c.name != c.id else "")
        if definitions and c.definition:
            first = " ".join(c.definition.split())
            room = max(20, width - len(head) - 3)
            if len(first) > room:
                first = first[: room - 3].rstrip() + "..."
            head += f": {first}"
        lines.append(head)
    return "\n".join(lines)


def codebook_html(cb: Codebook) -> str:
    """The code tree as nested HTML lists, with colours and definitions."""
    e = html.escape
    parts = [
        "<div class='qualcode-codebook'>",
        f"<p><b>Codebook {e(cb.name)}</b> v{e(cb.version)} "
        f"({e(', '.join(cb.languages))}): {len(cb)} codes, {len(cb.leaves)} leaves, "
        f"fingerprint <code>{cb.fingerprint}</code></p>",
    ]

    def render(ids: list[str]) -> None:
        parts.append("<ul>")
        for cid in ids:
            c = cb[cid]
            style = f" style='border-left: 4px solid {c.color}; padding-left: 4px'" if c.color else ""
            parts.append(f"<li{style}><code>{e(c.id)}</code> <b>{e(c.name)}</b>")
            if c.definition:
                parts.append(f"<br><span>{e(c.definition)}</span>")
            kids = cb.children(cid)
            if kids:
                render(kids)
            parts.append("</li>")
        parts.append("</ul>")

    render(cb.roots)
    parts.append("</div>")
    return "".join(parts)


def codebook_frame(cb: Codebook) -> pd.DataFrame:
    """One row per code (file order); see :meth:`Codebook.to_frame`."""
    rows = []
    for c in cb.codes:
        langs = set(c.examples) | set(c.counterexamples)
        items = c.rule_items()
        for item in items:
            langs |= set(cb.languages) if item.lang is None else {item.lang}
        langs.discard(ALL_LANGUAGES)
        ordered = [x for x in cb.languages if x in langs] + sorted(langs - set(cb.languages))
        rows.append({
            "id": c.id,
            "name": c.name,
            "parent": c.parent,
            "depth": cb.depth(c.id),
            "definition": c.definition,
            "inclusion": c.inclusion,
            "exclusion": c.exclusion,
            "n_examples": len(c.all_examples()),
            "n_counterexamples": len(c.all_counterexamples()),
            "n_rules": len(items),
            "languages": ", ".join(ordered),
        })
    df = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    df.attrs["codebook"] = cb.name
    df.attrs["version"] = cb.version
    df.attrs["fingerprint"] = cb.fingerprint
    return df
