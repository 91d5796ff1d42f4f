"""Malicious or broken .qdpx archives are refused with clear messages, and nothing is
written to disk while reading them."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from qualcode.errors import RefiError, UnsafeInputError
from qualcode.refi import read_qdpx
from qualcode.refi._safety import SafeArchive, parse_xml

GOOD_QDE = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<Project xmlns="urn:QDA-XML:project:1.0" name="p"><Sources>'
    b'<TextSource guid="11111111-1111-1111-1111-111111111111" name="a.txt" '
    b'plainTextPath="internal://a.txt"/></Sources></Project>'
)


def make_zip(path: Path, members: dict[str, bytes], *, symlinks: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.create_system = 3
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, data)
    return path


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("../../evil.txt", "'..' path component"),
        ("sources/../../../etc/cron.d/x", "'..' path component"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/evil.dll", "absolute path"),
        ("sources\\..\\..\\evil.txt", "backslash"),
    ],
)
def test_zip_slip_entries_are_refused(tmp_path, member, why):
    path = make_zip(tmp_path / "slip.qdpx", {"project.qde": GOOD_QDE, member: b"pwned"})
    with pytest.raises(UnsafeInputError, match=why) as err:
        read_qdpx(path)
    assert "slip.qdpx" in str(err.value) and repr(member) in str(err.value)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_symlink_entries_are_refused(tmp_path):
    path = make_zip(tmp_path / "link.qdpx", {"project.qde": GOOD_QDE, "sources/a.txt": b"/etc/passwd"},
                    symlinks=("sources/a.txt",))
    with pytest.raises(UnsafeInputError, match=r"'sources/a.txt' is a symbolic link"):
        read_qdpx(path)


def test_billion_laughs_is_refused(tmp_path):
    lol = b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    for i in range(1, 10):
        prev = f"&lol{i - 1};" if i > 1 else "&lol;"
        lol += f' <!ENTITY lol{i} "{prev * 10}">\n'.encode()
    lol += b']>\n<Project xmlns="urn:QDA-XML:project:1.0" name="&lol9;"/>'
    path = make_zip(tmp_path / "lol.qdpx", {"project.qde": lol})
    with pytest.raises(UnsafeInputError, match=r"lol.qdpx: project.qde: the XML declares a DOCTYPE"):
        read_qdpx(path)


def test_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="&x;"/>'
    ).encode()
    path = make_zip(tmp_path / "xxe.qdpx", {"project.qde": xxe})
    with pytest.raises(UnsafeInputError, match="DOCTYPE") as err:
        read_qdpx(path)
    assert "TOP SECRET" not in str(err.value)


def test_doctype_in_utf16_is_refused_after_parsing():
    data = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE Project SYSTEM "x.dtd">'
            '<Project name="p"/>').encode("utf-16")
    with pytest.raises(UnsafeInputError, match="DOCTYPE"):
        parse_xml(data, where="u16.qde")


def test_zip_bomb_ratio_and_total_size_are_refused(tmp_path):
    path = make_zip(tmp_path / "bomb.qdpx", {"project.qde": GOOD_QDE, "sources/a.txt": b"\0" * (30 * 1024 * 1024)})
    with pytest.raises(UnsafeInputError, match=r"'sources/a.txt' expands \d+-fold"):
        read_qdpx(path)
    ok = make_zip(tmp_path / "big.qdpx", {"project.qde": GOOD_QDE, "sources/a.txt": b"x" * 2000})
    with pytest.raises(UnsafeInputError, match="bytes uncompressed"):
        SafeArchive(ok, max_total_bytes=1000)


def test_lying_size_header_is_refused(tmp_path):
    """A member whose central directory claims a small size but holds more is not read past
    its claim: zipfile reports the CRC mismatch, which becomes a RefiError naming the member."""
    path = make_zip(tmp_path / "lie.qdpx", {"project.qde": GOOD_QDE, "sources/a.txt": b"y" * 5000})
    raw = bytearray(path.read_bytes())
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24 : cd + 28] = (10).to_bytes(4, "little")  # uncompressed size in the central directory
    path.write_bytes(bytes(raw))
    with pytest.raises(RefiError, match=r"sources/a.txt"):
        read_qdpx(path)


def test_too_many_entries_are_refused(tmp_path):
    members = {"project.qde": GOOD_QDE} | {f"sources/{i}.txt": b"" for i in range(30)}
    path = make_zip(tmp_path / "many.qdpx", members)
    with pytest.raises(UnsafeInputError, match="31 entries"):
        SafeArchive(path, max_entries=20)


def test_not_a_zip_and_missing_qde_are_clear_errors(tmp_path):
    junk = tmp_path / "junk.qdpx"
    junk.write_bytes(b"this is not a zip")
    with pytest.raises(RefiError, match="junk.qdpx: not a REFI-QDA project"):
        read_qdpx(junk)
    with pytest.raises(RefiError, match="no such REFI-QDA project file"):
        read_qdpx(tmp_path / "nope.qdpx")
    empty = make_zip(tmp_path / "empty.qdpx", {"sources/a.txt": b"hi"})
    with pytest.raises(RefiError, match=r"no \.qde project file"):
        read_qdpx(empty)
    broken = make_zip(tmp_path / "broken.qdpx", {"project.qde": b"<Project name='x'><Sources>"})
    with pytest.raises(RefiError, match="broken.qdpx: project.qde: not well-formed XML"):
        read_qdpx(broken)


def test_reading_extracts_nothing(tmp_path):
    path = make_zip(tmp_path / "ok.qdpx", {"project.qde": GOOD_QDE, "sources/a.txt": b"hello world"})
    before = sorted(p.name for p in tmp_path.iterdir())
    p = read_qdpx(path)
    assert p.corpus["a"].text == "hello world"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
