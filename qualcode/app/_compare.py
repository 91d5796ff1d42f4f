"""Side by side: two coders (or a coder and the machine), κ/α per code and their disagreements."""

from __future__ import annotations

import math
from typing import Any

from ..project import Project, ProjectError

__all__ = ["compare"]


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else round(f, 4)


def compare(project: Project, a: str, b: str, *, unit: str = "sentence", offset: int = 0, limit: int = 25) -> dict[str, Any]:
    """Agreement of coders ``a`` and ``b`` and the units they code differently.

    The documents compared are those both coders coded; when one of them is a machine coder
    (which codes every document), those the other one coded.  Every coding of a coder counts,
    whatever its review status: this is what the coder said.

    Returns:
        ``{"a", "b", "unit", "documents", "table": [per code: code, n_units, pa, kappa, alpha,
        both, only_a, only_b], "pooled": {...}, "disagreements": {"total", "items"}}``.

    Raises:
        ProjectError: an unknown coder, or no document both coded.
    """
    from .. import reliability

    coders = project.coders().set_index("coder")
    for c in (a, b):
        if c not in coders.index:
            msg = f"no coder {c!r} in the project (coders: {', '.join(coders.index)[:300]})."
            raise ProjectError(msg)
    ca, cb = project.codings(coder=a), project.codings(coder=b)
    da, db = set(ca.doc_ids), set(cb.doc_ids)
    machine_a, machine_b = coders.loc[a, "kind"] == "machine", coders.loc[b, "kind"] == "machine"
    if machine_a and not machine_b:
        docs = db
    elif machine_b and not machine_a:
        docs = da
    elif machine_a and machine_b:
        docs = da | db
    else:
        docs = da & db
    docs_ordered = [d for d in project.doc_ids if d in docs]
    if not docs_ordered:
        msg = f"{a!r} and {b!r} have no coded document in common."
        raise ProjectError(msg)
    corpus = project.corpus.subset(docs_ordered)
    book = project.codebook
    codes = [c for c in (book.ids if book is not None else []) if c in set(ca.codes) | set(cb.codes)]
    ca = ca.filter(doc_id=docs_ordered)
    cb = cb.filter(doc_id=docs_ordered)
    rep = reliability.agreement_report(ca, cb, corpus, unit=unit, codes=codes or None, by_document=False)
    table = []
    pooled: dict[str, Any] = {}
    for r in rep.to_dict("records"):
        row = {"code": r["code"], "n_units": int(r["n_units"]), "pa": _num(r["pa"]), "kappa": _num(r["kappa"]),
               "alpha": _num(r["alpha"]), "both": int(r["both"]), "only_a": int(r["only_a"]),
               "only_b": int(r["only_b"])}
        if r["code"] == "(pooled)":
            pooled = row
        else:
            table.append(row)
    dis = reliability.disagreements(ca, cb, corpus, unit=unit, codes=codes or None)
    items = []
    for r in dis.iloc[offset:offset + limit].to_dict("records"):
        items.append({"doc_id": r["doc_id"], "case_id": r["case_id"], "speaker": r["speaker"],
                      "start": int(r["start"]), "end": int(r["end"]), "text": r["text"],
                      "only_a": r["only_a"], "only_b": r["only_b"], "codes_a": r["codes_a"], "codes_b": r["codes_b"]})
    return {"a": a, "b": b, "unit": unit, "documents": docs_ordered, "table": table, "pooled": pooled,
            "disagreements": {"total": len(dis), "items": items}}
