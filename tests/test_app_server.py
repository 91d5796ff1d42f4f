"""The coding app's server over real HTTP: token, host, CSRF, validation, paths, sync."""

from __future__ import annotations

import http.client
import json
import re
from importlib import resources

import pytest

import qualcode as qc
from qualcode.app import AppServer
from qualcode.testing import tiny_corpus


@pytest.fixture()
def server(tmp_path):
    cb = qc.Codebook([{"id": "planning", "definition": "How programs are planned."},
                      {"id": "data_use", "definition": "Data used in decisions."}], name="demo")
    project = qc.Project.create(tmp_path / "demo.qcproj", corpus=tiny_corpus(), codebook=cb, coder={"embeddings": False})
    s = AppServer(project, user="ana").start()
    yield s
    s.stop()
    project.close()


def request(s, method, path, body=None, *, token=True, headers=None, host=None):
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=20)
    h = {"Host": host or f"127.0.0.1:{s.port}"}
    if token:
        h["X-Qualcode-Token"] = s.state.token
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    raw = r.read()
    conn.close()
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = raw
    return r.status, payload, r


def test_binds_loopback_only_with_a_random_token(server):
    assert server.httpd.server_address[0] == "127.0.0.1"
    assert re.fullmatch(rf"http://127\.0\.0\.1:{server.port}/\?token=[A-Za-z0-9_-]{{32}}", server.url)
    other = AppServer(server.project, user="x")
    try:
        assert other.state.token != server.state.token
    finally:
        other.httpd.server_close()


@pytest.mark.parametrize("path", ["/", "/static/app.js", "/api/project", "/api/documents/int_a", "/api/memos",
                                  "/api/changes?since=0"])
def test_every_request_needs_the_token(server, path):
    assert request(server, "GET", path, token=False)[0] == 403
    assert request(server, "GET", path, token=False, headers={"X-Qualcode-Token": "wrong"})[0] == 403
    assert request(server, "GET", path)[0] == 200


def test_first_load_sets_a_strict_cookie_and_the_page_carries_the_token(server):
    status, page, r = request(server, "GET", f"/?token={server.state.token}", token=False)
    assert status == 200
    cookie = r.getheader("Set-Cookie")
    assert f"={server.state.token}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    name = cookie.split("=")[0]
    assert request(server, "GET", "/api/project", token=False, headers={"Cookie": f"{name}={server.state.token}"})[0] == 200
    csp = r.getheader("Content-Security-Policy")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.getheader("X-Content-Type-Options") == "nosniff"
    assert b"<script src=\"/static/app.js?token=" in page and b"<script>" not in page


def test_writes_need_the_header_not_only_the_cookie(server):
    name = f"qualcode_token_{server.port}"
    status, body, _ = request(server, "POST", "/api/memos", {"text": "forged"}, token=False,
                              headers={"Cookie": f"{name}={server.state.token}"})
    assert status == 403
    assert len(server.project.memos()) == 0


def test_foreign_host_header_is_refused(server):
    assert request(server, "GET", "/api/project", host="evil.example:80")[0] == 403
    assert request(server, "GET", "/api/project", host=f"localhost:{server.port}")[0] == 200


@pytest.mark.parametrize("path", ["/static/../../etc/passwd", "/static/%2e%2e%2fqualcode.db", "/static/index.html.bak",
                                  "/api/exports/..%2Fdemo.qcproj", "/api/exports/demo.qcproj", "/etc/passwd"])
def test_no_path_reaches_the_disk_outside_the_app(server, path):
    status, body, _ = request(server, "GET", path)
    assert status == 404
    assert b"SQLite" not in (body if isinstance(body, bytes) else json.dumps(body).encode())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"doc_id": "int_a", "start": 0, "end": 5}, "'code' is required"),
        ({"doc_id": "int_a", "start": "zero", "end": 5, "code": "planning"}, "'start' must be an integer"),
        ({"doc_id": "int_a", "start": 1.5, "end": 5, "code": "planning"}, "'start' must be an integer"),
        ({"doc_id": "int_a", "start": -3, "end": 5, "code": "planning"}, "'start' must be between"),
        ({"doc_id": "int_a", "start": 0, "end": 99999, "code": "planning"}, "outside 'int_a'"),
        ({"doc_id": "int_a", "start": 0, "end": 5, "code": "<script>"}, "unknown code"),
        ({"doc_id": ["int_a"], "start": 0, "end": 5, "code": "planning"}, "'doc_id' must be text"),
        ({"doc_id": "nope", "start": 0, "end": 5, "code": "planning"}, "no document 'nope'"),
    ],
)
def test_coding_input_is_validated_server_side(server, body, message):
    status, out, _ = request(server, "POST", "/api/codings", body)
    assert status == 400 and message in out["error"]
    assert len(server.project.codings()) == 0


def test_malformed_bodies_are_refused(server):
    assert "not valid JSON" in request(server, "POST", "/api/memos", b"{nope")[1]["error"]
    assert "JSON object" in request(server, "POST", "/api/memos", b"[1, 2]")[1]["error"]
    status, out, _ = request(server, "POST", "/api/memos", b"{}", headers={"Content-Type": "text/plain"})
    assert status == 400 and "must be JSON" in out["error"]
    big = json.dumps({"text": "x" * 1_100_000}).encode()
    assert "at most" in request(server, "POST", "/api/memos", big)[1]["error"]
    assert request(server, "PUT", "/api/memos", {"text": "x"})[0] == 405
    assert request(server, "POST", "/api/codings/abc/review", {"action": "accept"})[0] == 400
    assert "must be one of" in request(server, "POST", "/api/export", {"format": "../../x"})[1]["error"]


def test_coding_review_memo_and_export_through_http(server):
    p = server.project
    text = p.corpus["int_a"].text
    s = text.index("We copy last year's list")
    status, out, _ = request(server, "POST", "/api/codings", {"doc_id": "int_a", "start": s, "end": s + 24, "code": "planning"})
    assert status == 200 and out["coding"]["coder"] == "ana" and out["coding"]["text"] == "We copy last year's list"
    (m,) = p.add_codings([{"doc_id": "int_b", "start": 0, "end": 20, "code": "data_use", "coder": "qualcode:rules",
                           "source": "rule", "score": 0.6}])
    status, q, _ = request(server, "GET", "/api/queue")
    assert q["total"] == 1 and q["items"][0]["id"] == m and "before" in q["items"][0]
    assert request(server, "POST", f"/api/codings/{m}/review", {"action": "recode", "new_code": "planning"})[0] == 200
    assert p.coding(m)["status"] == "rejected" and p.decisions().loc[0, "who"] == "ana"
    status, memo, _ = request(server, "POST", "/api/memos", {"text": "<img src=x onerror=alert(1)>", "code": "planning"})
    assert status == 200 and p.memos().loc[0, "text"] == "<img src=x onerror=alert(1)>"  # stored as text
    status, ex, _ = request(server, "POST", "/api/export", {"format": "qdpx"})
    assert status == 200
    f = server.state.export_dir / ex["file"]
    assert f.is_file() and f.parent == p.path.with_name("demo-exports")
    status, data, r = request(server, "GET", ex["url"])
    assert status == 200 and r.getheader("Content-Type") == "application/zip" and data[:2] == b"PK"
    back = qc.refi.read_qdpx(f)
    assert [n.text for n in back.notes] == ["<img src=x onerror=alert(1)>"]


def test_two_clients_see_each_others_changes(server, tmp_path):
    second = AppServer(server.project.path, user="budi").start()  # another server on the same file
    try:
        last = request(second, "GET", "/api/changes?since=0")[1]["last"]
        request(server, "POST", "/api/codings", {"doc_id": "int_b", "start": 0, "end": 10, "code": "planning"})
        changes = request(second, "GET", f"/api/changes?since={last}")[1]
        assert changes["last"] > last and changes["changes"][0]["doc_id"] == "int_b"
        doc = request(second, "GET", "/api/documents/int_b")[1]
        assert [c["coder"] for c in doc["codings"]] == ["ana"]
    finally:
        second.stop()


def test_the_page_never_writes_html_from_data():
    js = resources.files("qualcode.app").joinpath("static", "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js, sink
    html = resources.files("qualcode.app").joinpath("static", "index.html").read_text(encoding="utf-8")
    assert "<script>" not in html and " style=" not in html and "onclick" not in html


def test_review_in_jupyter_returns_an_iframe_on_loopback(tmp_path):
    cb = qc.Codebook([{"id": "planning", "definition": "x"}], name="demo")
    path = tmp_path / "nb.qcproj"
    qc.Project.create(path, corpus=tiny_corpus(), codebook=cb).close()
    frame = qc.review(path, height=500)
    try:
        assert frame.url.startswith("http://127.0.0.1:") and "token=" in frame.url
        assert frame.url in frame._repr_html_() and 'height="500"' in frame._repr_html_()
        assert qc.review(path).server is frame.server  # one server per project
        conn = http.client.HTTPConnection("127.0.0.1", frame.server.port, timeout=10)
        conn.request("GET", "/" + frame.url.split("/", 3)[3])
        assert conn.getresponse().status == 200
    finally:
        frame.server.stop()


def test_compare_reports_the_reliability_modules_kappa_and_the_disagreements(server):
    from qualcode import reliability

    p = server.project
    text_a = p.corpus["int_a"].text
    s1 = text_a.index("Most programs")
    s2 = text_a.index("We check the e-monev")
    p.add_coding("int_a", s1, s1 + 40, "planning", coder="ana")
    p.add_coding("int_a", s2, s2 + 30, "data_use", coder="ana")
    p.add_coding("int_a", s1, s1 + 40, "planning", coder="budi")
    p.add_coding("int_a", s2, s2 + 30, "planning", coder="budi")
    p.add_coding("int_b", 0, 20, "planning", coder="budi")  # a document ana did not code: left out
    status, out, _ = request(server, "GET", "/api/compare?a=ana&b=budi&unit=sentence")
    assert status == 200 and out["documents"] == ["int_a"]
    corpus = p.corpus.subset(["int_a"])
    ref = reliability.agreement_report(p.codings(coder="ana"), p.codings(coder="budi").filter(doc_id="int_a"), corpus,
                                       by_document=False, codes=["planning", "data_use"])
    pooled = ref[ref["code"] == "(pooled)"].iloc[0]
    assert out["pooled"]["kappa"] == pytest.approx(pooled["kappa"], abs=1e-4)
    assert {r["code"] for r in out["table"]} == {"planning", "data_use"}
    dis = out["disagreements"]
    assert dis["total"] == 1 and dis["items"][0]["only_a"] == "data_use" and dis["items"][0]["only_b"] == "planning"
    assert request(server, "GET", "/api/compare?a=ana&b=nobody")[1]["error"].startswith("no coder 'nobody'")


def test_retrieval_groups_by_case_filters_by_attribute_and_gives_context(server):
    p = server.project
    for doc_id, phrase in (("int_a", "We copy last year's list"), ("int_b", "He leaves everything to Bappeda."),
                           ("int_c", "Kami hanya menyesuaikan target")):
        t = p.corpus[doc_id].text
        s = t.index(phrase)
        p.add_coding(doc_id, s, s + len(phrase), "planning", coder="ana")
    status, out, _ = request(server, "GET", "/api/retrieve?code=planning")
    assert status == 200 and out["total"] == 3 and out["n_cases"] == 3
    item = next(i for i in out["items"] if i["doc_id"] == "int_b")
    assert item["before"].endswith("The head rarely attends. ") and item["text"] == "He leaves everything to Bappeda."
    assert item["after"].strip().startswith("Coordination meetings happen") and item["speaker"] == "Respondent"
    status, out, _ = request(server, "GET", "/api/retrieve?code=planning&attribute=agency&value=Bappeda")
    assert [i["doc_id"] for i in out["items"]] == ["int_a", "int_c"] and out["by_case"] == {"int_a": 1, "int_c": 1}
    assert request(server, "GET", "/api/retrieve?code=planning&coder=budi")[1]["total"] == 0
    assert request(server, "GET", "/api/attributes")[1]["gov_level"] == ["city", "province", "regency"]


def test_serve_command_bad_input_is_one_line(tmp_path, capsys):
    from qualcode.cli import main

    assert main(["serve", str(tmp_path / "missing.qcproj"), "--no-browser"]) == 2
    assert main(["serve", str(tmp_path / "missing.qcproj"), "--port", "70000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"qualcode: error: {tmp_path / 'missing.qcproj'}: no such project file (create one with "
                   "`qualcode project create`).", "qualcode: error: --port must be in [0, 65535]. Got 70000 instead."]
