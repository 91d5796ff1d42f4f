"""REFI-QDA export -> import round trips, schema validation and determinism."""

from __future__ import annotations

import datetime as dt
import zipfile

import pandas as pd
import pytest
from lxml import etree

from qualcode import Codings, Corpus
from qualcode.codebook import Codebook
from qualcode.errors import CodingsError, ExportError
from qualcode.refi import read_qdpx, validate_project, write_qdpx
from qualcode.testing import build_document, tiny_corpus

NS = {"q": "urn:QDA-XML:project:1.0"}


def make_codebook() -> Codebook:
    return Codebook(
        [
            {"id": "planning", "name": "Planning practice", "definition": "How plans are made.", "color": "#1f77b4"},
            {"id": "top_down", "name": "Top-down", "parent": "planning",
             "definition": "Programs given from above.", "color": "#FF7F0E",
             "rules": {"keywords": {"en": ["nomenclature", "ministry"]}}},
            {"id": "copying", "name": "Copying last year", "parent": "planning",
             "definition": "Reusing the previous list."},
            {"id": "data_use", "name": "Data use 📊", "definition": "Use of monitoring data.", "color": "#2ca02c"},
            {"id": "leadership", "name": "Leadership", "definition": "Role of the regional head."},
        ],
        name="demo codebook",
        version="1.2.0",
    )


def make_corpus() -> Corpus:
    base = tiny_corpus()
    emoji = build_document(
        "fgd_emoji",
        [
            ("M", "moderator", "What do you think of the plan? 🤔"),
            ("Ana", "participant", "Honestly 😀 it is good, the 👨‍👩‍👧 families like it."),
            ("Budi", "participant", "Too slow 🐢🐢 and nobody reads the data 📊."),
        ],
        kind="fgd",
        speaker_cases={"Ana": "p_ana", "Budi": "p_budi"},
    )
    docs = [*base.documents, emoji]
    cases = base.cases
    cases["n_staff"] = [12, 40, 7]
    cases["rural"] = [False, False, True]
    cases["budget"] = [1.5, 20.25, 0.75]
    cases["interviewed"] = [dt.date(2024, 3, 1), dt.date(2024, 3, 5), dt.date(2024, 4, 2)]
    extra = pd.DataFrame(
        {"agency": ["(fgd)", None, None], "gov_level": [None, "village", "village"]},
        index=pd.Index(["fgd_emoji", "p_ana", "p_budi"], name="case_id"),
    )
    cases = pd.concat([cases, extra])
    return Corpus(docs, cases=cases)


def span(doc_text: str, quote: str) -> tuple[int, int]:
    i = doc_text.index(quote)
    return i, i + len(quote)


def make_codings(corpus: Corpus) -> Codings:
    rows = []

    def add(doc_id, quote, code, coder, memo=None):
        s, e = span(corpus[doc_id].text, quote)
        row = {"doc_id": doc_id, "start": s, "end": e, "code": code, "coder": coder, "source": "human"}
        if memo:
            row["memo"] = memo
        rows.append(row)

    add("int_a", "Most programs are already given by the ministry nomenclature.", "top_down", "ana")
    add("int_a", "Most programs are already given by the ministry nomenclature.", "top_down", "budi")
    add("int_a", "Most programs are already given by the ministry nomenclature.", "planning", "ana")
    add("int_a", "We copy last year's list", "copying", "budi", memo="classic incrementalism")
    add("int_a", "e-monev data on budget absorption", "data_use", "ana")
    add("int_b", "The head rarely attends.", "leadership", "ana")
    add("int_b", "nobody shares what they learn", "data_use", "budi")
    add("int_c", "sudah ditentukan dari pusat lewat nomenklatur", "top_down", "citra")
    add("fgd_emoji", "😀 it is good, the 👨‍👩‍👧 families like it.", "planning", "ana")
    add("fgd_emoji", "nobody reads the data 📊", "data_use", "ana")
    add("fgd_emoji", "🐢🐢", "leadership", "budi")
    return Codings.from_records(rows)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    corpus = make_corpus()
    cb = make_codebook()
    codings = make_codings(corpus)
    out = tmp_path_factory.mktemp("rt") / "project.qdpx"
    write_qdpx(out, corpus, cb, codings, notes={"Field memo": "Visited 3 agencies.\nNext: 🏛️ ministry."})
    return corpus, cb, codings, out, read_qdpx(out)


def test_export_validates_against_project_xsd(project):
    *_, out, _p = project
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        root = etree.fromstring(zf.read("project.qde"))
    assert names[0] == "project.qde"
    assert all(n.startswith("sources/") and n.endswith(".txt") for n in names[1:])
    assert len(names) == 1 + 4
    assert validate_project(root) == []
    # one selection per coding (as NVivo writes them), each created by its coder
    sels = root.findall(".//q:PlainTextSelection", NS)
    shared = [s for s in sels if s.get("name", "").startswith("Most programs")]
    assert len(shared) == 3 and all(len(s.findall("q:Coding", NS)) == 1 for s in shared)
    assert all(s.get("creatingUser") == s.find("q:Coding", NS).get("creatingUser") for s in sels)
    assert len({s.get("creatingUser") for s in shared}) == 2


def test_two_exports_are_byte_identical(project, tmp_path):
    corpus, cb, codings, out, _p = project
    again = tmp_path / "again.qdpx"
    write_qdpx(again, make_corpus(), make_codebook(), make_codings(make_corpus()),
               notes={"Field memo": "Visited 3 agencies.\nNext: 🏛️ ministry."})
    assert again.read_bytes() == out.read_bytes()


def test_roundtrip_documents(project):
    corpus, _cb, _c, _out, p = project
    assert p.corpus.doc_ids == corpus.doc_ids
    for d in corpus:
        got = p.corpus[d.doc_id]
        assert got.text == d.text
        assert got.kind == d.kind and got.language == d.language and got.case_id == d.case_id
        assert got.attributes["refi_offsets"] == "codepoint"


def test_roundtrip_codebook(project):
    _corpus, cb, *_rest, p = project
    got = p.codebook
    assert got.ids == cb.ids
    for code in cb.codes:
        g = got[code.id]
        assert (g.name, g.parent, g.definition, g.color) == (code.name, code.parent, code.definition, code.color)
    # qualcode-only fields and metadata travel in the qualcode block (qualcode.refi._qdc)
    assert got["top_down"].rules.keywords == cb["top_down"].rules.keywords
    assert (got.name, got.version) == ("demo codebook", "1.2.0")
    assert got.fingerprint == cb.fingerprint
    assert p.sets == {}


def test_roundtrip_codings_every_offset_and_coder(project):
    corpus, _cb, codings, _out, p = project
    cols = ["doc_id", "start", "end", "code", "coder"]
    want = codings.to_frame()[cols].sort_values(cols).reset_index(drop=True)
    got = p.codings.to_frame()[cols].sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
    frame = p.codings.to_frame()
    for row in frame.itertuples():
        assert row.text == corpus[row.doc_id].text[row.start : row.end]
    memo = frame[frame["code"] == "copying"]["memo"].tolist()
    assert memo == ["classic incrementalism"]
    assert sorted(p.users) == ["ana", "budi", "citra", "qualcode"]


def test_roundtrip_cases_and_typed_attributes(project):
    corpus, *_rest, p = project
    want = corpus.cases
    got = p.corpus.cases.loc[want.index]
    assert list(got.columns) == list(want.columns)
    for case_id in want.index:
        for col in want.columns:
            a, b = want.loc[case_id, col], got.loc[case_id, col]
            if pd.isna(a):
                assert pd.isna(b), (case_id, col)
            else:
                assert a == b, (case_id, col, a, b)
    assert got.loc["int_c", "rural"] is True or got.loc["int_c", "rural"] == True  # noqa: E712
    assert int(got.loc["int_b", "n_staff"]) == 40
    assert got.loc["int_a", "interviewed"] == dt.date(2024, 3, 1)


def test_speaker_cases_come_back_as_turns(project):
    corpus, *_rest, p = project
    orig = corpus["fgd_emoji"]
    got = p.corpus["fgd_emoji"]
    assert got.turns == orig.turns  # every turn, with its role, not only the speaker cases'
    assert p.corpus.case_of("fgd_emoji", "Ana") == "p_ana"


def test_project_notes_roundtrip(project):
    *_rest, p = project
    [note] = p.notes
    assert note.name == "Field memo" and note.text == "Visited 3 agencies.\nNext: 🏛️ ministry."
    assert note.attached_to == ("project",)


def test_export_refuses_overwrite_and_unknown_codes(tmp_path):
    corpus, cb = tiny_corpus(), make_codebook()
    out = tmp_path / "p.qdpx"
    write_qdpx(out, corpus, cb)
    with pytest.raises(ExportError, match="already exists"):
        write_qdpx(out, corpus, cb)
    write_qdpx(out, corpus, cb, overwrite=True)
    bad = Codings.from_records([{"doc_id": "int_a", "start": 0, "end": 3, "code": "nope", "coder": "x"}])
    with pytest.raises(CodingsError, match="nope"):
        write_qdpx(tmp_path / "q.qdpx", corpus, cb, bad)
    assert not (tmp_path / "q.qdpx").exists()
