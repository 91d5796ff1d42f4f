"""Encodings, BOMs, line endings and every bad-input error naming the file."""

from __future__ import annotations

import hashlib

import pytest

from qualcode.errors import IngestError, IngestWarning
from qualcode.readers import read_document

TEXT = "I: Apa kabar, Bu Désirée?\nR: Baik — terima kasih. Kami ‘siap’.\n"


@pytest.mark.parametrize(
    ("codec", "bom", "expected_encoding"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8"),
        ("utf-16-le", b"\xff\xfe", "utf-16-le"),
        ("utf-16-be", b"\xfe\xff", "utf-16-be"),
    ],
)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_readers_encodings_and_newlines(tmp_path, codec, bom, expected_encoding, newline):
    raw = bom + TEXT.replace("\n", newline).encode(codec)
    p = tmp_path / "enc.txt"
    p.write_bytes(raw)
    doc = read_document(p)
    assert doc.text == TEXT  # BOM removed, line endings normalised
    assert doc.turn_text(1) == "Baik — terima kasih. Kami ‘siap’."
    assert doc.source.encoding == expected_encoding
    assert doc.source.bom is bool(bom)
    assert doc.source.newline == newline
    assert doc.source.sha256 == hashlib.sha256(raw).hexdigest()


def test_readers_cp1252_fallback_warns_naming_the_file(tmp_path):
    p = tmp_path / "legacy.txt"
    p.write_bytes("I: Café?\r\nR: Oui – très bien.\r\n".encode("cp1252"))
    with pytest.warns(IngestWarning, match="legacy.txt.*cp1252"):
        doc = read_document(p)
    assert doc.turn_text(1) == "Oui – très bien."
    assert doc.source.encoding == "cp1252"
    assert doc.source.newline == "\r\n"


def test_readers_explicit_encoding(tmp_path):
    p = tmp_path / "latin.txt"
    p.write_bytes("I: Olá?\nR: Sim.\n".encode("latin-1"))
    doc = read_document(p, encoding="latin-1")
    assert doc.turn_text(0) == "Olá?"


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n \t\n", "empty"),
        ("bom_only.txt", b"\xef\xbb\xbf", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("controls.txt", bytes(range(1, 9)) * 20 + b"I: hi\n", "binary"),
        ("undecodable.txt", b"I: caf\x81\x8d\x8f\x90\x9d\n", "undecodable"),
        ("notes.pdf", b"%PDF-1.4 ...", "not a valid PDF"),
        ("noext", b"I: hi\n", "unknown file type"),
    ],
)
def test_readers_bad_input_errors_name_the_file(tmp_path, name, data, match):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(IngestError, match=match) as exc:
        read_document(p)
    assert str(p) in str(exc.value)
    assert exc.value.path == str(p)


def test_readers_undecodable_names_the_line(tmp_path):
    p = tmp_path / "bad_line.txt"
    p.write_bytes(b"I: fine\nR: fine\nI: bad \x81\x8d here\n")
    with pytest.raises(IngestError, match=r"bad_line.txt, line 3"):
        read_document(p)


def test_readers_missing_file_and_directory(tmp_path):
    with pytest.raises(IngestError, match="nope.txt.*not found"):
        read_document(tmp_path / "nope.txt")
    d = tmp_path / "dir.txt"
    d.mkdir()
    with pytest.raises(IngestError, match="dir.txt"):
        read_document(d)


def test_readers_errors_are_value_errors(tmp_path):
    p = tmp_path / "e.txt"
    p.write_bytes(b"")
    with pytest.raises(ValueError):
        read_document(p)
