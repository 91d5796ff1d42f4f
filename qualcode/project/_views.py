"""Paged, indexed reads of a project for the coding app (and anyone who wants them).

Each function answers from SQL with ``LIMIT``/``OFFSET`` so that a 500-document project or a
300-page transcript costs the page that is shown, not the whole project.
"""

from __future__ import annotations

import json
from typing import Any

from ._common import STATUSES, ProjectError
from ._store import Project

__all__ = ["case_attributes", "document", "document_codings", "documents_page", "passages", "suggestion_queue"]

_CODING_COLS = ('c.id AS id, d.doc_id AS doc_id, c.case_id AS case_id, c.start AS start, c."end" AS "end", '
                "c.code AS code, c.coder AS coder, c.source AS source, c.status AS status, c.score AS score, "
                "c.evidence AS evidence, c.threshold AS threshold, c.priority AS priority")


def _statuses(statuses: Any) -> list[str]:
    vals = list(statuses) if statuses is not None else list(STATUSES)
    bad = [s for s in vals if s not in STATUSES]
    if bad:
        msg = f"status must be among {STATUSES}. Got {bad[0]!r} instead."
        raise ProjectError(msg)
    return vals


def document(project: Project, doc_id: str) -> dict[str, Any]:
    """One document: ``doc_id, case_id, kind, language, attributes, text, turns``.

    Raises:
        ProjectError: no such document.
    """
    rows = project._q("SELECT id, doc_id, case_id, kind, language, text, attributes, position FROM documents "
                      "WHERE doc_id = ?", (doc_id,))
    if not rows:
        msg = f"no document {doc_id!r} in the project."
        raise ProjectError(msg)
    r = rows[0]
    turns = [dict(t) for t in project._q(
        'SELECT speaker, role, start, "end" AS "end", time_start, time_end, case_id FROM turns '
        "WHERE document = ? ORDER BY idx", (r["id"],))]
    return {"doc_id": r["doc_id"], "case_id": r["case_id"], "kind": r["kind"], "language": r["language"],
            "attributes": json.loads(r["attributes"]), "text": r["text"], "turns": turns, "position": r["position"]}


def document_codings(project: Project, doc_id: str, statuses: Any = ("proposed", "accepted")) -> list[dict[str, Any]]:
    """The codings of one document (by start), with the given statuses."""
    st = _statuses(statuses)
    rows = project._q(
        f"SELECT {_CODING_COLS} FROM codings c JOIN documents d ON d.id = c.document "
        f"WHERE d.doc_id = ? AND c.status IN ({', '.join('?' * len(st))}) ORDER BY c.start, c.\"end\" DESC, c.id",
        (doc_id, *st))
    return [dict(r) for r in rows]


def documents_page(project: Project, *, offset: int = 0, limit: int = 50, query: str | None = None) -> dict[str, Any]:
    """A page of the document list with coding counts: ``{"total", "items"}``."""
    where, params = "", []
    if query:
        where = "WHERE d.doc_id LIKE ? ESCAPE '\\' OR d.case_id LIKE ? ESCAPE '\\'"
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params = [like, like]
    total = project._q(f"SELECT count(*) FROM documents d {where}", params)[0][0]
    # pick the page first, then count for its documents only
    rows = project._q(
        f"WITH page AS (SELECT d.id, d.position FROM documents d {where} ORDER BY d.position LIMIT ? OFFSET ?) "
        "SELECT d.doc_id, d.case_id, d.kind, d.language, length(d.text) AS n_chars, "
        "(SELECT count(*) FROM turns t WHERE t.document = d.id) AS n_turns, "
        "(SELECT count(*) FROM codings c WHERE c.document = d.id AND c.status = 'accepted') AS n_accepted, "
        "(SELECT count(*) FROM codings c WHERE c.document = d.id AND c.status = 'proposed') AS n_proposed "
        "FROM page JOIN documents d ON d.id = page.id ORDER BY page.position", (*params, int(limit), int(offset)))
    return {"total": int(total), "items": [dict(r) for r in rows]}


def suggestion_queue(project: Project, *, offset: int = 0, limit: int = 20, code: str | None = None) -> dict[str, Any]:
    """Open machine suggestions, least certain first (highest ``priority``): ``{"total", "items"}``."""
    where, params = "c.status = 'proposed' AND c.source != 'human'", []
    if code:
        where += " AND c.code = ?"
        params.append(code)
    total = project._q(f"SELECT count(*) FROM codings c WHERE {where}", params)[0][0]
    rows = project._q(
        f"SELECT {_CODING_COLS} FROM codings c JOIN documents d ON d.id = c.document WHERE {where} "
        "ORDER BY c.priority DESC, c.id LIMIT ? OFFSET ?", (*params, int(limit), int(offset)))
    return {"total": int(total), "items": _with_text(project, rows)}


def _with_text(project: Project, rows: list[Any]) -> list[dict[str, Any]]:
    """Rows as dicts with the coded ``text``, cut from the cached corpus.

    Not from SQL: a ``substr`` reads the whole text of a long transcript for every row.
    """
    corpus = project.corpus
    out = []
    for r in rows:
        d = dict(r)
        d["text"] = corpus[d["doc_id"]].text[d["start"]:d["end"]]
        out.append(d)
    return out


def case_attributes(project: Project, max_values: int = 50) -> dict[str, list[Any]]:
    """Each case attribute with its distinct values (at most ``max_values``), for filters."""
    values: dict[str, set[Any]] = {}
    for (raw,) in project._q("SELECT attributes FROM cases"):
        for k, v in json.loads(raw).items():
            if isinstance(v, (str, int, float, bool)):
                values.setdefault(k, set()).add(v)
    return {k: sorted(v, key=str)[:max_values] for k, v in sorted(values.items())}


def passages(
    project: Project,
    code: str,
    *,
    coder: str | None = None,
    statuses: Any = ("accepted",),
    attribute: str | None = None,
    value: Any = None,
    offset: int = 0,
    limit: int = 50,
) -> dict[str, Any]:
    """Every passage coded with ``code`` (the "coded segments" retrieval), by case.

    Args:
        project: the project.
        code: the code.
        coder: only this coder.
        statuses: only these statuses (default accepted).
        attribute: a case attribute to filter on, with ``value``.
        value: the attribute's value (compared as text).
        offset: first passage of the page.
        limit: passages per page.

    Returns:
        ``{"total", "n_cases", "n_documents", "by_case": {case: n}, "items": [...]}``; items
        are in case, document and text order.
    """
    st = _statuses(statuses)
    where = f"c.code = ? AND c.status IN ({', '.join('?' * len(st))})"
    params: list[Any] = [code, *st]
    if coder:
        where += " AND c.coder = ?"
        params.append(coder)
    join = ""
    if attribute:
        join = "JOIN cases k ON k.case_id = c.case_id"
        where += " AND CAST(json_extract(k.attributes, ?) AS TEXT) = ?"
        params += ['$."' + attribute.replace('"', '\\"') + '"', _as_text(value)]
    base = f"FROM codings c JOIN documents d ON d.id = c.document {join} WHERE {where}"
    counts = project._q(f"SELECT c.case_id, count(*), count(DISTINCT c.document) {base} GROUP BY c.case_id "
                        "ORDER BY c.case_id", params)
    n_docs = project._q(f"SELECT count(DISTINCT c.document) {base}", params)[0][0]
    rows = project._q(
        f"SELECT {_CODING_COLS} {base} "
        "ORDER BY c.case_id, d.position, c.start, c.id LIMIT ? OFFSET ?", (*params, int(limit), int(offset)))
    by_case = {r[0]: int(r[1]) for r in counts}
    return {"total": sum(by_case.values()), "n_cases": len(by_case), "n_documents": int(n_docs),
            "by_case": by_case, "items": _with_text(project, rows)}


def _as_text(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)
