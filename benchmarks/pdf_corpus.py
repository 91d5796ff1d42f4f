"""Generate the test PDFs of the PDF-library comparison and of qualcode's PDF reader tests.

Every PDF is SYNTHETIC: made here with fpdf2 (a dev dependency, LGPL; not needed at run time)
so that the text it should yield is known exactly.  ``make_fixtures(folder)`` writes the
small fixtures (and ``truth.json``, the expected text of each) that ``tests/data/pdf/`` holds;
``make_long_pdf(path, pages)`` writes a long report for the throughput benchmark.

Usage::

    python benchmarks/pdf_corpus.py tests/data/pdf     # regenerate the committed fixtures

The layout is done here line by line (``FPDF.text`` at computed positions), so that line
ends, hyphenation at line ends and column order are under control:

* long words that do not fit are hyphenated at a line end (``pemba-`` / ``ngunan``), and
  reduplicated words (``program-program``) may break at their own hyphen;
* ``two_columns.pdf`` writes the left column then the right column; ``two_columns_rows.pdf``
  writes the same page row by row (left line, right line, ...), the order some producers use,
  so that only a library that orders text by geometry gets it right.
"""

from __future__ import annotations

import io
import json
import random
import sys
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
SYNTHETIC = "SYNTHETIC test document made by qualcode's benchmarks/pdf_corpus.py"

ID_PARAS = [
    "Dokumen ini SINTETIS dan dibuat untuk pengujian qualcode. Perencanaan pembangunan daerah "
    "disusun oleh Badan Perencanaan Pembangunan Daerah bersama perangkat daerah berdasarkan "
    "nomenklatur program yang ditetapkan oleh Kementerian Dalam Negeri.",
    "Program-program yang dijalankan oleh provinsi sebagian besar sama dengan program kabupaten "
    "dan kota, sehingga sinkronisasi perencanaan sering hanya berarti menyamakan nomenklatur. "
    "Masing-masing perangkat daerah menyalin daftar kegiatan tahun sebelumnya.",
    "Musyawarah perencanaan pembangunan (musrenbang) diselenggarakan setiap tahun, tetapi usulan "
    "masyarakat jarang menjadi prioritas karena pagu anggaran sudah ditentukan sebelumnya. "
    "Pengembangan kapasitas perencana dan ketersediaan data yang terpercaya masih menjadi "
    "tantangan utama bagi penyelenggaraan pemerintahan daerah.",
    "Evaluasi pelaksanaan rencana melalui sistem e-monev membandingkan target dengan realisasi "
    "dan penyerapan anggaran. Keterbatasan kemampuan analisis kebijakan menyebabkan "
    "pertanggungjawaban kinerja lebih bersifat administratif daripada substantif.",
]
EN_PARAS = [
    "This document is SYNTHETIC and was made for testing qualcode. Regional development "
    "planning is prepared by the regional planning agency together with the sectoral agencies, "
    "following the programme nomenclature issued by the Ministry of Home Affairs.",
    "Synchronisation between the province and the city is often reduced to sharing the same "
    "programme names. Planners copy last year's list of activities and adjust the volume, the "
    "location and the budget ceiling once the transfer allocations are announced.",
    "Coordination meetings and focus-group discussions are held, but they are rarely open "
    "discursive spaces; organisational learning is left to individual officials and their "
    "personal networks rather than institutionalised in the agency.",
]
TRANSCRIPT = [
    ("Pewawancara", "Bagaimana program di dinas Bapak/Ibu disusun setiap tahun?"),
    ("Narasumber", "Sebagian besar program sudah ditentukan dari pusat. Kami menyalin daftar "
     "tahun lalu, lalu menyesuaikan volume dan lokasi kegiatan. Nomenklaturnya tetap, jadi ruang "
     "untuk merancang program dari analisis sendiri sangat sempit."),
    ("Pewawancara", "Apakah data dari e-monev dipakai dalam penyusunan rencana?"),
    ("Narasumber", "Dipakai, tetapi terutama untuk melaporkan penyerapan anggaran. Analisis "
     "kebijakan jarang dilakukan karena tenaga perencana terbatas dan datanya sering belum "
     "siap ketika jadwal penyusunan sudah dimulai."),
    ("Pewawancara", "Bagaimana keterlibatan kepala daerah dalam forum perencanaan?"),
    ("Narasumber", "Kepala daerah biasanya hanya membuka acara dan menyampaikan sambutan. "
     "Setelah itu pembahasan diserahkan kepada birokrasi, dan hasilnya jarang diperiksa lagi. "
     "Menurut saya perencanaan teknokratis di sini masih rapuh."),
    ("Pewawancara", "Terima kasih atas waktunya."),
    ("Narasumber", "Sama-sama, semoga bermanfaat untuk penelitiannya."),
]
TABLE_ROWS = [
    ("1.02.02", "PROGRAM PEMENUHAN UPAYA KESEHATAN PERORANGAN DAN UPAYA KESEHATAN MASYARAKAT",
     "12.450.000.000"),
    ("1.02.03", "PROGRAM PENINGKATAN KAPASITAS SUMBER DAYA MANUSIA KESEHATAN", "1.275.500.000"),
    ("1.02.04", "PROGRAM SEDIAAN FARMASI, ALAT KESEHATAN DAN MAKANAN MINUMAN", "860.000.000"),
    ("1.03.10", "PROGRAM PENYELENGGARAAN JALAN", "48.900.000.000"),
    ("1.03.11", "PROGRAM PENGEMBANGAN PERMUKIMAN", "3.120.000.000"),
    ("2.07.02", "PROGRAM PENGEMBANGAN KAPASITAS DAYA SAING KEPARIWISATAAN", "945.250.000"),
]


# ---------------------------------------------------------------- layout helpers
def _new_pdf():
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creator("qualcode benchmarks/pdf_corpus.py")
    pdf.set_title(SYNTHETIC)
    if (FONT_DIR / "DejaVuSans.ttf").is_file():
        pdf.add_font("Body", "", str(FONT_DIR / "DejaVuSerif.ttf"))
        pdf.add_font("Body", "B", str(FONT_DIR / "DejaVuSerif-Bold.ttf"))
        pdf.add_font("Sans", "", str(FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("Sans", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        pdf.qc_fonts = ("Body", "Sans")
    else:  # core fonts (latin-1 only): enough for the synthetic texts
        pdf.qc_fonts = ("Times", "Helvetica")
    return pdf


def _split_point(word: str, fits) -> int | None:
    """Where to hyphenate ``word`` so that ``word[:i] + '-'`` fits (after a vowel)."""
    for i in range(len(word) - 3, 2, -1):
        if word[i - 1] in "aeiou" and word[i] not in "aeiou" and word[:i].isalpha():
            if fits(word[:i] + "-"):
                return i
    return None


def wrap(pdf, text: str, width: float, *, hyphenate: bool = True) -> tuple[list[str], int]:
    """Break ``text`` into lines no wider than ``width`` mm; returns (lines, hyphenations)."""
    lines: list[str] = []
    cur = ""
    hyph = 0

    def fits(s: str) -> bool:
        return pdf.get_string_width(s) <= width

    words = text.split()
    i = 0
    while i < len(words):
        w = words[i]
        trial = f"{cur} {w}" if cur else w
        if fits(trial):
            cur = trial
            i += 1
            continue
        prefix = f"{cur} " if cur else ""
        if "-" in w.strip("-") and fits(prefix + w.split("-")[0] + "-"):
            head, _, tail = w.partition("-")
            lines.append(prefix + head + "-")
            words[i] = tail
            cur = ""
            continue
        core = w.rstrip(".,;:)?!")
        if hyphenate and len(core) >= 8 and core.isalpha():
            cut = _split_point(core, lambda s, pre=prefix: fits(pre + s))
            if cut is not None:
                lines.append(prefix + w[:cut] + "-")
                words[i] = w[cut:]
                hyph += 1
                cur = ""
                continue
        if not cur:  # a single word wider than the line
            lines.append(w)
            i += 1
            continue
        lines.append(cur)
        cur = ""
    if cur:
        lines.append(cur)
    return lines, hyph


def _paragraph_lines(pdf, paras: list[str], width: float) -> tuple[list[str | None], int]:
    """Lines of several paragraphs, ``None`` marking the gap between paragraphs."""
    out: list[str | None] = []
    n_hyph = 0
    for k, p in enumerate(paras):
        lines, h = wrap(pdf, p, width)
        n_hyph += h
        if k:
            out.append(None)
        out.extend(lines)
    return out, n_hyph


def _emit(pdf, lines: list[str | None], x: float, y: float, leading: float) -> float:
    for line in lines:
        if line is not None:
            pdf.text(x, y, line)
        y += leading if line is not None else leading * 0.6
    return y


def _header(pdf, title: str) -> None:
    pdf.set_font(pdf.qc_fonts[1], "B", 13)
    pdf.text(20, 22, title)
    pdf.set_font(pdf.qc_fonts[1], "", 7)
    pdf.text(20, 287, SYNTHETIC)


# ---------------------------------------------------------------- fixtures
def indonesian_pdf(path: Path) -> dict:
    """One page of Indonesian prose, narrow lines so that several words hyphenate."""
    pdf = _new_pdf()
    pdf.add_page()
    _header(pdf, "Laporan Perencanaan Daerah (SINTETIS)")
    pdf.set_font(pdf.qc_fonts[0], "", 11)
    lines, n_hyph = _paragraph_lines(pdf, ID_PARAS, 95)
    _emit(pdf, lines, 20, 35, 5.6)
    pdf.output(str(path))
    return {"paragraphs": ID_PARAS, "hyphenations": n_hyph, "title": "Laporan Perencanaan Daerah (SINTETIS)"}


def two_columns_pdf(path: Path, *, rows_first: bool) -> dict:
    """A two-column page; ``rows_first`` writes it row by row across the columns."""
    pdf = _new_pdf()
    pdf.add_page()
    _header(pdf, "Two-column report (SYNTHETIC)")
    pdf.set_font(pdf.qc_fonts[0], "", 10)
    left, h1 = _paragraph_lines(pdf, ID_PARAS[:2], 80)
    right, h2 = _paragraph_lines(pdf, EN_PARAS[:2], 80)
    leading = 5.0
    if not rows_first:
        _emit(pdf, left, 20, 35, leading)
        _emit(pdf, right, 110, 35, leading)
    else:
        # same positions as above, written in row order
        def ys(lines):
            y, out = 35.0, []
            for line in lines:
                out.append((y, line))
                y += leading if line is not None else leading * 0.6
            return [(y, s) for y, s in out if s is not None]

        a, b = ys(left), ys(right)
        items = sorted([(y, 0, s) for y, s in a] + [(y, 1, s) for y, s in b])
        for y, col, s in items:
            pdf.text(20 if col == 0 else 110, y, s)
    pdf.output(str(path))
    return {"paragraphs": ID_PARAS[:2] + EN_PARAS[:2], "hyphenations": h1 + h2}


def table_pdf(path: Path) -> dict:
    """A bordered programme table (No | Kode | Program | Pagu), names wrapping in their cells."""
    pdf = _new_pdf()
    pdf.add_page()
    _header(pdf, "Tabel 2.1 Program Perangkat Daerah (SINTETIS)")
    pdf.set_font(pdf.qc_fonts[1], "", 9)
    pdf.set_xy(20, 32)
    with pdf.table(col_widths=(10, 22, 100, 38), text_align=("CENTER", "LEFT", "LEFT", "RIGHT"),
                   line_height=4.5, first_row_as_headings=True) as table:
        table.row(["No", "Kode", "Program", "Pagu (Rp)"])
        for i, (code, name, budget) in enumerate(TABLE_ROWS, 1):
            table.row([str(i), code, name, budget])
    pdf.output(str(path))
    return {"rows": [list(r) for r in TABLE_ROWS]}


def transcript_pdf(path: Path) -> dict:
    """A labelled interview transcript over two pages, turns separated by a gap."""
    pdf = _new_pdf()
    pdf.add_page()
    _header(pdf, "Transkrip wawancara (SINTETIS)")
    pdf.set_font(pdf.qc_fonts[0], "", 11)
    y = 35.0
    page_of_turn = []
    for k, (who, said) in enumerate(TRANSCRIPT):
        lines, _ = wrap(pdf, f"{who}: {said}", 170, hyphenate=False)
        if k == 4:  # the second page starts here
            pdf.add_page()
            pdf.set_font(pdf.qc_fonts[1], "", 7)
            pdf.text(20, 287, SYNTHETIC)
            pdf.set_font(pdf.qc_fonts[0], "", 11)
            y = 25.0
        page_of_turn.append(pdf.page)
        y = _emit(pdf, lines, 20, y, 5.6) + 3
    pdf.output(str(path))
    return {"turns": [list(t) for t in TRANSCRIPT], "page_of_turn": page_of_turn}


def _text_image(lines: list[str], size=(1654, 2339)):
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.truetype(str(FONT_DIR / "DejaVuSerif.ttf"), 34)
    except OSError:
        font = ImageFont.load_default()
    y = 200
    for line in lines:
        draw.text((160, y), line, fill=0, font=font)
        y += 56
    return img


def scanned_pdf(path: Path) -> dict:
    """Three pages: text, an image-only page (a 'scan' of Indonesian text), text."""
    pdf = _new_pdf()
    pdf.add_page()
    _header(pdf, "Halaman 1 (SINTETIS)")
    pdf.set_font(pdf.qc_fonts[0], "", 11)
    _emit(pdf, wrap(pdf, ID_PARAS[0], 170)[0], 20, 35, 5.6)
    pdf.add_page()
    scan = ["Hasil musyawarah perencanaan pembangunan", "kecamatan tahun 2020 (SINTETIS).",
            "Usulan masyarakat: perbaikan jalan desa,", "air bersih dan posyandu."]
    buf = io.BytesIO()
    _text_image(scan).save(buf, format="PNG")
    buf.seek(0)
    pdf.image(buf, x=0, y=0, w=210, h=297)
    pdf.add_page()
    _header(pdf, "Halaman 3 (SINTETIS)")
    pdf.set_font(pdf.qc_fonts[0], "", 11)
    _emit(pdf, wrap(pdf, ID_PARAS[1], 170)[0], 20, 35, 5.6)
    pdf.output(str(path))
    return {"scanned_pages": [2], "scan_lines": scan}


def encrypted_pdf(path: Path, *, user_password: str | None) -> dict:
    """An encrypted PDF; without a user password it opens (permissions-only encryption)."""
    from fpdf.enums import EncryptionMethod

    pdf = _new_pdf()
    pdf.add_page()
    _header(pdf, "Dokumen terenkripsi (SINTETIS)")
    pdf.set_font(pdf.qc_fonts[0], "", 11)
    _emit(pdf, wrap(pdf, ID_PARAS[0], 170)[0], 20, 35, 5.6)
    pdf.set_encryption(owner_password="owner-secret", user_password=user_password or "",
                       encryption_method=EncryptionMethod.AES_128)
    pdf.output(str(path))
    return {"paragraphs": [ID_PARAS[0]]}


def broken_pdf(path: Path) -> dict:
    """A file that starts like a PDF and then is garbage."""
    rng = random.Random(14)
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(rng.randrange(256) for _ in range(2000)))
    return {}


def make_fixtures(folder: Path) -> dict:
    """Write every fixture into ``folder`` plus ``truth.json``; returns the truth."""
    folder.mkdir(parents=True, exist_ok=True)
    truth = {
        "indonesian.pdf": indonesian_pdf(folder / "indonesian.pdf"),
        "two_columns.pdf": two_columns_pdf(folder / "two_columns.pdf", rows_first=False),
        "two_columns_rows.pdf": two_columns_pdf(folder / "two_columns_rows.pdf", rows_first=True),
        "table.pdf": table_pdf(folder / "table.pdf"),
        "transcript.pdf": transcript_pdf(folder / "transcript.pdf"),
        "scanned.pdf": scanned_pdf(folder / "scanned.pdf"),
        "encrypted.pdf": encrypted_pdf(folder / "encrypted.pdf", user_password="user-secret"),
        "owner_only.pdf": encrypted_pdf(folder / "owner_only.pdf", user_password=None),
        "broken.pdf": broken_pdf(folder / "broken.pdf"),
    }
    truth["_note"] = SYNTHETIC
    (folder / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    return truth


def make_long_pdf(path: Path, pages: int = 1000, seed: int = 14) -> dict:
    """A long synthetic report: single-column prose pages, every 10th page two columns.

    Returns:
        ``{"pages": n, "words": n}``.
    """
    rng = random.Random(seed)
    pdf = _new_pdf()
    pool = ID_PARAS + EN_PARAS
    cache: dict[tuple[int, float], list[str | None]] = {}

    def lines_for(k: int, width: float) -> list[str | None]:
        if (k, width) not in cache:
            cache[(k, width)] = _paragraph_lines(pdf, [pool[k]], width)[0]
        return cache[(k, width)]

    words = 0
    for n in range(pages):
        pdf.add_page()
        pdf.set_font(pdf.qc_fonts[1], "B", 12)
        pdf.text(20, 20, f"Bab {n // 20 + 1}.{n % 20 + 1} (SINTETIS)")
        pdf.set_font(pdf.qc_fonts[1], "", 7)
        pdf.text(20, 287, f"{SYNTHETIC} - halaman {n + 1}")
        pdf.set_font(pdf.qc_fonts[0], "", 10)
        cols = [(20, 170)] if n % 10 else [(20, 80), (110, 80)]
        for x, width in cols:
            y = 32.0
            while True:
                k = rng.randrange(len(pool))
                lines = lines_for(k, width)
                if y + 5 * len(lines) > 278:
                    break
                y = _emit(pdf, lines, x, y, 5.0) + 3
                words += len(pool[k].split())
    pdf.output(str(path))
    return {"pages": pages, "words": words}


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/pdf")
    make_fixtures(out)
    print(f"wrote fixtures to {out}")
