"""The readers registry: suffix -> reader, used by read_corpus, the CLI help and supported_formats."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

import qualcode as qc
from qualcode import readers
from qualcode.cli import build_parser
from qualcode.errors import IngestError, IngestWarning
from qualcode.readers import _registry
from qualcode.readers._text import parse_text_file

SAMPLE = Path(__file__).resolve().parents[1] / "transcripts_sample"


@pytest.fixture
def registry():
    """Undo whatever a test registers."""
    by_suffix, names = dict(_registry._BY_SUFFIX), dict(_registry._NAMES)
    yield _registry
    _registry._BY_SUFFIX.clear()
    _registry._BY_SUFFIX.update(by_suffix)
    _registry._NAMES.clear()
    _registry._NAMES.update(names)


def _help(command: str) -> str:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices[command].format_help()


def test_supported_formats_is_the_registry():
    table = readers.supported_formats()
    assert list(table.index) == ["txt", "md", "docx", "pdf", "vtt", "srt", "csv", "xlsx", "jsonl"]
    assert table.loc["md", "suffixes"] == ".md .markdown"
    listed = {s for cell in table["suffixes"] for s in cell.split()}
    assert listed == set(readers.SUPPORTED) == {".txt", ".md", ".markdown", ".docx", ".pdf", ".vtt", ".srt", ".csv", ".xlsx", ".jsonl"}
    with pytest.raises(TypeError):
        readers.SUPPORTED[".rtf"] = "rtf"  # a read-only view: register_reader is the way in


def test_the_help_lists_every_format_from_the_registry():
    for command in ("ingest", "code"):
        text = _help(command)
        for r in _registry.readers():
            assert " ".join(r.suffixes) in text and r.description in text


def test_the_sample_reads_through_the_registry_with_the_reader_name_as_format():
    corpus = qc.read_corpus(SAMPLE)
    fmts = {d.doc_id: d.source.format for d in corpus.documents}
    for path in SAMPLE.iterdir():
        if path.stem in fmts:
            assert fmts[path.stem] == readers.SUPPORTED[path.suffix.lower()]


def _fake_rtf(path, *, doc_id, transform=None, kind=None):
    """A stand-in reader with the usual parse signature: reads plain text saved as .rtf."""
    return parse_text_file(path, doc_id=doc_id, fmt="rtf", transform=transform, kind=kind)


def test_adding_a_reader_is_one_registration(registry, tmp_path):
    (tmp_path / "a.txt").write_text("I: Why?\nR: Because the ministry says so.\n", encoding="utf-8")
    (tmp_path / "b.rtf").write_text("I: And then?\nR: Budi decides.\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = qc.read_corpus(tmp_path)
    assert before.doc_ids == ["a"] and any("cannot read .rtf" in str(w.message) for w in caught)

    reader = registry.register_reader(".RTF", _fake_rtf, "rtf", "RTF text layer")
    assert reader.suffixes == (".rtf",) and reader.options == ("doc_id", "transform", "kind")

    after = qc.read_corpus(tmp_path, pseudonyms={"Budi": "P1"})
    assert after.doc_ids == ["a", "b"]
    b = after["b"]
    assert b.source.format == "rtf" and b.turn_text(1) == "P1 decides."
    assert [t.role for t in b.turns] == ["interviewer", "respondent"]
    assert readers.supported_formats().loc["rtf", "description"] == "RTF text layer"
    assert re.search(r"\n  \.rtf +RTF text layer\n", _help("ingest"))
    assert qc.read_document(tmp_path / "b.rtf").doc_id == "b"


def test_register_reader_refuses_what_it_cannot_call(registry):
    with pytest.raises(ValueError, match="starts with a dot"):
        registry.register_reader("rtf", _fake_rtf, "rtf", "x")
    with pytest.raises(ValueError, match=r"\.docx is already read by the 'docx' reader"):
        registry.register_reader(".docx", _fake_rtf, "other", "x")

    def needs_password(path, *, doc_id, password):
        return None

    with pytest.raises(TypeError, match=r"takes \['password'\], not among the reader options"):
        registry.register_reader(".rtf", needs_password, "rtf", "x")
    assert ".rtf" not in readers.SUPPORTED


def test_an_unknown_suffix_names_what_qualcode_reads(tmp_path):
    p = tmp_path / "notes.rtf"
    p.write_text("hello", encoding="utf-8")
    with pytest.raises(IngestError, match=r"unknown file type '\.rtf'; qualcode reads \.csv, \.docx, \.jsonl, \.markdown, \.md, \.pdf, \.srt"):
        qc.read_document(p)
    with pytest.warns(IngestWarning, match="cannot read .rtf"):
        qc.read_corpus(tmp_path)
