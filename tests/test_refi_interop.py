"""Projects from other tools through qualcode and back: a real NVivo file, ATLAS.ti names,
nameless sources, lost sources, typed attributes with gaps, languages, code memos."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

import qualcode as qc
from qualcode import Corpus
from qualcode.cli import main
from qualcode.codebook import Codebook
from qualcode.errors import IngestWarning, QualcodeWarning, RefiError
from qualcode.refi import read_qdc, read_qdpx, write_qdc, write_qdpx
from qualcode.testing import build_document

DATA = Path(__file__).parent / "data" / "refi"
NVIVO = DATA / "nvivo12_hu_oltas0517.qdpx"
ATLAS = Path(__file__).parent / "data" / "refi" / "atlasti-8.4_refi-spec-example_sky-loom.qdpx"
NS = "urn:QDA-XML:project:1.0"


def test_nvivo_project_round_trips_through_the_command_line(tmp_path, capsys):
    d = tmp_path / "d"
    assert main(["import", str(NVIVO), "--out", str(d)]) == 0
    out = capsys.readouterr()
    assert "303 codings" in out.out
    # codes NVivo exported without a description load (a warning at most) ...
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cb = Codebook.load(d / "codebook.yaml")
    assert len(cb) == 152
    assert any("without a definition" in str(w.message) for w in caught)
    # ... and `codebook validate` agrees with Codebook.load
    assert main(["codebook", "validate", str(d / "codebook.yaml")]) == 0
    assert "OK" in capsys.readouterr().out
    y = tmp_path / "y.qdpx"
    assert main(["export", str(d), "--codebook", str(d / "codebook.yaml"), "--codings",
                 str(d / "codings.csv"), "--qdpx", str(y)]) == 0
    first = read_qdpx(NVIVO)
    again = read_qdpx(y)
    cols = ["doc_id", "start", "end", "code", "coder"]
    pd.testing.assert_frame_equal(
        again.codings.to_frame()[cols].sort_values(cols).reset_index(drop=True),
        first.codings.to_frame()[cols].sort_values(cols).reset_index(drop=True))
    assert {doc.doc_id: doc.text for doc in again.corpus} == {doc.doc_id: doc.text for doc in first.corpus}
    # Hungarian: not English or Indonesian, so "unknown", not a guess
    assert {doc.language for doc in first.corpus} == {"unknown"}
    assert {doc.language for doc in again.corpus} == {"unknown"}
    assert set(pd.read_csv(d / "cases.csv")["language"]) == {"unknown"}


def test_codebook_validate_and_load_agree_on_codes_without_definitions(tmp_path, capsys):
    path = tmp_path / "cb.yaml"
    path.write_text("name: t\ncodes:\n  - id: a\n  - id: b\n    definition: B.\n", encoding="utf-8")
    with pytest.warns(QualcodeWarning, match=r"1 code\(s\) without a definition: a"):
        Codebook.load(path)
    assert main(["codebook", "validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert "OK" in captured.out and "without a definition: a" in captured.err


def _qdpx(path: Path, sources: str, codes: str = "", files: dict[str, bytes] | None = None, origin: str = "t") -> Path:
    qde = (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{NS}" name="t" origin="{origin}">'
           '<Users><User guid="00000000-0000-4000-8000-000000000001" name="ana"/></Users>'
           f"<CodeBook><Codes>{codes}</Codes></CodeBook><Sources>{sources}</Sources></Project>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde)
        for name, data in (files or {}).items():
            zf.writestr(name, data)
    return path


CODE = '<Code guid="00000000-0000-4000-8000-0000000000c1" name="Trust" isCodable="true"/>'


def _sel(guid: str, s: int, e: int) -> str:
    return (f'<PlainTextSelection guid="{guid}" startPosition="{s}" endPosition="{e}" '
            'creatingUser="00000000-0000-4000-8000-000000000001"><Coding guid="' + guid[:-1] + '9" '
            'creatingUser="00000000-0000-4000-8000-000000000001">'
            '<CodeRef targetGUID="00000000-0000-4000-8000-0000000000c1"/></Coding></PlainTextSelection>')


def test_text_source_without_a_name_is_named_after_its_file(tmp_path):
    src = ('<TextSource guid="00000000-0000-4000-8000-0000000000a1" plainTextPath="internal://interview_3.txt">'
           + _sel("00000000-0000-4000-8000-0000000000b1", 0, 5) + "</TextSource>")
    p = read_qdpx(_qdpx(tmp_path / "p.qdpx", src, CODE, {"sources/interview_3.txt": b"Trust the data, she said."}))
    assert p.corpus.doc_ids == ["interview_3"]
    assert p.codings.to_frame()["text"].tolist() == ["Trust"]


def test_codings_lost_with_a_missing_source_are_counted_in_the_warning(tmp_path):
    gone = ('<TextSource guid="00000000-0000-4000-8000-0000000000a2" name="gone" plainTextPath="internal://gone.txt">'
            + _sel("00000000-0000-4000-8000-0000000000b2", 0, 5)
            + _sel("00000000-0000-4000-8000-0000000000b3", 6, 9) + "</TextSource>")
    here = ('<TextSource guid="00000000-0000-4000-8000-0000000000a3" name="here" plainTextPath="internal://here.txt">'
            + _sel("00000000-0000-4000-8000-0000000000b4", 0, 5) + "</TextSource>")
    path = _qdpx(tmp_path / "p.qdpx", gone + here, CODE, {"sources/here.txt": b"Trust me."})
    # a strict import (the default) refuses to lose the document; a lenient one counts the loss
    with pytest.raises(RefiError, match=r"1 text source\(s\) would be lost.*\n  gone \(text internal://gone.txt is not in the archive; its 2 coding\(s\) dropped\)"):
        read_qdpx(path)
    with pytest.warns(IngestWarning, match=r"1 source\(s\) not imported, 2 coding\(s\) dropped with them: gone"):
        p = read_qdpx(path, strict=False)
    assert len(p.codings) == 1


@pytest.mark.parametrize(("text", "lang"), [
    ("Szerintem az oltás nem biztonságos, és a kormány is hazudik nekünk minden nap.", "unknown"),
    ("We copy the list from last year and the ministry decides the rest of it.", "en"),
    ("Program dan kegiatan kami sudah ditentukan dari pusat, kami tinggal menyesuaikan.", "id"),
])
def test_imported_text_without_a_language_is_unknown_unless_clearly_en_or_id(tmp_path, text, lang):
    src = '<TextSource guid="00000000-0000-4000-8000-0000000000a4" name="s" plainTextPath="internal://s.txt"/>'
    p = read_qdpx(_qdpx(tmp_path / "p.qdpx", src, CODE, {"sources/s.txt": text.encode()}))
    assert p.corpus["s"].language == lang


def test_atlas_flat_names_and_the_parent_code_give_one_code():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IngestWarning)
        p = read_qdpx(ATLAS, strict=False)  # its texts are not in the archive
    cokes = [c for c in p.codebook.codes if c.name == "Coke"]
    assert len(cokes) == 1, [c.id for c in p.codebook.codes if c.id.startswith("coke")]
    coke = cokes[0]
    assert coke.id == "coke" and coke.definition == "the breakfast of champions" and coke.color == "#966450"
    assert {c.name for c in p.codebook.codes if c.parent == "coke"} == {"full-fat Coke", "diet Coke"}


def test_atlas_parent_after_its_flat_children_in_a_qdc(tmp_path):
    qdc = tmp_path / "a.qdc"
    qdc.write_text(
        '<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="ATLAS.ti">'
        '<Codes><Code guid="D1A2B3C4-0001-4000-8000-000000000001" name="Coke::diet Coke" isCodable="true"/>'
        '<Code guid="D1A2B3C4-0001-4000-8000-000000000002" name="Coke" isCodable="true" color="#966450">'
        "<Description>the breakfast of champions</Description></Code></Codes></CodeBook>", encoding="utf-8")
    cb = read_qdc(qdc)
    assert [(c.id, c.parent, c.definition) for c in cb.codes] == [
        ("coke", None, "the breakfast of champions"), ("diet_coke", "coke", "")]


def test_whole_number_and_flag_attributes_with_gaps_stay_integer_and_boolean(tmp_path):
    docs = [build_document(f"d{i}", [("R", "respondent", "Some words here.")]) for i in range(3)]
    docs[0] = docs[0].with_(attributes={"synthetic": True})
    cases = pd.DataFrame({"years_service": [22.0, float("nan"), 7.0], "synthetic": [1.0, float("nan"), float("nan")],
                          "budget": [1.5, float("nan"), 2.0]},
                         index=pd.Index(["d0", "d1", "d2"], name="case_id"))
    corpus = Corpus(docs, cases=cases)
    cb = Codebook([{"id": "a", "definition": "A."}], name="t")
    out = write_qdpx(tmp_path / "p.qdpx", corpus, cb)
    root = etree.fromstring(zipfile.ZipFile(out).read("project.qde"))
    types = {v.get("name"): v.get("typeOfVariable") for v in root.iter(f"{{{NS}}}Variable")}
    assert types == {"years_service": "Integer", "synthetic": "Boolean", "budget": "Float", "case_id": "Text"}
    values = [v.text for v in root.iter(f"{{{NS}}}IntegerValue")] + [v.text for v in root.iter(f"{{{NS}}}BooleanValue")]
    assert sorted(values) == ["22", "7", "true"]
    back = read_qdpx(out).corpus.cases
    assert str(back["years_service"].dtype) == "Int64" and back.loc["d0", "years_service"] == 22
    assert str(back["synthetic"].dtype) == "boolean" and back.loc["d0", "synthetic"]


def test_code_memo_puts_the_human_description_first_and_the_block_after_a_separator(tmp_path, codebooks_dir):
    cb = Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    path = write_qdc(cb, tmp_path / "tp.qdc")
    root = etree.fromstring(path.read_bytes())
    q = "{urn:QDA-XML:codebook:1.0}"
    code = next(c for c in root.iter(f"{q}Code") if c.get("name") == cb["convergence"].name)
    memo = code.find(f"{q}Description").text
    human, _, block = memo.partition("--- qualcode ---")
    assert human.startswith(cb["convergence"].definition)
    assert f"Include: {cb['convergence'].inclusion}" in human
    assert "Examples (en):\n- " in human
    assert human.rstrip().endswith("(qualcode settings below: keep them unchanged so that qualcode reads this back)")
    assert block.lstrip().startswith("id: convergence")
    assert read_qdc(path).fingerprint == cb.fingerprint  # the readable copy does not leak back


def test_export_counts_what_it_leaves_out(tmp_path):
    corpus = qc.testing.tiny_corpus()
    cb = Codebook([{"id": "a", "definition": "A."}], name="t")
    rows = [{"doc_id": "int_a", "start": 0, "end": 4, "code": "a", "coder": "x", "evidence": "via children: b"}]
    with pytest.warns(QualcodeWarning, match=r"left out 1 coding\(s\): 1 stored parent roll-up"):
        write_qdpx(tmp_path / "p.qdpx", corpus, cb, qc.Codings.from_records(rows))
