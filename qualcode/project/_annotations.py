"""Codings, review decisions, memos and machine runs of a project.

The annotation half of :class:`qualcode.project.Project`, kept apart from its documents and
codebooks (``_store.py``).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._common import (
    _ACTIONS,
    _MACHINE,
    STATUSES,
    ProjectError,
    _check_who,
    _jsonable,
    _now,
    priority_of,
)

__all__ = ["AnnotationsMixin"]


class AnnotationsMixin:
    """Coding, review, memo and run methods; mixed into :class:`Project`."""

    if TYPE_CHECKING:  # provided by Project (_store.py)
        path: Path

        @property
        def codebook(self) -> Any: ...
        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...
        def _q(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]: ...
        def _meta(self, key: str, default: str | None = None) -> str | None: ...
        def _log(self, conn: sqlite3.Connection, kind: str, document: int | None = None) -> None: ...
        def _doc(self, conn: sqlite3.Connection, doc_id: str) -> sqlite3.Row: ...
        def _case_at(self, conn: sqlite3.Connection, doc_pk: int, doc_case: str, offset: int) -> str: ...
        def _codebook_id(self, conn: sqlite3.Connection, fingerprint: str | None = None) -> int | None: ...

    # -- codings ------------------------------------------------------------------------------
    def _check_code(self, code: str) -> None:
        cb = self.codebook
        if cb is None:
            msg = "the project has no codebook yet; add one first (Project.set_codebook)."
            raise ProjectError(msg)
        if code not in cb:
            msg = f"unknown code {code!r}; the codebook {cb.name!r} has: {', '.join(cb.ids)[:300]}"
            raise ProjectError(msg)

    def add_coding(
        self,
        doc_id: str,
        start: int,
        end: int,
        code: str,
        *,
        coder: str,
        source: str = "human",
        status: str | None = None,
        score: float | None = None,
        evidence: str = "",
        threshold: float | None = None,
    ) -> int:
        """Add one coding of ``doc_id[start:end]`` with ``code``.

        Args:
            doc_id: the document.
            start: first character (offset into the document's text).
            end: one past the last character.
            code: a code of the active codebook.
            coder: who coded (a person, or the machine coder's name).
            source: ``human``, ``rule``, ``embedding`` or ``classifier``.
            status: ``proposed``, ``accepted`` or ``rejected`` (default: ``accepted`` for a
                human, ``proposed`` for the machine).
            score: the machine's score (default 1.0 for a human).
            evidence: why the machine coded it.
            threshold: the score threshold the machine used (review queue order).

        Returns:
            The new coding's id.

        Raises:
            ProjectError: unknown document or code, offsets outside the text or empty, or
                an invalid source or status.
        """
        self._check_code(code)
        ids = self._insert_codings([{
            "doc_id": doc_id, "start": start, "end": end, "code": code, "coder": coder, "source": source,
            "status": status, "score": score, "evidence": evidence, "threshold": threshold,
        }], dedupe=False)
        return ids[0]

    def add_codings(self, codings: Any, *, status: str | None = None, dedupe: bool = True,
                    check_codes: bool = True) -> list[int]:
        """Add many codings in one transaction.

        ``codings`` is a :class:`qualcode.Codings`, a DataFrame with its columns, or a list of
        dicts with them.

        Args:
            codings: the table; a ``status`` column (values in :data:`STATUSES`) and a
                ``threshold`` column are used when present.
            status: the status of every row (default: the ``status`` column, else
                ``accepted`` for human rows and ``proposed`` for machine rows).
            dedupe: skip rows whose (document, span, code, coder) the project already holds.
            check_codes: refuse codes that the active codebook lacks.

        Returns:
            The ids of the added codings.

        Raises:
            ProjectError: unknown documents or codes, bad offsets or values (every problem is
                listed).
        """
        from .. import Codings

        if isinstance(codings, Codings):
            frame = codings.to_frame()
        else:
            frame = Codings(codings if isinstance(codings, pd.DataFrame) else pd.DataFrame(list(codings))).to_frame()
        if check_codes and len(frame):
            cb = self.codebook
            known = set(cb.ids) if cb is not None else set()
            unknown = sorted(set(frame["code"]) - known)
            if unknown:
                where = f"the codebook {cb.name!r}" if cb is not None else "the project (it has no codebook)"
                msg = f"codes not in {where}: {', '.join(unknown[:20])}"
                raise ProjectError(msg)
        records = frame.to_dict("records")
        if status is not None:
            for r in records:
                r["status"] = status
        return self._insert_codings(records, dedupe=dedupe)

    def _insert_codings(self, records: list[dict[str, Any]], *, dedupe: bool) -> list[int]:
        problems: list[str] = []
        now = _now()
        ids: list[int] = []
        touched: set[int] = set()
        with self._write() as c:
            cb_id = self._codebook_id(c)
            docs: dict[str, sqlite3.Row] = {}
            seen: set[tuple[int, int, int, str, str]] = set()
            if dedupe:
                seen = {tuple(r) for r in c.execute('SELECT document, start, "end", code, coder FROM codings')}
            for i, r in enumerate(records):
                doc_id = str(r.get("doc_id"))
                if doc_id not in docs:
                    row = c.execute("SELECT id, case_id, length(text) AS n FROM documents WHERE doc_id = ?",
                                    (doc_id,)).fetchone()
                    if row is None:
                        problems.append(f"row {i}: no document {doc_id!r} in the project")
                        continue
                    docs[doc_id] = row
                d = docs[doc_id]
                try:
                    s, e = int(r["start"]), int(r["end"])
                except (TypeError, ValueError):
                    problems.append(f"row {i}: start/end must be integers (got {r.get('start')!r}, {r.get('end')!r})")
                    continue
                if not 0 <= s < e <= d["n"]:
                    problems.append(f"row {i}: span ({s}, {e}) is empty or outside {doc_id!r} (0-{d['n']})")
                    continue
                source = str(r.get("source") or "human")
                if source not in ("human", *_MACHINE):
                    problems.append(f"row {i}: source {source!r} is not one of human, rule, embedding, classifier")
                    continue
                st = r.get("status")
                st = None if st is None or (isinstance(st, float) and math.isnan(st)) or st == "" else str(st)
                if st == "recoded":
                    st = "rejected"
                if st is None:
                    st = "accepted" if source == "human" else "proposed"
                if st not in STATUSES:
                    problems.append(f"row {i}: status {st!r} is not one of {', '.join(STATUSES)}")
                    continue
                coder = str(r.get("coder") or ("human" if source == "human" else "qualcode"))
                code = str(r["code"])
                key = (d["id"], s, e, code, coder)
                if dedupe and key in seen:
                    continue
                seen.add(key)
                score = r.get("score")
                score = None if score is None or (isinstance(score, float) and math.isnan(score)) else float(score)
                if score is None and source == "human":
                    score = 1.0
                th = r.get("threshold")
                th = None if th is None or (isinstance(th, float) and math.isnan(th)) else float(th)
                if th is None and source != "human":
                    th = 0.5
                prio = r.get("priority")
                prio = None if prio is None or (isinstance(prio, float) and math.isnan(prio)) else float(prio)
                if prio is None:
                    prio = priority_of(score, th) if source != "human" else 0.0
                case_id = self._case_at(c, d["id"], d["case_id"], s)
                cur = c.execute(
                    'INSERT INTO codings(document, case_id, start, "end", code, coder, source, status, score, '
                    "evidence, codebook, created_at, threshold, priority, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (d["id"], case_id, s, e, code, coder, source, st, score, str(r.get("evidence") or ""),
                     cb_id, now, th, prio, now),
                )
                ids.append(int(cur.lastrowid or 0))
                touched.add(int(d["id"]))
            if problems:
                listing = "; ".join(problems[:10]) + (f"; ... and {len(problems) - 10} more" if len(problems) > 10 else "")
                msg = f"{len(problems)} coding(s) cannot be added: {listing}"
                raise ProjectError(msg)
            for pk in sorted(touched):
                self._log(c, "codings", pk)
        return ids

    def codings(
        self,
        coder: str | Iterable[str] | None = None,
        status: str | Iterable[str] | None = None,
        *,
        doc_id: str | None = None,
        code: str | None = None,
    ) -> Any:
        """The codings as a :class:`qualcode.Codings` table.

        Args:
            coder: only these coder(s).
            status: only these status(es) (``proposed``, ``accepted``, ``rejected``); default
                every row, rejected ones included.
            doc_id: only this document.
            code: only this code.

        Returns:
            A Codings with the usual columns plus ``coding_id, status, threshold, priority,
            text, codebook_fingerprint, created_at, updated_at``, in reading order.
        """
        from .. import Codings

        where, params = self._filters(coder=coder, status=status, doc_id=doc_id, code=code)
        rows = self._q(
            'SELECT c.id AS coding_id, d.doc_id, c.case_id, c.start, c."end" AS "end", c.code, c.coder, '
            "c.source, c.score, c.evidence, c.status, c.threshold, c.priority, "
            'substr(d.text, c.start + 1, c."end" - c.start) AS text, cb.fingerprint AS codebook_fingerprint, '
            "c.created_at, c.updated_at "
            "FROM codings c JOIN documents d ON d.id = c.document LEFT JOIN codebooks cb ON cb.id = c.codebook "
            f"{where} ORDER BY d.position, c.start, c.\"end\", c.code, c.id", params)
        cols = ["coding_id", "doc_id", "case_id", "start", "end", "code", "coder", "source", "score", "evidence",
                "status", "threshold", "priority", "text", "codebook_fingerprint", "created_at", "updated_at"]
        frame = pd.DataFrame([tuple(r) for r in rows], columns=cols)
        frame["coding_id"] = frame["coding_id"].astype("int64")
        return Codings(frame, meta={"project": str(self.path), "codebook_fingerprint": self._meta("codebook")})

    @staticmethod
    def _filters(**kw: Any) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        cols = {"coder": "c.coder", "status": "c.status", "doc_id": "d.doc_id", "code": "c.code", "source": "c.source"}
        for key, val in kw.items():
            if val is None:
                continue
            vals = [val] if isinstance(val, str) else list(val)
            if key == "status":
                bad = [v for v in vals if v not in STATUSES]
                if bad:
                    msg = f"status must be among {STATUSES}. Got {bad[0]!r} instead."
                    raise ProjectError(msg)
            clauses.append(f"{cols[key]} IN ({', '.join('?' * len(vals))})")
            params.extend(vals)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def coding(self, coding_id: int) -> dict[str, Any]:
        """One coding as a dict (the columns of :meth:`codings`).

        Raises:
            ProjectError: no such coding.
        """
        rows = self._q(
            'SELECT c.id AS coding_id, d.doc_id, c.case_id, c.start, c."end" AS "end", c.code, c.coder, c.source, '
            "c.score, c.evidence, c.status, c.threshold, c.priority, "
            'substr(d.text, c.start + 1, c."end" - c.start) AS text, c.created_at, c.updated_at '
            "FROM codings c JOIN documents d ON d.id = c.document WHERE c.id = ?", (int(coding_id),))
        if not rows:
            msg = f"no coding {coding_id} in the project."
            raise ProjectError(msg)
        return dict(rows[0])

    def coders(self) -> pd.DataFrame:
        """Every coder with the counts of their codings by status.

        Columns ``coder, kind, proposed, accepted, rejected`` (``kind``: ``human`` or ``machine``).
        """
        rows = self._q(
            "SELECT coder, max(source != 'human') AS machine, "
            "sum(status = 'proposed'), sum(status = 'accepted'), sum(status = 'rejected') "
            "FROM codings GROUP BY coder ORDER BY coder")
        return pd.DataFrame(
            [(r[0], "machine" if r[1] else "human", r[2], r[3], r[4]) for r in rows],
            columns=["coder", "kind", "proposed", "accepted", "rejected"])

    def _decide(self, c: sqlite3.Connection, coding_id: int, action: str, who: str, **fields: Any) -> int:
        cols = ["coding", "action", "who", "at", *fields]
        cur = c.execute(
            f"INSERT INTO decisions({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            (coding_id, action, who, _now(), *fields.values()))
        return int(cur.lastrowid or 0)

    def review(self, coding_id: int, action: str, *, who: str, new_code: str | None = None) -> dict[str, Any]:
        """Decide about a machine suggestion, in one transaction with its decision record.

        Args:
            coding_id: the machine coding.
            action: ``accept``; ``reject``; ``recode`` (reject it and code the same passage
                with ``new_code`` as ``who``); ``reopen`` (back to ``proposed``).
            who: the reviewer.
            new_code: the code for ``recode``.

        Returns:
            ``{"coding_id", "status", "new_coding_id"}`` (the last only for ``recode``).

        Raises:
            ProjectError: unknown coding or action, a human coding, or a missing/unknown
                ``new_code``.
        """
        if action not in _ACTIONS:
            msg = f"action must be one of {_ACTIONS}. Got {action!r} instead."
            raise ProjectError(msg)
        _check_who(who)
        cur_row = self.coding(coding_id)
        if cur_row["source"] == "human":
            msg = f"coding {coding_id} is a human coding; review decides about machine suggestions only."
            raise ProjectError(msg)
        if action == "recode":
            if not new_code:
                msg = "recode needs new_code."
                raise ProjectError(msg)
            self._check_code(new_code)
        status = {"accept": "accepted", "reject": "rejected", "recode": "rejected", "reopen": "proposed"}[action]
        out: dict[str, Any] = {"coding_id": int(coding_id), "status": status}
        with self._write() as c:
            c.execute("UPDATE codings SET status = ?, updated_at = ? WHERE id = ?", (status, _now(), int(coding_id)))
            new_id = None
            if action == "recode":
                new_id = self._insert_codings([{
                    "doc_id": cur_row["doc_id"], "start": cur_row["start"], "end": cur_row["end"], "code": new_code,
                    "coder": who, "source": "human", "status": "accepted",
                    "evidence": f"recoded from the machine's {cur_row['code']!r} (coding {coding_id})",
                }], dedupe=False)[0]
                out["new_coding_id"] = new_id
            self._decide(c, int(coding_id), action, who, old_code=cur_row["code"],
                         new_code=new_code if action == "recode" else cur_row["code"], new_coding=new_id)
            self._log(c, "review", self._doc(c, cur_row["doc_id"])["id"])
        return out

    def set_status(self, coding_id: int, status: str, *, who: str) -> dict[str, Any]:
        """Set a machine coding's status, with a decision record; see :meth:`review`.

        ``status`` is ``accepted``, ``rejected`` or ``proposed``.
        """
        action = {"accepted": "accept", "rejected": "reject", "proposed": "reopen"}.get(status)
        if action is None:
            msg = f"status must be among {STATUSES}. Got {status!r} instead."
            raise ProjectError(msg)
        return self.review(coding_id, action, who=who)

    def move_coding(self, coding_id: int, start: int, end: int, *, who: str) -> None:
        """Move a coding's boundaries to ``(start, end)``.

        Raises:
            ProjectError: no such coding, or the span is empty or outside the text.
        """
        _check_who(who)
        row = self.coding(coding_id)
        with self._write() as c:
            d = self._doc(c, row["doc_id"])
            s, e = int(start), int(end)
            if not 0 <= s < e <= d["n"]:
                msg = f"span ({s}, {e}) is empty or outside {row['doc_id']!r} (0-{d['n']})."
                raise ProjectError(msg)
            c.execute('UPDATE codings SET start = ?, "end" = ?, case_id = ?, updated_at = ? WHERE id = ?',
                      (s, e, self._case_at(c, d["id"], d["case_id"], s), _now(), int(coding_id)))
            self._decide(c, int(coding_id), "move", who, old_start=row["start"], old_end=row["end"],
                         new_start=s, new_end=e, old_code=row["code"], new_code=row["code"])
            self._log(c, "codings", d["id"])

    def delete_coding(self, coding_id: int, *, who: str) -> None:
        """Uncode: delete a human coding, or reject a machine one (kept, with its decision).

        Raises:
            ProjectError: no such coding.
        """
        _check_who(who)
        row = self.coding(coding_id)
        if row["source"] != "human":
            self.review(coding_id, "reject", who=who)
            return
        with self._write() as c:
            self._decide(c, int(coding_id), "delete", who, old_code=row["code"], old_start=row["start"],
                         old_end=row["end"])
            c.execute("DELETE FROM codings WHERE id = ?", (int(coding_id),))
            self._log(c, "codings", self._doc(c, row["doc_id"])["id"])

    def decisions(self) -> pd.DataFrame:
        """Every review decision, oldest first.

        Columns ``decision_id, coding_id, doc_id, action, old_code, new_code, old_start,
        old_end, new_start, new_end, new_coding_id, who, at``.
        """
        rows = self._q(
            "SELECT de.id, de.coding, d.doc_id, de.action, de.old_code, de.new_code, de.old_start, de.old_end, "
            "de.new_start, de.new_end, de.new_coding, de.who, de.at FROM decisions de "
            "LEFT JOIN codings c ON c.id = de.coding LEFT JOIN documents d ON d.id = c.document ORDER BY de.id")
        out = pd.DataFrame([tuple(r) for r in rows], columns=[
            "decision_id", "coding_id", "doc_id", "action", "old_code", "new_code", "old_start", "old_end",
            "new_start", "new_end", "new_coding_id", "who", "at"])
        return out.astype({c: "Int64" for c in ("coding_id", "old_start", "old_end", "new_start", "new_end",
                                                 "new_coding_id")})

    def training_codings(self) -> Any:
        """The accepted codings as human codings, for :meth:`qualcode.Coder.fit`.

        Human codings as they are; accepted machine suggestions become human rows of their
        reviewer (``source == "human"``, score 1).
        """
        f = self.codings(status="accepted").to_frame()
        if not len(f):
            return self.codings(status="accepted")
        machine = f["source"] != "human"
        if machine.any():
            who = {int(r[0]): r[1] for r in self._q(
                "SELECT coding, who FROM decisions WHERE action = 'accept' ORDER BY id")}
            f.loc[machine, "evidence"] = "accepted " + f.loc[machine, "source"] + " suggestion by " + f.loc[machine, "coder"]
            f.loc[machine, "coder"] = [who.get(int(i), "reviewer") for i in f.loc[machine, "coding_id"]]
            f.loc[machine, "source"] = "human"
            f.loc[machine, "score"] = 1.0
        from .. import Codings

        return Codings(f)

    # -- memos --------------------------------------------------------------------------------
    def add_memo(
        self,
        text: str,
        *,
        author: str,
        title: str = "",
        code: str | None = None,
        doc_id: str | None = None,
        coding_id: int | None = None,
    ) -> int:
        """Write a memo on the project, a code, a document or a coding (give at most one).

        Returns:
            The memo's id.

        Raises:
            ProjectError: more than one target, an unknown target, or an empty text.
        """
        _check_who(author)
        given = [k for k, v in (("code", code), ("document", doc_id), ("coding", coding_id)) if v is not None]
        if len(given) > 1:
            msg = f"a memo is attached to one object; got {', '.join(given)}."
            raise ProjectError(msg)
        if not isinstance(text, str) or not text.strip():
            msg = "a memo needs some text."
            raise ProjectError(msg)
        target = given[0] if given else "project"
        if code is not None:
            self._check_code(code)
        now = _now()
        with self._write() as c:
            doc_pk = self._doc(c, doc_id)["id"] if doc_id is not None else None
            if coding_id is not None:
                row = c.execute("SELECT document FROM codings WHERE id = ?", (int(coding_id),)).fetchone()
                if row is None:
                    msg = f"no coding {coding_id} in the project."
                    raise ProjectError(msg)
                log_doc: int | None = int(row[0])
            else:
                log_doc = doc_pk
            cur = c.execute(
                "INSERT INTO memos(target, code, document, coding, title, text, author, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (target, code, doc_pk, None if coding_id is None else int(coding_id), str(title), text, author, now, now))
            self._log(c, "memos", log_doc)
        return int(cur.lastrowid or 0)

    def update_memo(self, memo_id: int, text: str, *, title: str | None = None) -> None:
        """Replace a memo's text (and title).

        Raises:
            ProjectError: no such memo, or an empty text.
        """
        if not isinstance(text, str) or not text.strip():
            msg = "a memo needs some text."
            raise ProjectError(msg)
        with self._write() as c:
            sets, params = "text = ?, updated_at = ?", [text, _now()]
            if title is not None:
                sets += ", title = ?"
                params.append(str(title))
            cur = c.execute(f"UPDATE memos SET {sets} WHERE id = ?", (*params, int(memo_id)))
            if cur.rowcount == 0:
                msg = f"no memo {memo_id} in the project."
                raise ProjectError(msg)
            self._log(c, "memos")

    def delete_memo(self, memo_id: int) -> None:
        """Delete a memo.

        Raises:
            ProjectError: no such memo.
        """
        with self._write() as c:
            if c.execute("DELETE FROM memos WHERE id = ?", (int(memo_id),)).rowcount == 0:
                msg = f"no memo {memo_id} in the project."
                raise ProjectError(msg)
            self._log(c, "memos")

    def memos(self, *, target: str | None = None, code: str | None = None, doc_id: str | None = None,
              coding_id: int | None = None) -> pd.DataFrame:
        """Memos, newest first.

        Columns ``memo_id, target, code, doc_id, coding_id, title, text, author, created_at,
        updated_at``; a coding memo also gets its coding's ``coding_doc_id, coding_code,
        coding_start, coding_end, coding_coder``.
        """
        clauses, params = [], []
        for col, val in (("m.target", target), ("m.code", code), ("d.doc_id", doc_id), ("m.coding", coding_id)):
            if val is not None:
                clauses.append(f"{col} = ?")
                params.append(val)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._q(
            "SELECT m.id, m.target, m.code, d.doc_id, m.coding, m.title, m.text, m.author, m.created_at, m.updated_at, "
            'cd.doc_id, c.code, c.start, c."end", c.coder '
            "FROM memos m LEFT JOIN documents d ON d.id = m.document LEFT JOIN codings c ON c.id = m.coding "
            f"LEFT JOIN documents cd ON cd.id = c.document {where} ORDER BY m.updated_at DESC, m.id DESC", params)
        out = pd.DataFrame([tuple(r) for r in rows], columns=[
            "memo_id", "target", "code", "doc_id", "coding_id", "title", "text", "author", "created_at", "updated_at",
            "coding_doc_id", "coding_code", "coding_start", "coding_end", "coding_coder"])
        return out.astype({"memo_id": "int64", "coding_id": "Int64", "coding_start": "Int64", "coding_end": "Int64"})

    # -- machine runs -------------------------------------------------------------------------
    def record_run(self, kind: str, coder: str, settings: Mapping[str, Any], summary: Mapping[str, Any]) -> int:
        """Store a machine run (its settings and summary, e.g. a learning curve)."""
        with self._write() as c:
            cur = c.execute("INSERT INTO runs(kind, coder, settings, summary, at) VALUES (?, ?, ?, ?, ?)",
                            (kind, coder, json.dumps(_jsonable(dict(settings))), json.dumps(_jsonable(dict(summary))),
                             _now()))
            self._log(c, "runs")
        return int(cur.lastrowid or 0)

    def runs(self) -> list[dict[str, Any]]:
        """The machine runs, oldest first, with their settings and summaries."""
        return [{"run_id": r[0], "kind": r[1], "coder": r[2], "settings": json.loads(r[3]),
                 "summary": json.loads(r[4]), "at": r[5]}
                for r in self._q("SELECT id, kind, coder, settings, summary, at FROM runs ORDER BY id")]

    def replace_suggestions(self, codings: Any, *, priorities: Mapping[tuple[str, int, int, str], float] | None = None) -> dict[str, int]:
        """Replace the machine suggestions still ``proposed`` with a new machine run's codings.

        Accepted and rejected suggestions stay (with their decisions).  A new suggestion is
        skipped when it overlaps a coding of the same code in the same document that a human
        made or that a decision settled: a passage is not proposed again for a code someone
        already decided about.

        Args:
            codings: the machine codings (human rows are ignored).
            priorities: ``(doc_id, start, end, code) -> priority`` overriding the default
                (distance of the score from its threshold).

        Returns:
            ``{"removed": n, "added": n, "skipped": n}``.
        """
        import bisect

        from .. import Codings

        f = codings.to_frame() if isinstance(codings, Codings) else Codings(codings).to_frame()
        f = f[f["source"] != "human"]
        with self._write() as c:
            removed = c.execute("DELETE FROM codings WHERE status = 'proposed' AND source != 'human'").rowcount
            settled: dict[tuple[str, str], list[tuple[int, int]]] = {}
            for r in c.execute('SELECT d.doc_id, c.code, c.start, c."end" FROM codings c '
                               "JOIN documents d ON d.id = c.document ORDER BY c.start"):
                settled.setdefault((r[0], r[1]), []).append((int(r[2]), int(r[3])))
            starts = {k: [a for a, _ in v] for k, v in settled.items()}
            reach = {k: [max(e for _, e in v[: i + 1]) for i in range(len(v))] for k, v in settled.items()}

            def overlaps(doc_id: str, code: str, s: int, e: int) -> bool:
                k = (doc_id, code)
                if k not in settled:
                    return False
                i = bisect.bisect_left(starts[k], e) - 1  # spans starting before e ...
                return i >= 0 and reach[k][i] > s  # ... one of which ends after s

            recs = []
            skipped = 0
            for r in f.to_dict("records"):
                key = (str(r["doc_id"]), int(r["start"]), int(r["end"]), str(r["code"]))
                if overlaps(key[0], key[3], key[1], key[2]):
                    skipped += 1
                    continue
                r["status"] = "proposed"
                if priorities is not None and key in priorities:
                    r["priority"] = float(priorities[key])
                recs.append(r)
            ids = self._insert_codings(recs, dedupe=False)
            self._log(c, "codings")
        return {"removed": int(removed), "added": len(ids), "skipped": skipped}

