"""Programme items out of planning documents and the nomenclature comparison (study 1, Figure 2)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from qualcode.documents import (
    ITEM_COLUMNS,
    ItemComparison,
    ItemsError,
    compare_items,
    extract_items,
    name_language,
    normalise_name,
    parse_budget,
)
from qualcode.errors import IngestError

DATA = Path(__file__).parent / "data" / "pdf"


@pytest.fixture(scope="module")
def programs(sample_dir) -> Path:
    return sample_dir / "programs"


def _csv(programs: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(programs / name, dtype=str)


@pytest.mark.parametrize(
    ("doc", "csv", "n_pages"),
    [
        ("province_programs.pdf", "province_programs.csv", 2),
        ("city_programs.pdf", "city_programs.csv", 2),
        ("province_b_programs.docx", "province_b_programs.csv", None),
        ("city_b_programs.docx", "city_b_programs.csv", None),
    ],
)
def test_extract_items_from_the_sample_planning_documents(programs, doc, csv, n_pages):
    items = extract_items(programs / doc)
    truth = _csv(programs, csv)
    assert list(items.columns) == list(ITEM_COLUMNS)
    assert items["item_code"].tolist() == truth["code"].tolist()
    assert [normalise_name(n) for n in items["item_name"]] == [normalise_name(n) for n in truth["program_name"]]
    assert (items["doc_id"] == Path(doc).stem).all()
    if doc.endswith(".pdf"):
        assert items["item_name"].tolist() == truth["program_name"].tolist()  # verbatim
        assert set(items["page"]) == set(range(1, n_pages + 1))
        assert items["page"].is_monotonic_increasing
        assert (items["budget"] > 1e8).all() and (items["source"] == "table").all()
        assert items["section"].str.startswith("Tabel 5.1 Program Perangkat Daerah").all()
    else:
        assert items["page"].isna().all()
    if doc == "city_b_programs.docx":  # a list of paragraphs in title case, no budgets
        assert (items["source"] == "list").all() and items["budget"].isna().all()
        assert items["item_name"].iloc[0] == "Program Penunjang Urusan Pemerintahan Daerah Kabupaten/Kota"
        assert items["section"].eq("Daftar Program Perangkat Daerah").all()


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("province_programs.pdf", "city_programs.pdf", (83, 87, 78, 1, 4, 8)),
        ("province_programs.csv", "city_programs.csv", (83, 87, 78, 1, 4, 8)),
        ("province_b_programs.docx", "city_b_programs.docx", (37, 39, 36, 1, 0, 2)),
        ("province_b_programs.csv", "city_b_programs.csv", (37, 39, 36, 1, 0, 2)),
    ],
)
def test_comparison_reproduces_the_study_figure(programs, a, b, expected):
    cmp = compare_items(programs / a, programs / b, labels=("province", "city"))
    table = cmp.overlap()
    cols = ["items in province", "items in city", "same name", "similar", "only in province", "only in city"]
    assert tuple(int(x) for x in table[cols].iloc[0]) == expected
    # the one "similar" pair is the trap of the README: same code, PROVINSI vs KABUPATEN/KOTA
    sim = cmp.matches[~cmp.matches["method"].isin(["code+name", "name"])]
    assert sim[["a_code", "b_code", "method"]].values.tolist() == [["1.01.01", "1.01.01", "code"]]
    assert 0.5 < sim["score"].iloc[0] < 1
    assert len(cmp.only_a) == expected[4] and len(cmp.only_b) == expected[5]
    assert not set(cmp.only_a["item_code"]) & set(cmp.matches["a_code"])


def test_the_sample_pairs_match_the_csv_rule_code_and_name_identical(programs):
    for a, b in (("province_programs", "city_programs"), ("province_b_programs", "city_b_programs")):
        pa, pb = _csv(programs, a + ".csv"), _csv(programs, b + ".csv")
        shared = pa.merge(pb, on=["code", "program_name"])
        cmp = compare_items(pa, pb)
        exact = cmp.matches[cmp.matches["method"] == "code+name"]
        assert sorted(exact["a_code"]) == sorted(shared["code"])


def test_normalise_name_abbreviations_case_punctuation_and_leading_program():
    assert normalise_name("Prog. Pening. Kapasitas SDM Kes.") == normalise_name(
        "PROGRAM PENINGKATAN KAPASITAS SUMBER DAYA MANUSIA KESEHATAN"
    )
    assert normalise_name("Penyelenggaraan Jalan") == normalise_name("PROGRAM PENYELENGGARAAN JALAN")
    assert normalise_name("Pengelolaan Sumber Daya Air (SDA)") == "pengelolaan sumber daya air"
    assert normalise_name("Sediaan Farmasi, Alat Kesehatan & Makanan-Minuman") == (
        "sediaan farmasi alat kesehatan dan makanan minuman"
    )
    assert normalise_name("Pogram Pengembangan Ekspor") == "pengembangan ekspor"
    assert normalise_name("Road Management Programme") == "road management"
    assert normalise_name("Pemerintahan Daerah Kabupaten/Kota") == "pemerintahan daerah kabupaten kota"


def test_stages_methods_scores_and_unmatched_items():
    a = pd.DataFrame({
        "item_code": ["1.02.03", "1.03.10", "2.07.02", "3.28.03", "1.01.02"],
        "item_name": ["PROGRAM PENINGKATAN KAPASITAS SUMBER DAYA MANUSIA KESEHATAN",
                      "PROGRAM PENYELENGGARAAN JALAN", "PROGRAM PENGEMBANGAN KAPASITAS DAYA SAING KEPARIWISATAAN",
                      "PROGRAM PENGELOLAAN HUTAN", "PROGRAM PENGELOLAAN PENDIDIKAN"],
    })
    b = pd.DataFrame({
        "item_code": ["1.02.03", None, None, "9.99.99", None],
        "item_name": ["Prog. Pening. Kapasitas SDM Kes.", "Penyelenggaraan jalan",
                      "Mengembangkan Kapasitas Daya Saing Kepariwisataan",
                      "Program Pendaftaran Penduduk", "Program Pengelolan Pendidkan"],
    })
    cmp = compare_items(a, b)
    got = {(r.a_code, r.method) for r in cmp.matches.itertuples()}
    assert got == {("1.02.03", "code+name"), ("1.03.10", "name"), ("2.07.02", "stem"), ("1.01.02", "fuzzy")}
    fuzzy = cmp.matches.set_index("method").loc["fuzzy"]
    assert 0.85 <= fuzzy["score"] < 1
    assert (cmp.matches.loc[cmp.matches["method"] != "fuzzy", "score"] == 1).all()
    assert cmp.only_a["item_name"].tolist() == ["PROGRAM PENGELOLAAN HUTAN"]
    assert cmp.only_b["item_name"].tolist() == ["Program Pendaftaran Penduduk"]
    assert cmp.by_method().to_dict() == {"code+name": 1, "name": 1, "stem": 1, "code": 0, "fuzzy": 1, "embedding": 0}
    assert compare_items(a, b, fuzzy_threshold=100).by_method()["fuzzy"] == 0
    # without codes, 1.02.03 is still found by its normalised name
    assert compare_items(a, b, use_codes=False).by_method()[["code+name", "name"]].tolist() == [0, 2]


def test_matching_is_one_to_one():
    cmp = compare_items(["Program Pengelolaan Pendidikan", "Program Pengelolaan Pendidikan"],
                        ["PROGRAM PENGELOLAAN PENDIDIKAN"])
    assert len(cmp.matches) == 1 and len(cmp.only_a) == 1
    assert cmp.matches["a_row"].is_unique and cmp.matches["b_row"].is_unique


def test_name_language():
    assert name_language("PROGRAM PENGELOLAAN PERSAMPAHAN") == "id"
    assert name_language("Social Empowerment Programme") == "en"
    assert name_language("Program Penelitian dan Pengembangan Daerah") == "id"


def test_embedding_matches_across_languages_only(default_embedder):
    a = ["PROGRAM PENYELENGGARAAN JALAN", "PROGRAM PENGELOLAAN HUTAN", "PROGRAM PEMASARAN PARIWISATA",
         "PROGRAM PENYULUHAN PERTANIAN"]
    b = ["Road Management Programme", "Forest Management Programme", "Tourism Marketing Programme",
         "PROGRAM PENGELOLAAN PERIKANAN TANGKAP"]
    plain = compare_items(a, b)
    assert len(plain.matches) == 0
    cmp = compare_items(a, b, embed=True, embedder=default_embedder)
    pairs = {(r.a_name, r.b_name) for r in cmp.matches.itertuples()}
    assert pairs == {(a[0], b[0]), (a[1], b[1]), (a[2], b[2])}
    assert (cmp.matches["method"] == "embedding").all()
    assert (cmp.matches["score"] >= 0.86).all()
    # the Indonesian leftovers (extension vs capture fisheries) stay apart
    assert cmp.only_a["item_name"].tolist() == [a[3]] and cmp.only_b["item_name"].tolist() == [b[3]]


def test_overlap_table_labels_and_plot(programs):
    cmp = compare_items(programs / "province_b_programs.csv", programs / "city_b_programs.csv",
                        labels=("Provinsi A", "Kota E"))
    assert isinstance(cmp, ItemComparison)
    table = cmp.overlap()
    assert list(table.columns) == ["items in Provinsi A", "items in Kota E", "same name", "similar",
                                   "only in Provinsi A", "only in Kota E", "share of Provinsi A in Kota E"]
    assert table.index.tolist() == ["Provinsi A vs Kota E"]
    assert math.isclose(table["share of Provinsi A in Kota E"].iloc[0], 37 / 37)
    fig = cmp.plot()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    widths = sorted(round(p.get_width()) for p in ax.patches)
    assert widths == sorted([36, 36, 1, 1, 0, 2])
    assert "Provinsi A (37)" in [t.get_text() for t in ax.get_yticklabels()]
    assert fig._repr_png_().startswith(b"\x89PNG")  # a notebook shows it, as it shows qualcode.plotting's figures
    assert "same name 36" in repr(cmp)


def test_compare_items_input_validation(tmp_path, programs):
    with pytest.raises(ItemsError, match="needs an 'item_name' column"):
        compare_items(pd.DataFrame({"x": [1]}), ["a"])
    with pytest.raises(ItemsError, match="B: item_name is empty in row 1"):
        compare_items(["Program A"], pd.DataFrame({"item_name": ["Program B", " "]}))
    with pytest.raises(ItemsError, match="fuzzy_threshold must be between 0 and 100"):
        compare_items(["a"], ["b"], fuzzy_threshold=150)
    with pytest.raises(ItemsError, match="embed_threshold must be between -1 and 1"):
        compare_items(["a"], ["b"], embed_threshold=2)
    with pytest.raises(ItemsError, match="A must be an items table"):
        compare_items(42, ["b"])
    with pytest.raises(ItemsError, match="labels must be two non-empty strings"):
        compare_items(["a"], ["b"], labels=("only one",))
    with pytest.raises(ItemsError, match="missing.pdf: no such file"):
        compare_items(tmp_path / "missing.pdf", ["b"])
    (tmp_path / "x.vtt").write_text("WEBVTT\n", encoding="utf-8")
    with pytest.raises(ItemsError, match="cannot extract items from '.vtt'"):
        extract_items(tmp_path / "x.vtt")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ItemsError, match="bad.csv: no item table found"):
        extract_items(bad)
    with pytest.raises(ItemsError, match="at least one file"):
        extract_items([])


def test_extract_items_errors_name_the_file(tmp_path):
    p = tmp_path / "broken.pdf"
    shutil.copy(DATA / "broken.pdf", p)
    with pytest.raises(IngestError, match="broken.pdf: not a valid PDF") as exc:
        extract_items(p)
    assert "\n" not in str(exc.value)
    with pytest.raises(IngestError, match="encrypted.pdf: the PDF is encrypted"):
        extract_items(DATA / "encrypted.pdf")


def test_extract_items_from_a_pdf_table_and_a_prose_pdf():
    items = extract_items(DATA / "table.pdf")
    assert items["item_code"].tolist() == ["1.02.02", "1.02.03", "1.02.04", "1.03.10", "1.03.11", "2.07.02"]
    assert items["item_name"].iloc[0] == "PROGRAM PEMENUHAN UPAYA KESEHATAN PERORANGAN DAN UPAYA KESEHATAN MASYARAKAT"
    assert items["budget"].tolist()[:2] == [12_450_000_000.0, 1_275_500_000.0]
    assert items["section"].iloc[0] == "Tabel 2.1 Program Perangkat Daerah (SINTETIS)"
    prose = extract_items(DATA / "indonesian.pdf")
    assert list(prose.columns) == list(ITEM_COLUMNS) and len(prose) == 0


def test_extract_items_from_text_lists(tmp_path):
    p = tmp_path / "rkpd.md"
    p.write_text(
        "# Bab V Program\n"
        "1.03.10 Program Penyelenggaraan Jalan Rp 48.900.000.000\n"
        "1.03.11. Program Pengembangan Permukiman\n"
        "Teks biasa tentang 2020 yang bukan program.\n"
        "## Kegiatan prioritas\n"
        "1. Rehabilitasi jalan desa\n"
        "2) Pembangunan posyandu\n",
        encoding="utf-8",
    )
    items = extract_items(p, doc_id="rkpd")
    assert items[["item_name", "section", "source"]].values.tolist() == [
        ["Program Penyelenggaraan Jalan", "Bab V Program", "list"],
        ["Program Pengembangan Permukiman", "Bab V Program", "list"],
        ["Rehabilitasi jalan desa", "Kegiatan prioritas", "list"],
        ["Pembangunan posyandu", "Kegiatan prioritas", "list"],
    ]
    assert items["item_code"].tolist()[:2] == ["1.03.10", "1.03.11"]
    assert items["item_code"].iloc[2:].isna().all()  # a plain numbered list has no codes
    assert items["budget"].iloc[0] == 48_900_000_000.0 and math.isnan(items["budget"].iloc[1])


@pytest.mark.parametrize(
    ("text", "value"),
    [("12.450.000.000", 12450000000.0), ("Rp 1.275.500.000,50", 1275500000.5), ("1,275,500.50", 1275500.5),
     ("860000000", 860000000.0), ("2,5", 2.5), ("-", math.nan), ("", math.nan), ("Rp.", math.nan)],
)
def test_parse_budget(text, value):
    got = parse_budget(text)
    assert (math.isnan(got) and math.isnan(value)) or got == value


def test_sample_corpus_leaves_the_planning_documents_out(sample_dir):
    import qualcode as qc

    corpus = qc.read_corpus(sample_dir)
    ids = {d.doc_id for d in corpus}
    assert not ids & {"province_programs", "city_programs", "province_b_programs", "city_b_programs"}
    assert all(d.source.format != "pdf" for d in corpus)
    # read on their own they are documents of kind "other" with pages, footers dropped
    doc = qc.read_document(sample_dir / "programs" / "province_programs.pdf")
    assert doc.kind == "other" and len(doc.attributes["pages"]) == 2
    assert "SYNTHETIC" in doc.text and "halaman 1" not in doc.text
    assert qc.documents.compare_items is compare_items
