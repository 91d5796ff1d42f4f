"""Importing hand-built REFI-QDA projects the way real tools write them.

The builder below writes projects with the quirks of NVivo, QualCoder, MAXQDA and ATLAS.ti:
UTF-16 code-unit positions, a BOM (counted or not), CRLF line ends (counted as one or two),
inclusive end positions, ``Project.qde`` / ``Sources/``, inline ``PlainTextContent``, .docx
sources, namespace variants.  Positions are computed here independently of the reader
(``str.encode("utf-16-le")``), and the tests check that the imported codings cover exactly
the intended text.
"""

from __future__ import annotations

import io
import uuid
import warnings
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest

from qualcode.errors import IngestWarning, RefiError
from qualcode.refi import read_qdpx

SAMPLE = Path(__file__).parent / "data" / "refi" / "atlasti-8.4_refi-spec-example_sky-loom.qdpx"

TEXT = (
    "Interviewer: How was the planning forum? 🤔\n"
    "Respondent: Honestly 😀 it was chaos. The head 👨‍👩‍👧 never came.\n"
    "Respondent: We copied last year's list 📋📋 and went home.\n"
    "Interviewer: Did anyone use the data?\n"
    "Respondent: Nobody. Café owners spoke more than the 𝒷𝓊𝒹𝑔𝑒𝓉 office.\n"
)
QUOTES = [
    ("it was chaos", "chaos"),
    ("The head 👨‍👩‍👧 never came.", "leader"),
    ("We copied last year's list 📋📋", "copy"),
    ("Nobody", "data"),
    ("Café owners spoke more than the 𝒷𝓊𝒹𝑔𝑒𝓉 office", "data"),
    ("went home", "copy"),
]


def gid(*key) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, key)))).upper()


def position(text: str, index: int, *, unit: str, crlf_counted: bool, bom_counted: bool) -> int:
    """Position of text[index] as a tool with the given convention writes it."""
    before = text[:index]
    if crlf_counted:
        before = before.replace("\n", "\r\n")
    n = len(before.encode("utf-16-le")) // 2 if unit == "utf16" else len(before)
    return n + (1 if bom_counted else 0)


def build_qdpx(
    path: Path,
    sources: list[dict],
    *,
    qde_name: str = "project.qde",
    folder: str = "sources",
    ns: str = "urn:QDA-XML:project:1.0",
    codebook_ns: str | None = None,
) -> Path:
    """Write a .qdpx.  Each source: name, text, quotes [(quote, code)], and options
    unit, bom (file has BOM), bom_counted, crlf (file uses CRLF), crlf_counted, inclusive,
    names ('full' | 'truncated' | 'none'), inline (PlainTextContent), docx, occurrence."""
    codes = sorted({c for s in sources for _q, c in s["quotes"]})
    user = gid("user")
    xml = [f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{ns}" name="test" origin="builder">']
    xml.append(f'<Users><User guid="{user}" name="Coder One"/></Users>')
    cb_ns = f' xmlns="{codebook_ns}"' if codebook_ns else ""
    xml.append(f"<CodeBook{cb_ns}><Codes>")
    for c in codes:
        xml.append(f'<Code guid="{gid("code", c)}" name="{c.title()}" isCodable="true" color="#aa0000"/>')
    xml.append("</Codes></CodeBook><Sources>")
    files: dict[str, bytes] = {}
    for s in sources:
        text = s["text"]
        sg = gid("src", s["name"])
        stored = text.replace("\n", "\r\n") if s.get("crlf") else text
        data = stored.encode("utf-8")
        if s.get("bom"):
            data = b"\xef\xbb\xbf" + data
        attrs = f'guid="{sg}" name={quoteattr(s["name"])}'
        inner = []
        if s.get("inline"):
            inner.append(f"<PlainTextContent>{escape(stored).replace(chr(13), '&#13;')}</PlainTextContent>")
        elif s.get("docx"):
            import docx

            d = docx.Document()
            for para in text.rstrip("\n").split("\n"):
                d.add_paragraph(para)
            buf = io.BytesIO()
            d.save(buf)
            files[f"{folder}/{sg}.docx"] = buf.getvalue()
            attrs += f' richTextPath="internal://{sg}.docx" plainTextPath="internal://{sg}-missing.txt"'
        else:
            files[f"{folder}/{sg}.txt"] = data
            attrs += f' plainTextPath="internal://{sg}.txt"'
        xml.append(f"<TextSource {attrs}>")
        xml.extend(inner)
        for k, (quote, code) in enumerate(s["quotes"]):
            i = text.index(quote)
            j = i + len(quote)
            conv = {k2: s.get(k2, d2) for k2, d2 in (("unit", "codepoint"), ("crlf_counted", False), ("bom_counted", False))}
            start = position(text, i, **conv)
            end = position(text, j, **conv) - (1 if s.get("inclusive") else 0)
            mode = s.get("names", "full")
            name = quote if mode == "full" else (quote[:8] + "…" if mode == "truncated" else None)
            name_attr = f" name={quoteattr(name)}" if name else ""
            xml.append(
                f'<PlainTextSelection guid="{gid("sel", s["name"], k)}"{name_attr} startPosition="{start}" '
                f'endPosition="{end}" creatingUser="{user}"><Coding guid="{gid("cod", s["name"], k)}" '
                f'creatingUser="{user}"><CodeRef targetGUID="{gid("code", code)}"/></Coding></PlainTextSelection>'
            )
        xml.append("</TextSource>")
    xml.append("</Sources></Project>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(qde_name, "\n".join(xml).encode("utf-8"))
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def assert_exact(project, source_name: str, text: str, quotes) -> None:
    doc_id = source_name.rsplit(".", 1)[0]
    doc = project.corpus[doc_id]
    assert doc.text == text
    got = project.codings.filter(doc_id=doc_id).to_frame().sort_values("start")
    want = sorted((text.index(q), text.index(q) + len(q), q) for q, _c in quotes)
    assert [(r.start, r.end) for r in got.itertuples()] == [(s, e) for s, e, _q in want]
    assert [doc.text[r.start : r.end] for r in got.itertuples()] == [q for _s, _e, q in want]
    assert set(got["coder"]) == {"Coder One"}


CASES = {
    # name: options, expected convention label
    "spec": ({}, "codepoint"),
    "qualcode_style": ({"unit": "utf16", "bom": True}, "utf16"),
    "nvivo_style": ({"unit": "utf16", "crlf": True, "crlf_counted": True}, "utf16+crlf"),
    "bom_counted": ({"unit": "codepoint", "bom": True, "bom_counted": True}, "codepoint+bom"),
    "crlf_file_not_counted": ({"crlf": True, "crlf_counted": False}, "codepoint"),
    "lf_file_crlf_counted": ({"unit": "utf16", "crlf_counted": True}, "utf16+crlf"),
    "all_quirks": ({"unit": "utf16", "bom": True, "bom_counted": True, "crlf": True, "crlf_counted": True}, "utf16+bom+crlf"),
    "inclusive_end": ({"unit": "utf16", "inclusive": True}, "utf16+inclusive"),
    "truncated_names": ({"unit": "utf16", "crlf": True, "crlf_counted": True, "names": "truncated"}, "utf16+crlf"),
    "no_names": ({"unit": "utf16", "bom": True, "crlf": True, "crlf_counted": True, "names": "none"}, "utf16+crlf"),
    "inline_content": ({"unit": "utf16", "inline": True, "crlf": True, "crlf_counted": True}, "utf16+crlf"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_offset_convention_detected_and_mapped_exactly(tmp_path, case):
    opts, label = CASES[case]
    src = {"name": f"{case}.txt", "text": TEXT, "quotes": QUOTES, **opts}
    p = read_qdpx(build_qdpx(tmp_path / "p.qdpx", [src]))
    assert_exact(p, src["name"], TEXT, QUOTES)
    assert p.conventions[case] == label
    assert p.corpus[case].attributes["refi_offsets"] == label


def test_conventions_are_detected_per_source(tmp_path):
    srcs = [
        {"name": "a.txt", "text": TEXT, "quotes": QUOTES},
        {"name": "b.txt", "text": TEXT, "quotes": QUOTES, "unit": "utf16", "bom": True},
        {"name": "c.txt", "text": TEXT, "quotes": QUOTES, "unit": "utf16", "crlf": True, "crlf_counted": True},
    ]
    p = read_qdpx(build_qdpx(tmp_path / "p.qdpx", srcs))
    assert p.conventions == {"a": "codepoint", "b": "utf16", "c": "utf16+crlf"}
    for s in srcs:
        assert_exact(p, s["name"], TEXT, QUOTES)
    b = p.corpus["b"].source
    assert b.bom is True and b.encoding == "utf-8-sig"
    assert p.corpus["c"].source.newline == "\r\n"


def test_atlas_layout_project_qde_sources_folder_and_namespace_variant(tmp_path):
    src = {"name": "Mabel.txt", "text": TEXT, "quotes": QUOTES}
    path = build_qdpx(tmp_path / "p.qdpx", [src], qde_name="Project.qde", folder="Sources",
                      codebook_ns="urn:QDA-XML:codebook:0:4")
    p = read_qdpx(path)
    assert_exact(p, "Mabel.txt", TEXT, QUOTES)
    assert sorted(p.codebook.ids) == ["chaos", "copy", "data", "leader"]
    assert p.codebook["data"].color == "#aa0000"


def test_any_qde_name_and_no_namespace(tmp_path):
    src = {"name": "x.txt", "text": TEXT, "quotes": QUOTES}
    p = read_qdpx(build_qdpx(tmp_path / "p.qdpx", [src], qde_name="My Study.qde", ns=""))
    assert_exact(p, "x.txt", TEXT, QUOTES)


def test_docx_source_is_converted_to_text(tmp_path):
    text = "First paragraph about budgets.\nSecond one with 😀 emoji and planning."
    quotes = [("budgets", "money"), ("planning", "plan")]
    p = read_qdpx(build_qdpx(tmp_path / "p.qdpx", [{"name": "doc.docx", "text": text, "quotes": quotes, "docx": True}]))
    assert_exact(p, "doc.docx", text, quotes)
    assert p.corpus["doc"].source.format == "docx"


def test_tiny_and_empty_sources(tmp_path):
    srcs = [
        {"name": "empty.txt", "text": "", "quotes": []},
        {"name": "tiny.txt", "text": "😀", "quotes": [("😀", "smile")], "unit": "utf16"},
    ]
    p = read_qdpx(build_qdpx(tmp_path / "p.qdpx", srcs))
    assert p.corpus["empty"].text == ""
    [row] = p.codings.to_frame().itertuples()
    assert (row.doc_id, row.start, row.end, row.text) == ("tiny", 0, 1, "😀")


def test_unmappable_selection_is_an_error_or_a_listed_warning(tmp_path):
    src = {"name": "s.txt", "text": "short text", "quotes": [("short", "a")]}
    path = build_qdpx(tmp_path / "p.qdpx", [src])
    # corrupt one selection so it runs past the end of the text
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["project.qde"] = members["project.qde"].replace(b'endPosition="5"', b'endPosition="500"')
    bad = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(bad, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    with pytest.raises(RefiError, match=r"(?s)bad.qdpx: 1 problem.*\(0, 500\) cannot be mapped"):
        read_qdpx(bad)
    with pytest.warns(IngestWarning, match=r"dropped 1 item"):
        p = read_qdpx(bad, strict=False)
    assert len(p.codings) == 0 and p.corpus["s"].text == "short text"


def test_shipped_atlas_sample_imports_with_missing_sources_listed():
    # its text files are not in the archive: a strict import refuses to lose them
    with pytest.raises(RefiError, match=r"(?s)text source\(s\) would be lost.*Mabel\.txt.*coding\(s\) dropped.*--lenient"):
        read_qdpx(SAMPLE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = read_qdpx(SAMPLE, strict=False)
    msgs = [str(w.message) for w in caught if issubclass(w.category, IngestWarning)]
    assert any("Mabel.txt" in m and "not in the archive" in m for m in msgs)
    assert len(p.corpus) == 0 and len(p.codings) == 0
    assert p.name == "ATLAS.ti standard project" and p.origin.startswith("ATLAS.ti 8.4")
    assert "Friedrich Markgraf" in p.users
    # "Coke::diet Coke" becomes a child of a "Coke" code
    diet = next(c for c in p.codebook.codes if c.name == "diet Coke")
    assert p.codebook[diet.parent].name == "Coke"
    assert p.codebook["cornflakes"].definition == "breakfast cereal made by Kellogg’s"
    assert [n.name for n in p.notes] == ["Research Plan", "My favorite Coke ad"]
    assert p.sets["negative feelings"] == ["rushed", "sleepy", "disgust", "waste_of_time"]


def test_atlas_sample_with_its_text_files_restored_imports_codings(tmp_path):
    """Put plain texts back into the sample's Sources/ folder: the selections must land on
    the quoted words, with ATLAS.ti's truncated (…) names used as evidence."""
    head = "I'm a single mum with an 8 month old and a toddler and breakfast is mayhem. The baby has porridge, I "
    coded = head + "eat " * ((409 - len(head)) // 4)
    coded = coded + "z" * (409 - len(coded)) + "."
    assert len(coded) == 410
    mabel = coded + " Then I rest."
    with zipfile.ZipFile(SAMPLE) as zf:
        qde = zf.read("Project.qde")
    out = tmp_path / "restored.qdpx"
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("Project.qde", qde)
        zf.writestr("Sources/B2F54555-0D2D-43B2-B40C-2A1C048F5F1C.txt", ("\ufeff" + mabel + "\n").encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IngestWarning)
        p = read_qdpx(out, strict=False)  # the sample's other texts are still missing
    assert p.corpus["Mabel"].text == mabel + "\n"
    rows = p.codings.filter(doc_id="Mabel").to_frame()
    assert set(rows["code"]) == {"bacon_and_eggs", "cornflakes", "happiness"}
    assert set(zip(rows["start"], rows["end"], strict=False)) == {(0, 410)}
    assert set(rows["text"]) == {coded}
    assert p.corpus["Mabel"].source.bom is True
