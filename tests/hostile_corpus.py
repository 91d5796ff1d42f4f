"""A generated corpus of hostile inputs, run through the command line (issue 16).

``generate(folder)`` writes a few hundred hostile files (txt/md, docx, pdf, vtt/srt, csv/xlsx,
case sidecars, YAML codebooks, codings files, .qdpx and .qdc) and returns the runs to make:
``ingest`` on every reader input, ``code --rules-only`` on every input that ingests and with
every codebook that validates, ``codebook validate`` / ``codebook import``, ``evaluate`` on every
codings file and ``import`` on every project.

``run`` makes those runs in this process, each through ``qualcode.cli.main`` with a time bound
(SIGALRM) under a memory limit for the whole process (RLIMIT_AS), and prints one JSON line per
run: its exit code, whether a traceback escaped, its seconds and the growth of the peak memory.
Before and after, every input file is hashed: an input that changed is reported.

Usage::

    python tests/hostile_corpus.py run FOLDER [--start N] [--per-run-s S]

``tests/test_hostile_corpus.py`` starts this in a subprocess (so that a hang inside C code
can be killed) and asserts 0 tracebacks, 0 hangs and 0 modified inputs.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import re
import resource
import signal
import stat
import sys
import time
import zipfile
from pathlib import Path

TEXT = "Interviewer: How do you plan the budget?\nRespondent: We follow the national priority list and the DAK menu.\n"
CODEBOOK = """\
name: hostile
version: "1"
languages: [en, id]
codes:
  - id: budget
    definition: Talk about the budget.
    rules:
      keywords: [budget, anggaran]
      regex:
        - pattern: '\\bDAK\\b'
  - id: list
    definition: Programs come from a list.
    rules:
      keywords: {en: [priority list], id: [daftar]}
"""


#: big tables: only ingested (the point is the ingest time), and not part of the folder run
BIG = {"rows_20k.csv", "rows_20k_noid.csv", "cols_10k.csv", "cols_100k_header.csv"}


class Hang(BaseException):
    """Raised by the per-run alarm (a BaseException: the CLI must not swallow it)."""


# --------------------------------------------------------------------------------------------
# generation
# --------------------------------------------------------------------------------------------
def _zip(files: dict[str, bytes], *, level: int = 6) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def _unzip(data: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return {i.filename: z.read(i.filename) for i in z.infolist()}


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _docx_body(body: str) -> bytes:
    files = _unzip(_docx(["x"]))
    xml = files["word/document.xml"].decode()
    a = xml.index("<w:body>") + len("<w:body>")
    b = xml.index("<w:sectPr")
    files["word/document.xml"] = (xml[:a] + body + xml[b:]).encode()
    return _zip(files)


def _xlsx(rows: list[list[object]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _pdf(text: str, pages: int = 1) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for _ in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def _bomb_yaml(levels: int = 7, width: int = 9) -> str:
    lines = ['a0: &a0 ["lol"' + ',"lol"' * (width - 1) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _xml_bomb() -> str:
    """The YAML alias bomb, escaped to sit in XML text."""
    return _bomb_yaml().replace("&", "&amp;")


def _indent(text: str, n: int) -> str:
    return "".join(" " * n + line + "\n" for line in text.splitlines())


def _text_inputs(rng: random.Random) -> dict[str, bytes]:
    t: dict[str, bytes] = {}
    t["empty.txt"] = b""
    t["spaces.txt"] = b"   \n\t\n  "
    t["nul.txt"] = b"I: hi\x00there\nR: yes\n"
    t["random.txt"] = bytes(rng.getrandbits(8) for _ in range(4096))
    t["latin1.txt"] = "I: Caf\xe9?\nR: Oui, tr\xe8s bien.\n".encode("latin-1")
    t["bad_utf8.txt"] = b"I: hello \xff\xfe\xfd\nR: \xc3\x28 broken\n"
    t["utf16_bom.txt"] = ("\ufeff" + TEXT).encode("utf-16-le")
    t["utf16_nobom.txt"] = TEXT.encode("utf-16-le")
    t["utf32.txt"] = TEXT.encode("utf-32")
    t["cr_only.txt"] = TEXT.replace("\n", "\r").encode()
    t["mixed_newlines.txt"] = b"I: a\r\nR: b\rI: c\nR: d\n"
    t["one_huge_line.txt"] = ("the budget is late and nobody says why " * 32_000).encode()
    t["stars_16k.txt"] = b"I: " + b"*" * 16_000 + b"\nR: the budget.\n"
    t["stars_80k.md"] = b"*" * 80_000
    t["punct_run.txt"] = b"R: " + b".,;:!?" * 8_000 + b"\n"
    t["parens_run.txt"] = b"(" * 20_000 + b")" * 20_000
    t["long_turn.txt"] = b"R: " + ("we talk about the budget again " * 8_000).encode() + b"\n"
    t["no_labels_long.txt"] = ("Notes about the meeting. " * 10_000).encode()
    t["many_speakers.txt"] = "".join(f"Speaker{i}: said thing {i}.\n" for i in range(5000)).encode()
    t["labels_only.txt"] = b"I:\nR:\nI:\nR:\n"
    t["long_label.txt"] = (("A" * 5000) + ": text\n").encode()
    t["control_chars.txt"] = b"I: a\x01b\x02c\x03d\x04e\x05f\x06\x07\x08\nR: z\n"
    t["zero_width.txt"] = "I: bud\u200bget\u200d\u2060?\nR: \u202eright-to-left\u202c text\n".encode()
    t["emoji.txt"] = "I: 👍🏽 budget? 🇮🇩\nR: 😀 yes 👨‍👩‍👧\n".encode()
    t["surrogate_escape.txt"] = b"I: \xed\xa0\x80 lone surrogate\n"
    t["fm_invalid.md"] = b"---\nkey: [unclosed\n---\nI: hi\n"
    t["fm_bomb.md"] = ("---\n" + _bomb_yaml() + "---\nI: hi\n").encode()
    t["fm_deep.md"] = ("---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\nI: hi\n").encode()
    t["fm_recursive.md"] = b"---\nx: &a [1, *a]\n---\nI: hi\n"
    t["fm_list.md"] = b"---\n- a\n- b\n---\nI: hi\n"
    t["fm_python_tag.md"] = b"---\nx: !!python/object/apply:os.system ['echo pwned']\n---\nI: hi\n"
    t["fm_bad_kind.md"] = b"---\nkind: banana\n---\nI: hi\n"
    t["fm_bad_language.md"] = b"---\nlanguage: 42\n---\nI: hi\n"
    t["fm_big_ids.md"] = b"---\ndoc_id: " + b"x" * 10000 + b"\n---\nI: hi\n"
    t["fm_unterminated.md"] = b"---\nkey: value\nI: hi\n"
    t["bullets_deep.md"] = ("".join("  " * (i % 50) + f"- item {i}\n" for i in range(5000))).encode()
    t["timestamps_weird.txt"] = b"[99:99:99] I: hi\n[-1:00] R: no\n[00:00:00.000000000000] I: x\n"
    t["only_newlines.txt"] = b"\n" * 100_000
    t["tabs.txt"] = b"I:\thi\t\t\tthere\nR:\t\tyes\n"
    t["bidi_names.txt"] = "\u05d0\u05d1: shalom\n\u0627\u0644: marhaba\n".encode()
    t["ok.txt"] = TEXT.encode()
    return t


def _docx_inputs(rng: random.Random) -> dict[str, bytes]:
    d: dict[str, bytes] = {}
    good = _docx(["I: How do you plan the budget?", "R: We follow the priority list."])
    files = _unzip(good)
    d["empty.docx"] = b""
    d["random.docx"] = bytes(rng.getrandbits(8) for _ in range(2048))
    d["pk_garbage.docx"] = b"PK\x03\x04" + bytes(rng.getrandbits(8) for _ in range(2048))
    d["ole.docx"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000
    d["truncated.docx"] = good[: len(good) // 2]
    d["truncated_end.docx"] = good[:-30]
    d["zip_not_docx.docx"] = _zip({"hello.txt": b"hi"})
    d["bomb_ratio.docx"] = _zip({**files, "word/document.xml": b" " * (200 * 1024**2)}, level=9)
    d["bomb_many_small.docx"] = _zip({**files, **{f"word/media/p{i}.bin": b"\0" * (1024**2) for i in range(150)}}, level=9)
    d["bomb_entries.docx"] = _zip({**files, **{f"x/{i}": b"" for i in range(6000)}})
    d["traversal.docx"] = _zip({**files, "../../evil.txt": b"x"})
    d["absolute.docx"] = _zip({**files, "/etc/evil": b"x"})
    xml = files["word/document.xml"].decode()
    d["doctype.docx"] = _zip({**files, "word/document.xml": xml.replace("<w:document", '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><w:document', 1).replace("How do", "&c; How do").encode()})
    d["xxe.docx"] = _zip({**files, "word/document.xml": xml.replace("<w:document", '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><w:document', 1).replace("How do", "&e; How do").encode()})
    d["malformed_xml.docx"] = _zip({**files, "word/document.xml": b"<w:document><w:body><w:p>"})
    d["deep_xml.docx"] = _docx_body("<w:sdt><w:sdtContent>" * 300 + "<w:p><w:r><w:t>deep</w:t></w:r></w:p>" + "</w:sdtContent></w:sdt>" * 300)
    d["no_document_xml.docx"] = _zip({k: v for k, v in files.items() if k != "word/document.xml"})
    d["no_text.docx"] = _docx([""])
    d["hyperlink_label.docx"] = _docx_body("<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>Ana:</w:t></w:r><w:r><w:t xml:space='preserve'> see </w:t></w:r><w:hyperlink w:anchor='x'><w:r><w:t>the portal</w:t></w:r></w:hyperlink></w:p>")
    d["tracked.docx"] = _docx_body("<w:p><w:r><w:t xml:space='preserve'>R: we </w:t></w:r><w:ins w:id='1' w:author='a'><w:r><w:t>really</w:t></w:r></w:ins><w:del w:id='2' w:author='a'><w:r><w:delText>never</w:delText></w:r></w:del></w:p>")
    d["sdt_block.docx"] = _docx_body("<w:sdt><w:sdtContent><w:p><w:r><w:t>R: in a control</w:t></w:r></w:p></w:sdtContent></w:sdt>")
    d["smarttag_field.docx"] = _docx_body("<w:p><w:smartTag w:uri='u' w:element='e'><w:r><w:t>R: Jakarta</w:t></w:r></w:smartTag><w:fldSimple w:instr='PAGE'><w:r><w:t> 7</w:t></w:r></w:fldSimple></w:p>")
    d["textbox.docx"] = _docx_body("<w:p><w:r><w:t>R: body</w:t></w:r></w:p><w:p><w:r><w:pict><v:shape xmlns:v='urn:schemas-microsoft-com:vml'><v:textbox><w:txbxContent><w:p><w:r><w:t>boxed</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>")
    d["big_table.docx"] = _docx_body("<w:tbl>" + "".join(f"<w:tr><w:tc><w:p><w:r><w:t>S{i % 3}</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>text {i} about the budget</w:t></w:r></w:p></w:tc></w:tr>" for i in range(2000)) + "</w:tbl>")
    d["ragged_table.docx"] = _docx_body("<w:tbl><w:tr><w:tc><w:p/></w:tc></w:tr><w:tr><w:tc><w:p/></w:tc><w:tc><w:p/></w:tc><w:tc><w:p/></w:tc><w:tc><w:p/></w:tc></w:tr></w:tbl>")
    d["long_paragraph.docx"] = _docx(["R: " + "budget words " * 100_000])
    d["stars.docx"] = _docx(["R: " + "*" * 50_000])
    d["many_paragraphs.docx"] = _docx([f"S{i % 2}: line {i}" for i in range(3000)])
    d["ok.docx"] = good
    return d


def _subtitle_inputs() -> dict[str, bytes]:
    s: dict[str, bytes] = {}
    s["empty.vtt"] = b""
    s["header_only.vtt"] = b"WEBVTT\n"
    s["no_header.vtt"] = b"00:00.000 --> 00:01.000\nhello\n"
    s["bad_times.vtt"] = b"WEBVTT\n\n99:99.999 --> 00:00.000\nhello\n"
    s["negative.vtt"] = b"WEBVTT\n\n-00:01.000 --> 00:02.000\nhello\n"
    s["unclosed_voice.vtt"] = b"WEBVTT\n\n00:00.000 --> 00:01.000\n<v Ana hello <b>there\n"
    s["nested_tags.vtt"] = b"WEBVTT\n\n00:00.000 --> 00:01.000\n" + b"<b>" * 5000 + b"x" + b"</b>" * 5000 + b"\n"
    s["long_cue.vtt"] = b"WEBVTT\n\n00:00.000 --> 00:01.000\n<v Ana>" + b"budget talk " * 20_000 + b"\n"
    s["many_cues.vtt"] = ("WEBVTT\n\n" + "".join(f"{i // 60:02d}:{i % 60:02d}.000 --> {i // 60:02d}:{i % 60:02d}.500\n<v S{i % 3}>cue {i}\n\n" for i in range(3600))).encode()
    s["one_speaker_1m.vtt"] = ("WEBVTT\n\n" + "".join(f"{i // 60:02d}:{i % 60:02d}.000 --> {i // 60:02d}:{i % 60:02d}.500\n<v Ana>we talk {i} " + "x" * 300 + "\n\n" for i in range(3400))).encode()
    s["binary.vtt"] = b"WEBVTT\n\n\x00\x01\x02\x03"
    s["empty.srt"] = b""
    s["bad_numbers.srt"] = b"x\n00:00:00,000 --> 00:00:01,000\nhello\n\ny\n00:00:01,000 --> 00:00:02,000\nthere\n"
    s["no_times.srt"] = b"1\nhello\n\n2\nthere\n"
    s["overlap.srt"] = b"1\n00:00:05,000 --> 00:00:01,000\nAna: backwards\n\n2\n00:00:00,000 --> 00:00:09,000\nBudi: overlap\n"
    s["huge_index.srt"] = b"99999999999999999999\n00:00:00,000 --> 00:00:01,000\nhello\n"
    s["ok.srt"] = b"1\n00:00:00,000 --> 00:00:02,000\nAna: How is the budget?\n\n2\n00:00:02,000 --> 00:00:04,000\nBudi: Late as usual.\n"
    s["ok.vtt"] = b"WEBVTT\n\n00:00.000 --> 00:02.000\n<v Ana>How is the budget?\n\n00:02.000 --> 00:04.000\n<v Budi>Late.\n"
    return s


def _table_inputs(rng: random.Random) -> dict[str, bytes]:
    c: dict[str, bytes] = {}
    c["empty.csv"] = b""
    c["header_only.csv"] = b"id,text\n"
    c["no_text_column.csv"] = b"a,b\n1,2\n"
    c["unterminated.csv"] = b'id,text\n1,"We follow\n2,next row\n3,last\n'
    c["dup_columns.csv"] = b"id,text,text\n1,a,b\n"
    c["dup_ids.csv"] = b"id,text\n1,a\n1,b\n"
    c["empty_ids.csv"] = b"response_id,text\n,a\n2,b\n"
    c["ragged.csv"] = b"id,text\n1,a,extra,more\n2\n"
    c["nul.csv"] = b"id,text\n1,a\x00b\n"
    c["semicolon.csv"] = b"id;text\n1;budget talk\n2;more\n"
    c["tabs.csv"] = b"id\ttext\n1\tbudget\n"
    c["bom.csv"] = b"\xef\xbb\xbfid,text\n1,budget\n"
    c["formula.csv"] = b'id,text\n1,=cmd|" /C calc"!A0\n2,+1+1\n3,-2\n4,@SUM(A1)\n'
    c["huge_cell.csv"] = b"id,text\n1," + b"budget " * 200_000 + b"\n"
    c["rows_20k.csv"] = ("id,text,region\n" + "".join(f"{i},answer {i} about the budget,r{i % 7}\n" for i in range(20_000))).encode()
    c["rows_20k_noid.csv"] = ("text\n" + "".join(f"answer {i}\n" for i in range(20_000))).encode()
    c["cols_10k.csv"] = (",".join(["text"] + [f"c{i}" for i in range(10_000)]) + "\n" + ",".join(["budget"] + ["1"] * 10_000) + "\n").encode()
    c["cols_100k_header.csv"] = (",".join(["text"] + [f"c{i}" for i in range(100_000)]) + "\n").encode()
    c["quotes_everywhere.csv"] = b'"id","text"\n"1","a ""quoted"" word"\n"2","multi\nline"\n'
    c["loose_quote.csv"] = b'id,text\n1,"a"b\n'
    c["latin1.csv"] = "id,text\n1,caf\xe9\n".encode("latin-1")
    c["random.csv"] = bytes(rng.getrandbits(8) for _ in range(4096))
    good = _xlsx([["id", "text"], [1, "We follow the budget list."], [2, "Late."]])
    x = _unzip(good)
    c["empty.xlsx"] = b""
    c["random.xlsx"] = b"PK" + bytes(rng.getrandbits(8) for _ in range(2048))
    c["truncated.xlsx"] = good[: len(good) * 2 // 3]
    c["truncated_end.xlsx"] = good[:-22]
    c["xls_ole.xlsx"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000
    c["bomb_ratio.xlsx"] = _zip({**x, "xl/worksheets/sheet1.xml": b" " * (300 * 1024**2)}, level=9)
    c["bomb_total.xlsx"] = _zip({**x, **{f"xl/media/p{i}.bin": b"\0" * (1024**2) for i in range(300)}}, level=9)
    c["no_sheet.xlsx"] = _zip({k: v for k, v in x.items() if "worksheets" not in k})
    c["malformed_sheet.xlsx"] = _zip({**x, "xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row>"})
    c["doctype_sheet.xlsx"] = _zip({**x, "xl/worksheets/sheet1.xml": b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + x["xl/worksheets/sheet1.xml"]})
    c["huge_dimension.xlsx"] = _zip({**x, "xl/worksheets/sheet1.xml": x["xl/worksheets/sheet1.xml"].replace(b'ref="A1:B3"', b'ref="A1:XFD1048576"')})
    c["formula.xlsx"] = _xlsx([["id", "text"], [1, "=1+1"], [2, "=HYPERLINK(\"http://x\")"]])
    c["dates.xlsx"] = _xlsx([["id", "text", "when"], [1, "budget", "2024-01-01"]])
    c["ok.xlsx"] = good
    c["ok.csv"] = b"id,text,region\n1,We follow the priority list.,north\n2,The budget is late.,south\n"
    return c


def _pdf_inputs(rng: random.Random) -> dict[str, bytes]:
    p: dict[str, bytes] = {}
    good = _pdf("I: How do you plan the budget?\nR: We follow the priority list.")
    p["empty.pdf"] = b""
    p["random.pdf"] = bytes(rng.getrandbits(8) for _ in range(4096))
    p["header_only.pdf"] = b"%PDF-1.7\n"
    p["truncated.pdf"] = good[: len(good) // 2]
    p["garbage_tail.pdf"] = good + bytes(rng.getrandbits(8) for _ in range(4096))
    p["flipped.pdf"] = bytes(b ^ 0xFF if 400 < i < 600 else b for i, b in enumerate(good))
    p["no_text.pdf"] = _pdf(" ")
    p["many_pages.pdf"] = _pdf("R: budget page.", pages=60)
    p["ok.pdf"] = good
    return p


def _sidecar_cases(folder: Path) -> list[Path]:
    """Folders with a hostile cases.csv / cases.xlsx next to a good transcript."""
    out = []
    bodies = {
        "no_key": b"x,y\n1,2\n",
        "unknown_doc": b"doc_id,region\nnope,north\n",
        "bad_role": b"doc_id,speaker,speaker_role\nt,R,boss\n",
        "bad_kind": b"doc_id,kind\nt,banana\n",
        "dup_rows": b"doc_id,region\nt,a\nt,b\n",
        "empty": b"",
        "unterminated": b'doc_id,region\nt,"north\n',
        "binary": b"\x00\x01\x02" * 100,
        "neither": b"doc_id,speaker,region\n,,x\n",
        "huge": ("doc_id,speaker,region\n" + "".join(f"t,S{i},r\n" for i in range(20_000))).encode(),
    }
    for name, body in bodies.items():
        d = folder / f"sidecar_{name}"
        d.mkdir()
        (d / "t.txt").write_text(TEXT)
        (d / "cases.csv").write_bytes(body)
        out.append(d)
    d = folder / "sidecar_xlsx_bomb"
    d.mkdir()
    (d / "t.txt").write_text(TEXT)
    x = _unzip(_xlsx([["doc_id", "region"], ["t", "north"]]))
    (d / "cases.xlsx").write_bytes(_zip({**x, "xl/worksheets/sheet1.xml": b" " * (300 * 1024**2)}, level=9))
    out.append(d)
    d = folder / "sidecar_fifo"
    d.mkdir()
    (d / "t.txt").write_text(TEXT)
    if hasattr(os, "mkfifo"):
        os.mkfifo(d / "cases.csv")
    out.append(d)
    return out


def _codebook_inputs() -> dict[str, bytes]:
    h = 'name: t\nversion: "1"\nlanguages: [en, id]\n'

    def code(rules: str = "", extra: str = "") -> str:
        return h + "codes:\n  - id: c\n    definition: d\n" + extra + (f"    rules:\n{rules}" if rules else "")

    def rx(p: str) -> str:
        return code(f"      regex:\n        - pattern: '{p}'\n")

    y: dict[str, str | bytes] = {
        "empty.yaml": "",
        "no_codes.yaml": h + "codes: []\n",
        "not_mapping.yaml": "- a\n- b\n",
        "scalar.yaml": "just text\n",
        "bomb.yaml": h + _bomb_yaml() + "codes:\n  - id: c\n    definition: d\n",
        "bomb_examples.yaml": h + "codes:\n  - id: c\n    definition: d\n    examples:\n      en: &e0 [x,x,x,x,x,x,x,x,x,x]\n" + "".join(f"  - id: c{i}\n    definition: d\n    examples: {{en: &e{i} [" + ",".join([f"*e{i - 1}"] * 10) + "]}\n" for i in range(1, 8)),
        "deep_flow.yaml": h + "x: " + "[" * 5000 + "]" * 5000 + "\ncodes: []\n",
        "deep_block.yaml": h + "x:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(1500)) + "codes: []\n",
        "recursive.yaml": h + "x: &a [1, *a]\ncodes:\n  - id: c\n    definition: d\n",
        "undefined_alias.yaml": h + "x: *nope\ncodes: []\n",
        "python_tag.yaml": h + "codes: !!python/object/apply:os.system ['echo pwned']\n",
        "custom_tag.yaml": h + "codes:\n  - !code {id: c}\n",
        "dup_ids.yaml": h + "codes:\n  - {id: c, definition: d}\n  - {id: c, definition: e}\n",
        "cycle.yaml": h + "codes:\n  - {id: a, parent: b, definition: d}\n  - {id: b, parent: a, definition: d}\n",
        "unknown_parent.yaml": h + "codes:\n  - {id: a, parent: zz, definition: d}\n",
        "many_codes.yaml": h + "codes:\n" + "".join(f"  - {{id: c{i}, definition: d {i}, rules: {{keywords: [word{i}]}}}}\n" for i in range(1000)),
        "huge_examples.yaml": code(extra="    examples:\n      en:\n" + "".join(f"        - example number {i}\n" for i in range(5_000))),
        "long_line.yaml": code(extra="    inclusion: " + "x" * 500_000 + "\n"),
        "invalid_syntax.yaml": h + "codes: [\n",
        "tabs.yaml": h + "codes:\n\t- id: c\n",
        "binary.yaml": b"\x00\x01\x02\xff" * 100,
        "latin1.yaml": (h + "codes:\n  - id: c\n    definition: caf\xe9\n").encode("latin-1"),
        "regex_nested.yaml": rx("(a+)+$"),
        "regex_alt.yaml": rx("(a|aa)+b"),
        "regex_words.yaml": rx("(\\\\w+\\\\s?)+x"),
        "regex_huge_repeat.yaml": rx("a{1000000000}"),
        "regex_overflow.yaml": rx("a{99999999999999}"),
        "regex_nested_counts.yaml": rx("(x{1000}){1000}"),
        "regex_invalid.yaml": rx("(unclosed"),
        "regex_lookbehind.yaml": rx("(?<=a+)b"),
        "regex_backref.yaml": rx("(a)\\\\1"),
        "regex_long.yaml": rx("a" * 5000),
        "regex_empty_match.yaml": rx("x*"),
        "regex_unicode.yaml": rx("\\\\bcaf\\\\b"),
        "pattern_invalid.yaml": code("      patterns:\n        - pattern: [{NOPE: x}]\n"),
        "pattern_huge.yaml": code("      patterns:\n        - pattern: [" + ",".join(["{OP: '*'}"] * 200) + "]\n"),
        "proximity_negative.yaml": code("      proximity:\n        - {a: [budget], b: [late], within: -5}\n"),
        "proximity_huge.yaml": code("      proximity:\n        - {a: [budget], b: [late], within: 1000000000}\n"),
        "keywords_weird.yaml": code("      keywords: ['', '   ', '*****', '" + "*" * 5000 + "']\n"),
        "keywords_many.yaml": code("      keywords: [" + ",".join(f"w{i}" for i in range(5_000)) + "]\n"),
        "unknown_lang.yaml": code("      keywords: {klingon: [x]}\n"),
        "min_hits_huge.yaml": code("      keywords: [budget]\n      min_hits: 99999999999999999999\n"),
        "ok.yaml": CODEBOOK,
    }
    return {k: v.encode() if isinstance(v, str) else v for k, v in y.items()}


def _codings_inputs(rng: random.Random) -> dict[str, bytes]:
    c: dict[str, bytes] = {
        "empty.csv": b"",
        "header_only.csv": b"doc_id,start,end,code\n",
        "missing_columns.csv": b"doc_id,code\nt,budget\n",
        "out_of_range.csv": b"doc_id,start,end,code\nt,0,999999,budget\n",
        "negative.csv": b"doc_id,start,end,code\nt,-5,3,budget\n",
        "reversed.csv": b"doc_id,start,end,code\nt,30,3,budget\n",
        "nan.csv": b"doc_id,start,end,code\nt,nan,inf,budget\n",
        "huge_numbers.csv": b"doc_id,start,end,code\nt,0,99999999999999999999999,budget\n",
        "unknown_doc.csv": b"doc_id,start,end,code\nnope,0,5,budget\n",
        "binary.csv": bytes(rng.getrandbits(8) for _ in range(2048)),
        "unterminated.csv": b'doc_id,start,end,code\nt,0,5,"budget\nt,0,5,list\n',
        "formula.csv": b"doc_id,start,end,code\nt,0,5,=cmd()\n",
        "quote_only.csv": b"doc_id,start,end,code,quote\nt,,,budget,national priority list\n",
        "quote_missing.csv": b"doc_id,start,end,code,quote\nt,,,budget,words not in the text\n",
        "many_rows.csv": ("doc_id,start,end,code\n" + "t,0,5,budget\n" * 10_000).encode(),
        "tsv_as_csv.csv": b"doc_id\tstart\tend\tcode\nt\t0\t5\tbudget\n",
        "ok.csv": b"doc_id,start,end,code\nt,13,40,budget\n",
    }
    x = _unzip(_xlsx([["doc_id", "start", "end", "code"], ["t", 0, 5, "budget"]]))
    c["bomb.xlsx"] = _zip({**x, "xl/worksheets/sheet1.xml": b" " * (300 * 1024**2)}, level=9)
    c["truncated.xlsx"] = _xlsx([["doc_id", "start", "end", "code"], ["t", 0, 5, "budget"]])[:900]
    c["unknown.json"] = b"{}"
    return c


def _refi_inputs(folder: Path, rng: random.Random) -> dict[str, bytes]:
    """Hostile .qdpx / .qdc, mutated from a real export of a tiny project."""
    from qualcode.cli import main

    src = folder / "_refi_src"
    src.mkdir()
    (src / "t.txt").write_text(TEXT)
    cb = src / "cb.yaml"
    cb.write_text(CODEBOOK)
    good_path = folder / "_good.qdpx"
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        main(["export", str(src), "--codebook", str(cb), "--qdpx", str(good_path)])
        main(["codebook", "export", str(cb), "--qdc", str(folder / "_good.qdc")])
    good = good_path.read_bytes()
    files = _unzip(good)
    qde = files["project.qde"].decode()
    qdc = (folder / "_good.qdc").read_bytes().decode()
    r: dict[str, bytes] = {
        "empty.qdpx": b"",
        "random.qdpx": bytes(rng.getrandbits(8) for _ in range(4096)),
        "truncated.qdpx": good[: len(good) // 2],
        "no_project.qdpx": _zip({k: v for k, v in files.items() if k != "project.qde"}),
        "bomb.qdpx": _zip({**files, "sources/big.txt": b" " * (300 * 1024**2)}, level=9),
        "entries.qdpx": _zip({**files, **{f"x/{i}": b"" for i in range(21_000)}}),
        "traversal.qdpx": _zip({**files, "../evil.txt": b"x"}),
        "doctype.qdpx": _zip({**files, "project.qde": qde.replace("<Project", '<!DOCTYPE p [<!ENTITY a "aaaa">]><Project', 1).encode()}),
        "xxe_utf16.qdpx": _zip({**files, "project.qde": ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + qde.split("?>", 1)[-1]).encode("utf-16")}),
        "malformed.qdpx": _zip({**files, "project.qde": b"<Project><CodeBook>"}),
        "deep.qdpx": _zip({**files, "project.qde": qde.replace("<Codes>", "<Codes>" + '<Code guid="00000000-0000-0000-0000-000000000000" name="x" isCodable="true">' * 3000 + "</Code>" * 3000, 1).encode()}),
        "missing_source.qdpx": _zip({k: v for k, v in files.items() if not k.startswith("sources/")}),
        "not_zip.qdpx": qde.encode(),
        "empty.qdc": b"",
        "random.qdc": bytes(rng.getrandbits(8) for _ in range(2048)),
        "doctype.qdc": qdc.replace("<CodeBook", '<!DOCTYPE c [<!ENTITY a "a">]><CodeBook', 1).encode(),
        "malformed.qdc": b"<CodeBook><Codes><Code",
        "deep.qdc": qdc.replace("<Codes>", "<Codes>" + '<Code guid="00000000-0000-0000-0000-000000000001" name="x" isCodable="true">' * 3000 + "</Code>" * 3000, 1).encode(),
        "source_yaml_bomb.qdpx": _zip({**files, "project.qde": re.sub(
            r"<Description>qualcode:.*?</Description>",
            lambda m: "<Description>qualcode:\n  doc_id: t\n" + _indent(_xml_bomb(), 2) + "</Description>", qde, count=1, flags=re.S).encode()}),
        "code_yaml_bomb.qdpx": _zip({**files, "project.qde": qde.replace(
            "--- qualcode ---\nid: budget\n", "--- qualcode ---\nid: budget\n" + _xml_bomb(), 1).encode()}),
        "code_yaml_bomb.qdc": qdc.replace("--- qualcode ---\nid: budget\n", "--- qualcode ---\nid: budget\n" + _xml_bomb(), 1).encode(),
        "ok.qdpx": good,
        "ok.qdc": qdc.encode(),
    }
    return r


def generate(folder: Path) -> list[tuple[str, list[str], int | None]]:
    """Write the hostile inputs under ``folder``; return ``(name, argv, needs)`` of every run."""
    rng = random.Random(16)
    folder.mkdir(parents=True, exist_ok=True)
    readers = folder / "readers"
    readers.mkdir()
    groups = {
        "txt": _text_inputs(rng),
        "docx": _docx_inputs(rng),
        "vtt": _subtitle_inputs(),
        "table": _table_inputs(rng),
        "pdf": _pdf_inputs(rng),
    }
    inputs: list[Path] = []
    big_tables = folder / "big_tables"
    big_tables.mkdir()
    for group, files in groups.items():
        d = readers / group
        d.mkdir()
        for name, data in files.items():
            where = big_tables if name in BIG else d
            (where / name).write_bytes(data)
            inputs.append(where / name)
    special = readers / "special"
    special.mkdir()
    for name, target in (("zero.txt", "/dev/zero"), ("urandom.docx", "/dev/urandom"), ("zero.xlsx", "/dev/zero"),
                         ("dangling.txt", str(folder / "nowhere")), ("loop.txt", str(special / "loop.txt"))):
        (special / name).symlink_to(target)
        inputs.append(special / name)
    if hasattr(os, "mkfifo"):
        for name in ("fifo.txt", "fifo.csv", "fifo.docx"):
            os.mkfifo(special / name)
            inputs.append(special / name)
    (special / "dir.txt").mkdir()
    inputs.append(special / "dir.txt")
    sidecars = _sidecar_cases(folder)

    cbs = folder / "codebooks"
    cbs.mkdir()
    codebooks = []
    for name, data in _codebook_inputs().items():
        (cbs / name).write_bytes(data)
        codebooks.append(cbs / name)
    (cbs / "fifo.yaml").parent.mkdir(exist_ok=True)
    if hasattr(os, "mkfifo"):
        os.mkfifo(cbs / "fifo.yaml")
        codebooks.append(cbs / "fifo.yaml")
    (cbs / "zero.yaml").symlink_to("/dev/zero")
    codebooks.append(cbs / "zero.yaml")

    corpus = folder / "tiny"
    corpus.mkdir()
    (corpus / "t.txt").write_text(TEXT)
    good_cb = folder / "good_codebook.yaml"
    good_cb.write_text(CODEBOOK)
    cod = folder / "codings"
    cod.mkdir()
    codings = []
    for name, data in _codings_inputs(rng).items():
        (cod / name).write_bytes(data)
        codings.append(cod / name)
    if hasattr(os, "mkfifo"):
        os.mkfifo(cod / "fifo.csv")
        codings.append(cod / "fifo.csv")
    refi = folder / "refi"
    refi.mkdir()
    projects = []
    for name, data in _refi_inputs(folder, rng).items():
        (refi / name).write_bytes(data)
        projects.append(refi / name)

    out = folder / "_out"
    # (name, argv, the run that must have succeeded first, or None): `code` runs only where
    # `ingest` / `codebook validate` succeeded (elsewhere it meets the same clean error)
    runs: list[tuple[str, list[str], int | None]] = []
    code_opts = ["--rules-only", "--no-reports", "--no-progress"]
    for i, p in enumerate(inputs):
        rel = p.relative_to(folder).as_posix()
        runs.append((f"ingest {rel}", ["ingest", str(p)], None))
        if p.name not in BIG:  # ingest is the point there
            runs.append((f"code {rel}", ["code", str(p), "--codebook", str(good_cb), *code_opts,
                                         "--out", str(out / f"r{i}")], len(runs) - 1))
    runs.append(("ingest readers/ (whole folder)", ["ingest", str(readers)], None))
    for i, d in enumerate(sidecars):
        rel = d.relative_to(folder).as_posix()
        runs.append((f"ingest {rel}", ["ingest", str(d)], None))
        runs.append((f"code {rel}", ["code", str(d), "--codebook", str(good_cb), *code_opts,
                                     "--out", str(out / f"s{i}")], len(runs) - 1))
    for i, cb in enumerate(codebooks):
        rel = cb.relative_to(folder).as_posix()
        runs.append((f"codebook validate {rel}", ["codebook", "validate", str(cb)], None))
        runs.append((f"code with {rel}", ["code", str(corpus), str(readers / "txt" / "stars_16k.txt"),
                                          "--codebook", str(cb), *code_opts, "--out", str(out / f"c{i}")],
                     len(runs) - 1))
    for c in codings:
        rel = c.relative_to(folder).as_posix()
        runs.append((f"evaluate {rel}", ["evaluate", str(c), str(cod / "ok.csv"), "--corpus", str(corpus)], None))
        runs.append((f"evaluate ref {rel}", ["evaluate", str(cod / "ok.csv"), str(c), "--corpus", str(corpus)], None))
    for i, p in enumerate(projects):
        rel = p.relative_to(folder).as_posix()
        if p.suffix == ".qdc":
            runs.append((f"codebook import {rel}", ["codebook", "import", str(p), "--yaml", str(out / f"q{i}.yaml")], None))
        else:
            runs.append((f"import {rel}", ["import", str(p), "--out", str(out / f"i{i}")], None))
    return runs


# --------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------
def _snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every regular input file (outputs under ``_out`` excluded)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if "_out" in p.relative_to(folder).parts:
            continue
        try:
            st = p.lstat()
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):
            out[str(p)] = "link:" + os.readlink(p)
        elif stat.S_ISREG(st.st_mode):
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[str(p)] = f"mode:{stat.S_IFMT(st.st_mode)}"
    return out


def run(folder: Path, *, start: int = 0, per_run_s: float = 60.0, memory_gb: float = 6.0) -> int:
    """Generate (when ``start`` is 0) and run every case; print one JSON line per run."""
    os.environ.setdefault("QUALCODE_REGEX_BUDGET_S", "1")
    if start == 0:
        runs = generate(folder)
        (folder / "_runs.json").write_text(json.dumps(runs))
        (folder / "_before.json").write_text(json.dumps(_snapshot(folder)))
        print(json.dumps({"generated": len(runs), "inputs": len(json.loads((folder / "_before.json").read_text()))}), flush=True)
    runs = json.loads((folder / "_runs.json").read_text())
    limit = int(memory_gb * 1024**3)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    import warnings

    from qualcode.cli import main

    def alarm(signum, frame):
        raise Hang

    signal.signal(signal.SIGALRM, alarm)
    codes: dict[int, int | None] = {}
    for i in range(start, len(runs)):
        name, argv, needs = runs[i]
        if needs is not None and codes.get(needs) != 0:
            continue
        print(json.dumps({"start": i, "name": name}), flush=True)
        err = io.StringIO()
        tb = None
        code = None
        peak0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, per_run_s)
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("default")
                code = main(argv)
        except Hang:
            tb = "hang"
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        except MemoryError:
            tb = "memory"
        except BaseException as exc:  # noqa: BLE001 - an escaped exception is what we look for
            tb = f"{type(exc).__name__}: {str(exc)[:300]}"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        secs = time.monotonic() - t0
        text = err.getvalue()
        if tb is None and ("Traceback (most recent call last)" in text or 'File "' in text):
            tb = "traceback printed"
        codes[i] = code if tb is None else None
        grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak0) // 1024
        print(json.dumps({"done": i, "name": name, "code": code, "problem": tb, "s": round(secs, 3),
                          "peak_growth_mb": grew, "err": text.strip().splitlines()[-1][:300] if text.strip() else ""}),
              flush=True)
    after = _snapshot(folder)
    before = json.loads((folder / "_before.json").read_text())
    changed = sorted(k for k in before if after.get(k) != before[k])
    print(json.dumps({"modified": changed}), flush=True)
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["run"])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--per-run-s", type=float, default=60.0)
    ns = ap.parse_args()
    sys.exit(run(ns.folder, start=ns.start, per_run_s=ns.per_run_s))
