"""Moving a project between its database and files.

Transcript folders, the ``results/`` folder of ``qualcode code``, REFI-QDA ``.qdpx`` (memos
as ``Note`` s), codings CSV, and a plain project folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import QualcodeWarning
from ._common import ProjectError, _jsonable, row_thresholds

if TYPE_CHECKING:  # the Project's methods call into this module, so it never imports Project
    from ._store import Project

__all__ = [
    "MANIFEST",
    "export_codings",
    "export_folder",
    "export_qdpx",
    "import_codings",
    "import_folder",
    "import_path",
    "import_qdpx",
    "import_results",
]

#: The file that marks a folder written by :func:`export_folder`.
MANIFEST = "qualcode-project.json"
_FORMAT = 1
#: The columns of a codings table (``qualcode.Codings``) that an export carries.
_CODING_COLUMNS = ("doc_id", "case_id", "segment_id", "start", "end", "code", "coder", "source", "score", "evidence")
_CODING_LABEL = re.compile(r"^(?P<doc>.+)@(?P<s>\d+)-(?P<e>\d+)/(?P<code>[a-z][a-z0-9_]*)$")


class ProjectWarning(QualcodeWarning):
    """An import went through with a caveat (changed transcripts, skipped rows...)."""


def import_path(project: Project, path: str | os.PathLike[str], *, coder: str | None = None, **read_kwargs: Any) -> dict[str, Any]:
    """Import whatever ``path`` is, into ``project``.

    - a ``.qdpx`` file: :func:`import_qdpx`;
    - a ``.csv``/``.tsv``/``.xlsx`` file: codings, :func:`import_codings` (``coder`` names
      rows without one);
    - a folder with ``run.json`` and ``codings.csv``: :func:`import_results`;
    - a folder with ``qualcode-project.json``: a folder written by :func:`export_folder`;
    - any other folder (or transcript file): :func:`import_folder`.

    Returns:
        What was added (counts), for a one-line summary.

    Raises:
        ProjectError: the path does not exist, or what it holds cannot be added.
    """
    p = Path(path)
    if not p.exists():
        msg = f"{p}: no such file or folder."
        raise ProjectError(msg)
    suffix = p.suffix.lower()
    if p.is_file() and suffix == ".qdpx":
        return import_qdpx(project, p)
    if p.is_file() and suffix in (".csv", ".tsv", ".xlsx"):
        return import_codings(project, p, coder=coder)
    if p.is_dir() and (p / MANIFEST).is_file():
        return _import_export_folder(project, p)
    if p.is_dir() and (p / "run.json").is_file() and (p / "codings.csv").is_file():
        return import_results(project, p)
    return import_folder(project, p, **read_kwargs)


def import_folder(project: Project, path: str | os.PathLike[str], **read_kwargs: Any) -> dict[str, Any]:
    """Add the transcripts in ``path`` (see :func:`qualcode.read_corpus` for the options)."""
    from ..readers import read_corpus

    corpus = read_corpus(path, **read_kwargs)
    if not len(corpus):
        msg = f"{path}: no documents with text found."
        raise ProjectError(msg)
    n = project.add_corpus(corpus, on_duplicate="skip")
    return {"documents": n}


def _resolve(raw: str, results: Path, what: str) -> Path:
    p = Path(raw)
    cands = [p] if p.is_absolute() else [Path.cwd() / p, results.parent / p, results / p]
    for c in cands:
        if c.exists():
            return c
    looked = ", ".join(dict.fromkeys(str(c.resolve()) for c in cands))
    msg = (f"{results / 'run.json'}: the {what} {raw!r} it names is not found (looked for {looked}); "
           "run the import from the folder the run was started in.")
    raise ProjectError(msg)


def import_results(project: Project, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Add a ``results/`` folder of ``qualcode code``.

    Reads ``run.json`` for the corpus paths and the codebook, adds the documents (skipping
    ones the project already holds with the same text) and the codebook (as the active
    version), then ``codings.csv``: human rows as ``accepted`` codings, machine rows as
    ``proposed`` suggestions with the run's thresholds (parent "via children" copies are
    left out: they are computed on demand by the matrices).

    Raises:
        ProjectError: ``run.json`` is unreadable or names paths that cannot be found.
    """
    from .. import Codebook, read_codings
    from ..readers import read_corpus

    res = Path(path)
    try:
        info = json.loads((res / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{res / 'run.json'}: cannot read it: {exc}"
        raise ProjectError(msg) from None
    paths = [str(x) for x in info.get("paths") or []]
    if not paths:
        msg = f"{res / 'run.json'} names no corpus paths ('paths')."
        raise ProjectError(msg)
    corpus_paths = [_resolve(x, res, "corpus path") for x in paths]
    added: dict[str, Any] = {}
    if info.get("codebook_path"):
        cb = Codebook.load(_resolve(str(info["codebook_path"]), res, "codebook"))
        if project.codebook is None or project.codebook.fingerprint != cb.fingerprint:
            project.set_codebook(cb)
            added["codebook"] = f"{cb.name} v{cb.version}"
    elif project.codebook is None:
        msg = f"{res / 'run.json'} names no codebook and the project has none."
        raise ProjectError(msg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=QualcodeWarning)
        corpus = read_corpus([str(p) for p in corpus_paths])
    fp = info.get("corpus_fingerprint")
    if fp and fp != corpus.fingerprint:
        warnings.warn(f"{res}: the transcripts changed since this run (corpus fingerprint {corpus.fingerprint}, "
                      f"run {fp}); every coding is checked against the current text.", ProjectWarning, stacklevel=3)
    added["documents"] = project.add_corpus(corpus, on_duplicate="skip")
    codings = read_codings(res / "codings.csv", corpus)
    f = codings.to_frame()
    f = f[~f["evidence"].astype(str).str.startswith("via children")]
    f["threshold"] = row_thresholds(f, info.get("thresholds"))
    ids = project.add_codings(f)
    added["codings"] = len(ids)
    added["suggestions"] = int((f["source"] != "human").sum())
    return added


def import_codings(project: Project, path: str | os.PathLike[str], *, coder: str | None = None,
                   status: str | None = None) -> dict[str, Any]:
    """Add the codings of a CSV/TSV/XLSX file (offsets or quotes; see :func:`qualcode.read_codings`)."""
    from .. import read_codings

    codings = read_codings(path, project.corpus, coder=coder)
    ids = project.add_codings(codings, status=status)
    return {"codings": len(ids)}


def import_qdpx(project: Project, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Add a REFI-QDA project: documents, cases, codebook, codings and memos.

    ``Note`` s become memos on the code, document or coding they are attached to (a note on
    several objects is attached to the first one found; a note on nothing, or on an object
    that is not imported, to the project).  A selection's ``Description`` becomes a memo on
    its first coding.  The imported codebook becomes the active version.
    """
    from ..refi import read_qdpx

    proj = read_qdpx(path)
    out: dict[str, Any] = {}
    if proj.codebook is not None and len(proj.codebook):
        if project.codebook is None or project.codebook.fingerprint != proj.codebook.fingerprint:
            project.set_codebook(proj.codebook)
            out["codebook"] = f"{proj.codebook.name} v{proj.codebook.version}"
    out["documents"] = project.add_corpus(proj.corpus, on_duplicate="skip")
    f = proj.codings.to_frame()
    memo_col = f["memo"] if "memo" in f.columns else None
    base = f.drop(columns=[c for c in ("memo", "text") if c in f.columns])
    out["codings"] = len(project.add_codings(base)) if len(base) else 0
    ids = _coding_ids(project)
    existing = {(r.target, r.code, r.doc_id, r.coding_id, r.title, r.text)
                for r in project.memos().itertuples(index=False)}
    n_memos = 0

    def memo(text: str, author: str, title: str, **target: Any) -> None:
        nonlocal n_memos
        key = ("coding" if target.get("coding_id") is not None else "code" if target.get("code") else
               "document" if target.get("doc_id") else "project",
               target.get("code"), target.get("doc_id"), target.get("coding_id"), title, text)
        if key in existing or not text.strip():
            return
        existing.add(key)
        project.add_memo(text, author=author, title=title, **target)
        n_memos += 1

    if memo_col is not None:
        done: set[tuple[str, int, int]] = set()
        for row, m in zip(f.itertuples(index=False), memo_col, strict=True):
            if not isinstance(m, str) or not m.strip() or (row.doc_id, row.start, row.end) in done:
                continue
            done.add((row.doc_id, row.start, row.end))
            cid = ids.get((row.doc_id, int(row.start), int(row.end), row.code))
            if cid is not None:
                memo(m.strip(), row.coder, "Selection memo", coding_id=cid)
    codes_by_name = dict(zip(proj.codes["name"], proj.codes["id"], strict=True)) if len(proj.codes) else {}
    cb = project.codebook
    doc_ids = set(project.doc_ids)
    for note in proj.notes:
        author = note.author or "imported"
        target: dict[str, Any] = {}
        for name in note.attached_to:
            m = _CODING_LABEL.match(name)
            if m and (m["doc"], int(m["s"]), int(m["e"]), m["code"]) in ids:
                target = {"coding_id": ids[(m["doc"], int(m["s"]), int(m["e"]), m["code"])]}
            elif name in doc_ids:
                target = {"doc_id": name}
            elif cb is not None and codes_by_name.get(name, name) in cb:
                target = {"code": codes_by_name.get(name, name)}
            if target:
                break
        memo(note.text, author, note.name, **target)
    out["memos"] = n_memos
    return out


def _coding_ids(project: Project) -> dict[tuple[str, int, int, str], int]:
    f = project.codings().to_frame()
    out: dict[tuple[str, int, int, str], int] = {}
    for r in f.itertuples(index=False):
        out.setdefault((r.doc_id, int(r.start), int(r.end), r.code), int(r.coding_id))
    return out


def _memos_for_export(project: Project, exported: pd.DataFrame) -> list[dict[str, Any]]:
    keys = {(r.doc_id, int(r.start), int(r.end), r.code, r.coder): True for r in exported.itertuples(index=False)}
    cb = project.codebook
    out: list[dict[str, Any]] = []
    for m in project.memos().iloc[::-1].itertuples(index=False):  # oldest first
        base = {"text": m.text, "author": m.author}
        if m.target == "code" and cb is not None and m.code in cb:
            out.append({**base, "name": m.title or f"Memo on {m.code}", "target": "code", "code": m.code})
        elif m.target == "document":
            out.append({**base, "name": m.title or f"Memo on {m.doc_id}", "target": "document", "doc_id": m.doc_id})
        elif m.target == "coding":
            key = (m.coding_doc_id, int(m.coding_start), int(m.coding_end), m.coding_code, m.coding_coder)
            title = m.title or f"Memo on {m.coding_code} in {m.coding_doc_id}"
            if key in keys:
                out.append({**base, "name": title, "target": "coding", "doc_id": key[0], "start": key[1],
                            "end": key[2], "code": key[3], "coder": key[4]})
            else:  # the coding is not exported (e.g. a rejected suggestion): keep the memo on its document
                out.append({**base, "name": f"{title} [{m.coding_start}-{m.coding_end}, not exported]",
                            "target": "document", "doc_id": m.coding_doc_id})
        else:
            out.append({**base, "name": m.title or "Project memo", "target": "project"})
    return out


def export_qdpx(project: Project, path: str | os.PathLike[str], *, status: Iterable[str] = ("accepted",),
                overwrite: bool = False) -> Path:
    """Write ``project`` as a REFI-QDA ``.qdpx`` with its memos as ``Note`` s.

    Args:
        project: the project.
        path: the ``.qdpx`` to write.
        status: the statuses of the codings to include (default: accepted only, which is
            what a researcher stands behind; ``("accepted", "proposed")`` adds the open
            suggestions).
        overwrite: replace an existing file.

    Returns:
        The path written.

    Raises:
        ProjectError: the project has no codebook.
    """
    from .. import Codings
    from ..refi import write_qdpx

    cb = project.codebook
    if cb is None:
        msg = f"{project.path}: the project has no codebook; there is nothing to export codings with."
        raise ProjectError(msg)
    f = project.codings(status=list(status)).to_frame()
    unknown = sorted(set(f["code"]) - set(cb.ids))
    if unknown:
        warnings.warn(f"{len(f[f['code'].isin(unknown)])} coding(s) of codes not in the active codebook "
                      f"({', '.join(unknown[:10])}) are not exported.", ProjectWarning, stacklevel=3)
        f = f[~f["code"].isin(unknown)]
    f = f[list(_CODING_COLUMNS)]
    return write_qdpx(path, project.corpus, cb, Codings(f), overwrite=overwrite, name=project.name,
                      memos=_memos_for_export(project, f))


def export_codings(project: Project, path: str | os.PathLike[str], *, status: Iterable[str] | None = None,
                   overwrite: bool = False) -> Path:
    """Write the codings (all statuses by default) as CSV.

    The Codings columns plus ``coding_id, status, threshold, priority, text,
    codebook_fingerprint``.
    """
    codings = project.codings(status=None if status is None else list(status))
    codings.to_csv(path, overwrite=overwrite)
    return Path(path)


def _safe_name(doc_id: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", doc_id).strip("._") or "document"
    name, k = base, 2
    while name.lower() in used:
        name, k = f"{base}_{k}", k + 1
    used.add(name.lower())
    return name + ".txt"


def export_folder(project: Project, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write the project as plain files in a new folder.

    ``texts/<doc>.txt`` (each document's text exactly, UTF-8), ``documents.csv``,
    ``turns.csv``, ``cases.csv``, ``codebook.yaml``, ``codings.csv`` (every status),
    ``memos.csv``, ``decisions.csv`` and ``qualcode-project.json``.  :func:`import_path`
    reads it back exactly (documents, turns, cases, codebook, codings with their status,
    memos; ``decisions.csv`` is the record, not re-imported).  The folder is written
    beside its destination and moved into place at the end; an existing one is replaced only
    with ``overwrite`` and only when it holds a ``qualcode-project.json``.

    Returns:
        The folder.

    Raises:
        ProjectError: the destination exists (see above).
    """
    from .._io import atomic_write_text

    out = Path(path)
    if out.exists():
        if not overwrite:
            msg = f"{out} already exists; refusing to overwrite it (pass overwrite=True / --force)."
            raise ProjectError(msg)
        if not (out / MANIFEST).is_file():
            msg = f"{out} is not a qualcode project folder (no {MANIFEST}); choose another destination."
            raise ProjectError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        corpus = project.corpus
        (tmp / "texts").mkdir()
        used: set[str] = set()
        docs, turns = [], []
        for d in corpus:
            fname = _safe_name(d.doc_id, used)
            (tmp / "texts" / fname).write_bytes(d.text.encode("utf-8"))
            docs.append({"doc_id": d.doc_id, "file": f"texts/{fname}", "case_id": d.case_id, "kind": d.kind,
                         "language": d.language, "attributes": json.dumps(_jsonable(dict(d.attributes))),
                         "source": json.dumps({k: _jsonable(getattr(d.source, k)) for k in d.source.__slots__})})
            for i, t in enumerate(d.turns):
                turns.append({"doc_id": d.doc_id, "idx": i, "speaker": t.speaker, "role": t.role, "start": t.start,
                              "end": t.end, "time_start": t.time_start, "time_end": t.time_end, "case_id": t.case_id})
        pd.DataFrame(docs, columns=["doc_id", "file", "case_id", "kind", "language", "attributes", "source"]).to_csv(
            tmp / "documents.csv", index=False)
        pd.DataFrame(turns, columns=["doc_id", "idx", "speaker", "role", "start", "end", "time_start", "time_end",
                                     "case_id"]).to_csv(tmp / "turns.csv", index=False)
        corpus.cases.to_csv(tmp / "cases.csv")
        cb = project.codebook
        if cb is not None:
            atomic_write_text(tmp / "codebook.yaml", cb.to_yaml())
        project.codings().to_frame().to_csv(tmp / "codings.csv", index=False)
        project.memos().to_csv(tmp / "memos.csv", index=False)
        project.decisions().to_csv(tmp / "decisions.csv", index=False)
        manifest = {"format": _FORMAT, "name": project.name, "documents": len(corpus),
                    "corpus_fingerprint": corpus.fingerprint,
                    "codebook_fingerprint": cb.fingerprint if cb is not None else None,
                    "coder": project.coder_settings}
        atomic_write_text(tmp / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        msg = f"{path}: cannot read it: {exc}"
        raise ProjectError(msg) from None


def _import_export_folder(project: Project, folder: Path) -> dict[str, Any]:
    """Read back a folder written by :func:`export_folder`, exactly."""
    from .. import Codebook, Corpus, Document, SourceInfo, Turn

    docs = _read_csv(folder / "documents.csv")
    turns = _read_csv(folder / "turns.csv") if (folder / "turns.csv").is_file() else pd.DataFrame()
    by_doc: dict[str, list[Turn]] = {}
    for i, t in enumerate(turns.to_dict("records")):
        try:
            by_doc.setdefault(t["doc_id"], []).append(Turn(
                t["speaker"], t["role"], int(t["start"]), int(t["end"]),
                None if pd.isna(t["time_start"]) else float(t["time_start"]),
                None if pd.isna(t["time_end"]) else float(t["time_end"]),
                None if pd.isna(t["case_id"]) else t["case_id"]))
        except (TypeError, ValueError) as exc:
            msg = f"{folder / 'turns.csv'}, line {i + 2}: {exc}"
            raise ProjectError(msg) from None
    documents = []
    for i, r in enumerate(docs.to_dict("records")):
        f = (folder / str(r["file"])).resolve()
        if folder.resolve() not in f.parents:
            msg = f"{folder / 'documents.csv'}, line {i + 2}: file {r['file']!r} is outside the folder."
            raise ProjectError(msg)
        try:
            text = f.read_bytes().decode("utf-8")
            src = json.loads(r["source"]) if isinstance(r.get("source"), str) else {}
            documents.append(Document(
                r["doc_id"], text, case_id=r["case_id"], kind=r["kind"], language=r["language"],
                attributes=json.loads(r["attributes"]) if isinstance(r.get("attributes"), str) else {},
                turns=tuple(by_doc.get(r["doc_id"], ())),
                source=SourceInfo(**{k: v for k, v in src.items() if k in SourceInfo.__slots__})))
        except (OSError, ValueError, TypeError) as exc:
            msg = f"{folder / 'documents.csv'}, line {i + 2}: {exc}"
            raise ProjectError(msg) from None
    cases = pd.read_csv(folder / "cases.csv", index_col=0) if (folder / "cases.csv").is_file() else None
    out: dict[str, Any] = {}
    if (folder / "codebook.yaml").is_file():
        cb = Codebook.load(folder / "codebook.yaml")
        if project.codebook is None or project.codebook.fingerprint != cb.fingerprint:
            project.set_codebook(cb)
            out["codebook"] = f"{cb.name} v{cb.version}"
    out["documents"] = project.add_corpus(Corpus(documents, cases=cases), on_duplicate="skip")
    codings = pd.read_csv(folder / "codings.csv") if (folder / "codings.csv").is_file() else pd.DataFrame()
    if "evidence" in codings.columns:
        codings["evidence"] = codings["evidence"].astype(object).where(codings["evidence"].notna(), "")
    old_ids: list[int] = []
    if len(codings):
        keep = [c for c in ("doc_id", "start", "end", "code", "coder", "source", "status", "score", "evidence",
                            "threshold", "priority") if c in codings.columns]
        project.add_codings(codings[keep], check_codes=False)
        old_ids = codings["coding_id"].astype(int).tolist() if "coding_id" in codings.columns else []
    out["codings"] = len(codings)
    ids = _coding_ids(project)
    id_map = {}
    if old_ids:
        for old, r in zip(old_ids, codings.itertuples(index=False), strict=True):
            id_map[old] = ids.get((r.doc_id, int(r.start), int(r.end), r.code))
    n = 0
    if (folder / "memos.csv").is_file():
        memos = pd.read_csv(folder / "memos.csv", keep_default_na=False)
        have = {(r.target, r.title, r.text) for r in project.memos().itertuples(index=False)}
        for m in memos.iloc[::-1].itertuples(index=False):
            if (m.target, m.title, m.text) in have:
                continue
            target: dict[str, Any] = {}
            if m.target == "code":
                target = {"code": m.code}
            elif m.target == "document":
                target = {"doc_id": m.doc_id}
            elif m.target == "coding":
                new = id_map.get(int(m.coding_id)) if str(m.coding_id).strip() else None
                target = {"coding_id": new} if new is not None else {}
            project.add_memo(m.text, author=m.author, title=m.title, **target)
            n += 1
    out["memos"] = n
    return out
