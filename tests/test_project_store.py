"""The project store: a real SQLite file in tmp_path, its transactions, review and memos."""

from __future__ import annotations

import sqlite3
import threading

import pandas as pd
import pytest

import qualcode as qc
from qualcode.project import SCHEMA_VERSION, ProjectError
from qualcode.project._schema import APPLICATION_ID, migrate
from qualcode.testing import tiny_corpus


@pytest.fixture()
def codebook():
    return qc.Codebook(
        [
            {"id": "planning", "definition": "How programs are planned.", "color": "#336699"},
            {"id": "data_use", "definition": "Data used in decisions."},
            {"id": "politics", "definition": "Political influence."},
        ],
        name="demo",
    )


@pytest.fixture()
def project(tmp_path, codebook):
    p = qc.Project.create(tmp_path / "demo.qcproj", corpus=tiny_corpus(), codebook=codebook)
    yield p
    p.close()


def _span(corpus, doc_id, phrase):
    text = corpus[doc_id].text
    i = text.index(phrase)
    return i, i + len(phrase)


def test_create_stores_a_real_sqlite_file_in_wal_mode_with_foreign_keys(project):
    raw = sqlite3.connect(project.path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        raw.close()
    assert {"documents", "turns", "cases", "codebooks", "codings", "memos", "decisions", "runs", "changes"} <= tables
    conn = project._connect()
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_reopened_project_gives_back_the_same_corpus_codebook_and_cases(tmp_path, codebook, sample_dir):
    corpus = qc.read_corpus(sample_dir).subset(["tp01_bappeda_province_planner", "tp_fgd1_planning_forum",
                                                 "tp05_dprd_city_member"])
    path = tmp_path / "s.qcproj"
    qc.Project.create(path, corpus=corpus, codebook=codebook).close()
    with qc.Project.open(path) as p:
        back = p.corpus
        assert back.fingerprint == corpus.fingerprint  # texts, turns (with speaker cases) and case table
        assert back["tp05_dprd_city_member"].source.format == corpus["tp05_dprd_city_member"].source.format
        assert p.codebook.fingerprint == codebook.fingerprint
        assert p.codebook.to_frame()["definition"].tolist() == codebook.to_frame()["definition"].tolist()
        assert back.cases.loc["tp01_bappeda_province_planner", "gov_level"] == "province"
        assert back.cases.loc["tp01_bappeda_province_planner", "years_service"] == 17


def test_human_coding_is_accepted_with_its_text_and_case(project):
    s, e = _span(project.corpus, "int_a", "We copy last year's list")
    cid = project.add_coding("int_a", s, e, "planning", coder="ana")
    f = project.codings(coder="ana").to_frame()
    assert f.loc[0, "coding_id"] == cid
    assert f.loc[0, "text"] == "We copy last year's list"
    assert (f.loc[0, "status"], f.loc[0, "source"], f.loc[0, "score"]) == ("accepted", "human", 1.0)
    assert f.loc[0, "segment_id"] == f"int_a@{s}-{e}"
    assert f.loc[0, "codebook_fingerprint"] == project.codebook.fingerprint


@pytest.mark.parametrize(
    ("doc_id", "start", "end", "code", "message"),
    [
        ("nope", 0, 5, "planning", "no document 'nope'"),
        ("int_a", 0, 5, "unknown_code", "unknown code 'unknown_code'"),
        ("int_a", 10, 10, "planning", "empty or outside"),
        ("int_a", 10, 100_000, "planning", "empty or outside"),
        ("int_a", -1, 5, "planning", "empty or outside"),
    ],
)
def test_bad_codings_are_refused_with_the_reason(project, doc_id, start, end, code, message):
    with pytest.raises(ProjectError, match=message):
        project.add_coding(doc_id, start, end, code, coder="ana")
    assert len(project.codings()) == 0


def test_add_codings_is_one_transaction_every_problem_listed(project):
    frame = pd.DataFrame({"doc_id": ["int_a", "int_a", "int_b"], "start": [0, 5, 0], "end": [4, 10**6, 3],
                          "code": ["planning", "planning", "data_use"], "coder": "ana"})
    with pytest.raises(ProjectError, match=r"1 coding\(s\) cannot be added: row 1"):
        project.add_codings(frame)
    assert len(project.codings()) == 0  # nothing half-written
    ids = project.add_codings(frame.drop(index=1))
    assert len(ids) == 2
    assert project.add_codings(frame.drop(index=1)) == []  # the same rows again: deduplicated


def test_review_actions_record_who_and_when(project):
    machine = pd.DataFrame({"doc_id": ["int_a"] * 3, "start": [0, 20, 40], "end": [10, 30, 50],
                            "code": ["planning", "data_use", "politics"], "coder": "qualcode:rules",
                            "source": ["rule", "embedding", "classifier"], "score": [0.9, 0.52, 0.7],
                            "threshold": [0.5, 0.5, 0.6]})
    a, b, c = project.add_codings(machine)
    f = project.codings(status="proposed").to_frame().set_index("coding_id")
    assert f.loc[b, "priority"] > f.loc[a, "priority"]  # 0.52 sits nearer its threshold than 0.9
    project.review(a, "accept", who="ana")
    project.review(b, "reject", who="budi")
    out = project.review(c, "recode", who="ana", new_code="data_use")
    statuses = project.codings().to_frame().set_index("coding_id")["status"]
    assert statuses[a] == "accepted" and statuses[b] == "rejected" and statuses[c] == "rejected"
    new = project.coding(out["new_coding_id"])
    assert (new["code"], new["coder"], new["source"], new["status"]) == ("data_use", "ana", "human", "accepted")
    assert (new["start"], new["end"]) == (40, 50)
    d = project.decisions()
    assert d["action"].tolist() == ["accept", "reject", "recode"]
    assert d["who"].tolist() == ["ana", "budi", "ana"]
    assert d["at"].str.match(r"\d{4}-\d\d-\d\dT").all()
    assert d.loc[2, "new_coding_id"] == out["new_coding_id"]
    project.review(b, "reopen", who="budi")
    assert project.coding(b)["status"] == "proposed"
    with pytest.raises(ProjectError, match="human coding"):
        project.review(out["new_coding_id"], "reject", who="ana")
    with pytest.raises(ProjectError, match="recode needs new_code"):
        project.review(b, "recode", who="ana")


def test_training_codings_turn_accepted_suggestions_into_the_reviewers_human_codings(project):
    (m,) = project.add_codings(pd.DataFrame({"doc_id": ["int_b"], "start": [0], "end": [20], "code": ["politics"],
                                             "coder": "qualcode:rules", "source": ["rule"], "score": [0.8]}))
    project.add_coding("int_a", 0, 10, "planning", coder="ana")
    assert len(project.training_codings()) == 1
    project.review(m, "accept", who="budi")
    t = project.training_codings().to_frame().set_index("doc_id")
    assert t.loc["int_b", "coder"] == "budi" and t.loc["int_b", "source"] == "human"
    assert set(t["source"]) == {"human"}


def test_move_and_delete_keep_their_decisions(project):
    cid = project.add_coding("int_a", 0, 10, "planning", coder="ana")
    project.move_coding(cid, 2, 12, who="ana")
    assert (project.coding(cid)["start"], project.coding(cid)["end"]) == (2, 12)
    with pytest.raises(ProjectError, match="empty or outside"):
        project.move_coding(cid, 12, 2, who="ana")
    project.add_memo("about this coding", author="ana", coding_id=cid)
    project.delete_coding(cid, who="ana")
    assert len(project.codings()) == 0
    assert len(project.memos()) == 0  # the memo went with its coding (ON DELETE CASCADE)
    d = project.decisions()
    assert d["action"].tolist() == ["move", "delete"]
    assert (d.loc[1, "old_start"], d.loc[1, "old_end"], d.loc[1, "old_code"]) == (2, 12, "planning")


def test_memos_on_project_code_document_and_coding(project):
    cid = project.add_coding("int_a", 0, 10, "planning", coder="ana")
    project.add_memo("Overall impression", author="ana", title="Field notes")
    project.add_memo("Planning is ritual here.", author="ana", code="planning")
    project.add_memo("A rich interview.", author="budi", doc_id="int_b")
    mid = project.add_memo("Check the tone.", author="ana", coding_id=cid)
    m = project.memos().set_index("memo_id")
    assert sorted(m["target"]) == ["code", "coding", "document", "project"]
    assert m.loc[mid, "coding_doc_id"] == "int_a" and m.loc[mid, "coding_code"] == "planning"
    project.update_memo(mid, "Check the tone again.", title="tone")
    assert project.memos(coding_id=cid).loc[0, "text"] == "Check the tone again."
    project.delete_memo(mid)
    assert len(project.memos()) == 3
    with pytest.raises(ProjectError, match="one object"):
        project.add_memo("x", author="ana", code="planning", doc_id="int_a")
    with pytest.raises(ProjectError, match="no document"):
        project.add_memo("x", author="ana", doc_id="missing")
    with pytest.raises(ProjectError, match="needs some text"):
        project.add_memo("   ", author="ana")
    with pytest.raises(ProjectError, match="no memo 999"):
        project.update_memo(999, "x")


def test_two_connections_in_two_threads_see_each_others_writes(project):
    other = qc.Project.open(project.path)
    before = project.last_change()
    errors: list[Exception] = []

    def code(p, doc, n):
        try:
            for i in range(n):
                p.add_coding(doc, i, i + 3, "planning", coder=f"coder-{doc}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=code, args=(project, "int_a", 20)),
               threading.Thread(target=code, args=(other, "int_b", 20))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(other.codings()) == len(project.codings()) == 40
    assert project.last_change() - before == 40
    assert set(project.changes_since(before)["doc_id"]) == {"int_a", "int_b"}
    other.close()


def test_refuses_files_that_are_not_projects(tmp_path):
    text = tmp_path / "notes.qcproj"
    text.write_text("hello")
    with pytest.raises(ProjectError, match="not an SQLite database"):
        qc.Project.open(text)
    other = tmp_path / "other.db"
    c = sqlite3.connect(other)
    c.execute("CREATE TABLE t(x)")
    c.commit()
    c.close()
    with pytest.raises(ProjectError, match="not a qualcode project"):
        qc.Project.open(other)
    with pytest.raises(ProjectError, match="no such project file"):
        qc.Project.open(tmp_path / "missing.qcproj")
    with pytest.raises(ProjectError, match="refusing to overwrite"):
        qc.Project.create(text)
    with pytest.raises(ProjectError, match="not an SQLite database"):
        qc.Project.create(text, overwrite=True)  # never overwrites a file that is not a project


def test_a_newer_schema_is_refused(project):
    path = project.path
    project.close()
    c = sqlite3.connect(path)
    c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    c.close()
    with pytest.raises(ProjectError, match="newer qualcode"):
        qc.Project.open(path)


def test_unknown_coder_settings_are_refused(tmp_path):
    with pytest.raises(ProjectError, match="unknown coder setting"):
        qc.Project.create(tmp_path / "x.qcproj", coder={"embedings": False})


def test_a_version_1_database_is_migrated_with_a_backup(tmp_path):
    path = tmp_path / "old.qcproj"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=1)
    now = "2026-01-01T00:00:00+00:00"
    conn.execute("INSERT INTO meta(key, value) VALUES ('name', 'old'), ('documents_version', '1'), ('coder', '{}')")
    conn.execute("INSERT INTO cases(case_id, attributes) VALUES ('c1', '{\"region\": \"north\"}')")
    conn.execute("INSERT INTO documents(doc_id, case_id, position, kind, language, text, added_at) "
                 "VALUES ('d1', 'c1', 0, 'interview', 'en', 'We plan with data. Then we vote.', ?)", (now,))
    conn.execute("INSERT INTO turns(document, idx, speaker, role, start, \"end\") VALUES (1, 0, 'R', 'respondent', 0, 32)")
    conn.execute("INSERT INTO codings(document, case_id, start, \"end\", code, coder, source, status, score, created_at) "
                 "VALUES (1, 'c1', 0, 18, 'data_use', 'qualcode:rules', 'rule', 'proposed', 0.8, ?)", (now,))
    conn.execute("INSERT INTO codings(document, case_id, start, \"end\", code, coder, source, status, score, created_at) "
                 "VALUES (1, 'c1', 19, 32, 'politics', 'ana', 'human', 'accepted', 1.0, ?)", (now,))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()

    with qc.Project.open(path) as p:
        raw = p._connect()
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        f = p.codings().to_frame().set_index("code")
        assert f.loc["data_use", "text"] == "We plan with data."
        assert f.loc["data_use", "threshold"] == 0.5
        assert f.loc["data_use", "priority"] == pytest.approx(1 - 0.3 / 0.5)
        assert p.corpus["d1"].turns[0].role == "respondent"
        assert p.corpus.cases.loc["c1", "region"] == "north"
        p.record_run("retrain", "qualcode", {}, {"note": "after migration"})  # v2 tables work
        assert p.runs()[0]["summary"]["note"] == "after migration"
    backup = tmp_path / "old.qcproj.bak-v1"
    assert backup.is_file()
    b = sqlite3.connect(backup)
    assert b.execute("PRAGMA user_version").fetchone()[0] == 1
    b.close()


def test_the_docstring_example_runs():
    import doctest

    from qualcode.project import _store

    result = doctest.testmod(_store, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_replace_suggestions_never_reproposes_what_a_person_settled(project):
    project.add_coding("int_a", 10, 40, "planning", coder="ana")
    (rej,) = project.add_codings([{"doc_id": "int_a", "start": 50, "end": 60, "code": "data_use",
                                   "coder": "qualcode:rules", "source": "rule", "score": 0.7}])
    project.review(rej, "reject", who="ana")
    project.add_codings([{"doc_id": "int_b", "start": 0, "end": 9, "code": "politics", "coder": "qualcode:rules",
                          "source": "rule", "score": 0.9}])  # an old open suggestion: replaced
    new = pd.DataFrame({"doc_id": ["int_a"] * 4, "start": [30, 45, 55, 0], "end": [45, 49, 70, 5],
                        "code": ["planning", "planning", "data_use", "politics"], "coder": "qualcode:rules+fit",
                        "source": "classifier", "score": [0.8, 0.6, 0.9, 0.55]})
    out = project.replace_suggestions(new, priorities={("int_a", 45, 49, "planning"): 0.99})
    assert out == {"removed": 1, "added": 2, "skipped": 2}
    f = project.codings(status="proposed").to_frame()
    assert sorted(zip(f["start"], f["end"], f["code"], strict=True)) == [(0, 5, "politics"), (45, 49, "planning")]
    assert f.set_index("start").loc[45, "priority"] == 0.99
    assert project.coding(rej)["status"] == "rejected"
