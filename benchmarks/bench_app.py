"""Coding app: page load of the document view and coding latency, on a 300-page transcript and
a 500-document project (goals: document view < 1 s, coding a passage < 100 ms server time).

    .venv/bin/python benchmarks/bench_app.py [--pages 300] [--documents 500] [--no-browser]

Builds both projects (synthetic text) in a temporary folder, starts the app, and prints:
- server time of the document view's data (GET /api/documents/<id>), for the big transcript
  and a typical project document;
- the browser's page load of the document view (navigation until the text and its coding
  stripes are on screen), when /usr/bin/chromium and /usr/bin/chromedriver exist;
- coding latency: POST /api/codings (server time, over loopback HTTP) and Project.add_coding;
- the paged lists: documents, review queue, retrieval by code.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import qualcode as qc
from qualcode.app import AppServer
from qualcode.testing import build_document

WORDS = ("planning program budget ministry nomenclature target data forum regent office province city "
         "regency evaluation indicator report priority community meeting staff decision policy evidence "
         "survey analysis district village health education road water school clinic proposal").split()
CODES = [{"id": f"code_{i:02d}", "definition": f"Synthetic code {i}."} for i in range(20)]


def sentence(rng: random.Random) -> str:
    n = rng.randint(8, 22)
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def transcript(doc_id: str, n_words: int, rng: random.Random):
    turns, total, i = [], 0, 0
    while total < n_words:
        if i % 2 == 0:
            text = sentence(rng)[:-1] + "?"
            turns.append(("I", "interviewer", text))
        else:
            parts = [sentence(rng) for _ in range(rng.randint(3, 12))]
            text = " ".join(parts)
            turns.append(("R", "respondent", text))
        total += len(text.split())
        i += 1
    return build_document(doc_id, turns)


def codings_for(doc, rng: random.Random, per_1000_words: float, coder: str, source: str):
    n = max(1, int(len(doc.text.split()) / 1000 * per_1000_words))
    resp = [t for t in doc.turns if t.role == "respondent"]
    rows = []
    for _ in range(n):
        t = rng.choice(resp)
        a = rng.randint(t.start, max(t.start, t.end - 80))
        b = min(t.end, a + rng.randint(40, 400))
        rows.append({"doc_id": doc.doc_id, "start": a, "end": b, "code": rng.choice(CODES)["id"], "coder": coder,
                     "source": source, "score": rng.random()})
    return rows


def build(folder: Path, pages: int, n_docs: int) -> tuple[Path, Path]:
    rng = random.Random(0)
    cb = qc.Codebook(CODES, name="bench")
    big = transcript("big_transcript", pages * 500, rng)
    t0 = time.perf_counter()
    p1 = qc.Project.create(folder / "big.qcproj", corpus=qc.Corpus([big]), codebook=cb, coder={"embeddings": False})
    p1.add_codings(codings_for(big, rng, 10, "ana", "human"))
    p1.add_codings(codings_for(big, rng, 10, "qualcode:rules", "rule"))
    print(f"300-page transcript: {len(big.text.split()):,} words, {len(big.text):,} characters, {len(big.turns):,} turns, "
          f"{len(p1.codings()):,} codings (built in {time.perf_counter() - t0:.1f} s)")
    p1.close()
    t0 = time.perf_counter()
    docs = [transcript(f"doc_{i:03d}", rng.randint(1500, 4000), rng) for i in range(n_docs)]
    p2 = qc.Project.create(folder / "many.qcproj", corpus=qc.Corpus(docs), codebook=cb, coder={"embeddings": False})
    rows = []
    for d in docs:
        rows += codings_for(d, rng, 8, "ana", "human") + codings_for(d, rng, 8, "qualcode:rules", "rule")
    p2.add_codings(rows)
    words = sum(len(d.text.split()) for d in docs)
    print(f"{n_docs}-document project: {words:,} words, {len(p2.codings()):,} codings (built in "
          f"{time.perf_counter() - t0:.1f} s)")
    p2.close()
    return folder / "big.qcproj", folder / "many.qcproj"


def timed_request(server: AppServer, method: str, path: str, body: dict | None = None) -> tuple[float, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Host": f"127.0.0.1:{server.port}", "X-Qualcode-Token": server.state.token}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    t0 = time.perf_counter()
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    raw = r.read()
    dt = time.perf_counter() - t0
    conn.close()
    if r.status != 200:
        raise RuntimeError(f"{method} {path}: {r.status} {raw[:200]!r}")
    return dt, json.loads(raw)


def stats(ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"median {statistics.median(ms):6.1f} ms, p95 {p95:6.1f} ms (n={len(ms)})"


def browser_load(server: AppServer, doc_id: str, runs: int = 3) -> list[tuple[float, float]] | None:
    chromium, driver_path = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
    if not (chromium.exists() and driver_path.exists()):
        return None
    import os

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"
    o = webdriver.ChromeOptions()
    o.binary_location = str(chromium)
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              f"--user-data-dir={tempfile.mkdtemp()}", "--window-size=1400,1000"):
        o.add_argument(a)
    d = webdriver.Chrome(service=Service(str(driver_path)), options=o)
    out = []
    try:
        for _ in range(runs):
            d.get("about:blank")
            t0 = time.perf_counter()
            d.get(server.url + "#/doc/" + doc_id)
            end = time.monotonic() + 60
            while d.execute_script("return document.body.dataset.docReady") != doc_id:
                if time.monotonic() > end:
                    raise RuntimeError("the document view did not load")
                time.sleep(0.01)
            d.execute_script("return document.querySelectorAll('.stripe').length")  # stripes in view are drawn
            wall = time.perf_counter() - t0
            in_page = float(d.execute_script("return document.body.dataset.docLoadMs"))
            out.append((wall * 1000, in_page))
    finally:
        d.quit()
    return out


def bench_project(path: Path, doc_id: str, label: str, browser: bool, n_codings: int = 60) -> None:
    p = qc.Project.open(path)
    server = AppServer(p, user="bench").start()
    try:
        print(f"\n== {label}")
        view = [timed_request(server, "GET", f"/api/documents/{doc_id}")[0] * 1000 for _ in range(10)]
        _, doc = timed_request(server, "GET", f"/api/documents/{doc_id}")
        print(f"document view data (GET /api/documents/{doc_id}: {len(doc['text']):,} chars, "
              f"{len(doc['turns']):,} turns, {len(doc['codings']):,} codings): {stats(view)}")
        if browser:
            loads = browser_load(server, doc_id)
            if loads is None:
                print("browser page load: skipped (no /usr/bin/chromium + /usr/bin/chromedriver)")
            else:
                walls = [w for w, _ in loads]
                pages = [x for _, x in loads]
                print(f"browser page load of the document view (navigation until text and stripes are shown): "
                      f"{stats(walls)}; in-page fetch + render {stats(pages)}")
        text = doc["text"]
        resp = [t for t in doc["turns"] if t["role"] == "respondent"]
        rng = random.Random(1)
        http_ms, direct_ms = [], []
        for i in range(n_codings):
            t = rng.choice(resp)
            a = rng.randint(t["start"], max(t["start"], t["end"] - 60))
            b = min(t["end"], a + 50)
            http_ms.append(timed_request(server, "POST", "/api/codings",
                                         {"doc_id": doc_id, "start": a, "end": b, "code": CODES[i % 20]["id"]})[0] * 1000)
            t0 = time.perf_counter()
            p.add_coding(doc_id, a, b, CODES[(i + 1) % 20]["id"], coder="bench-direct")
            direct_ms.append((time.perf_counter() - t0) * 1000)
        assert len(text) > 0
        print(f"coding a passage, POST /api/codings over loopback HTTP: {stats(http_ms)}")
        print(f"coding a passage, Project.add_coding (the transaction alone): {stats(direct_ms)}")
        lists = {
            "documents list page (50)": "/api/documents?limit=50",
            "review queue page (20, with context)": "/api/queue?limit=20",
            "retrieval page (50 passages, with context)": f"/api/retrieve?code={CODES[3]['id']}&status=all&limit=50",
            "changes poll": "/api/changes?since=0",
        }
        for name, path_q in lists.items():
            first = timed_request(server, "GET", path_q)[0] * 1000
            warm = [timed_request(server, "GET", path_q)[0] * 1000 for _ in range(5)]
            print(f"{name}: first {first:.0f} ms, then {stats(warm)}")
    finally:
        server.stop()
        p.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--documents", type=int, default=500)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="qualcode-bench-app-") as tmp:
        big, many = build(Path(tmp), args.pages, args.documents)
        bench_project(big, "big_transcript", f"{args.pages}-page transcript", not args.no_browser)
        bench_project(many, "doc_250" if args.documents > 250 else "doc_000", f"{args.documents}-document project",
                      not args.no_browser)


if __name__ == "__main__":
    main()
