"""Hostile files given to the readers: non-regular files, size limits, zip bombs, damaged zips.

Each case used to hang, exhaust memory or end in a traceback from inside a library (issue 16);
now each ends in one clear :class:`IngestError` naming the file, or a sensible result.
"""

from __future__ import annotations

import io
import os
import signal
import warnings
import zipfile
from pathlib import Path

import pytest

import qualcode as qc
from qualcode.errors import IngestError, IngestWarning
from qualcode.readers import read_documents

TEXT = "Interviewer: How do you plan the budget?\nRespondent: We follow the national priority list.\n"


@pytest.fixture
def alarm():
    """Turn a hang into a test failure (SIGALRM interrupts a blocking open)."""

    def boom(signum, frame):
        raise TimeoutError("hung")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _docx_bytes(body_xml: str = "<w:p><w:r><w:t>I: Hello there.</w:t></w:r></w:p>") -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("I: Hello there.")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _replace_member(data: bytes, name: str, payload: bytes, *, level: int = 9) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = payload if info.filename == name else src.read(info.filename)
            dst.writestr(info.filename, content, compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    return out.getvalue()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_hostile_fifo_in_a_folder_is_skipped_with_a_warning_not_a_hang(tmp_path, alarm):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT)
    os.mkfifo(folder / "pipe.txt")
    with pytest.warns(IngestWarning, match=r"pipe\.txt.*named pipe"):
        corpus = qc.read_corpus(folder)
    assert [d.doc_id for d in corpus.documents] == ["a"]
    with pytest.raises(IngestError, match=r"pipe\.txt: is a named pipe"):
        qc.read_document(folder / "pipe.txt")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("suffix", [".txt", ".docx", ".csv", ".xlsx", ".vtt", ".pdf"])
def test_hostile_symlink_to_a_device_is_refused_for_every_reader(tmp_path, alarm, device, suffix):
    if not Path(device).exists():
        pytest.skip(f"no {device}")
    link = tmp_path / f"x{suffix}"
    link.symlink_to(device)
    with pytest.raises(IngestError, match=r"x\.\w+: is a device|not a regular file") as exc:
        read_documents(link)
    assert str(link) in str(exc.value)


def test_hostile_file_above_the_size_limit_names_the_file_and_the_limit(tmp_path, monkeypatch):
    f = tmp_path / "big.txt"
    f.write_text(TEXT * 400)
    monkeypatch.setenv("QUALCODE_MAX_INPUT_MB", "0.01")
    with pytest.raises(IngestError, match=r"big\.txt: the file is .* above the 0\.0 MiB limit.*QUALCODE_MAX_INPUT_MB"):
        qc.read_document(f)
    monkeypatch.delenv("QUALCODE_MAX_INPUT_MB")
    assert qc.read_document(f).doc_id == "big"


def test_hostile_empty_path_does_not_read_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(TEXT)
    with pytest.raises(IngestError, match="empty path"):
        qc.read_corpus("")
    with pytest.raises(IngestError, match="empty path"):
        qc.read_corpus(["  "])
    with pytest.raises(IngestError, match="empty path"):
        qc.read_document("")


def test_hostile_docx_zip_bomb_is_refused_before_parsing(tmp_path):
    bomb = _replace_member(_docx_bytes(), "word/document.xml", b"<" + b" " * (300 * 1024**2))
    f = tmp_path / "bomb.docx"
    f.write_bytes(bomb)
    assert f.stat().st_size < 2 * 1024**2
    with pytest.raises(IngestError, match=r"bomb\.docx: unsafe \.docx file: .*(zip bomb|more than)"):
        qc.read_document(f)


def test_hostile_docx_bomb_under_the_ratio_check_is_refused_by_total_size(tmp_path):
    # 200 members of 1 MB each: none is ratio-checked (too small), the total is what counts
    src = zipfile.ZipFile(io.BytesIO(_docx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        block = b"\0" * (1024**2)
        for i in range(200):
            dst.writestr(f"word/media/pad{i}.bin", block)
    f = tmp_path / "wide.docx"
    f.write_bytes(out.getvalue())
    with pytest.raises(IngestError, match=r"wide\.docx: unsafe \.docx file: the archive holds \d+ bytes"):
        qc.read_document(f)


def test_hostile_xlsx_zip_bomb_and_truncated_xlsx_are_clean_errors(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["id", "text"])
    wb.active.append([1, "We follow the national priority list."])
    buf = io.BytesIO()
    wb.save(buf)
    good = buf.getvalue()
    ok = tmp_path / "ok.xlsx"
    ok.write_bytes(good)
    assert len(read_documents(ok)) == 1
    trunc = tmp_path / "trunc.xlsx"
    trunc.write_bytes(good[: len(good) * 2 // 3])
    with pytest.raises(IngestError, match=r"trunc\.xlsx: not a valid \.xlsx file"):
        read_documents(trunc)
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(_replace_member(good, "xl/worksheets/sheet1.xml", b" " * (400 * 1024**2)))
    with pytest.raises(IngestError, match=r"bomb\.xlsx: unsafe \.xlsx file"):
        read_documents(bomb)


def test_hostile_damaged_docx_member_is_a_clean_error(tmp_path):
    data = bytearray(_docx_bytes())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    # flip bytes inside the compressed document.xml: CRC or inflate error
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    for i in range(at, at + 20):
        data[i] ^= 0xFF
    f = tmp_path / "damaged.docx"
    f.write_bytes(bytes(data))
    with pytest.raises(IngestError, match=r"damaged\.docx: not a valid \.docx file"):
        qc.read_document(f)


def test_hostile_folder_with_bad_files_still_reads_the_good_ones(tmp_path, alarm):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT)
    (folder / "z.docx").symlink_to("/dev/zero")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        corpus = qc.read_corpus(folder)
    assert [d.doc_id for d in corpus.documents] == ["a"]
    assert any("z.docx" in str(w.message) for w in caught)
