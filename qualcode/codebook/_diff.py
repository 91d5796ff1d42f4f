"""What changed between two versions of a codebook, field by field."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._schema import Code, CodebookMetadata

if TYPE_CHECKING:
    from ._codebook import Codebook

__all__ = ["DIFF_COLUMNS", "codebook_diff"]

#: Columns of :meth:`Codebook.diff`.
DIFF_COLUMNS = ["code", "change", "field", "old", "new"]

_META_FIELDS = tuple(CodebookMetadata.model_fields)


def codebook_diff(new: Codebook, old: Codebook) -> pd.DataFrame:
    """The changes from ``old`` to ``new``; see :meth:`Codebook.diff`."""
    rows: list[dict[str, Any]] = []
    old_meta = old.metadata.model_dump(mode="json")
    new_meta = new.metadata.model_dump(mode="json")
    for f in _META_FIELDS:
        if old_meta.get(f) != new_meta.get(f):
            rows.append({"code": "<codebook>", "change": "changed", "field": f,
                         "old": _show(old_meta.get(f)), "new": _show(new_meta.get(f))})
    for c in old.codes:
        if c.id not in new:
            rows.append({"code": c.id, "change": "removed", "field": None,
                         "old": c.name, "new": None})
    for c in new.codes:
        if c.id not in old:
            rows.append({"code": c.id, "change": "added", "field": None,
                         "old": None, "new": c.name})
            continue
        before = _flat_fields(old[c.id])
        after = _flat_fields(c)
        for f in after:
            if before.get(f) != after.get(f):
                rows.append({"code": c.id, "change": "changed", "field": f,
                             "old": _show(before.get(f)), "new": _show(after.get(f))})
    return pd.DataFrame(rows, columns=DIFF_COLUMNS, dtype=object)


def _flat_fields(code: Code) -> dict[str, Any]:
    """A code's fields with ``rules``/``embedding`` flattened (``rules.keywords``)."""
    d = code.model_dump(mode="json")
    out: dict[str, Any] = {}
    for k, v in d.items():
        if k in ("rules", "embedding"):
            for kk, vv in v.items():
                out[f"{k}.{kk}"] = vv
        else:
            out[k] = v
    return out


def _show(v: Any) -> Any:
    if v is None or isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, sort_keys=True)
