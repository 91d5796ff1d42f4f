"""read_corpus over folders: skipping rules, .qualcodeignore, strict mode, input untouched."""

from __future__ import annotations

import hashlib
import shutil
import warnings
from pathlib import Path

import docx
import pytest

from qualcode.errors import IngestError, IngestWarning
from qualcode.readers import read_corpus

DATA = Path(__file__).parent / "data" / "readers"


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(DATA, root)
    d = docx.Document()
    p = d.add_paragraph()
    p.add_run("Interviewer:").bold = True
    p.add_run(" Siapa yang menentukan program?")
    p = d.add_paragraph()
    p.add_run("Kepala Dinas:").bold = True
    p.add_run(" Biasanya kementerian, lewat nomenklatur.")
    (root / "sub").mkdir()
    d.save(root / "sub" / "int_docx.docx")
    (root / "README.md").write_text("# About this folder\nI: not a transcript\n")
    (root / "LICENSE.txt").write_text("CC-BY\n")
    (root / ".hidden.txt").write_text("I: hidden\n")
    (root / "_drafts").mkdir()
    (root / "_drafts" / "draft.txt").write_text("I: draft\n")
    (root / "programs").mkdir()
    (root / "programs" / "list.txt").write_text("I: a program list\n")
    (root / "script.py").write_text("print('x')\n")
    (root / ".qualcodeignore").write_text("# not transcripts\ngold_codings.csv\nprograms/\n")
    (root / "cases.csv").write_text("doc_id,agency\ninterview_labels,Bappeda\n")
    return root


def test_readers_folder_reads_supported_files_and_skips_the_rest(folder):
    before = _hashes(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        corpus = read_corpus(folder)
    assert [str(w.message) for w in caught if issubclass(w.category, IngestWarning)] == []
    assert corpus.doc_ids == [
        "call",
        "fgd_desa",
        "interview_labels",
        "meeting",
        "no_labels",
        "notes_fgd",
        "styles",
        "survey:s01",
        "survey:s02",
        "survey:s04",
        "int_docx",
    ]
    assert corpus["int_docx"].turns[1].speaker == "Kepala Dinas"
    assert corpus.cases.loc["interview_labels", "agency"] == "Bappeda"
    assert corpus.cases.loc["survey:s01", "level"] == "province"
    assert _hashes(folder) == before  # input files never modified
    formats = {d.source.format for d in corpus}
    assert formats == {"txt", "md", "docx", "vtt", "srt", "csv"}


def test_readers_not_recursive(folder):
    corpus = read_corpus(folder, recursive=False)
    assert "int_docx" not in corpus


def test_readers_bad_file_in_folder_warns_and_is_skipped_unless_strict(folder):
    (folder / "broken.txt").write_bytes(b"\x00\x01\x02binary")
    (folder / "zz_empty.md").write_bytes(b"")
    with pytest.warns(IngestWarning) as rec:
        corpus = read_corpus(folder)
    messages = [str(w.message) for w in rec]
    assert any("broken.txt" in m and "binary" in m for m in messages)
    assert any("zz_empty.md" in m and "empty" in m for m in messages)
    assert "broken" not in corpus and len(corpus) == 11  # nothing else is lost
    with pytest.raises(IngestError, match="broken.txt"):
        read_corpus(folder, strict=True)


def test_readers_unsupported_document_formats_warn_in_folder(folder):
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.warns(IngestWarning, match="old.doc.*cannot read .doc"):
        read_corpus(folder)


def test_readers_duplicate_doc_ids(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "int01.txt").write_text("I: one?\nR: yes\n")
    (tmp_path / "b" / "int01.md").write_text("I: two?\nR: no\n")
    with pytest.warns(IngestWarning, match="duplicate doc_id 'int01'"):
        corpus = read_corpus(tmp_path)
    assert len(corpus) == 1 and corpus["int01"].turn_text(0) == "one?"
    with pytest.raises(IngestError, match=r"int01.md.*duplicate doc_id 'int01'"):
        read_corpus(tmp_path, strict=True)
    with pytest.raises(IngestError, match="duplicate"):
        read_corpus([tmp_path / "a" / "int01.txt", tmp_path / "b" / "int01.md"])


def test_readers_list_of_paths_and_single_bad_file_raises(tmp_path):
    corpus = read_corpus([DATA / "call.srt", DATA / "notes_fgd.md"])
    assert corpus.doc_ids == ["call", "notes_fgd"]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    with pytest.raises(IngestError, match="bad.txt"):
        read_corpus([DATA / "call.srt", bad])
    with pytest.raises(IngestError, match="missing_dir"):
        read_corpus(tmp_path / "missing_dir")


def test_readers_progress_bar_and_arguments(folder, capsys):
    corpus = read_corpus(folder, progress=True, language="id", kind="interview")
    err = capsys.readouterr().err
    assert "reading" in err
    # the argument is used where metadata names nothing; front matter still wins
    assert corpus["call"].language == "id" and corpus["call"].kind == "interview"
    assert corpus["fgd_desa"].language == "id"
    assert corpus["notes_fgd"].kind == "interview"  # kind= forbids notes detection
    assert corpus["survey:s01"].kind == "interview"


def test_readers_segments_are_consistent_for_the_whole_corpus(folder):
    corpus = read_corpus(folder)
    for unit in ("turn", "paragraph", "sentence", "window"):
        seg = corpus.segments(unit)
        assert len(seg) > 0
        for row in seg.itertuples():
            assert corpus[row.doc_id].text[row.start : row.end] == row.text
    summ = corpus.summary()
    assert summ.loc["fgd_desa", "speakers"] == 4
    assert summ.loc["fgd_desa", "language"] == "id"
