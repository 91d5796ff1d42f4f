"""Build the SYNTHETIC planning documents of study 1 from the programme lists in programs/.

Usage (from the repository root; needs the dev extra for fpdf2)::

    python transcripts_sample/_build_programs.py

Reads ``programs/province_programs.csv``, ``city_programs.csv``, ``province_b_programs.csv``
and ``city_b_programs.csv`` (columns ``code,program_name``; they stay the source of truth)
and writes, next to them:

* ``province_programs.pdf`` and ``city_programs.pdf`` (pair A): a few pages of a made-up
  RPJMD chapter with the programme table (``No | Kode | Program | Pagu Indikatif (Rp)``),
  split over several pages with the header repeated, and a running SYNTHETIC footer;
* ``province_b_programs.docx`` (pair B, province): the programmes as a Word table
  (``Kode | Nama Program | Pagu (Rp)``);
* ``city_b_programs.docx`` (pair B, city): the programmes as a list of paragraphs
  ``1.01.01 Program Penunjang ...`` in title case (another way of writing the same names).

Budgets are invented (a seeded random number per programme).  Every file says that it is
SYNTHETIC.  ``qualcode.documents.compare_items`` on the pairs gives the paper's Figure 2:
83 province programmes, 78 the same as the city's; 37 and 36.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent / "programs"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
WHEN = dt.datetime(2020, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
NOTE = ("SYNTHETIC document made for qualcode (transcripts_sample/_build_programs.py). Not a real "
        "RPJMD: the region, the budgets and the selection of programmes are invented.")


def _read(name: str) -> list[tuple[str, str]]:
    with open(HERE / name, encoding="utf-8", newline="") as fh:
        return [(r["code"], r["program_name"]) for r in csv.DictReader(fh)]


def _budget(rng: random.Random) -> str:
    value = rng.randrange(150, 95000) * 1_000_000 + rng.choice([0, 250_000, 500_000, 750_000])
    return f"{value:,}".replace(",", ".")


def _title(name: str) -> str:
    small = {"dan", "di", "ke", "dari", "yang", "untuk", "serta", "atau"}
    out = []
    for k, w in enumerate(name.lower().split()):
        if "/" in w:
            out.append("/".join(x.capitalize() for x in w.split("/")))
        else:
            out.append(w if (k and w in small) else w.capitalize())
    return " ".join(out)


def build_pdf(rows: list[tuple[str, str]], path: Path, *, region: str, seed: int) -> None:
    from fpdf import FPDF

    class Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(self.qc_sans, "", 7)
            self.cell(0, 5, f"RPJMD {region} 2019-2023 (SINTETIS / SYNTHETIC) - halaman {self.page_no()}",
                      align="C")

    pdf = Doc(unit="mm", format="A4")
    pdf.set_creation_date(WHEN)
    pdf.set_title(f"RPJMD {region} 2019-2023 (SYNTHETIC)")
    pdf.set_creator("qualcode transcripts_sample/_build_programs.py")
    if (FONT_DIR / "DejaVuSans.ttf").is_file():
        for style, f in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf")):
            pdf.add_font("Sans", style, str(FONT_DIR / f))
        pdf.qc_sans = "Sans"
    else:
        pdf.qc_sans = "Helvetica"
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font(pdf.qc_sans, "B", 14)
    pdf.multi_cell(0, 7, f"RENCANA PEMBANGUNAN JANGKA MENENGAH DAERAH {region.upper()} 2019-2023")
    pdf.ln(2)
    pdf.set_font(pdf.qc_sans, "", 9)
    pdf.multi_cell(0, 4.5, NOTE)
    pdf.ln(3)
    pdf.set_font(pdf.qc_sans, "B", 12)
    pdf.multi_cell(0, 6, "BAB V PROGRAM PEMBANGUNAN DAERAH")
    pdf.ln(1)
    pdf.set_font(pdf.qc_sans, "", 10)
    pdf.multi_cell(0, 5, (
        "Program perangkat daerah disusun mengikuti klasifikasi, kodefikasi dan nomenklatur "
        "perencanaan pembangunan dan keuangan daerah (Permendagri 90/2019). Tabel berikut "
        f"memuat {len(rows)} program beserta pagu indikatif (angka SINTETIS)."))
    pdf.ln(3)
    pdf.set_font(pdf.qc_sans, "B", 10)
    pdf.multi_cell(0, 5, f"Tabel 5.1 Program Perangkat Daerah {region}")
    pdf.ln(1)
    pdf.set_font(pdf.qc_sans, "", 8)
    rng = random.Random(seed)
    with pdf.table(col_widths=(9, 18, 115, 38), text_align=("CENTER", "LEFT", "LEFT", "RIGHT"),
                   line_height=4.2) as table:
        table.row(["No", "Kode", "Program", "Pagu Indikatif (Rp)"])
        for i, (code, name) in enumerate(rows, 1):
            table.row([str(i), code, name, _budget(rng)])
    pdf.output(str(path))


def _docx_base(title: str):
    import docx

    d = docx.Document()
    d.core_properties.created = WHEN.replace(tzinfo=None)
    d.core_properties.modified = WHEN.replace(tzinfo=None)
    d.core_properties.author = "qualcode (SYNTHETIC)"
    d.core_properties.title = title
    d.add_heading(title, level=1)
    d.add_paragraph(NOTE)
    return d


def build_docx_table(rows: list[tuple[str, str]], path: Path, *, region: str, seed: int) -> None:
    d = _docx_base(f"Rencana Kerja Pemerintah Daerah {region} (SINTETIS)")
    d.add_heading("Tabel 3.2 Program Prioritas Daerah", level=2)
    t = d.add_table(rows=1, cols=3)
    t.style = "Table Grid"
    for cell, text in zip(t.rows[0].cells, ("Kode", "Nama Program", "Pagu (Rp)"), strict=True):
        cell.text = text
    rng = random.Random(seed)
    for code, name in rows:
        cells = t.add_row().cells
        cells[0].text = code
        cells[1].text = name
        cells[2].text = _budget(rng)
    d.save(str(path))


def build_docx_list(rows: list[tuple[str, str]], path: Path, *, region: str) -> None:
    d = _docx_base(f"Rencana Kerja Pemerintah Daerah {region} (SINTETIS)")
    d.add_heading("Daftar Program Perangkat Daerah", level=2)
    d.add_paragraph("Program yang dilaksanakan pada tahun rencana (nomenklatur Permendagri 90/2019):")
    for code, name in rows:
        d.add_paragraph(f"{code} {_title(name)}")
    d.save(str(path))


def main() -> None:
    prov, city = _read("province_programs.csv"), _read("city_programs.csv")
    prov_b, city_b = _read("province_b_programs.csv"), _read("city_b_programs.csv")
    build_pdf(prov, HERE / "province_programs.pdf", region="Provinsi A", seed=1)
    build_pdf(city, HERE / "city_programs.pdf", region="Kota B", seed=2)
    build_docx_table(prov_b, HERE / "province_b_programs.docx", region="Provinsi A", seed=3)
    build_docx_list(city_b, HERE / "city_b_programs.docx", region="Kota E")
    print(f"wrote 2 PDFs and 2 docx files to {HERE}")


if __name__ == "__main__":
    main()
