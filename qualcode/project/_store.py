"""The project store: a corpus, codebook versions, codings, memos and decisions in one file.

Why the standard library's ``sqlite3`` and not SQLAlchemy: the store is one file with a
dozen tables and hand-written queries whose speed matters (the coding app answers in
milliseconds); ``sqlite3`` ships with Python, so the project needs no new dependency, and
migrations are a short ordered list (:mod:`qualcode.project._schema`).

Every connection runs with ``PRAGMA foreign_keys = ON`` in WAL mode, so readers never block
the writer and a killed process loses at most the transaction in flight.  Every write is one
``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction and appends a row to ``changes``, the log that
lets two browser windows on one project see each other's edits.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ._annotations import AnnotationsMixin
from ._common import (
    CODER_SETTINGS,
    STATUSES,
    ProjectError,
    _jsonable,
    _now,
)
from ._exchange import (
    export_codings as _export_codings,
)
from ._exchange import (
    export_folder as _export_folder,
)
from ._exchange import (
    export_qdpx as _export_qdpx,
)
from ._exchange import (
    import_codings as _import_codings,
)
from ._exchange import (
    import_folder as _import_folder,
)
from ._exchange import (
    import_path as _import_path,
)
from ._exchange import (
    import_qdpx as _import_qdpx,
)
from ._exchange import (
    import_results as _import_results,
)
from ._schema import APPLICATION_ID, SCHEMA_VERSION, migrate, schema_version

__all__ = ["CODER_SETTINGS", "STATUSES", "Project", "ProjectError"]

class Project(AnnotationsMixin):
    """A qualcode project in one SQLite file.

    It holds documents, codebook versions, codings by coder (human and machine, with a
    review status), memos and review decisions.

    Open one with :meth:`create` or :meth:`open`; the same file can be open in several
    processes and threads at once (the coding app, a notebook, the command line).

    Examples:
        >>> import tempfile, pathlib
        >>> import qualcode as qc
        >>> from qualcode.testing import tiny_corpus
        >>> cb = qc.Codebook([{"id": "planning", "definition": "Talk about planning."}], name="demo")
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "demo.qcproj"
        >>> p = qc.Project.create(path, corpus=tiny_corpus(), codebook=cb)
        >>> cid = p.add_coding("int_a", 56, 117, "planning", coder="ana")
        >>> p.codings(coder="ana").to_frame().loc[0, ["code", "status"]].tolist()
        ['planning', 'accepted']
        >>> p.close()
    """

    def __init__(self, path: Path, *, _token: object = None):
        if _token is not _PRIVATE:
            msg = "Use Project.create(path, ...) or Project.open(path)."
            raise TypeError(msg)
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []
        self._corpus_cache: tuple[str, Any] | None = None
        self._codebook_cache: tuple[str, Any] | None = None
        self._closed = False

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        corpus: Any = None,
        codebook: Any = None,
        name: str | None = None,
        coder: Mapping[str, Any] | None = None,
        overwrite: bool = False,
    ) -> Project:
        """Create a new project file.

        Args:
            path: the file to create (``.qcproj`` by convention).
            corpus: documents to add (a :class:`qualcode.Corpus`).
            codebook: the codebook to start with (a :class:`qualcode.Codebook`).
            name: the project's name (default: the file's stem).
            coder: settings of the project's machine coder, among :data:`CODER_SETTINGS`
                (``{"embeddings": False}`` for rules only; ``embedder`` is a registry name).
            overwrite: replace an existing file.

        Returns:
            The open project.

        Raises:
            ProjectError: the file exists (without ``overwrite``) or a setting is unknown.
        """
        p = Path(path)
        if p.exists():
            if not overwrite:
                msg = f"{p} already exists; refusing to overwrite it (pass overwrite=True / --force)."
                raise ProjectError(msg)
            _check_is_project(p)
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{p}{suffix}").unlink()
        if not p.parent.is_dir():
            msg = f"{p.parent}: no such folder."
            raise ProjectError(msg)
        self = cls(p, _token=_PRIVATE)
        conn = self._connect()
        migrate(conn)
        with self._write() as c:
            c.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?)",
                [("name", name or p.stem), ("created_at", _now()), ("documents_version", "0"),
                 ("coder", json.dumps(_check_coder(coder or {})))],
            )
        if codebook is not None:
            self.set_codebook(codebook)
        if corpus is not None:
            self.add_corpus(corpus)
        return self

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Project:
        """Open an existing project, migrating an older schema (after a backup copy).

        Raises:
            ProjectError: no such file, not a qualcode project, or written by a newer qualcode.
        """
        p = Path(path)
        if not p.is_file():
            msg = f"{p}: no such project file (create one with `qualcode project create`)."
            raise ProjectError(msg)
        _check_is_project(p)
        self = cls(p, _token=_PRIVATE)
        conn = self._connect()
        version = schema_version(conn)
        if version > SCHEMA_VERSION:
            self.close()
            msg = (f"{p} was written by a newer qualcode (schema version {version}; "
                   f"this one reads up to {SCHEMA_VERSION}). Upgrade qualcode.")
            raise ProjectError(msg)
        migrate(conn, path=p)
        return self

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            msg = f"{self.path}: the project is closed."
            raise ProjectError(msg)
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=15, check_same_thread=False)
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA busy_timeout = 15000")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.DatabaseError as exc:
                msg = f"{self.path}: cannot open the project database: {exc}"
                raise ProjectError(msg) from None
            self._local.conn = conn
            self._local.depth = 0
            with self._lock:
                self._conns.append(conn)
        return conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (nested calls join the outer one)."""
        conn = self._connect()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        conn.execute("BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._local.depth = 0

    def _q(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return self._connect().execute(sql, tuple(params)).fetchall()

    def release_thread(self) -> None:
        """Close the calling thread's connection (a server calls it after each request)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        with self._lock:
            if conn in self._conns:
                self._conns.remove(conn)
        with contextlib.suppress(sqlite3.Error):
            conn.close()
        self._local.conn = None

    def close(self) -> None:
        """Close every connection this object opened (from any thread)."""
        with self._lock:
            for c in self._conns:
                with contextlib.suppress(sqlite3.Error):
                    c.close()
            self._conns.clear()
        self._closed = True

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._closed:
            return f"Project({str(self.path)!r}, closed)"
        n = self._q("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM codings), "
                    "(SELECT count(*) FROM memos)")[0]
        return f"Project({self.name!r}: {n[0]} documents, {n[1]} codings, {n[2]} memos; {self.path})"

    # -- metadata -----------------------------------------------------------------------------
    def _meta(self, key: str, default: str | None = None) -> str | None:
        rows = self._q("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def _set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     (key, value))

    @property
    def name(self) -> str:
        """The project's name."""
        return self._meta("name", self.path.stem) or self.path.stem

    @property
    def coder_settings(self) -> dict[str, Any]:
        """The stored settings of the project's machine coder (see :meth:`create`)."""
        return json.loads(self._meta("coder", "{}") or "{}")

    def set_coder_settings(self, settings: Mapping[str, Any]) -> None:
        """Replace the machine coder's settings (keys among :data:`CODER_SETTINGS`)."""
        checked = _check_coder(settings)
        with self._write() as c:
            self._set_meta(c, "coder", json.dumps(checked))
            self._log(c, "settings")

    def _log(self, conn: sqlite3.Connection, kind: str, document: int | None = None) -> None:
        conn.execute("INSERT INTO changes(kind, document, at) VALUES (?, ?, ?)", (kind, document, _now()))

    def last_change(self) -> int:
        """The id of the latest change (grows with every write, from any process)."""
        return int(self._q("SELECT coalesce(max(id), 0) FROM changes")[0][0])

    def changes_since(self, since: int, limit: int = 500) -> pd.DataFrame:
        """The changes after ``since``: ``id, kind, doc_id, at``."""
        rows = self._q(
            "SELECT ch.id, ch.kind, d.doc_id, ch.at FROM changes ch LEFT JOIN documents d ON d.id = ch.document "
            "WHERE ch.id > ? ORDER BY ch.id LIMIT ?", (int(since), int(limit)))
        return pd.DataFrame([dict(r) for r in rows], columns=["id", "kind", "doc_id", "at"])

    # -- codebook -----------------------------------------------------------------------------
    def set_codebook(self, codebook: Any) -> str:
        """Store a codebook version (if new) and make it the active one.

        Returns:
            Its fingerprint.

        Raises:
            TypeError: ``codebook`` is not a :class:`qualcode.Codebook`.
        """
        from .. import Codebook

        if not isinstance(codebook, Codebook):
            msg = f"set_codebook takes a Codebook. Got {type(codebook).__name__} instead."
            raise TypeError(msg)
        fp = codebook.fingerprint
        with self._write() as c:
            c.execute(
                "INSERT INTO codebooks(fingerprint, name, version, yaml, added_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(fingerprint) DO NOTHING",
                (fp, codebook.name, str(codebook.version), codebook.to_yaml(), _now()),
            )
            self._set_meta(c, "codebook", fp)
            self._log(c, "codebook")
        return fp

    @property
    def codebook(self) -> Any:
        """The active :class:`qualcode.Codebook` (``None`` when the project has none)."""
        from .. import Codebook

        fp = self._meta("codebook")
        if fp is None:
            return None
        if self._codebook_cache is not None and self._codebook_cache[0] == fp:
            return self._codebook_cache[1]
        rows = self._q("SELECT yaml, name FROM codebooks WHERE fingerprint = ?", (fp,))
        cb = Codebook.loads(rows[0]["yaml"], source=f"{self.path.name}:codebook {rows[0]['name']}")
        self._codebook_cache = (fp, cb)
        return cb

    def codebooks(self) -> pd.DataFrame:
        """Every codebook version stored: ``fingerprint, name, version, added_at, active``."""
        active = self._meta("codebook")
        rows = self._q("SELECT fingerprint, name, version, added_at FROM codebooks ORDER BY id")
        out = pd.DataFrame([dict(r) for r in rows], columns=["fingerprint", "name", "version", "added_at"])
        out["active"] = out["fingerprint"] == active
        return out

    def _codebook_id(self, conn: sqlite3.Connection, fingerprint: str | None = None) -> int | None:
        fp = fingerprint or self._meta("codebook")
        if fp is None:
            return None
        row = conn.execute("SELECT id FROM codebooks WHERE fingerprint = ?", (fp,)).fetchone()
        return int(row[0]) if row else None

    # -- documents ----------------------------------------------------------------------------
    def add_corpus(self, corpus: Any, *, on_duplicate: str = "error") -> int:
        """Add a corpus's documents and case attributes.

        Args:
            corpus: a :class:`qualcode.Corpus`.
            on_duplicate: what to do with a ``doc_id`` the project already holds:
                ``"error"``; ``"skip"`` (keep the stored one if its text is the same, error
                otherwise).

        Returns:
            The number of documents added.

        Raises:
            ProjectError: a duplicate ``doc_id`` (or, with ``"skip"``, one whose text differs).
        """
        from .. import Corpus

        if not isinstance(corpus, Corpus):
            msg = f"add_corpus takes a Corpus. Got {type(corpus).__name__} instead."
            raise TypeError(msg)
        if on_duplicate not in ("error", "skip"):
            msg = f"on_duplicate must be 'error' or 'skip'. Got {on_duplicate!r} instead."
            raise ValueError(msg)
        cases = corpus.cases
        added = 0
        with self._write() as c:
            existing = {r[0]: r[1] for r in c.execute("SELECT doc_id, text FROM documents")}
            row = c.execute("SELECT value FROM meta WHERE key = 'case_columns'").fetchone()
            columns = json.loads(row[0]) if row else []
            columns += [str(k) for k in cases.columns if str(k) not in columns]
            self._set_meta(c, "case_columns", json.dumps(columns))  # order, and columns with no value
            for case_id, row in cases.iterrows():
                attrs = {str(k): _jsonable(v) for k, v in row.items()}
                attrs = {k: v for k, v in attrs.items() if v is not None}
                old = c.execute("SELECT attributes FROM cases WHERE case_id = ?", (str(case_id),)).fetchone()
                if old is None:
                    c.execute("INSERT INTO cases(case_id, attributes) VALUES (?, ?)", (str(case_id), json.dumps(attrs)))
                elif attrs:
                    merged = {**json.loads(old[0]), **attrs}
                    c.execute("UPDATE cases SET attributes = ? WHERE case_id = ?", (json.dumps(merged), str(case_id)))
            pos = int(c.execute("SELECT coalesce(max(position), -1) FROM documents").fetchone()[0]) + 1
            for d in corpus:
                if d.doc_id in existing:
                    if on_duplicate == "skip" and existing[d.doc_id] == d.text:
                        continue
                    why = "with a different text" if existing[d.doc_id] != d.text else "already"
                    msg = f"the project {why} holds a document {d.doc_id!r}; rename it or import into a new project."
                    raise ProjectError(msg)
                src = {k: _jsonable(getattr(d.source, k)) for k in ("path", "format", "encoding", "bom", "newline", "sha256")}
                cur = c.execute(
                    "INSERT INTO documents(doc_id, case_id, position, kind, language, text, attributes, source, added_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (d.doc_id, d.case_id, pos, d.kind, d.language, d.text,
                     json.dumps(_jsonable(dict(d.attributes))), json.dumps(src), _now()),
                )
                pk = cur.lastrowid
                pos += 1
                c.executemany(
                    'INSERT INTO turns(document, idx, speaker, role, start, "end", time_start, time_end, case_id) '
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(pk, i, t.speaker, t.role, t.start, t.end, t.time_start, t.time_end, t.case_id)
                     for i, t in enumerate(d.turns)],
                )
                existing[d.doc_id] = d.text
                added += 1
            if added:
                v = int(c.execute("SELECT value FROM meta WHERE key = 'documents_version'").fetchone()[0]) + 1
                self._set_meta(c, "documents_version", str(v))
                self._log(c, "documents")
        return added

    @property
    def doc_ids(self) -> list[str]:
        """Document ids in reading order."""
        return [r[0] for r in self._q("SELECT doc_id FROM documents ORDER BY position")]

    @property
    def corpus(self) -> Any:
        """Every document as a :class:`qualcode.Corpus` (cached until documents change)."""
        from .. import Corpus, Document, SourceInfo, Turn

        version = self._meta("documents_version", "0") or "0"
        if self._corpus_cache is not None and self._corpus_cache[0] == version:
            return self._corpus_cache[1]
        turns: dict[int, list[Turn]] = {}
        for r in self._q('SELECT document, speaker, role, start, "end", time_start, time_end, case_id '
                         "FROM turns ORDER BY document, idx"):
            turns.setdefault(r[0], []).append(Turn(r[1], r[2], r[3], r[4], r[5], r[6], r[7]))
        docs = []
        for r in self._q("SELECT id, doc_id, case_id, kind, language, text, attributes, source "
                         "FROM documents ORDER BY position"):
            src = json.loads(r["source"])
            docs.append(Document(r["doc_id"], r["text"], case_id=r["case_id"], kind=r["kind"],
                                 language=r["language"], attributes=json.loads(r["attributes"]),
                                 turns=tuple(turns.get(r["id"], ())),
                                 source=SourceInfo(**{k: v for k, v in src.items() if k in SourceInfo.__slots__})))
        case_rows = {r[0]: json.loads(r[1]) for r in self._q("SELECT case_id, attributes FROM cases ORDER BY rowid")}
        cases = pd.DataFrame.from_dict(case_rows, orient="index") if case_rows else None
        if cases is not None:
            columns = json.loads(self._meta("case_columns", "[]") or "[]")
            cases = cases.reindex(columns=columns + [c for c in cases.columns if c not in columns])
            cases.index.name = "case_id"
            cases = cases.infer_objects()
        corpus = Corpus(docs, cases=cases)
        self._corpus_cache = (version, corpus)
        return corpus

    def _doc(self, conn: sqlite3.Connection, doc_id: str) -> sqlite3.Row:
        row = conn.execute('SELECT id, case_id, length(text) AS n FROM documents WHERE doc_id = ?', (doc_id,)).fetchone()
        if row is None:
            msg = f"no document {doc_id!r} in the project."
            raise ProjectError(msg)
        return row

    def _case_at(self, conn: sqlite3.Connection, doc_pk: int, doc_case: str, offset: int) -> str:
        row = conn.execute(
            'SELECT case_id FROM turns WHERE document = ? AND start <= ? AND ? < max("end", start + 1) '
            "ORDER BY idx DESC LIMIT 1", (doc_pk, offset, offset)).fetchone()
        return row[0] if row is not None and row[0] else doc_case

    # -- exchange (see _exchange.py) ----------------------------------------------------------
    def import_path(self, path: str | os.PathLike[str], **kwargs: Any) -> dict[str, Any]:
        """Import whatever ``path`` is.

        A folder of transcripts, a ``results/`` folder of ``qualcode code``, a ``.qdpx``
        project, a codings CSV/XLSX, or a folder written by :meth:`export_folder`.

        See :func:`qualcode.project.import_path` for the keyword arguments.
        """
        return _import_path(self, path, **kwargs)

    def import_folder(self, path: str | os.PathLike[str], **read_kwargs: Any) -> dict[str, Any]:
        """Add the transcripts of a folder (read with :func:`qualcode.read_corpus`)."""
        return _import_folder(self, path, **read_kwargs)

    def import_results(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Add a ``results/`` folder of ``qualcode code``.

        Its corpus (the paths in ``run.json``), codebook and codings (machine codings as
        ``proposed`` suggestions).
        """
        return _import_results(self, path)

    def import_qdpx(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Add a REFI-QDA project: documents, cases, codebook, codings and memos (Notes)."""
        return _import_qdpx(self, path)

    def import_codings(self, path: str | os.PathLike[str], *, coder: str | None = None,
                       status: str | None = None) -> dict[str, Any]:
        """Add codings from a CSV/XLSX file (read with :func:`qualcode.read_codings`)."""
        return _import_codings(self, path, coder=coder, status=status)

    def export_qdpx(self, path: str | os.PathLike[str], *, status: Iterable[str] = ("accepted",),
                    overwrite: bool = False) -> Path:
        """Write a REFI-QDA project (.qdpx).

        It holds the codings of the given statuses, and every memo as a ``Note`` on its code,
        document or coding.
        """
        return _export_qdpx(self, path, status=status, overwrite=overwrite)

    def export_codings(self, path: str | os.PathLike[str], *, status: Iterable[str] | None = None,
                       overwrite: bool = False) -> Path:
        """Write the codings (with status, text and ids) as CSV."""
        return _export_codings(self, path, status=status, overwrite=overwrite)

    def export_folder(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the whole project as plain files that :meth:`import_path` reads back.

        Texts, turns, cases, codebook, codings, memos and decisions.
        """
        return _export_folder(self, path, overwrite=overwrite)


_PRIVATE = object()


def _check_coder(settings: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(settings, Mapping):
        msg = f"coder settings must be a mapping. Got {type(settings).__name__} instead."
        raise ProjectError(msg)
    bad = sorted(set(settings) - set(CODER_SETTINGS))
    if bad:
        msg = f"unknown coder setting(s) {bad}; known: {', '.join(CODER_SETTINGS)}."
        raise ProjectError(msg)
    out = dict(settings)
    try:
        json.dumps(out)
    except TypeError:
        msg = "coder settings must be plain values (an embedder by its registry name, not an object)."
        raise ProjectError(msg) from None
    return out


def _check_is_project(p: Path) -> None:
    """Refuse a file that is not a qualcode project (or not SQLite at all)."""
    try:
        with p.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        msg = f"{p}: cannot read: {exc.strerror or exc}"
        raise ProjectError(msg) from None
    if head and head != b"SQLite format 3\x00":
        msg = f"{p} is not a qualcode project (not an SQLite database)."
        raise ProjectError(msg)
    if not head:
        return
    conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    try:
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        n_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        msg = f"{p}: cannot read the database: {exc}"
        raise ProjectError(msg) from None
    finally:
        conn.close()
    if app != APPLICATION_ID and n_tables:
        msg = f"{p} is an SQLite database but not a qualcode project."
        raise ProjectError(msg)
