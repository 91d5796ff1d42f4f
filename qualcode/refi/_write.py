r"""Export a corpus, codebook and codings as a REFI-QDA project (.qdpx).

The archive holds ``project.qde`` (namespace ``urn:QDA-XML:project:1.0``) and one UTF-8
``sources/<guid>.txt`` per document (``Document.text`` exactly, no BOM, ``\n`` line ends),
so positions are code points and exact.  GUIDs are uuid5 values of stable keys and the zip
has fixed timestamps and a fixed entry order, so two exports of the same project are
byte-identical.
"""

from __future__ import annotations

import datetime as _dt
import io
import logging
import math
import numbers
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from lxml import etree

from .._io import atomic_path
from .._params import InstanceOf, validated
from ..codings._codings import Codings
from ..corpus._model import Corpus
from ..errors import CodingsError, ExportError

__all__ = ["NS", "GUID_NAMESPACE", "guid", "project_xml", "validate_project", "write_qdpx"]

log = logging.getLogger("qualcode")

NS = "urn:QDA-XML:project:1.0"
#: Fixed namespace of every GUID qualcode writes (uuid5 of stable keys).
GUID_NAMESPACE = uuid.UUID("6f1d1c2e-3b0a-5c57-9a4e-2f7f5d0c9b11")
#: The user every export names as the creator of sources and cases.
QUALCODE_USER = "qualcode"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
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
def _codebook_element(parent: etree._Element, codebook: Any) -> dict[str, str]:
    """Append ``<CodeBook>`` (built by ``qualcode.refi._qdc``) to ``parent``; return code id -> GUID."""
    from ._qdc import code_guid, codes_to_xml

    if not len(codebook):
        return {}
    cb = _el(parent, "CodeBook")
    codes_to_xml(codebook, cb, NS)
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


def _variable_type(series: pd.Series) -> str:
    vals = [v for v in series.tolist() if not _is_missing(v)]
    if not vals:
        return "Text"
    if all(isinstance(v, bool) or type(v).__name__ == "bool_" for v in vals):
        return "Boolean"
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in vals):
        return "Integer"
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in vals):
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
def _codings_frame(codings: Codings | pd.DataFrame | None, corpus: Corpus, code_guids: Mapping[str, str]) -> pd.DataFrame:
    if codings is None:
        return pd.DataFrame(columns=["doc_id", "start", "end", "code", "coder"])
    frame = codings.to_frame() if isinstance(codings, Codings) else Codings(codings).to_frame()
    problems: list[str] = []
    unknown_docs = sorted(set(frame["doc_id"]) - set(corpus.doc_ids))
    if unknown_docs:
        problems.append(f"documents not in the corpus: {unknown_docs[:10]}")
    unknown_codes = sorted(set(frame["code"]) - set(code_guids))
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


def _description_yaml(data: Mapping[str, Any]) -> str:
    return yaml.safe_dump(_plain(data), sort_keys=True, allow_unicode=True, default_flow_style=False)


def _plain(v: Any) -> Any:
    """Make values safe for yaml.safe_dump (numpy scalars, timestamps...)."""
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (str, bool, int, float)) or v is None:
        return v
    if hasattr(v, "item") and not isinstance(v, (_dt.date,)):
        return _plain(v.item())
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, _dt.date):
        return v
    return str(v)


def project_xml(
    corpus: Corpus,
    codebook: Any,
    codings: Codings | pd.DataFrame | None = None,
    *,
    origin: str = "qualcode",
    name: str | None = None,
    notes: Mapping[str, str] | None = None,
    memos: Iterable[Mapping[str, Any]] | None = None,
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

    Returns:
        The root element and a mapping from archive member name to bytes.

    Raises:
        CodingsError: a coding refers to an unknown document or code, or lies outside its text;
            a memo's object is not in the export.
    """
    root = etree.Element(_Q + "Project", nsmap={None: NS})
    root.set("name", name or "qualcode project")
    root.set("origin", origin)
    me = guid("user", QUALCODE_USER)
    root.set("creatingUserGUID", me)

    users_el = _el(root, "Users")
    code_guids = _codebook_element(root, codebook)
    frame = _codings_frame(codings, corpus, code_guids)
    coders = sorted(set(frame["coder"].astype(str))) if len(frame) else []
    memo_list = _memo_list(memos)  # memos as Notes
    coders = sorted(set(coders) | {m["author"] for m in memo_list if m["author"]})
    user_guids = {QUALCODE_USER: me}
    for c in sorted(set(coders) | {QUALCODE_USER}):
        user_guids[c] = guid("user", c)
        _el(users_el, "User", {"guid": user_guids[c], "name": c})

    # variables: case attributes
    cases = corpus.cases
    var_types: dict[str, str] = {}
    var_guids: dict[str, str] = {}
    if len(cases.columns):
        vars_el = _el(root, "Variables")
        for col in cases.columns:
            cname = str(col)
            var_types[cname] = _variable_type(cases[col])
            var_guids[cname] = guid("variable", cname)
            _el(vars_el, "Variable", {"guid": var_guids[cname], "name": cname, "typeOfVariable": var_types[cname]})

    # selections first (cases refer to speaker-turn selections)
    src_guid = {d.doc_id: guid("source", d.doc_id) for d in corpus}
    turn_sel: dict[str, list[tuple[str, int, int, str]]] = {}
    for d in corpus:
        for i, t in enumerate(d.turns):
            if t.case_id:
                turn_sel.setdefault(t.case_id, []).append((d.doc_id, t.start, t.end, guid("turn", d.doc_id, i)))

    if len(cases):
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
            for _doc, _s, _e, sel_guid in turn_sel.get(cid, []):
                _el(case_el, "SelectionRef", {"targetGUID": sel_guid})

    files: dict[str, bytes] = {}
    if len(corpus):
        sources_el = _el(root, "Sources")
        by_doc = {k: g for k, g in frame.groupby("doc_id", sort=False)} if len(frame) else {}
        for d in corpus:
            g = src_guid[d.doc_id]
            files[f"sources/{g}.txt"] = d.text.encode("utf-8")
            src = _el(
                sources_el,
                "TextSource",
                {"guid": g, "name": d.doc_id, "plainTextPath": f"internal://{g}.txt", "creatingUser": me},
            )
            meta = {"qualcode": {"doc_id": d.doc_id, "kind": d.kind, "language": d.language}}
            attrs = {k: v for k, v in d.attributes.items() if not str(k).startswith("refi_")}
            if attrs:
                meta["attributes"] = attrs
            if d.source.path:
                meta["qualcode"]["source_format"] = d.source.format
            _el(src, "Description", text=_description_yaml(meta))
            selections: dict[tuple[int, int], list[tuple[str, str, str]]] = {}
            memos: dict[tuple[int, int], list[str]] = {}
            sub = by_doc.get(d.doc_id)
            if sub is not None:
                has_memo = "memo" in sub.columns
                for row in sub.itertuples(index=False):
                    key = (int(row.start), int(row.end))
                    selections.setdefault(key, []).append((str(row.code), str(row.coder), guid("coding", d.doc_id, key[0], key[1], row.code, row.coder)))
                    if has_memo and isinstance(row.memo, str) and row.memo.strip():
                        memos.setdefault(key, []).append(row.memo.strip())
            for i, t in enumerate(d.turns):
                if t.case_id:
                    _el(src, "PlainTextSelection", {
                        "guid": guid("turn", d.doc_id, i), "name": t.speaker,
                        "startPosition": str(t.start), "endPosition": str(t.end), "creatingUser": me,
                    })
            for (s, e) in sorted(selections):
                items = sorted(set(selections[(s, e)]))
                sel = _el(src, "PlainTextSelection", {
                    "guid": guid("selection", d.doc_id, s, e),
                    "name": d.text[s:e],
                    "startPosition": str(s),
                    "endPosition": str(e),
                    "creatingUser": user_guids[items[0][1]],
                })
                if (s, e) in memos:
                    _el(sel, "Description", text="\n\n".join(sorted(dict.fromkeys(memos[(s, e)]))))
                for code, coder, cg in items:
                    c_el = _el(sel, "Coding", {"guid": cg, "creatingUser": user_guids[coder]})
                    _el(c_el, "CodeRef", {"targetGUID": code_guids[code]})

    if notes or memo_list:
        notes_el = _el(root, "Notes")
        for title in sorted(notes or {}):
            n = _el(notes_el, "Note", {"guid": guid("note", title), "name": title, "creatingUser": me})
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
    by_guid = {el.get("guid"): el for el in root.iter(_Q + "Code", _Q + "TextSource", _Q + "Coding")}
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
                  "creatingUser": user_guids[m["author"]] if m["author"] else user_guids[QUALCODE_USER]}
        n = _el(notes_el, "Note", attrib)
        _el(n, "PlainTextContent", text=m["text"])
        ref = etree.Element(_Q + "NoteRef", {"targetGUID": note_guid})
        if owner.tag == _Q + "Code":  # Description?, NoteRef*, Code*
            kids = [k for k in owner if k.tag == _Q + "Code"]
            if kids:
                kids[0].addprevious(ref)
            else:
                owner.append(ref)
        else:  # TextSource (no VariableValue written), Coding (after CodeRef), Project (moved last)
            owner.append(ref)


@validated({"corpus": [InstanceOf(Corpus)]})
def write_qdpx(
    path: str | Path,
    corpus: Corpus,
    codebook: Any,
    codings: Codings | pd.DataFrame | None = None,
    *,
    overwrite: bool = False,
    origin: str = "qualcode",
    name: str | None = None,
    notes: Mapping[str, str] | None = None,
    memos: Iterable[Mapping[str, Any]] | None = None,
) -> Path:
    """Write a REFI-QDA project (.qdpx) that NVivo, ATLAS.ti, MAXQDA or QualCoder can open.

    Every document becomes a ``TextSource`` whose UTF-8 text is stored in the archive; codes
    keep their colours, definitions (``Description``) and hierarchy; every coding becomes a
    ``Coding`` of a ``PlainTextSelection`` (one selection per distinct span, one coding per
    code and coder) created by the coder's ``User``; cases become ``Case`` elements with
    typed ``VariableValue`` s and ``SourceRef`` s to their documents.  Positions are
    Unicode code points with an exclusive end.  The ``project.qde`` is validated against
    ``Project.xsd`` before anything is written, and the file is written atomically.

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

    Returns:
        The path written.

    Raises:
        CodingsError: a coding refers to an unknown document or code, or a memo to an
            object not in the export.
        ExportError: the file exists (and ``overwrite`` is False), cannot be written, or the
            project does not validate against the schema.

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
    root, files = project_xml(corpus, codebook, codings, origin=origin, name=name, notes=notes, memos=memos)
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

