"""Import a REFI-QDA project (.qdpx) from NVivo, ATLAS.ti, MAXQDA, QualCoder or qualcode.

Lenient about what real exports do (any ``*.qde`` name, ``Sources/`` or ``sources/``,
inline ``PlainTextContent``, ``.docx`` sources, namespace variants, GUIDs that change on
every export) and strict about correctness: selection positions are mapped onto
``Document.text`` under the offset convention detected per source (see ``_offsets``), and a
selection that cannot be mapped is an error (or, with ``strict=False``, a warning that lists
it), never a silent loss.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import os
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from lxml import etree

from ..codings._codings import Codings
from ..corpus._model import KINDS, Corpus, Document, SourceInfo, Turn
from ..errors import IngestWarning, RefiError
from ..readers._decode import newline_style, normalise_newlines
from ..readers._pages import check_page_starts
from ._offsets import OffsetMap, Selection, detect_convention, map_selection
from ._parse import (
    _child_text,
    _children,
    _decode,
    _docx_text,
    _find_qde,
    _int_attr,
    _norm_guid,
    _strip_namespaces,
)
from ._safety import SafeArchive, parse_xml
from ._source_block import CASE_VARIABLE, block_turns, import_language, read_source_description

__all__ = ["Note", "Project", "read_qdpx"]

log = logging.getLogger("qualcode")

_TEXT_EXT = re.compile(r"\.(txt|docx?|rtf|pdf|odt|md|html?)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Note:
    r"""A memo from the project's ``<Notes>``.

    Attributes:
        name: its title.
        text: its text (``\n`` line ends).
        description: its ``Description``, if any.
        author: the name of the user who created it, if known.
        attached_to: names of the objects it is attached to: ``project``, a code's name, a
            source's doc id, or ``"<doc_id>@<start>-<end>/<code id>"`` for a coding.
    """

    name: str
    text: str
    description: str = ""
    author: str | None = None
    attached_to: tuple[str, ...] = ()


@dataclass(slots=True)
class Project:
    r"""What :func:`read_qdpx` found in a ``.qdpx`` archive.

    Attributes:
        corpus: the text sources as Documents (``\n`` line ends, no BOM), with the case
            table built from ``<Cases>`` and ``<Variables>``.
        codebook: the codes as a :class:`~qualcode.Codebook` (``None`` when the project has
            no codes).
        codings: every coding of a text selection, one row per (selection, code, coder),
            with ``text`` and (when present) ``memo`` columns.
        users: the project's user names.
        notes: the project's memos.
        sets: set name -> names of its member codes and sources.
        name: the project name.
        origin: the tool that wrote the file (``Project@origin``).
        conventions: doc_id -> the offset convention detected for its selections.
        skipped: sources that were not imported, with the reason.
        codes: one row per code: ``id, name, parent, color, definition``.
    """

    corpus: Corpus
    codebook: Any
    codings: Codings
    users: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    sets: dict[str, list[str]] = field(default_factory=dict)
    name: str = ""
    origin: str | None = None
    conventions: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    codes: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __repr__(self) -> str:
        return (
            f"Project({self.name!r}, origin={self.origin!r}, {len(self.corpus)} documents, "
            f"{len(self.codes)} codes, {len(self.codings)} codings, users={self.users})"
        )


# -- the reader -----------------------------------------------------------------------------
class _Reader:
    def __init__(self, arc: SafeArchive, strict: bool):
        self.arc = arc
        self.strict = strict
        #: text sources whose text is missing (a lost document; an error when strict)
        self.lost: list[str] = []
        self.label = arc.path.name
        self.problems: list[str] = []
        self.skipped: list[str] = []
        self.users: dict[str, str] = {}
        self.codes: dict[str, dict[str, Any]] = {}  # guid -> code row
        self.selections: dict[str, tuple[str, int, int, str | None]] = {}  # guid -> doc, s, e, name
        self.source_doc: dict[str, str] = {}  # source guid -> doc_id
        self.doc_ids: set[str] = set()
        self.source_case: dict[str, str] = {}  # doc_id -> case named by the text itself
        self.block_turns: dict[str, tuple[Turn, ...]] = {}  # doc_id -> turns from the qualcode block
        self.dropped_codings = 0
        self.pdf_area_codings = 0  # codings of PDF page areas (PDFSelection), not imported
        self.coding_labels: dict[str, str] = {}  # coding guid -> "<doc_id>@<start>-<end>/<code>"

    # users, codes --------------------------------------------------------------------
    def read_users(self, root: etree._Element) -> None:
        for users in _children(root, "Users"):
            for u in _children(users, "User"):
                g = _norm_guid(u.get("guid"))
                if g:
                    self.users[g] = u.get("name") or u.get("id") or g

    def user(self, g: str | None) -> str | None:
        key = _norm_guid(g)
        if key is None:
            return None
        return self.users.get(key, key)

    def read_codes(self, root: etree._Element, project_name: str) -> None:
        """Build the codebook with ``qualcode.refi._qdc`` and map every code GUID to its id."""
        from ._qdc import codebook_from_codes_element

        self.codebook = None
        books = _children(root, "CodeBook")
        codes_el = next((c for b in books for c in _children(b, "Codes")), None)
        if codes_el is None or not _children(codes_el, "Code"):
            return
        sets = _children(root, "Sets")
        guid_map: dict[str, str] = {}
        self.codebook = codebook_from_codes_element(
            codes_el, sets_el=sets[0] if sets else None, name=project_name, source=self.label,
            guid_map=guid_map,
        )
        for g, cid in guid_map.items():
            self.codes[g] = {"id": cid, "name": self.codebook[cid].name}

    # sources ------------------------------------------------------------------------
    def resolve_member(self, path: str | None) -> str | None:
        if not path:
            return None
        p = path.strip()
        m = re.match(r"^(internal|relative|absolute|file)://+(.*)$", p, re.IGNORECASE)
        rest = m.group(2) if m else p
        rest = rest.replace("\\", "/").lstrip("/")
        if m and m.group(1).lower() == "absolute":
            rest = PurePosixPath(rest).name
        cands = [rest, f"sources/{rest}", f"sources/{PurePosixPath(rest).name}"]
        for cand in cands:
            if ".." in PurePosixPath(cand).parts:
                continue
            found = self.arc.find(cand)
            if found:
                return found
        return None

    def load_text(self, el: etree._Element, where: str) -> tuple[str, SourceInfo, bool, int] | None:
        """Return (normalised text, SourceInfo, had BOM, newline units) or None if missing."""
        inline = _child_text(el, "PlainTextContent")
        if inline is not None:
            had_bom = inline.startswith("\ufeff")
            raw = inline[1:] if had_bom else inline
            info = SourceInfo(path=f"{self.label}:{where}", format="refi-inline", encoding="utf-8",
                              bom=had_bom, newline=newline_style(raw),
                              sha256=hashlib.sha256(raw.encode()).hexdigest())
            return normalise_newlines(raw), info, had_bom, 2 if "\r\n" in raw else 1
        member = self.resolve_member(el.get("plainTextPath"))
        if member is not None:
            data = self.arc.read(member)
            raw, enc, had_bom = _decode(data, f"{self.label}: {member}")
            info = SourceInfo(path=f"{self.label}:{member}", format="txt", encoding=enc, bom=had_bom,
                              newline=newline_style(raw), sha256=hashlib.sha256(data).hexdigest())
            return normalise_newlines(raw), info, had_bom, 2 if "\r\n" in raw else 1
        rich = self.resolve_member(el.get("richTextPath"))
        if rich is not None and rich.lower().endswith(".docx"):
            data = self.arc.read(rich)
            text = _docx_text(data, f"{self.label}: {rich}")
            info = SourceInfo(path=f"{self.label}:{rich}", format="docx", encoding="utf-8",
                              sha256=hashlib.sha256(data).hexdigest())
            return text, info, False, 1
        return None

    def read_sources(self, root: etree._Element) -> list[tuple[Document, list[dict[str, Any]]]]:
        out: list[tuple[Document, list[dict[str, Any]]]] = []
        other: dict[str, int] = {}
        for sources in _children(root, "Sources"):
            for src in sources:
                if not isinstance(src.tag, str):
                    continue
                if src.tag == "TextSource":
                    got = self.read_text_source(src, src.get("name"))
                    if got:
                        out.append(got)
                elif src.tag == "PDFSource":
                    # REFI-QDA 1.5 §10.3: text selections are made on the plain-text
                    # representation; selections of page areas (PDFSelection) are not text
                    reps = _children(src, "Representation")
                    self.pdf_area_codings += sum(len(_children(a, "Coding")) for a in _children(src, "PDFSelection"))
                    for rep in reps[:1]:
                        got = self.read_text_source(rep, src.get("name") or rep.get("name"), alias=src)
                        if got:
                            out.append(got)
                    if not reps:
                        other[src.tag] = other.get(src.tag, 0) + 1
                else:
                    other[src.tag] = other.get(src.tag, 0) + 1
        if other:
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(other.items()))
            log.info("%s: skipped non-text sources (%s)", self.label, kinds)
            self.skipped.extend(f"{k} (not a text source)" for k, n in sorted(other.items()) for _ in range(n))
        return out

    def new_doc_id(self, name: str | None, meta_id: Any, g: str) -> str:
        if isinstance(meta_id, str) and meta_id and meta_id not in self.doc_ids:
            doc_id = meta_id
        else:
            base = _TEXT_EXT.sub("", (name or "").strip()) or g
            doc_id, k = base, 2
            while doc_id in self.doc_ids:
                doc_id, k = f"{base}_{k}", k + 1
        self.doc_ids.add(doc_id)
        return doc_id

    def read_text_source(self, src: etree._Element, name: str | None, alias: etree._Element | None = None) -> tuple[Document, list[dict[str, Any]]] | None:
        g = _norm_guid(src.get("guid")) or ""
        if not (name or "").strip():
            # no name: the file the source points to names it better than its GUID
            path = src.get("plainTextPath") or src.get("richTextPath") or ""
            name = PurePosixPath(re.sub(r"^[a-z]+:/+", "", path.replace("\\", "/"))).stem or None
        where = f"source {name or g!r}"
        loaded = self.load_text(src, where)
        if loaded is None:
            path = src.get("plainTextPath") or src.get("richTextPath") or "(no path)"
            n = sum(1 for c in src.iter("Coding"))
            self.dropped_codings += n
            lost = f"; its {n} coding(s) dropped" if n else ""
            self.skipped.append(f"{name or g} (text {path} is not in the archive{lost})")
            self.lost.append(self.skipped[-1])
            return None
        text, info, had_bom, nl_units = loaded
        desc = _child_text(src, "Description")
        if alias is not None and desc is None:
            desc = _child_text(alias, "Description")
        meta, attributes = read_source_description(desc, where=f"{self.label}: {where}")
        doc_id = self.new_doc_id(name, meta.get("doc_id"), g)
        self.source_doc[g] = doc_id
        if alias is not None and _norm_guid(alias.get("guid")):
            self.source_doc[_norm_guid(alias.get("guid")) or ""] = doc_id
        values = _children(src, "VariableValue") + (_children(alias, "VariableValue") if alias is not None else [])
        for vv in values:
            got = self.variable_value(vv)
            if got and got[0] == CASE_VARIABLE:  # the case link qualcode writes in every text
                self.source_case[doc_id] = str(got[1])
            elif got:
                attributes[got[0]] = got[1]
        if isinstance(meta.get("case_id"), str) and meta["case_id"]:
            self.source_case[doc_id] = meta["case_id"]
        turns = block_turns(meta, text, f"{self.label}: {where}")
        if turns is not None:
            self.block_turns[doc_id] = turns

        # selections
        sels: list[etree._Element] = _children(src, "PlainTextSelection")
        stored = [Selection(_int_attr(s, "startPosition", f"{self.label}: {where}"),
                            _int_attr(s, "endPosition", f"{self.label}: {where}"), s.get("name")) for s in sels]
        det = detect_convention(text, stored, has_bom=had_bom, file_newline_units=nl_units)
        conv = det.convention
        om = OffsetMap(text, conv.unit, conv.bom, conv.newline_units)
        rows: list[dict[str, Any]] = []
        for sel_el, sel in zip(sels, stored, strict=False):
            span = map_selection(om, conv, sel)
            sg = _norm_guid(sel_el.get("guid")) or ""
            if span is None:
                self.problems.append(
                    f"{where}: selection {sel_el.get('guid')} ({sel.start}, {sel.end}) cannot be "
                    f"mapped onto its text ({len(text)} characters) under the detected convention "
                    f"{conv.label}"
                )
                continue
            s, e = span
            self.selections[sg] = (doc_id, s, e, sel_el.get("name"))
            memo = _child_text(sel_el, "Description")
            sel_user = sel_el.get("creatingUser")
            for coding in _children(sel_el, "Coding"):
                rows.extend(self.coding_rows(coding, doc_id, s, e, sel_user, memo, where))
        for holder in (src,) if alias is None else (src, alias):  # codings of the whole source
            whole_user = holder.get("creatingUser")
            for coding in _children(holder, "Coding"):
                rows.extend(self.coding_rows(coding, doc_id, 0, len(text), whole_user, None, where))
        if alias is not None:
            info = self.pdf_info(alias, info, text, meta, attributes, where)
        elif "pages" in attributes:
            self.check_pages(text, meta, attributes, where)

        attributes["refi_offsets"] = conv.label
        attributes["refi_offsets_evidence"] = det.evidence
        raw_kind, raw_language = meta.get("kind"), meta.get("language")
        kind = raw_kind if isinstance(raw_kind, str) and raw_kind in KINDS else "other"
        language = raw_language if isinstance(raw_language, str) else import_language(text)
        doc = Document(doc_id, text, kind=kind, language=language, attributes=attributes, source=info)
        log.info("%s: %s offsets %s (%s)", self.label, doc_id, conv.label, det.evidence)
        return doc, rows

    def check_pages(self, text: str, meta: dict[str, Any], attributes: dict[str, Any], where: str) -> None:
        """Keep the page starts of the qualcode block only if they fit this text."""
        pages = check_page_starts(attributes.get("pages"), text)
        digest = meta.get("text_sha256")
        if pages is None or (digest and digest != hashlib.sha256(text.encode("utf-8")).hexdigest()):
            log.warning("%s: %s: the page numbers do not fit the text (edited since qualcode exported it); "
                        "they are not restored", self.label, where)
            attributes.pop("pages", None)
        else:
            attributes["pages"] = pages

    def pdf_info(self, pdf: etree._Element, info: SourceInfo, text: str, meta: dict[str, Any],
                 attributes: dict[str, Any], where: str) -> SourceInfo:
        """A PDFSource's text: its pages (from the qualcode block, else found from the PDF)."""
        from ..errors import IngestError
        from ..readers._pages import find_page_starts
        from ..readers._pdf import pdf_page_texts

        member = self.resolve_member(pdf.get("path"))
        data = self.arc.read(member) if member is not None else None
        if data is not None:
            info = replace(info, path=f"{self.label}:{member}", sha256=hashlib.sha256(data).hexdigest())
        info = replace(info, format="pdf")
        if "pages" in attributes:
            self.check_pages(text, meta, attributes, where)
        if "pages" in attributes or member is None or data is None:
            return info
        # no page numbers from qualcode: read the PDF and find where each page starts in the text
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", IngestWarning)
                texts, read, _ = pdf_page_texts(PurePosixPath(member), ocr=False, data=data)
        except IngestError as exc:
            log.warning("%s: %s: page numbers not found, the PDF cannot be read (%s)", self.label, where, exc)
            return info
        starts = None if read["pages_without_text"] or read["pages_failed"] else find_page_starts(text, texts)
        if starts is None:
            log.warning("%s: %s: page numbers not found: the text does not follow the PDF's pages "
                        "(or the PDF has scanned pages)", self.label, where)
        else:
            attributes["pages"] = starts
        return info

    def coding_rows(self, coding: etree._Element, doc_id: str, s: int, e: int, sel_user: str | None,
                    memo: str | None, where: str) -> list[dict[str, Any]]:
        refs = _children(coding, "CodeRef")
        out = []
        for ref in refs:
            target = _norm_guid(ref.get("targetGUID"))
            code = self.codes.get(target or "")
            if code is None:
                self.problems.append(f"{where}: coding {coding.get('guid')} refers to unknown code {ref.get('targetGUID')}")
                continue
            coder = self.user(coding.get("creatingUser")) or self.user(sel_user) or "unknown"
            row = {"doc_id": doc_id, "start": s, "end": e, "code": code["id"], "coder": coder,
                   "source": "human", "score": 1.0, "evidence": ""}
            if memo:
                row["memo"] = memo
            if _norm_guid(coding.get("guid")):  # so that a Note attached to the coding names it
                self.coding_labels[_norm_guid(coding.get("guid")) or ""] = f"{doc_id}@{s}-{e}/{code['id']}"
            out.append(row)
        return out

    # variables and cases ------------------------------------------------------------------
    def read_variables(self, root: etree._Element) -> None:
        self.variables: dict[str, tuple[str, str]] = {}
        for vs in _children(root, "Variables"):
            for v in _children(vs, "Variable"):
                g = _norm_guid(v.get("guid"))
                if g:
                    self.variables[g] = (v.get("name") or g, v.get("typeOfVariable") or "Text")

    def variable_value(self, vv: etree._Element) -> tuple[str, Any] | None:
        ref = next(iter(_children(vv, "VariableRef")), None)
        if ref is None:
            return None
        name, _kind = self.variables.get(_norm_guid(ref.get("targetGUID")) or "", (ref.get("targetGUID"), "Text"))
        for c in vv:
            if c.tag == "VariableRef" or not isinstance(c.tag, str):
                continue
            raw = (c.text or "").strip()
            try:
                if c.tag == "BooleanValue":
                    return name, raw.lower() in ("true", "1")
                if c.tag == "IntegerValue":
                    return name, int(raw)
                if c.tag == "FloatValue":
                    return name, float(raw)
                if c.tag == "DateValue":
                    return name, _dt.date.fromisoformat(raw[:10])
                if c.tag == "DateTimeValue":
                    return name, pd.Timestamp(raw)
            except ValueError:
                log.warning("%s: variable %s value %r is not a valid %s; kept as text", self.label, name, raw, c.tag)
            return name, c.text or ""
        return None

    def read_cases(self, root: etree._Element) -> tuple[dict[str, dict[str, Any]], dict[str, str], dict[str, list[tuple[int, int, str, str]]]]:
        cases: dict[str, dict[str, Any]] = {}
        doc_case: dict[str, str] = {}
        turns: dict[str, list[tuple[int, int, str, str]]] = {}
        for cs in _children(root, "Cases"):
            for c in _children(cs, "Case"):
                cid = c.get("name") or _norm_guid(c.get("guid")) or "case"
                row = cases.setdefault(cid, {})
                for vv in _children(c, "VariableValue"):
                    got = self.variable_value(vv)
                    if got:
                        row[got[0]] = got[1]
                for sr in _children(c, "SourceRef"):
                    doc = self.source_doc.get(_norm_guid(sr.get("targetGUID")) or "")
                    if doc and doc not in doc_case:
                        doc_case[doc] = cid
                for sr in _children(c, "SelectionRef"):
                    sel = self.selections.get(_norm_guid(sr.get("targetGUID")) or "")
                    if sel:
                        doc, s, e, name = sel
                        turns.setdefault(doc, []).append((s, e, name or cid, cid))
        return cases, doc_case, turns


def _build_turns(doc: Document, spans: list[tuple[int, int, str, str]], label: str) -> Document:
    spans = sorted(set(spans))
    turns: list[Turn] = []
    prev = 0
    for s, e, speaker, cid in spans:
        if s < prev:
            log.warning("%s: overlapping case selections in %s; speaker turns not rebuilt", label, doc.doc_id)
            return doc
        turns.append(Turn(speaker, "participant", s, e, case_id=cid))
        prev = e
    return doc.with_(turns=tuple(turns))


def read_qdpx(path: str | os.PathLike[str], *, strict: bool = True) -> Project:
    r"""Read a REFI-QDA project (.qdpx) into a corpus, codebook and codings.

    The archive is checked before anything is read (see ``qualcode.refi._safety``); members
    are read in memory, never extracted.  For every text source the offset convention of its
    selections (code points or UTF-16 units, BOM counted or not, CRLF as one or two
    positions, end exclusive or inclusive) is detected and recorded in the document's
    ``attributes["refi_offsets"]``; selections are mapped onto ``Document.text`` (``\n``
    line ends, no BOM) exactly.

    A ``PDFSource`` is read from its plain-text ``Representation`` (its selections are on
    that text) and becomes a document of format ``pdf``.  Its page start offsets
    (``attributes["pages"]``) come from the qualcode block when qualcode wrote the file and
    the text is unchanged; otherwise, when the PDF is in the archive, they are found by
    locating the beginning of each of its pages in the text
    (:func:`qualcode.readers._pages.find_page_starts`).  The codings then carry ``page`` and
    ``page_end``.  Codings of page areas (``PDFSelection``) are not imported (a warning
    says how many).

    Args:
        path: the ``.qdpx`` file.
        strict: when True (default), a selection that cannot be mapped, a coding that
            names an unknown code, or a text source whose text is missing from the archive
            raises :class:`RefiError` listing every such problem; when False they are dropped
            with an :class:`IngestWarning` that lists them (with the codings lost).

    Returns:
        The :class:`Project`.  Media sources (audio, video, pictures) are skipped with an
        :class:`IngestWarning` and listed in ``skipped``; so are, when not ``strict``, text
        sources whose text is missing.

    Raises:
        RefiError: the file is not a readable REFI-QDA project, or (``strict``) selections
            cannot be mapped or a text source's text is missing.
        UnsafeInputError: the archive or its XML is unsafe (path escape, symlink, absurd
            sizes, DOCTYPE / entities).
    """
    with SafeArchive(path) as arc:
        qde = _find_qde(arc)
        root = parse_xml(arc.read(qde), where=f"{arc.path}: {qde}")
        _strip_namespaces(root)
        if root.tag != "Project":
            msg = f"{arc.path}: {qde} has root element <{root.tag}>, not <Project>."
            raise RefiError(msg)
        r = _Reader(arc, strict)
        project_name = root.get("name") or Path(path).stem
        r.read_users(root)
        r.read_codes(root, project_name)
        r.read_variables(root)
        docs_rows = r.read_sources(root)
        cases, doc_case, turn_spans = r.read_cases(root)
        notes = _read_notes(root, r)
        sets = _read_sets(root, r)

    label = Path(path).name
    if r.problems:
        listing = "\n  ".join(r.problems[:30])
        more = f"\n  ... and {len(r.problems) - 30} more" if len(r.problems) > 30 else ""
        if strict:
            msg = f"{label}: {len(r.problems)} problem(s) in the project:\n  {listing}{more}"
            raise RefiError(msg)
        warnings.warn(f"{label}: dropped {len(r.problems)} item(s):\n  {listing}{more}", IngestWarning, stacklevel=2)
    if r.lost and strict:
        listing = "\n  ".join(r.lost[:30])
        more = f"\n  ... and {len(r.lost) - 30} more" if len(r.lost) > 30 else ""
        msg = (f"{label}: {len(r.lost)} text source(s) would be lost (their text is not in the archive):"
               f"\n  {listing}{more}\nImport the rest with strict=False (command line: --lenient).")
        raise RefiError(msg)
    if r.pdf_area_codings:
        warnings.warn(
            f"{label}: {r.pdf_area_codings} coding(s) of PDF page areas (PDFSelection) not imported: "
            "qualcode codes the text of a PDF (its Representation), not regions of its pages",
            IngestWarning,
            stacklevel=2,
        )
    if r.skipped:
        lost = f", {r.dropped_codings} coding(s) dropped with them" if r.dropped_codings else ""
        warnings.warn(
            f"{label}: {len(r.skipped)} source(s) not imported{lost}: " + "; ".join(r.skipped[:20]),
            IngestWarning,
            stacklevel=2,
        )

    documents: list[Document] = []
    all_rows: list[dict[str, Any]] = []
    for doc, rows in docs_rows:
        cid = r.source_case.get(doc.doc_id) or doc_case.get(doc.doc_id, doc.doc_id)
        doc = doc.with_(case_id=cid)
        if doc.doc_id in r.block_turns:
            doc = doc.with_(turns=r.block_turns[doc.doc_id])
        elif doc.doc_id in turn_spans:
            doc = _build_turns(doc, turn_spans[doc.doc_id], label)
        documents.append(doc)
        for row in rows:
            row["case_id"] = cid
            row["text"] = doc.text[row["start"] : row["end"]]
        all_rows.extend(rows)

    case_frame = None
    if cases:
        names = list(dict.fromkeys(k for row in cases.values() for k in row))
        index = pd.Index(list(cases), name="case_id")
        # column by column, as objects: from_dict would turn whole numbers with gaps into floats
        case_frame = pd.DataFrame({k: pd.Series([row.get(k) for row in cases.values()], index=index, dtype=object)
                                   for k in names}, index=index)
        for col in case_frame.columns:
            case_frame[col] = _typed_column(case_frame[col])
    corpus = Corpus(documents, cases=case_frame)
    codings = (Codings.from_records(all_rows) if all_rows else Codings()).with_pages(corpus)
    codes = pd.DataFrame(
        [{"id": c.id, "name": c.name, "parent": c.parent, "color": c.color, "definition": c.definition}
         for c in (r.codebook.codes if r.codebook is not None else [])],
        columns=["id", "name", "parent", "color", "definition"],
    )
    return Project(
        corpus=corpus,
        codebook=r.codebook,
        codings=codings,
        users=sorted(set(r.users.values())),
        notes=notes,
        sets=sets,
        name=project_name,
        origin=root.get("origin"),
        conventions={d.doc_id: str(d.attributes.get("refi_offsets")) for d in documents},
        skipped=r.skipped,
        codes=codes,
    )


def _typed_column(col: pd.Series) -> pd.Series:
    """Give a variable column a proper dtype (ints stay ints when values are missing)."""
    vals = [v for v in col.tolist() if v is not None and not (isinstance(v, float) and v != v)]
    if not vals:
        return col
    missing = len(vals) < len(col)
    if all(isinstance(v, bool) for v in vals):
        return col.astype("boolean") if missing else col.astype(bool)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return col.astype("Int64") if missing else col.astype("int64")
    if all(isinstance(v, float) for v in vals):
        return col.astype("float64")
    return col


def _read_notes(root: etree._Element, r: _Reader) -> list[Note]:
    notes: list[Note] = []
    attached: dict[str, list[str]] = {}
    names: dict[str, str] = {g: c["name"] for g, c in r.codes.items()}
    names.update(r.source_doc)
    names.update(r.coding_labels)

    def scan(el: etree._Element, owner: str) -> None:
        for ref in _children(el, "NoteRef"):
            attached.setdefault(_norm_guid(ref.get("targetGUID")) or "", []).append(owner)

    scan(root, "project")
    for el in root.iter():
        g = _norm_guid(el.get("guid")) if isinstance(el.tag, str) else None
        if g and g in names:
            scan(el, names[g])
    for ns in _children(root, "Notes"):
        for n in _children(ns, "Note"):
            g = _norm_guid(n.get("guid")) or ""
            text = _child_text(n, "PlainTextContent")
            if text is None:
                member = r.resolve_member(n.get("plainTextPath"))
                if member is not None:
                    text = _decode(r.arc.read(member), f"{r.label}: {member}")[0]
            notes.append(Note(
                name=n.get("name") or g,
                text=normalise_newlines(text or ""),
                description=(_child_text(n, "Description") or "").strip(),
                author=r.user(n.get("creatingUser")),
                attached_to=tuple(attached.get(g, [])),
            ))
    return notes


def _read_sets(root: etree._Element, r: _Reader) -> dict[str, list[str]]:
    names: dict[str, str] = {g: c["id"] for g, c in r.codes.items()}
    names.update(r.source_doc)
    out: dict[str, list[str]] = {}
    for ss in _children(root, "Sets"):
        for s in _children(ss, "Set"):
            if "--- qualcode ---" in (_child_text(s, "Description") or ""):
                continue  # the codebook metadata set (see qualcode.refi._qdc)
            members = [names.get(_norm_guid(m.get("targetGUID")) or "", m.get("targetGUID") or "")
                       for m in s if isinstance(m.tag, str) and m.tag.startswith("Member")]
            out[s.get("name") or _norm_guid(s.get("guid")) or "set"] = members
    return out
