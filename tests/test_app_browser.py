"""End-to-end: a real browser (Debian's chromium driven by its chromedriver) through the app.

Nothing is downloaded: Selenium is given ``/usr/bin/chromedriver`` and ``/usr/bin/chromium``
explicitly (and ``SE_OFFLINE`` keeps Selenium Manager offline).  ``.ci/run`` installs both
with apt; where they are absent these tests skip and say so.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

import qualcode as qc
from qualcode.app import AppServer
from qualcode.project import retrain
from qualcode.refi import read_qdpx
from qualcode.testing import build_document

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

try:
    import selenium  # noqa: F401

    HAVE_SELENIUM = True
except ImportError:  # pragma: no cover - selenium is a dev dependency
    HAVE_SELENIUM = False

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists() and HAVE_SELENIUM),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver) "
               "and selenium (pip install -e '.[dev]')",
    ),
]

DOCS = ["tp01_bappeda_province_planner", "tp02_opd_health_city_planner", "tp03_bappeda_regency_c_kabid",
        "tp07_bappeda_city_functional_planner"]
TARGET = "tp07_bappeda_city_functional_planner"


@pytest.fixture(scope="module")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch anything
    profile = tempfile.mkdtemp(prefix="qualcode-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                "--disable-default-apps", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(arg)
    d = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    d.set_script_timeout(30)
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(predicate, timeout=20.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - the page may be between two renders
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def css(d, selector):
    return d.find_elements("css selector", selector)


def press(d, *keys):
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(d).send_keys(*keys).perform()


def toast_text(d):
    t = css(d, "#toast")
    return t[0].text if t and t[0].is_displayed() else ""


def drag_select(d, start, end):
    """Select document characters [start, end) with a real mouse drag; return the page's selection."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    make_range = """
        const [s, e] = arguments;
        const pieces = [...document.querySelectorAll('#doctext .pc')];
        const at = off => { const p = pieces.find(x => +x.dataset.s <= off && off < +x.dataset.e);
                            return [p.firstChild, off - +p.dataset.s]; };
        const r = document.createRange();
        const [n1, o1] = at(s); const [n2, o2] = at(e - 1);
        r.setStart(n1, o1); r.setEnd(n2, o2 + 1);
    """
    d.execute_script(make_range + "r.startContainer.parentElement.scrollIntoView({block: 'center'});", start, end)
    # blocks coming into view are laid out on the next frames (content-visibility: auto): let them settle
    d.execute_async_script("const done = arguments[arguments.length - 1];"
                           "requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 300)));")
    x1, y1, x2, y2 = d.execute_script(make_range + """
        const rs = [...r.getClientRects()].filter(x => x.width > 0);
        const a = rs[0], b = rs[rs.length - 1];
        return [a.left + 1, a.top + a.height / 2, b.right - 1, b.top + b.height / 2];
    """, start, end)
    # read the selection the moment the mouse is released (capture phase, before the app's own
    # handlers): the app then opens its code picker, whose input takes the focus and the selection
    d.execute_script("window.__dragSel = null; window.addEventListener('mouseup', "
                     "() => { window.__dragSel = window.getSelection().toString(); }, {capture: true, once: true});")
    ab = ActionBuilder(d)
    ab.pointer_action.move_to_location(int(x1), int(y1)).pointer_down().move_to_location(int(x2), int(y2)).pointer_up()
    ab.perform()
    return d.execute_script("return window.__dragSel;") or ""


@pytest.fixture(scope="module")
def study_project(sample_dir, codebooks_dir, tmp_path_factory):
    """Four study-1 interviews, gold codings on three of them, and the real model's suggestions."""
    tmp = tmp_path_factory.mktemp("e2e")
    corpus = qc.read_corpus(sample_dir).subset(DOCS)
    cb = qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    gold = pd.read_csv(sample_dir / "gold_codings.csv")
    gold[gold["doc_id"].isin(DOCS[:3])].to_csv(tmp / "gold.csv", index=False)
    p = qc.Project.create(tmp / "study.qcproj", corpus=corpus, codebook=cb)
    p.import_path(tmp / "gold.csv")
    retrain(p, who="setup", cache_dir=qc.default_cache_dir(), curve=False)  # real model: suggestions to review
    yield p
    p.close()


def test_open_code_review_memo_retrain_export(driver, study_project):
    d, p = driver, study_project
    server = AppServer(p, user="ana", cache_dir=qc.default_cache_dir()).start()
    try:
        n_gold = len(p.codings(coder="gold"))
        d.get(server.url)
        rows = wait_for(lambda: css(d, "#main table.grid tr td a"), what="the document list")
        assert sorted(a.text for a in rows) == sorted(DOCS)

        # -- open a document and code a passage: drag over it, type to filter, Enter --------
        next(a for a in rows if a.text == TARGET).click()
        wait_for(lambda: d.execute_script("return document.body.dataset.docReady") == TARGET, what="the document")
        text = p.corpus[TARGET].text
        phrase = "I think the Bappeda here really is technocratic"
        if phrase not in text:  # keep the test honest if the sample changes: take a long respondent sentence
            t = p.corpus[TARGET].turns[1]
            phrase = text[t.start:t.end].split(". ")[0]
        s = text.index(phrase)
        selected = drag_select(d, s, s + len(phrase))
        assert phrase[3:-3] in selected  # the mouse selected (about) the phrase
        picker = wait_for(lambda: [x for x in css(d, "#picker") if x.is_displayed()], what="the code picker")[0]
        assert picker.find_element("id", "picker-input") == d.switch_to.active_element
        press(d, "central conv")
        first = wait_for(lambda: css(d, "#picker-list li.active"), what="filtered codes")[0]
        assert first.get_attribute("data-code") == "convergence"
        press(d, "\ue007")  # Enter
        wait_for(lambda: "Coded as" in toast_text(d), what="the coding toast")
        mine = p.codings(coder="ana").to_frame()
        assert len(mine) == 1 and mine.loc[0, "code"] == "convergence"
        assert mine.loc[0, "text"] == selected.strip()  # exactly what was selected, trimmed
        assert mine.loc[0, "status"] == "accepted" and mine.loc[0, "source"] == "human"

        # -- hover its stripe: code, coder, evidence ----------------------------------------
        from selenium.webdriver.common.action_chains import ActionChains

        stripe = wait_for(lambda: css(d, f'.stripe[data-id="{int(mine.loc[0, "coding_id"])}"]'), what="the stripe")[0]
        ActionChains(d).move_to_element(stripe).perform()
        tip = wait_for(lambda: [x for x in css(d, "#tooltip") if x.is_displayed()], what="the tooltip")[0]
        assert "Dominant central convergence" in tip.text and "ana" in tip.text

        # -- a memo on the document ---------------------------------------------------------
        from selenium.webdriver.common.keys import Keys

        css(d, "#doc-memos textarea")[0].click()  # then type as a person does, into whatever has the focus
        press(d, "Bu Ratna contradicts the pseudo-technocracy pattern.")
        ActionChains(d).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
        wait_for(lambda: len(p.memos(doc_id=TARGET)) == 1, what="the memo in the database")
        assert p.memos(doc_id=TARGET).loc[0, "author"] == "ana"
        wait_for(lambda: "pseudo-technocracy" in css(d, "#doc-memos")[0].text, what="the memo on the page")

        # -- review queue: accept, reject, change code, one key each --------------------------
        d.find_element("tag name", "body").click()
        press(d, "g", "r")
        wait_for(lambda: css(d, ".sugg.focus"), what="the review queue")
        proposed = p.codings(status="proposed").to_frame()
        top = proposed.sort_values(["priority", "coding_id"], ascending=[False, True]).iloc[0]
        focus = lambda: int(css(d, ".sugg.focus")[0].get_attribute("data-id"))  # noqa: E731
        assert focus() == int(top["coding_id"])  # least certain first
        assert "Definition" in css(d, "#queue-detail")[0].text
        accepted = focus()
        press(d, "a")
        wait_for(lambda: p.coding(accepted)["status"] == "accepted", what="accept")
        wait_for(lambda: focus() != accepted, what="the next suggestion")
        rejected = focus()
        press(d, "r")
        wait_for(lambda: p.coding(rejected)["status"] == "rejected", what="reject")
        wait_for(lambda: focus() != rejected, what="the next suggestion")
        recoded = focus()
        old_code = p.coding(recoded)["code"]
        new_code = "discourse_space" if old_code != "discourse_space" else "elite_involvement"
        press(d, "c")
        wait_for(lambda: [x for x in css(d, "#picker") if x.is_displayed()], what="the picker")
        press(d, p.codebook[new_code].name[:12], "\ue007")
        wait_for(lambda: p.coding(recoded)["status"] == "rejected", what="recode")
        dec = p.decisions()
        assert dec["action"].tolist()[-3:] == ["accept", "reject", "recode"] and set(dec["who"]) == {"ana"}
        recode_row = dec.iloc[-1]
        assert recode_row["new_code"] == new_code
        assert p.coding(int(recode_row["new_coding_id"]))["coder"] == "ana"

        # -- re-train and re-code, with the learning curve ---------------------------------------
        press(d, "g", "t")
        wait_for(lambda: css(d, "#retrain-button"), what="the train view")
        press(d, "t")
        wait_for(lambda: css(d, "#train-status")[0].get_attribute("data-state") == "done", timeout=600,
                 what="re-training")
        run = p.runs()[-1]
        assert run["summary"]["fitted"] and run["summary"]["n_training_codings"] == n_gold + 3
        assert len(run["summary"]["curve"]["points"]) >= 2
        assert p.coding(accepted)["status"] == "accepted" and p.coding(rejected)["status"] == "rejected"
        points = wait_for(lambda: css(d, "svg.curve circle"), what="the learning curve")
        assert len(points) == 2 * len(run["summary"]["curve"]["points"])

        # -- export .qdpx --------------------------------------------------------------------
        css(d, "#export-qdpx")[0].click()
        link = wait_for(lambda: css(d, "#export-link"), what="the export link")[0]
        out = server.state.export_dir / link.text
        assert out.is_file()
        back = read_qdpx(out)
        exported = set(zip(*(back.codings.to_frame()[k] for k in ("doc_id", "start", "end", "code")), strict=True))
        for cid in (int(mine.loc[0, "coding_id"]), accepted, int(recode_row["new_coding_id"])):
            c = p.coding(cid)
            assert (c["doc_id"], c["start"], c["end"], c["code"]) in exported
        r = p.coding(rejected)
        assert (r["doc_id"], r["start"], r["end"], r["code"]) not in exported
        notes = {n.text: n for n in back.notes}
        assert notes["Bu Ratna contradicts the pseudo-technocracy pattern."].attached_to == (TARGET,)
        assert notes["Bu Ratna contradicts the pseudo-technocracy pattern."].author == "ana"
    finally:
        server.stop()


@pytest.fixture()
def ui_project(tmp_path):
    doc = build_document("xss", [
        ("Interviewer", "interviewer", "Tell me about <b>planning</b>."),
        ("Respondent", "respondent", "We plan every year. <img src=x onerror=\"window.__pwned=1\"> "
                                     "The list comes from the ministry and we only adjust the targets."),
    ])
    cb = qc.Codebook([{"id": "planning", "definition": "Planning."},
                      {"id": "odd_code", "name": "<i>Odd</i> name", "definition": "x"}], name="ui")
    p = qc.Project.create(tmp_path / "ui.qcproj", corpus=qc.Corpus([doc]), codebook=cb, coder={"embeddings": False})
    yield p
    p.close()


def test_text_is_escaped_and_codings_move_and_uncode_by_keyboard(driver, ui_project):
    d, p = driver, ui_project
    text = p.corpus["xss"].text
    s = text.index("The list comes")
    cid = p.add_coding("xss", s, s + len("The list comes"), "planning", coder="ana")
    p.add_memo("<script>window.__pwned=2</script>", author="ana", doc_id="xss")
    server = AppServer(p, user="ana").start()
    try:
        d.get(server.url + "#/doc/xss")
        wait_for(lambda: d.execute_script("return document.body.dataset.docReady") == "xss", what="the document")
        body = css(d, "#doctext")[0]
        assert "<img src=x onerror=" in body.text and "<b>planning</b>" in body.text
        assert not body.find_elements("tag name", "img") and not body.find_elements("tag name", "b")
        assert "<script>window.__pwned=2</script>" in css(d, "#doc-memos")[0].text
        assert d.execute_script("return window.__pwned === undefined")
        # select the coding by clicking its stripe, then move its boundaries with the keyboard
        wait_for(lambda: css(d, f'.stripe[data-id="{cid}"]'), what="the stripe")[0].click()
        wait_for(lambda: "The list comes" in css(d, "#coding-card")[0].text, what="the coding card")
        press(d, "]")  # start one word right
        wait_for(lambda: p.coding(cid)["text"] == "list comes", what="the start to move")
        wait_for(lambda: "list comes" in css(d, "#coding-card blockquote")[0].text
                 and "The list" not in css(d, "#coding-card blockquote")[0].text, what="the card to follow")
        press(d, "}")  # end one word right
        wait_for(lambda: p.coding(cid)["text"] == "list comes from", what="the end to move")
        assert p.decisions()["action"].tolist() == ["move", "move"]
        press(d, "\ue017")  # Delete: uncode
        wait_for(lambda: len(p.codings()) == 0, what="the uncode")
        wait_for(lambda: not css(d, ".stripe"), what="the stripe to go")
        # the picker shows a hostile code name as text
        d.execute_script("""
            const p = [...document.querySelectorAll('#doctext .pc')].find(x => x.textContent.includes('We plan'));
            const r = document.createRange(); r.setStart(p.firstChild, 0); r.setEnd(p.firstChild, 7);
            const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);""")
        press(d, "c")
        wait_for(lambda: [x for x in css(d, "#picker") if x.is_displayed()], what="the picker")
        names = [li.text for li in css(d, "#picker-list li")]
        assert any("<i>Odd</i> name" in n for n in names)
        assert not css(d, "#picker-list i")
        press(d, "plann", "\ue007")
        wait_for(lambda: len(p.codings()) == 1, what="the keyboard coding")
        assert p.codings().to_frame().loc[0, "text"] == "We plan"
    finally:
        server.stop()


def test_two_tabs_see_each_others_changes(driver, ui_project):
    d, p = driver, ui_project
    server = AppServer(p, user="ana").start()
    try:
        d.get(server.url + "#/doc/xss")
        wait_for(lambda: d.execute_script("return document.body.dataset.docReady") == "xss", what="tab 1")
        first = d.current_window_handle
        d.switch_to.new_window("tab")
        d.get(server.url + "#/doc/xss")
        wait_for(lambda: d.execute_script("return document.body.dataset.docReady") == "xss", what="tab 2")
        assert not css(d, ".stripe")
        css(d, "#doc-memos textarea")[0].click()
        press(d, "half-written memo")  # typing in tab 2 while tab 1 codes
        second = d.current_window_handle
        d.switch_to.window(first)
        d.execute_script("""
            const p = [...document.querySelectorAll('#doctext .pc')].find(x => x.textContent.includes('We plan'));
            const r = document.createRange(); r.setStart(p.firstChild, 0); r.setEnd(p.firstChild, 18);
            const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);""")
        press(d, "\ue007")  # Enter opens the picker for the selection
        wait_for(lambda: [x for x in css(d, "#picker") if x.is_displayed()], what="the picker")
        press(d, "plan", "\ue007")
        wait_for(lambda: len(p.codings()) == 1, what="the coding")
        d.switch_to.window(second)
        wait_for(lambda: css(d, ".stripe"), timeout=10, what="tab 2 to show tab 1's coding")
        assert css(d, "#doc-memos textarea")[0].get_attribute("value") == "half-written memo"  # not lost
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        ActionChains(d).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
        wait_for(lambda: len(p.memos(doc_id="xss")) == 1, what="the memo typed during the refresh")
        assert p.memos(doc_id="xss").loc[0, "text"] == "half-written memo"
        d.close()
        d.switch_to.window(first)
    finally:
        server.stop()
