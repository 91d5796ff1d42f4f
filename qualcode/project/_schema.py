"""The project database schema and its versioned migrations.

A project is one SQLite file.  ``PRAGMA application_id`` marks it as a qualcode project and
``PRAGMA user_version`` holds the schema version: the number of migrations in
:data:`MIGRATIONS` that have been applied.  Opening an older file applies the missing
migrations in order, each in its own transaction, after copying the file to
``<name>.bak-v<old version>``; a file written by a newer qualcode is refused.

Tables (version 2):

- ``meta(key, value)``: project name, creation time, coder settings (JSON), the active
  codebook, the documents version.
- ``cases(case_id, attributes)``: case attributes as a JSON object.
- ``documents(id, doc_id, case_id, position, kind, language, text, attributes, source,
  added_at)`` and ``turns(document, idx, speaker, role, start, end, time_start, time_end,
  case_id)``.
- ``codebooks(id, fingerprint, name, version, yaml, added_at)``: every version ever used.
- ``codings(id, document, case_id, start, end, code, coder, source, status, score, evidence,
  codebook, created_at, threshold, priority, updated_at)``; ``status`` is ``proposed``,
  ``accepted`` or ``rejected``.
- ``memos(id, target, code, document, coding, title, text, author, created_at, updated_at)``
  on the project, a code, a document or a coding.
- ``decisions(id, coding, action, old_code, new_code, old_start, old_end, new_start,
  new_end, new_coding, who, at)``: who decided what about a coding, and when.
- ``runs(id, kind, coder, settings, summary, at)`` (v2): machine runs and their learning
  curves.
- ``changes(id, kind, document, at)`` (v2): an append-only log that lets every open window
  see the others' writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION", "migrate", "schema_version"]

#: ``PRAGMA application_id`` of a qualcode project ("QCod").
APPLICATION_ID = 0x51436F64

_V1 = (
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE cases (
        case_id TEXT PRIMARY KEY,
        attributes TEXT NOT NULL DEFAULT '{}'
    )""",
    """CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL UNIQUE,
        case_id TEXT NOT NULL REFERENCES cases(case_id),
        position INTEGER NOT NULL,
        kind TEXT NOT NULL,
        language TEXT NOT NULL,
        text TEXT NOT NULL,
        attributes TEXT NOT NULL DEFAULT '{}',
        source TEXT NOT NULL DEFAULT '{}',
        added_at TEXT NOT NULL
    )""",
    """CREATE TABLE turns (
        document INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        speaker TEXT NOT NULL,
        role TEXT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        time_start REAL,
        time_end REAL,
        case_id TEXT REFERENCES cases(case_id),
        PRIMARY KEY (document, idx),
        CHECK (0 <= start AND start <= "end")
    )""",
    """CREATE TABLE codebooks (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        yaml TEXT NOT NULL,
        added_at TEXT NOT NULL
    )""",
    """CREATE TABLE codings (
        id INTEGER PRIMARY KEY,
        document INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        case_id TEXT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        code TEXT NOT NULL,
        coder TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('human', 'rule', 'embedding', 'classifier')),
        status TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'rejected')),
        score REAL,
        evidence TEXT NOT NULL DEFAULT '',
        codebook INTEGER REFERENCES codebooks(id),
        created_at TEXT NOT NULL,
        CHECK (0 <= start AND start < "end")
    )""",
    "CREATE INDEX codings_document ON codings(document, start)",
    "CREATE INDEX codings_code ON codings(code, status)",
    """CREATE TABLE memos (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL CHECK (target IN ('project', 'code', 'document', 'coding')),
        code TEXT,
        document INTEGER REFERENCES documents(id) ON DELETE CASCADE,
        coding INTEGER REFERENCES codings(id) ON DELETE CASCADE,
        title TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        author TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        CHECK ((target = 'code') = (code IS NOT NULL)),
        CHECK ((target = 'document') = (document IS NOT NULL)),
        CHECK ((target = 'coding') = (coding IS NOT NULL))
    )""",
    """CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        coding INTEGER REFERENCES codings(id) ON DELETE SET NULL,
        action TEXT NOT NULL CHECK (action IN ('accept', 'reject', 'recode', 'reopen', 'move', 'delete')),
        old_code TEXT,
        new_code TEXT,
        old_start INTEGER,
        old_end INTEGER,
        new_start INTEGER,
        new_end INTEGER,
        new_coding INTEGER REFERENCES codings(id) ON DELETE SET NULL,
        who TEXT NOT NULL,
        at TEXT NOT NULL
    )""",
    "CREATE INDEX decisions_coding ON decisions(coding)",
)

_V2 = (
    'ALTER TABLE codings ADD COLUMN threshold REAL',
    'ALTER TABLE codings ADD COLUMN priority REAL',
    'ALTER TABLE codings ADD COLUMN updated_at TEXT',
    # least certain first: 1 - |score - threshold| / max(threshold, 1 - threshold)
    """UPDATE codings SET
        threshold = 0.5,
        priority = 1.0 - abs(coalesce(score, 0.5) - 0.5) / 0.5,
        updated_at = created_at""",
    "CREATE INDEX codings_queue ON codings(status, priority)",
    "CREATE INDEX codings_document_status ON codings(document, status)",  # per-document counts
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        coder TEXT NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',
        summary TEXT NOT NULL DEFAULT '{}',
        at TEXT NOT NULL
    )""",
    """CREATE TABLE changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        document INTEGER,
        at TEXT NOT NULL
    )""",
)


def _statements(stmts: tuple[str, ...]) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for s in stmts:
            conn.execute(s)

    return apply


#: The migrations, in order; migration ``i`` takes a database from version ``i`` to ``i + 1``.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_statements(_V1), _statements(_V2))
#: The schema version this qualcode writes.
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The ``user_version`` of an open database."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION, *, path: Path | None = None) -> int:
    """Apply the missing migrations up to ``target``, each in its own transaction.

    Args:
        conn: a connection in autocommit mode (``isolation_level=None``).
        target: the version to reach (tests use 1 to build an old file).
        path: the database file; when given and the file already holds data, it is copied to
            ``<name>.bak-v<version>`` before the first migration.

    Returns:
        The version before migrating.

    Raises:
        ValueError: the database is newer than ``target``.
    """
    current = schema_version(conn)
    if current > target:
        msg = f"schema version {current} is newer than {target}"
        raise ValueError(msg)
    if current == target:
        return current
    if path is not None and current > 0:
        backup = path.with_name(f"{path.name}.bak-v{current}")
        dest = sqlite3.connect(backup)
        try:
            conn.backup(dest)
        finally:
            dest.close()
    for version in range(current, target):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            if version == 0:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return current
