"""read_codings: offsets, quotes (exact and normalised), errors with row numbers."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import qualcode
from qualcode import Corpus
from qualcode.codings import locate_quote, read_codings
from qualcode.errors import CodingsError
from qualcode.testing import build_document, tiny_corpus


@pytest.fixture
def corpus():
    return tiny_corpus()


@pytest.fixture
def fgd_corpus():
    d = build_document(
        "fgd1",
        [
            ("M", "moderator", "What do you think of the forum?"),
            ("Ani", "participant", "The forum is useful.  It helps us.\nReally \u201cuseful\u201d."),
            ("Budi", "participant", "The forum is useless."),
        ],
        kind="fgd",
        speaker_cases={"Ani": "p_ani", "Budi": "p_budi"},
    )
    return Corpus([d])


def write(tmp_path, text, name="codings.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_read_codings_offsets_resolve_to_corpus_text(tmp_path, corpus):
    text = corpus["int_a"].text
    a = text.index("We check")
    b = text.index("quarter.") + len("quarter.")
    p = write(tmp_path, f"doc_id,start,end,code,coder,memo\nint_a,{a},{b},data_use,ana,nice\n")
    c = read_codings(p, corpus)
    f = c.to_frame()
    assert len(f) == 1
    row = f.iloc[0]
    assert (row.start, row.end) == (a, b)
    assert row.text == text[a:b]
    assert row.coder == "ana"
    assert row.source == "human"
    assert row.score == 1.0
    assert row.memo == "nice"
    assert row.speaker == "R" and row.role == "respondent"
    assert row.case_id == "int_a"
    assert row.segment_id == f"int_a@{a}-{b}"


def test_read_codings_is_available_from_package(tmp_path, corpus):
    p = write(tmp_path, "doc_id,code,quote\nint_b,lead,He leaves everything to Bappeda.\n")
    c = qualcode.read_codings(p, corpus)
    assert c.to_frame().loc[0, "text"] == "He leaves everything to Bappeda."


def test_read_codings_quote_exact_match_and_text_alias(tmp_path, corpus):
    p = write(tmp_path, "doc_id,code,text\nint_b,lead,The head rarely attends.\n")
    f = read_codings(p, corpus, coder="budi").to_frame()
    t = corpus["int_b"].text
    assert t[f.start[0] : f.end[0]] == "The head rarely attends."
    assert f.coder[0] == "budi"


def test_read_codings_quote_normalised_match_maps_back_to_exact_offsets(tmp_path, fgd_corpus):
    # The document has two spaces and a newline, and curly quotes; the quote has single
    # spaces and straight quotes.
    p = write(
        tmp_path,
        'doc_id,code,quote\nfgd1,useful,"useful. It helps us. Really ""useful"""\n',
    )
    f = read_codings(p, fgd_corpus).to_frame()
    t = fgd_corpus["fgd1"].text
    got = t[f.start[0] : f.end[0]]
    assert got == "useful.  It helps us.\nReally \u201cuseful\u201d"
    assert f.text[0] == got


def test_read_codings_fgd_speaker_case_from_turn(tmp_path, fgd_corpus):
    p = write(
        tmp_path,
        "doc_id,code,quote\nfgd1,forum,The forum is useless.\nfgd1,forum,It helps us.\n",
    )
    f = read_codings(p, fgd_corpus).to_frame()
    assert f.case_id.tolist() == ["p_budi", "p_ani"]
    assert f.speaker.tolist() == ["Budi", "Ani"]
    assert f.role.tolist() == ["participant", "participant"]


def test_read_codings_ambiguous_and_missing_quotes_are_reported_not_guessed(tmp_path, fgd_corpus):
    p = write(
        tmp_path,
        "doc_id,code,quote\n"
        "fgd1,forum,The forum is\n"  # row 2: found twice
        "fgd1,forum,not in the text at all\n"  # row 3: not found
        "fgd1,forum,It helps us.\n",  # row 4: fine
    )
    with pytest.raises(CodingsError) as exc:
        read_codings(p, fgd_corpus)
    msg = str(exc.value)
    assert str(p) in msg
    assert "row 2: quote found 2 times" in msg
    assert "row 3: quote not found" in msg
    assert "row 4" not in msg
    assert len(exc.value.problems) == 2


def test_read_codings_row_numbered_errors_for_ids_and_offsets(tmp_path, corpus):
    n = len(corpus["int_a"].text)
    p = write(
        tmp_path,
        "doc_id,start,end,code\n"
        "int_a,0,5,x\n"  # row 2 ok
        "nope,0,5,x\n"  # row 3 unknown doc
        f"int_a,0,{n + 1},x\n"  # row 4 beyond text
        "int_a,9,3,x\n"  # row 5 reversed
        "int_a,a,3,x\n"  # row 6 not a number
        "int_a,0,3,\n",  # row 7 empty code
    )
    with pytest.raises(CodingsError) as exc:
        read_codings(p, corpus)
    probs = exc.value.problems
    assert probs == [
        "row 3: unknown doc_id 'nope'",
        f"row 4: end ({n + 1}) is beyond the text of 'int_a' ({n} characters)",
        "row 5: end (3) < start (9)",
        "row 6: start/end must be whole numbers; got start='a', end='3'",
        "row 7: empty code",
    ]
    assert isinstance(exc.value, ValueError)


def test_read_codings_on_error_warn_skips_bad_rows(tmp_path, corpus):
    p = write(tmp_path, "doc_id,start,end,code\nint_a,0,5,x\nnope,0,5,x\n")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        c = read_codings(p, corpus, on_error="warn")
    assert len(c) == 1
    assert any("row 3: unknown doc_id 'nope'" in str(w.message) for w in rec)


def test_read_codings_missing_columns_and_quotes_without_corpus(tmp_path, corpus):
    p = write(tmp_path, "doc_id,label\nint_a,x\n")
    with pytest.raises(CodingsError, match=r"lacks the column\(s\) \['code', 'start\+end or quote'\]"):
        read_codings(p, corpus)
    p2 = write(tmp_path, "doc_id,code,quote\nint_a,x,We check\n", "q.csv")
    with pytest.raises(CodingsError, match="needs the corpus"):
        read_codings(p2)


def test_read_codings_offsets_without_corpus_and_mismatched_quote(tmp_path, corpus):
    p = write(tmp_path, "doc_id,start,end,code,case_id\nd9,0,4,x,c9\n")
    f = read_codings(p).to_frame()
    assert f.loc[0, ["doc_id", "case_id", "start", "end", "coder"]].tolist() == ["d9", "c9", 0, 4, "human"]
    text = corpus["int_a"].text
    p2 = write(tmp_path, f"doc_id,start,end,code,quote\nint_a,0,{len('I: How')},x,Something else\n", "m.csv")
    with pytest.raises(CodingsError, match="row 2: the quote does not match"):
        read_codings(p2, corpus)
    assert text  # corpus untouched


def test_read_codings_xlsx_with_sheet(tmp_path, corpus):
    p = tmp_path / "c.xlsx"
    t = corpus["int_c"].text
    a = t.index("Kami")
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"x": [1]}).to_excel(xw, sheet_name="notes", index=False)
        pd.DataFrame(
            {"doc_id": ["int_c"], "start": [a], "end": [a + 4], "code": ["adjust"], "coder": ["sri"]}
        ).to_excel(xw, sheet_name="codings", index=False)
    f = read_codings(p, corpus, sheet="codings").to_frame()
    assert f.loc[0, "text"] == "Kami"
    assert f.loc[0, "coder"] == "sri"
    with pytest.raises(CodingsError, match="no sheet"):
        read_codings(p, corpus, sheet="missing")


def test_read_codings_unknown_case_source_and_file(tmp_path, corpus):
    p = write(tmp_path, "doc_id,start,end,code,case_id,source\nint_a,0,3,x,zzz,robot\n")
    with pytest.raises(CodingsError) as exc:
        read_codings(p, corpus)
    assert "row 2: source 'robot'" in str(exc.value)
    assert "row 2: case_id 'zzz' is not a case" in str(exc.value)
    with pytest.raises(CodingsError, match="no such codings file"):
        read_codings(tmp_path / "absent.csv", corpus)
    with pytest.raises(CodingsError, match="empty"):
        read_codings(write(tmp_path, "", "e.csv"), corpus)


def test_locate_quote_returns_every_occurrence():
    assert locate_quote("ab ab ab", "ab") == [(0, 2), (3, 5), (6, 8)]
    assert locate_quote("a  b\u2014c", "a b-c") == [(0, 6)]
    assert locate_quote("abc", "   ") == []
