"""Moving a project to and from files: results/, .qdpx with memos as Notes, CSV, folders, CLI;
and re-training from accepted codings with an honest learning curve."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

import qualcode as qc
from qualcode.cli import main
from qualcode.project import ProjectError, learning_curve, retrain
from qualcode.refi import read_qdpx

DOCS = ["tp01_bappeda_province_planner", "tp02_opd_health_city_planner", "tp03_bappeda_regency_c_kabid",
        "tp07_bappeda_city_functional_planner"]


@pytest.fixture(scope="module")
def study(sample_dir, tmp_path_factory):
    """Four study-1 transcripts with their case rows and gold codings, in a folder of their own."""
    d = tmp_path_factory.mktemp("study") / "transcripts"
    d.mkdir()
    for f in sample_dir.iterdir():
        if f.stem in DOCS:
            shutil.copy(f, d / f.name)
    cases = pd.read_csv(sample_dir / "cases.csv")
    cases[cases["doc_id"].isin(DOCS)].to_csv(d / "cases.csv", index=False)
    gold = pd.read_csv(sample_dir / "gold_codings.csv")
    gold_path = d.parent / "gold.csv"
    gold[gold["doc_id"].isin(DOCS)].to_csv(gold_path, index=False)
    return d, gold_path


@pytest.fixture(scope="module")
def results(study, codebooks_dir, tmp_path_factory):
    """The README's main job (rules only, no reports) on the study folder."""
    folder, _ = study
    out = tmp_path_factory.mktemp("run") / "results"
    assert main(["code", str(folder), "--codebook", str(codebooks_dir / "technocratic_planning.yaml"),
                 "--out", str(out), "--rules-only", "--no-reports", "--no-progress"]) == 0
    return out


def test_import_results_brings_corpus_codebook_and_suggestions(tmp_path, results, codebooks_dir):
    run = json.loads((results / "run.json").read_text())
    csv = pd.read_csv(results / "codings.csv")
    direct = csv[~csv["evidence"].astype(str).str.startswith("via children")]
    with qc.Project.create(tmp_path / "p.qcproj") as p:
        added = p.import_path(results)
        assert added["documents"] == 4
        assert p.codebook.fingerprint == run["codebook_fingerprint"]
        assert p.corpus.fingerprint == run["corpus_fingerprint"]
        f = p.codings().to_frame()
        assert len(f) == len(direct) > 0  # parent roll-ups are not stored
        assert set(f["status"]) == {"proposed"} and set(f["source"]) <= {"rule", "embedding", "classifier"}
        merged = f.merge(direct, on=["doc_id", "start", "end", "code"], suffixes=("", "_csv"))
        assert len(merged) == len(direct)
        assert (merged["text"] == merged["text_csv"]).all()
        assert p.import_path(results)["codings"] == 0  # importing twice adds nothing


def test_import_results_resolves_the_corpus_relative_to_the_run(tmp_path, results, study, monkeypatch):
    moved = tmp_path / "copy"
    shutil.copytree(results, moved / "results")
    info = json.loads((moved / "results" / "run.json").read_text())
    info["paths"] = ["transcripts"]  # as `qualcode code transcripts/ ...` run from `copy/` writes it
    (moved / "results" / "run.json").write_text(json.dumps(info))
    monkeypatch.chdir(tmp_path)
    with qc.Project.create(tmp_path / "a.qcproj") as p:
        with pytest.raises(ProjectError, match="'transcripts' it names is not found \\(looked for "):
            p.import_path(moved / "results")
        shutil.copytree(study[0], moved / "transcripts")
        assert p.import_path(moved / "results")["documents"] == 4


def test_qdpx_round_trip_keeps_codings_and_memos_as_notes(tmp_path, study, codebooks_dir):
    folder, gold = study
    cb = qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    with qc.Project.create(tmp_path / "p.qcproj", codebook=cb) as p:
        p.import_path(folder)
        p.import_path(gold)
        human = p.codings().to_frame()
        first = human.iloc[0]
        machine = p.add_codings(pd.DataFrame({"doc_id": [DOCS[3]] * 2, "start": [0, 100], "end": [50, 160],
                                               "code": ["convergence", "logical_framework"], "coder": "qualcode:rules",
                                               "source": "rule", "score": 0.8}))
        p.review(machine[0], "accept", who="ana")
        p.review(machine[1], "reject", who="ana")
        p.add_memo("Nomenclature talk everywhere.", author="ana", code="convergence", title="On convergence")
        p.add_memo("The informant contradicts tp01.", author="ana", doc_id=DOCS[1])
        p.add_memo("Quote for the paper.", author="budi", coding_id=int(first["coding_id"]))
        p.add_memo("Was this really logframe?", author="ana", coding_id=machine[1])  # a rejected one
        p.add_memo("Study-wide reflections.", author="ana", title="Reflexive memo")
        out = p.export_qdpx(tmp_path / "p.qdpx")

        back = read_qdpx(out)
        assert back.corpus[DOCS[0]].text == p.corpus[DOCS[0]].text
        exported = back.codings.to_frame()
        assert len(exported) == len(human) + 1  # accepted only: the rejected suggestion stays out
        assert set(exported["coder"]) == {"gold", "qualcode:rules"}
        notes = {n.text: n for n in back.notes}
        assert notes["Nomenclature talk everywhere."].attached_to == (cb["convergence"].name,)
        assert notes["Nomenclature talk everywhere."].name == "On convergence"
        assert notes["The informant contradicts tp01."].attached_to == (DOCS[1],)
        label = f"{first['doc_id']}@{first['start']}-{first['end']}/{first['code']}"
        assert notes["Quote for the paper."].attached_to == (label,)
        assert notes["Quote for the paper."].author == "budi"
        assert notes["Was this really logframe?"].attached_to == (DOCS[3],)  # kept on its document
        assert notes["Study-wide reflections."].attached_to == ("project",)

    with qc.Project.create(tmp_path / "q.qcproj") as q:
        added = q.import_path(out)
        assert added["memos"] == 5 and added["documents"] == 4
        m = q.memos().set_index("text")
        assert m.loc["Nomenclature talk everywhere.", "code"] == "convergence"
        assert m.loc["The informant contradicts tp01.", "doc_id"] == DOCS[1]
        coding_memo = m.loc["Quote for the paper."]
        assert (coding_memo["coding_doc_id"], coding_memo["coding_start"], coding_memo["coding_code"]) == (
            first["doc_id"], first["start"], first["code"])
        assert m.loc["Study-wide reflections.", "target"] == "project"
        assert len(q.codings()) == len(human) + 1


def test_codings_csv_export_reads_back_with_read_codings(tmp_path, study, codebooks_dir):
    folder, gold = study
    with qc.Project.create(tmp_path / "p.qcproj", codebook=qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml")) as p:
        p.import_path(folder)
        p.import_path(gold)
        out = p.export_codings(tmp_path / "codings.csv")
        with pytest.raises(Exception, match="already exists"):
            p.export_codings(out)
        back = qc.read_codings(out, p.corpus).to_frame()
        mine = p.codings().to_frame()
        assert back[["doc_id", "start", "end", "code", "coder"]].equals(mine[["doc_id", "start", "end", "code", "coder"]])
        assert set(back["status"]) == {"accepted"}


def test_folder_export_round_trips_exactly(tmp_path, study, codebooks_dir):
    folder, gold = study
    with qc.Project.create(tmp_path / "p.qcproj", codebook=qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml"),
                           coder={"embeddings": False}) as p:
        p.import_path(folder)
        p.import_path(gold)
        cid = int(p.codings().to_frame().loc[3, "coding_id"])
        p.add_memo("a coding memo", author="ana", coding_id=cid)
        p.add_memo("a code memo", author="ana", code="logical_framework")
        out = p.export_folder(tmp_path / "files")
        assert (out / "texts").is_dir() and (out / "decisions.csv").is_file()
        with pytest.raises(ProjectError, match="already exists"):
            p.export_folder(out)
        original = (p.corpus.fingerprint, p.codings().to_frame()[["doc_id", "start", "end", "code", "coder", "status"]])
    with qc.Project.create(tmp_path / "q.qcproj") as q:
        q.import_path(out)
        assert q.corpus.fingerprint == original[0]
        assert q.codings().to_frame()[["doc_id", "start", "end", "code", "coder", "status"]].equals(original[1])
        m = q.memos().set_index("text")
        assert m.loc["a coding memo", "target"] == "coding" and m.loc["a code memo", "code"] == "logical_framework"
        assert q.coder_settings == {}  # settings are the new project's own


def test_cli_create_import_export_show(tmp_path, results, study, capsys):
    proj = tmp_path / "cli.qcproj"
    assert main(["project", "create", str(proj), "--from", str(results), "--rules-only"]) == 0
    assert main(["project", "import", str(proj), str(study[1])]) == 0
    assert main(["project", "export", str(proj), "--qdpx", str(tmp_path / "o.qdpx"), "--csv",
                 str(tmp_path / "o.csv")]) == 0
    assert main(["project", "show", str(proj)]) == 0
    out = capsys.readouterr().out
    assert "gold" in out and "human" in out and "'embeddings': False" in out
    assert (tmp_path / "o.qdpx").is_file() and (tmp_path / "o.csv").is_file()
    # bad input: one line, no traceback
    assert main(["project", "create", str(proj)]) == 2
    assert main(["project", "import", str(tmp_path / "missing.qcproj"), str(study[1])]) == 2
    assert main(["project", "export", str(proj)]) == 2
    assert main(["project", "create", str(tmp_path / "x.qcproj"), "--from", str(tmp_path / "nope")]) == 2
    assert not (tmp_path / "x.qcproj").exists()
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("qualcode: error:")]
    assert len(lines) == 4 and "Traceback" not in err
    assert "refusing to overwrite" in lines[0] and "no such project file" in lines[1]
    assert "--qdpx" in lines[2] and "no such file or folder" in lines[3]


def test_learning_curve_never_trains_on_held_out_documents(study, codebooks_dir):
    folder, gold = study
    corpus = qc.read_corpus(folder)
    human = qc.read_codings(gold, corpus)
    cb = qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    seen: list[set[str]] = []

    class Spy(qc.Coder):
        def fit(self, corpus, human_codings, **kw):
            seen.append(set(human_codings.doc_ids))
            return super().fit(corpus, human_codings, **kw)

    curve = learning_curve(corpus, human, lambda: Spy(cb, embeddings=False, progress=False), holdout=0.25, steps=3)
    held = set(curve["held_out"])
    assert len(held) == 1 and len(seen) == len(curve["points"]) == 3
    assert all(not (s & held) for s in seen)
    assert [p["n_documents"] for p in curve["points"]] == [1, 2, 3]
    assert curve["points"][0]["n_codings"] < curve["points"][-1]["n_codings"]
    assert curve["n_held_out_codings"] == len(human.filter(doc_id=list(held)))
    for p in curve["points"]:
        assert -1 <= p["kappa"] <= 1 and 0 <= p["f1"] <= 1


def test_retrain_with_the_real_model_replaces_open_suggestions_and_keeps_decisions(tmp_path, study, codebooks_dir):
    folder, gold = study
    cb = qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    with qc.Project.create(tmp_path / "p.qcproj", codebook=cb, corpus=qc.read_corpus(folder)) as p:
        first = retrain(p, who="ana", cache_dir=qc.default_cache_dir())  # codebook only: zero-shot
        assert not first["fitted"] and first["added"] > 0
        assert first["curve"]["points"] == []
        queue = p.codings(status="proposed").to_frame()
        a, r = int(queue.loc[0, "coding_id"]), int(queue.loc[1, "coding_id"])
        p.review(a, "accept", who="ana")
        p.review(r, "reject", who="ana")
        p.import_path(gold)
        second = retrain(p, who="ana", cache_dir=qc.default_cache_dir())
        assert second["fitted"] and second["n_training_codings"] == len(p.codings(coder="gold")) + 1
        assert len(second["curve"]["points"]) >= 2
        assert second["removed"] == first["added"] - 2
        f = p.codings().to_frame().set_index("coding_id")
        assert f.loc[a, "status"] == "accepted" and f.loc[r, "status"] == "rejected"  # decisions survive
        new = f[f["status"] == "proposed"]
        assert len(new) == second["added"] and new["coder"].str.endswith("+fit").all()
        # nothing re-proposed on a passage whose code a decision or a human already settled
        settled = f[f["status"] != "proposed"]
        for row in new.itertuples():
            same = settled[(settled["doc_id"] == row.doc_id) & (settled["code"] == row.code)]
            assert not ((same["start"] < row.end) & (same["end"] > row.start)).any()
        order = p.codings(status="proposed").to_frame().sort_values("priority", ascending=False)
        assert order["priority"].between(-1e-9, 1 + 1e-9).all()
        runs = p.runs()
        assert [r["summary"]["fitted"] for r in runs] == [False, True]
        assert runs[-1]["settings"]["codebook_fingerprint"] == cb.fingerprint
