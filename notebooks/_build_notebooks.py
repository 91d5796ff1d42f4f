"""Build (and execute) the notebooks in this folder from the cell sources below.

Run from the repository root:  python notebooks/_build_notebooks.py [NAME ...]
Each notebook is executed with nbclient in this folder and saved with its outputs, so that it
reads well on a code host. The test suite re-executes the committed notebooks
(tests/test_notebooks.py) so they never rot.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

SETUP = """\
import warnings
from pathlib import Path

import pandas as pd
import qualcode as qc
from qualcode import matrices, plotting, reliability

pd.set_option("display.max_colwidth", 120)
SAMPLE = Path("../transcripts_sample")
CACHE = qc.default_cache_dir()   # on-disk embedding cache: a re-run embeds nothing again"""

TRUST_HELPERS = """\
def overlap_scores(machine, reference, codes):
    \"\"\"Passage-overlap precision and recall per code, and pooled over ``codes``.

    A machine passage is right when it overlaps a reference passage of the same code in the
    same document; a reference passage is found when a machine passage of its code overlaps it.
    \"\"\"
    m = machine[machine["code"].isin(codes)].reset_index(drop=True)
    r = reference[reference["code"].isin(codes)].reset_index(drop=True)

    def hits(a, b):
        pairs = a.reset_index().merge(b[["doc_id", "code", "start", "end"]], on=["doc_id", "code"], suffixes=("", "_b"))
        ok = (pairs["start_b"] < pairs["end"]) & (pairs["end_b"] > pairs["start"])
        return pd.Series(a.index.isin(pairs.loc[ok, "index"]), index=a.index)

    right, found = hits(m, r), hits(r, m)
    table = pd.DataFrame({"machine passages": m.groupby("code").size(), "precision": right.groupby(m["code"]).mean(),
                          "gold passages": r.groupby("code").size(), "recall": found.groupby(r["code"]).mean()})
    table = table.reindex(codes).fillna({"machine passages": 0, "gold passages": 0})
    table.loc["(pooled)"] = [len(m), right.mean(), len(r), found.mean()]
    return table"""

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

# --------------------------------------------------------------------------------------------
NOTEBOOKS["01_quickstart"] = [
    ("md", """\
# qualcode quick start

Ingest interview transcripts, apply a codebook with explainable rules and embeddings, and read
the result as a case × code matrix with the quotes behind every number. The material is the
bundled **synthetic** sample, which holds two studies. The codebook used here is the one for
the study of technocratic planning in Indonesia."""),
    ("code", SETUP + """

corpus = qc.read_corpus(SAMPLE)                     # txt, md, docx, vtt/srt, csv + cases.csv
corpus"""),
    ("code", """\
codebook = qc.Codebook.load("../codebooks/technocratic_planning.yaml")
print("scope:", codebook.scope)                     # the documents the codebook applies to
codebook"""),
    ("code", """\
# the defaults: passages (adjacent coded sentences of one speaker merged), informant turns only
# (respondents, participants, unlabelled turns), documents in the codebook's scope
coder = qc.Coder(codebook, cache_dir=CACHE, progress=False)
study1 = coder.in_scope(corpus)
study1.segments("sentence")[["doc_id", "speaker", "role", "text", "agency", "gov_level"]].head()"""),
    ("code", """\
codings = coder.code(corpus)                        # rules (spaCy) + embeddings (multilingual e5)
print(codings.meta["documents"])
pd.DataFrame(codings.meta["turns_by_role"]).T.rename_axis("turns by role")    # interviewers are context only"""),
    ("code", """\
codings.to_frame()[["doc_id", "speaker", "code", "source", "score", "text"]].head()"""),
    ("code", """\
# cases in the codebook's scope; a code's subcodes roll up into it (aggregate="children", the default)
STUDY_CODES = [c for theme in codebook.roots for c in codebook.children(theme)]
m = matrices.case_by_code(codings, corpus, codebook=codebook, codes=STUDY_CODES)
m"""),
    ("code", """\
plotting.heatmap(m, title="Coded passages per case and code")"""),
    ("code", """\
# four codes are split by direction; each subcode can be counted on its own
matrices.case_by_code(codings, corpus, codebook=codebook, aggregate="none",
                      codes=["data_based_policy_used", "data_based_policy_ignored", "data_based_policy"])"""),
    ("code", """\
# the quotes behind one cell of the matrix: every number traces back to text
matrices.cell(m, "tp06_regent_expert_staff_regency_d", "elite_involvement")[["speaker", "coded_as", "text", "score"]]"""),
    ("code", """\
# why was a passage coded? the rule and its matched text, or the nearest codebook example
first = codings.filter(source="rule").to_frame().iloc[0]
print(first.code, "|", first.text)
codings.explain(first.segment_id)"""),
    ("md", """\
These counts come from a machine coding that has not been checked. Before reading them as
findings, measure how far the coding agrees with a human coding of some of the material
(notebooks 02 to 04 do this), and review the quotes.

Next: `02_replicate_technocratic_planning.ipynb` (ideographic and nomothetic analysis of study 1,
with the machine's trust measured), `03_ai_in_government_themes.ipynb`,
`04_human_in_the_loop.ipynb` (learning from your own coding, honest agreement statistics) and
`05_codebook_development.ipynb`."""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["02_replicate_technocratic_planning"] = [
    ("md", """\
# Replicating study 1: is there a real technocratic planning in Indonesia?

Prasetyo, Supriyono, Muluk & Sarwono studied regional development planning under Law 25/2004,
Law 23/2014 and Permendagri 86/2017 with in-depth interviews, focus groups and participation in
planning forums, and analysed them **cyclically**: *ideographically* (one informant at a time, in
context) and *nomothetically* (patterns across cases), going back to the cases that disconfirm a
pattern. They found dominant central **convergence**, weak **discourse space**, thin
**data-based policy**, uneven **elite involvement**, weak **logframe** reasoning and
**synchronisation** reduced to shared nomenclature, and asked whether this is real, pseudo or
**fragile technocracy**.

This notebook walks a student through the same analysis on the bundled **synthetic** sample
(11 interviews and one FGD, English and Indonesian; see `transcripts_sample/README.md`). Every
conclusion below is drawn from the **machine coding**, as the main job
(`qualcode code transcripts_sample/ --codebook codebooks/technocratic_planning.yaml`) makes it:
passages of informant turns, in the documents the codebook's scope names. The codebook splits the
four codes whose *direction* carries the paper's argument into subcodes (for example
`data_based_policy_used` / `data_based_policy_ignored`), so the argument can be counted. The
sample's gold coding, and a direction label for each of its passages, are used for one thing
only: to measure how far the machine can be trusted."""),
    ("code", SETUP + """

corpus = qc.read_corpus(SAMPLE)                          # the whole sample: both studies
codebook = qc.Codebook.load("../codebooks/technocratic_planning.yaml")
coder = qc.Coder(codebook, cache_dir=CACHE, progress=False)   # passages of informant turns (the defaults)
study1 = coder.in_scope(corpus)                          # the codebook's scope: {study: technocratic_planning}
print(f"scope {codebook.scope}: {len(study1.documents)} of {len(corpus.documents)} documents")

STUDY_CODES = ["convergence", "logical_framework", "synchronization", "elite_involvement",
               "discourse_space", "data_based_policy", "fragile_technocracy"]
# the direction the paper found, and the direction that goes against it
DIRECTIONS = {
    "convergence": ("convergence_imposed", "convergence_local_room"),
    "elite_involvement": ("elite_involvement_absent", "elite_involvement_engaged"),
    "discourse_space": ("discourse_space_closed", "discourse_space_open"),
    "data_based_policy": ("data_based_policy_ignored", "data_based_policy_used"),
}
SUBCODES = [c for pair in DIRECTIONS.values() for c in pair]
# informants: the interviewees and each FGD participant (not the FGD as a whole, not the moderator)
turns = study1.segments("turn")
INFORMANTS = list(dict.fromkeys(turns.loc[turns["role"].isin(coder.coded_roles()), "case_id"]))
study1.cases.loc[INFORMANTS, ["position", "agency", "gov_level", "region"]]"""),
    ("code", """\
machine = coder.code(corpus)       # codes the study-1 documents only, and says so
print(machine)
pd.DataFrame(machine.meta["turns_by_role"]).T.rename_axis("turns by role")"""),
    ("md", """\
## How far can we trust the machine coding?
Before reading any matrix, compare the machine with the sample's gold coding of the informant
turns (one coder, who also wrote the transcripts; see the sample's README). Two measures:

* **passage overlap**: a machine passage is *right* when it overlaps a gold passage of the same
  code in the same document (precision); a gold passage is *found* when a machine passage of its
  code overlaps it (recall);
* **Cohen's κ over informant sentences**: one coded / not coded decision per sentence and code,
  corrected for chance.

For the seven study codes, the machine's directional subcodes count for their parent code."""),
    ("code", TRUST_HELPERS + """

gold = qc.read_codings(SAMPLE / "gold_codings.csv", corpus).filter(doc_id=study1.doc_ids)
m_frame = machine.to_frame()
sentences = study1.segments("sentence")
UNITS = sentences[sentences["role"].isin(coder.coded_roles())]   # κ over informant sentences

def study_code(code):
    \"\"\"The study code a machine code counts for (a subcode counts for its parent).\"\"\"
    return next(c for c in [code, *codebook.ancestors(code)] if c in STUDY_CODES)

rolled = m_frame.assign(code=m_frame["code"].map(study_code))
trust = overlap_scores(rolled, gold.to_frame(), STUDY_CODES)
trust["kappa (sentences)"] = reliability.agreement(gold, qc.Codings(rolled), study1, unit=UNITS,
                                                   codes=STUDY_CODES)["kappa"]
trust.round(2)"""),
    ("md", """\
**The directions.** `transcripts_sample/gold_directions.csv` gives, for every gold passage of the
four directional codes, the subcode a human reader assigned to it, or `none` when the passage has
no clear direction (a recommendation, say). The same two measures, per direction:"""),
    ("code", """\
directions = pd.read_csv(SAMPLE / "gold_directions.csv")
gold_dir = directions[directions["direction"] != "none"].assign(code=lambda d: d["direction"])
gold_dir_codings = qc.Codings(gold_dir.assign(coder="gold", source="human")[["doc_id", "start", "end", "code", "coder", "source"]])
trust_dir = overlap_scores(m_frame, gold_dir, SUBCODES)
trust_dir["kappa (sentences)"] = reliability.agreement(gold_dir_codings, machine, study1, unit=UNITS,
                                                       codes=SUBCODES)["kappa"]
trust_dir.round(2)"""),
    ("code", """\
# every gold passage of a directional code: the direction the human gave it, and what the machine gave it
def machine_direction(row):
    pattern, against = DIRECTIONS[row.code]
    near = m_frame[(m_frame["doc_id"] == row.doc_id) & (m_frame["start"] < row.end) & (m_frame["end"] > row.start)]
    got = set(near["code"])
    if {pattern, against} <= got:
        return "both directions"
    if pattern in got:
        return "the paper's direction"
    if against in got:
        return "against the paper"
    return "code, no direction" if row.code in got else "not found"

directions["machine"] = [machine_direction(r) for r in directions.itertuples()]
COLS = ["the paper's direction", "against the paper", "both directions", "code, no direction", "not found"]
confusion = pd.crosstab([directions["code"], directions["direction"]], directions["machine"]).reindex(columns=COLS, fill_value=0)
confusion"""),
    ("code", """\
def share_right(direction):
    return trust_dir.loc[direction, "precision"]

def trust_line(direction):
    t = trust_dir.loc[direction]
    return (f"{t['precision']:.0%} of {t['machine passages']:.0f} machine passages right, "
            f"{t['recall']:.0%} of the gold's {t['gold passages']:.0f} found")

labelled = directions[directions["direction"] != "none"]
same = sum(r.machine == ("the paper's direction" if r.direction == DIRECTIONS[r.code][0] else "against the paper")
           for r in labelled.itertuples())
print(f"Study codes: {trust.loc['(pooled)', 'precision']:.0%} of the machine's passages overlap a gold passage of "
      f"their code, {trust.loc['(pooled)', 'recall']:.0%} of the gold passages are found; "
      f"sentence-level κ {trust.loc['(pooled)', 'kappa (sentences)']:.2f}.")
print(f"Directions: of the {len(labelled)} gold passages with a direction, the machine gives {same} "
      f"({same / len(labelled):.0%}) that direction (and not the other one).")
for code, (pattern, against) in DIRECTIONS.items():
    print(f"  {pattern}: {trust_line(pattern)}\\n  {against}: {trust_line(against)}")"""),
    ("md", """\
Read these numbers before any matrix below. A direction whose passages are right less than
half the time is not evidence by itself. Its counts only say where to look, and the quotes
have to be read. The last section applies this rule to each conclusion.

## 1. Ideographic pass: one informant at a time
Start with the province Bappeda planner (tp01): which codes dominate the interview, where in the
interview they appear, and in the informant's own words (machine passages, best first)."""),
    ("code", """\
matrices.case_profile(machine, study1, "tp01_bappeda_province_planner", quotes=1, codebook=codebook,
                      aggregate="none")[["n_segments", "coverage", "first", "last", "quotes"]]"""),
    ("code", """\
tl = matrices.case_timeline(machine, study1, "tp01_bappeda_province_planner", unit="turn", codes=codebook.codable)
plotting.timeline(tl, title="tp01: machine codes through the interview turns")"""),
    ("code", """\
# the regency whose regent engages with planning (written as a disconfirming case)
matrices.case_profile(machine, study1, "tp06_regent_expert_staff_regency_d", quotes=1, codebook=codebook,
                      aggregate="none")[["n_segments", "coverage", "quotes"]]"""),
    ("md", """\
## 2. Nomothetic pass: the directions across cases
Cases are the interviews plus each FGD participant (`tp_fgd1_P1`...), so the focus group counts
person by person, not as one voice. For each directional code: passages in the paper's direction,
passages against it, and passages the machine coded without a direction."""),
    ("code", """\
by_direction = matrices.case_by_code(machine, corpus, codebook=codebook, aggregate="none",
                                     codes=[c for code, pair in DIRECTIONS.items() for c in (*pair, code)])
by_direction = by_direction.loc[INFORMANTS]
plotting.heatmap(by_direction, title="Machine passages per informant: each direction, and the code without one")"""),
    ("code", """\
n = len(INFORMANTS)
rows = {}
for code, (pattern, against) in DIRECTIONS.items():
    p, a, undirected = by_direction[pattern], by_direction[against], by_direction[code]
    rows[code] = {
        "the paper's direction": pattern, "against it": against,
        "informants with the code": ((p + a + undirected) > 0).sum(),
        "with the paper's direction": (p > 0).sum(), "with the direction against": (a > 0).sum(),
        "more for than against": (p > a).sum(), "more against than for": (a > p).sum(),
        "passages for": p.sum(), "passages against": a.sum(), "passages without direction": undirected.sum(),
    }
sides = pd.DataFrame(rows).T
shares = sides[["informants with the code", "with the paper's direction", "with the direction against",
                "more for than against", "more against than for"]].astype(int) / n
print(f"{n} informants")
display(sides)
shares.style.format("{:.0%}")"""),
    ("code", """\
presence = matrices.case_by_code(machine, corpus, value="present", codebook=codebook, codes=STUDY_CODES).loc[INFORMANTS]
share = presence.mean().rename("share of informants")   # subcodes roll up into their code
share.to_frame().style.format("{:.0%}")"""),
    ("code", """\
by_level = matrices.code_by_attribute(machine, corpus, "gov_level", value="n_cases", codebook=codebook,
                                      aggregate="none", codes=SUBCODES)
display(plotting.attribute_bars(by_level, title="Informants with each direction, by government level (machine)"))
by_level"""),
    ("code", """\
cooc = matrices.cooccurrence(machine, corpus, level="document", measure="c", codebook=codebook, codes=STUDY_CODES)
plotting.cooccurrence_heatmap(cooc, title="Study codes in the same document (c coefficient, machine)")"""),
    ("md", """\
## 3. Back to the cases that disconfirm
A pattern holds only as far as its exceptions are understood. The table lists every informant
whose machine passages go **against** the paper's direction more often than with it (more
`convergence_local_room` than `convergence_imposed`, an engaged rather than absent elite, and
so on). Each quote is shown with one sentence of context on either side, so that a reader can
judge whether it really disconfirms the pattern."""),
    ("code", """\
def in_context(doc_id, start, end):
    \"\"\"The passage between »«, with the sentence before and after it (whoever said it).\"\"\"
    s = sentences[sentences["doc_id"] == doc_id]
    before, after = s[s["end"] <= start].tail(1), s[s["start"] >= end].head(1)
    side = lambda r: f"{r['speaker'].iloc[0]}: {r['text'].iloc[0]}" if len(r) else ""
    return f"[{side(before)}] »{corpus[doc_id].text[start:end]}« [{side(after)}]"

against_rows = []
for code, (pattern, against) in DIRECTIONS.items():
    for case in INFORMANTS:
        n_for, n_against = by_direction.loc[case, pattern], by_direction.loc[case, against]
        if n_against > n_for:
            against_rows.append({"case": case, "code": code, "direction": against, "passages against": n_against,
                                 "passages for": n_for, "right on the gold": f"{share_right(against):.0%}"})
disconfirming = pd.DataFrame(against_rows)
disconfirming.merge(study1.cases[["agency", "gov_level"]], left_on="case", right_index=True)"""),
    ("code", """\
for _, row in disconfirming.iterrows():
    print(f"\\n== {row['case']}: {row['direction']}, {row['passages against']} passages against, {row['passages for']} for")
    for q in matrices.cell(by_direction, row["case"], row["direction"]).itertuples():
        print(f"  - ({q.score:.2f}) {in_context(q.doc_id, q.start, q.end)}")"""),
    ("code", """\
WRITTEN_AS_DISCONFIRMING = {"tp02_opd_health_city_planner": "programs from her own stunting analysis",
                            "tp06_regent_expert_staff_regency_d": "an engaged regent",
                            "tp07_bappeda_city_functional_planner": "planning genuinely technocratic"}
for case, why in WRITTEN_AS_DISCONFIRMING.items():
    hit = disconfirming.loc[disconfirming["case"] == case, "code"].tolist()
    print(f"{case} ({why}): " + (f"surfaced for {', '.join(hit)}" if hit else "not surfaced by the machine"))"""),
    ("md", """\
**What would disconfirm each conclusion.** Each conclusion below is written together with the
evidence that would overturn it, so that the numbers above can be checked against it:

| conclusion (the paper's direction) | disconfirmed if |
|---|---|
| programs are imposed from outside (`convergence_imposed`) | most informants' convergence passages describe room for local design (`convergence_local_room`), or the imposed passages, read in context, turn out to be about something else |
| the political elite is absent or only imposes items (`elite_involvement_absent`) | engaged heads or DPRD members appear beyond one or two regions (tp06/tp11's Kabupaten D) |
| forums are ceremonial, learning is individual (`discourse_space_closed`) | informants from several agencies describe forums where programmes are questioned and changed |
| data are reported, not used (`data_based_policy_ignored`) | informants describe decisions changed by their data (`data_based_policy_used`) as often as data that are only reported |
| synchronisation is shared nomenclature | the planning documents of a province and its city share few programme names, or share names but informants describe joint, located interventions |

## 4. Synchronisation as shared nomenclature (the paper's Figure 2)
The paper compares the programme lists of a province and a city: 83 programmes run by the
province, 78 of them the same as the city's. In another pair, 36 of 37 are the same. The sample
ships **synthetic** planning documents for two such pairs (`transcripts_sample/programs/`: pair A
as PDF, pair B as Word). `qualcode.documents` reads the programme tables and lists out of them,
and matches the two nomenclatures. A programme counts as the *same* when its code and name
match. It counts as *similar* when only the code or a near-identical name matches."""),
    ("code", """\
from qualcode.documents import compare_items, extract_items

PROGRAMS = SAMPLE / "programs"
pair_a = compare_items(PROGRAMS / "province_programs.pdf", PROGRAMS / "city_programs.pdf", labels=("province", "city"))
pair_b = compare_items(PROGRAMS / "province_b_programs.docx", PROGRAMS / "city_b_programs.docx", labels=("province", "city"))
overlap = pd.concat([pair_a.overlap(), pair_b.overlap()])
overlap.index = ["pair A (PDF)", "pair B (docx)"]
overlap.style.format({"share of province in city": "{:.0%}"})"""),
    ("code", """\
for name, cmp in (("pair A (PDF)", pair_a), ("pair B (docx)", pair_b)):
    fig = cmp.plot()
    fig.axes[0].set_title(f"Shared programme nomenclature, {name}")
    display(fig)"""),
    ("code", """\
# where the items come from (page of the PDF), and the matches that are not exact
print(extract_items(PROGRAMS / "province_programs.pdf")[["page", "item_code", "item_name", "budget"]].head(3))
pair_a.matches[pair_a.matches["method"] != "code+name"][["a_code", "a_name", "b_code", "b_name", "method", "score"]]"""),
    ("md", """\
## 5. Real, pseudo or fragile technocracy?
The judgement rests on the numbers above. The cell below gathers them. Each direction is
weighed by how often its passages are right on the gold: below one in two, a count is not
evidence."""),
    ("code", """\
TRUSTED = 0.5    # share of a direction's machine passages that must be right on the gold
print(f"{n} informants, machine coding (passages of informant turns).")
for code in STUDY_CODES:
    print(f"- {code}: coded for {share[code]:.0%} of informants "
          f"(passage precision {trust.loc[code, 'precision']:.0%}, recall {trust.loc[code, 'recall']:.0%})")
print()
for code, (pattern, against) in DIRECTIONS.items():
    row = sides.loc[code]
    n_for, n_against, n_more = row["with the paper's direction"], row["with the direction against"], row["more against than for"]
    reading = (f"{n_for} informants have '{pattern}' passages, {n_against} have '{against}'; "
               f"{n_more} have more against than for")
    p_for, p_against = share_right(pattern), share_right(against)
    if p_for >= TRUSTED and p_against >= TRUSTED:
        verdict = "both directions reach the bar: the counts can be read as a first estimate, the quotes still decide"
    elif p_for >= TRUSTED:
        verdict = (f"only the paper's direction reaches the bar ({trust_line(pattern)}); the direction against it does "
                   f"not ({trust_line(against)}), so the disconfirming cases must be read, not counted")
    elif p_against >= TRUSTED:
        verdict = (f"only the direction against the paper reaches the bar ({trust_line(against)}); the paper's "
                   f"direction does not ({trust_line(pattern)}), so its count is not evidence")
    else:
        verdict = (f"neither direction is reliable ({p_for:.0%} and {p_against:.0%} right): "
                   "the machine does not support a directional conclusion here")
    print(f"- {code}: {reading}.\\n    Trust: {verdict}.")
print(f"The machine finds {trust_dir.loc['(pooled)', 'recall']:.0%} of the gold's passages with a direction, "
      "so its counts understate both sides.")
print()
for name, cmp in (("pair A", pair_a), ("pair B", pair_b)):
    o = cmp.counts()
    print(f"- nomenclature, {name}: {o['same name']} of {o['items in province']} province programmes have the same "
          f"code and name as the city's ({o['same name'] / o['items in province']:.0%})")"""),
    ("md", """\
What the student can conclude, and from what:

* **Nomenclature.** Province and city plans share almost all their programme names. This
  comes from the documents themselves, so no coder's accuracy is involved. On its own it shows
  convergence by template. It does not show that the programmes were chosen without local
  analysis.
* **The study codes.** The machine finds each of the seven codes for the share of informants
  stated above, with the measured precision and recall. Presence across informants is the least
  fragile of the machine's numbers, because one right passage is enough for a case to count. It
  still inherits the precision: a code whose passages are right about half the time may be
  present in fewer cases than shown.
* **The directions.** The counts of each direction are the machine's reading of the paper's
  argument. The trust lines say which of them a student may rely on. Where a direction is
  right less than half the time, the disconfirming-case table is a reading list, not a result,
  and its quotes decide. Where even the paper's direction is unreliable, the directional
  conclusion has to come from the student's own coding of those passages (notebook
  `04_human_in_the_loop` shows how the machine learns from it, and how to measure that
  honestly).

A student would now read the quotes of the disconfirming table, code the directions they
disagree with, and only then write up whether planning here is real, pseudo or fragile
technocracy."""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["03_ai_in_government_themes"] = [
    ("md", """\
# Study 2: AI function management in Indonesian government — thematic analysis

Saprudin (2024) interviewed officials, policymakers, AI practitioners and service managers about
AI projects in government (a smart administration system, a policy insight tool, chatbots and
virtual assistants, statistics data aggregation, document management, budget analytics) and
grouped recurring issues into themes. This notebook codes the bundled **synthetic** study-2
material — interviews, a focus-group transcript, focus-group *notes* and open survey answers, in
English and Indonesian — with the study's nine themes, and reads them across cases and groups.

The conclusions are drawn from the **machine coding** with the main job's defaults: the
codebook's scope (`scope: {study: ai_in_government}`, so only the study-2 documents), passages of
informant turns (respondents, participants, survey answers; interviewers and moderators are
context only). The sample's gold coding is used to measure how far the machine can be trusted."""),
    ("code", SETUP + """

corpus = qc.read_corpus(SAMPLE)                          # the whole sample: both studies
codebook = qc.Codebook.load("../codebooks/ai_in_government.yaml")
coder = qc.Coder(codebook, cache_dir=CACHE, progress=False)   # passages of informant turns (the defaults)
study2 = coder.in_scope(corpus)
THEMES = list(codebook.codable)                          # the nine codes; the three groups are not codable
turns = study2.segments("turn")
CASES = list(dict.fromkeys(turns.loc[turns["role"].isin(["respondent", "participant"]), "case_id"]))
print(f"scope {codebook.scope}: {len(study2.documents)} of {len(corpus.documents)} documents, {len(CASES)} informant cases")
study2.summary().groupby(["kind", "language"]).size().rename("documents").to_frame()"""),
    ("code", """\
machine = coder.code(corpus)
print(machine)
pd.DataFrame(machine.meta["turns_by_role"]).T.rename_axis("turns by role")"""),
    ("md", """\
## How far can we trust the machine coding?
As in notebook 02. A machine passage is *right* when it overlaps a gold passage of the same
theme in the same document (precision). A gold passage is *found* when a machine passage of
its theme overlaps it (recall). Cohen's κ is computed over the informant sentences."""),
    ("code", TRUST_HELPERS + """

gold = qc.read_codings(SAMPLE / "gold_codings.csv", corpus).filter(doc_id=study2.doc_ids)
m_frame, g_frame = machine.to_frame(), gold.to_frame()
sentences = study2.segments("sentence")
UNITS = sentences[sentences["role"].isin(coder.coded_roles())]     # κ over informant sentences
trust = overlap_scores(m_frame, g_frame, THEMES)
trust["kappa (sentences)"] = reliability.agreement(gold, machine, study2, unit=UNITS, codes=THEMES)["kappa"]
trust.round(2)"""),
    ("code", """\
# the same by kind of material: short survey answers are not interviews
is_survey = lambda f: f["doc_id"].str.startswith("ai_survey")
by_kind = pd.DataFrame({
    "interviews and FGDs": overlap_scores(m_frame[~is_survey(m_frame)], g_frame[~is_survey(g_frame)], THEMES).loc["(pooled)"],
    "survey answers": overlap_scores(m_frame[is_survey(m_frame)], g_frame[is_survey(g_frame)], THEMES).loc["(pooled)"],
}).T
by_kind.round(2)"""),
    ("md", """\
## Themes across the material
Interviewees and focus-group participants are cases, and so is each survey answer. We look at
prevalence by kind of material first, because survey answers are short and many."""),
    ("code", """\
long = matrices.long_table(machine, corpus, codebook=codebook, codes=THEMES)
kind_of_case = turns.drop_duplicates("case_id").set_index("case_id")["kind"]   # the material a case speaks in
long["kind"] = long["case"].map(kind_of_case)
cases_per_kind = pd.Series(CASES).map(kind_of_case).value_counts()
with_theme = long[long["case"].isin(CASES)].pivot_table(index="code", columns="kind", values="present",
                                                        aggfunc="sum", fill_value=0)
print("informant cases per kind:", cases_per_kind.to_dict())
(with_theme / cases_per_kind).reindex(THEMES).style.format("{:.0%}")"""),
    ("code", """\
m = matrices.case_by_code(machine, corpus, value="coverage", codebook=codebook, codes=THEMES)
interviews = [c for c in CASES if not c.startswith("ai_survey")]
plotting.heatmap((m.loc[interviews] * 100).round(1), title="Coverage (% of characters) per case and theme", fmt=".0f")"""),
    ("code", """\
by_level = matrices.code_by_attribute(machine, corpus, "gov_level", value="n_cases", codebook=codebook, codes=THEMES)
plotting.attribute_bars(by_level, title="Cases with each theme, by government level")"""),
    ("md", """\
## The digital divide in the survey answers
Survey respondents carry their own attributes (area, channel, age group). Does
`accessibility_digital_divide` come up more among rural respondents? We count respondents, and
measure the machine on the survey answers alone, because this conclusion rests on them only."""),
    ("code", """\
survey = study2.subset([d for d in study2.doc_ids if d.startswith("ai_survey")])
area = matrices.code_by_attribute(machine.filter(doc_id=survey.doc_ids), survey, "area", value="n_cases",
                                  codebook=codebook, codes=THEMES, margins=True)
respondents = survey.cases["area"].value_counts()
share_by_area = area.loc["accessibility_digital_divide", respondents.index] / respondents
print("respondents per area:", respondents.to_dict())
display(area)
on_survey = overlap_scores(m_frame[is_survey(m_frame)], g_frame[is_survey(g_frame)], ["accessibility_digital_divide"])
on_survey"""),
    ("code", """\
cooc = matrices.cooccurrence(machine, corpus, level="segment", measure="count", codebook=codebook, codes=THEMES)
plotting.cooccurrence_heatmap(cooc, title="Themes coded on overlapping passages")"""),
    ("code", """\
fw = matrices.framework_matrix(machine, corpus, quotes=1, codebook=codebook,
                               codes=["efficiency_gains", "resistance_to_change", "language_limitations"], max_chars=140)
fw.loc[[c for c in fw.index if c.startswith("ai0")]]"""),
    ("md", """\
## The cases that go against a theme
The study's codes mark a *topic*, not a direction. A passage coded `resistance_to_change` may
say that there was none. So the disconfirming cases are found in two ways. First, the cases
that lack a theme most other cases have. Second, the passages of a theme spoken by the
informants the sample was written to disconfirm it: the IT manager who saw no resistance
(ai04), and the analyst who says the core data were clean (ai02)."""),
    ("code", """\
order = [d for d in study2.doc_ids if not d.startswith("ai_survey")]
summary = matrices.cross_case_summary(machine, corpus, order=order, codebook=codebook, codes=THEMES, cases=interviews)
summary.disconfirming[["code", "case_id", "share_cases", "agency", "gov_level"]]"""),
    ("code", """\
for case, theme in [("ai04_it_manager", "resistance_to_change"), ("ai02_data_analyst", "data_quality_integration")]:
    quotes = matrices.cell(machine, case, theme, corpus=corpus)
    in_gold = matrices.cell(gold, case, theme, corpus=corpus)
    print(f"== {case}, {theme}: {len(quotes)} machine passages ({len(in_gold)} in the gold)")
    for q in quotes.itertuples():
        print(f"  - ({q.score:.2f}) {q.text}")"""),
    ("code", """\
display(plotting.saturation_curve(summary, title="New themes per additional interview or focus group"))
gold_summary = matrices.cross_case_summary(gold, corpus, order=order, codebook=codebook, codes=THEMES,
                                           cases=interviews)
pd.DataFrame({"machine: new themes": summary.saturation.set_index("doc_id")["n_new"],
              "gold: new themes": gold_summary.saturation.set_index("doc_id")["n_new"]})"""),
    ("md", """\
## What the machine coding supports, and what would disconfirm it

| conclusion | disconfirmed if |
|---|---|
| the benefits (efficiency, service delivery) are reported across agencies | the passages coded with them are mostly reports of failure (read them: ai06's chatbot did not help), or they come from one agency only |
| implementation is held back by infrastructure, data integration, resistance and language | informants deny the problem as often as they report it (ai04: no resistance; ai02: clean data), or the theme is absent from most cases |
| chatbots' language limits are widespread among users | survey answers coded `language_limitations` turn out to praise the chatbot's understanding |
| the digital divide is a rural problem | urban respondents raise access problems at a similar rate, or the machine's survey passages of the theme are mostly wrong on the gold |"""),
    ("code", """\
share = summary.codes["share_cases"].sort_values(ascending=False)
print(f"{len(interviews)} interview and FGD cases, {len(CASES) - len(interviews)} survey answers; machine coding.")
for theme, s in share.items():
    t = trust.loc[theme]
    print(f"- {theme}: in {s:.0%} of interview/FGD cases; survey answers {with_theme.loc[theme].get('survey', 0)} "
          f"(on the gold: {t['precision']:.0%} of passages right, {t['recall']:.0%} found, κ {t['kappa (sentences)']:.2f})")
rural, urban = share_by_area.get("rural", float("nan")), share_by_area.get("urban", float("nan"))
acc = on_survey.loc["accessibility_digital_divide"]
print(f"\\nDigital divide: the machine codes it for {rural:.0%} of rural and {urban:.0%} of urban survey respondents; "
      f"on the survey answers {acc['precision']:.0%} of its passages of the theme are right and it finds "
      f"{acc['recall']:.0%} of the gold's.")
low = trust.index[(trust["precision"] < 0.5) & (trust.index != "(pooled)")].tolist()
print(f"Themes whose machine passages are right less than half the time (read before counting): {', '.join(low) or 'none'}")"""),
    ("md", """\
In the machine coding, the paper's themes come back across the material. Efficiency gains and
service delivery appear where systems work. Infrastructure and data integration appear as
implementation problems, along with the language limits of chatbots and a digital divide in the
survey answers. How much weight each theme can bear is in the lines above. Where fewer than half of a theme's machine
passages are right, its prevalence may be overstated and has to be checked by reading. Because a code
marks a topic, prevalence alone never confirms a theme. A passage is coded with a theme because
it speaks to it, whether it reports the problem or denies it. The ai02 and ai04 passages above
are read for that reason. The machine can also miss a denial that the gold codes, and the
counts beside each case show where it did.

The saturation table compares the machine with the gold. In this sample, both usually find
every theme in the first interview, because the synthetic interviews were written to exercise
every code. In real material the curve shows where further interviews stop adding themes."""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["04_human_in_the_loop"] = [
    ("md", """\
# Human in the loop: teach the coder, measure it honestly, review its suggestions

A researcher codes part of the material by hand. qualcode learns from it: one classifier per
code on sentence embeddings, rule hits, neighbouring sentences and position, with thresholds
chosen by cross-validation. It then codes the rest, and the researcher reviews, measures
agreement and adjudicates. Here the sample's gold coding of study 1 plays the researcher's hand
coding.

**Agreement is only ever measured on codings the model did not learn from.** A coder agrees
well with the codings it was fitted on, and that number says nothing about the next document.
Two honest estimates are used below. The first is cross-validation over the hand-coded
documents (`coder.cross_validate`), where each document is coded by a coder fitted on the
others. The second is a held-out set of documents the coder never saw."""),
    ("code", SETUP + """
import tempfile

corpus = qc.read_corpus(SAMPLE)
codebook = qc.Codebook.load("../codebooks/technocratic_planning.yaml")
coder = qc.Coder(codebook, cache_dir=CACHE, progress=False)      # passages of informant turns, in scope
study1 = coder.in_scope(corpus)
gold = qc.read_codings(SAMPLE / "gold_codings.csv", corpus).filter(doc_id=study1.doc_ids)
STUDY_CODES = sorted(gold.codes)        # the researcher codes the seven study codes

docs = study1.doc_ids
test_docs = docs[1::3]                  # still to code: the held-out documents
train_docs = [d for d in docs if d not in test_docs]   # "coded by hand" so far
train, test = study1.subset(train_docs), study1.subset(test_docs)
human = gold.filter(doc_id=train_docs)
reference = gold.filter(doc_id=test_docs)        # known here only to check the estimate
print(f"hand-coded: {len(train_docs)} documents, {len(human)} codings; held out: {', '.join(test_docs)}")"""),
    ("code", """\
def as_study_codes(codings):
    \"\"\"Machine codes counted for the researcher's codes (a directional subcode counts for its parent).\"\"\"
    f = codings.to_frame()
    up = {c: next((a for a in [c, *codebook.ancestors(c)] if a in STUDY_CODES), c) for c in f["code"].unique()}
    return qc.Codings(f.assign(code=f["code"].map(up)), meta=codings.meta)

def pooled(reference, codings, corpus):
    a = reliability.agreement(reference, as_study_codes(codings), corpus, codes=STUDY_CODES)
    return a.loc["(pooled)", ["precision", "recall", "f1", "kappa"]]"""),
    ("md", """\
## How well will the fitted coder code my next document? Cross-validation
The hand-coded documents are split into folds. Each fold is coded by a copy of the coder fitted
on the other folds only, so that every coding is *out of fold*."""),
    ("code", """\
learner = qc.Coder(codebook, cache_dir=CACHE, progress=False)
oof = learner.cross_validate(train, human, folds=3, cv=3)      # out-of-fold machine codings
print(oof.meta["fold_of"])
cv_table = reliability.agreement(human, as_study_codes(oof), train, codes=STUDY_CODES)
cv_table[["support", "predicted", "precision", "recall", "f1", "kappa", "alpha"]].round(2)"""),
    ("md", """\
## Does the estimate hold on documents nobody used? The held-out check
Fit on all the hand-coded documents, then code the held-out ones. The zero-shot coder (codebook
only, no learning) is the baseline."""),
    ("code", """\
learner.fit(train, human, cv=3)
after = learner.code(test)
before = coder.code(test)
table = pd.DataFrame({
    "zero-shot (held out)": pooled(reference, before, test),
    "after fit (held out)": pooled(reference, after, test),
    "after fit (cross-validated)": cv_table.loc["(pooled)", ["precision", "recall", "f1", "kappa"]],
}).T
table.round(2)"""),
    ("code", """\
per_code = pd.DataFrame({
    "zero-shot kappa": reliability.agreement(reference, as_study_codes(before), test, codes=STUDY_CODES)["kappa"],
    "after fit kappa": reliability.agreement(reference, as_study_codes(after), test, codes=STUDY_CODES)["kappa"],
    "cross-validated kappa": cv_table["kappa"],
})
per_code.round(2)"""),
    ("code", """\
# Krippendorff's alpha with a bootstrap confidence interval (over sentences), held-out documents
ci = reliability.bootstrap_ci(reference, as_study_codes(after).filter(code=STUDY_CODES), test, statistic="alpha",
                              n_boot=200, seed=0)
print(f"held out: pooled alpha {ci['estimate']:.2f}, 95% bootstrap CI [{ci['low']:.2f}, {ci['high']:.2f}] over sentences")"""),
    ("md", """\
What not to do: compare the human codings with a Codings that contains them. `code(corpus,
human=...)` merges the human rows into the output, and agreement with them would be circular.
`reliability.agreement` refuses this. It also warns when the coder was fitted on the
documents being compared."""),
    ("code", """\
from qualcode.errors import CodingsError

try:
    reliability.agreement(human, learner.code(train, human=human), train)
except CodingsError as err:
    print("refused:", err)"""),
    ("md", """\
## The learning curve: how much hand coding is enough?
κ on the held-out documents against the number of hand-coded documents the coder learned from
(0 = zero-shot). Every point is measured on documents that none of the coders saw."""),
    ("code", """\
points = [(0, before)]
for k in (2, 4):
    few = train_docs[:k]
    c = qc.Coder(codebook, cache_dir=CACHE, progress=False).fit(train.subset(few), human.filter(doc_id=few), cv=2)
    points.append((k, c.code(test)))
points.append((len(train_docs), after))
curve = pd.DataFrame([{"documents coded": k,
                       "passages coded": len(human.filter(doc_id=train_docs[:k])),
                       **pooled(reference, codings, test)} for k, codings in points]).set_index("documents coded")
display(curve.round(2))
ax = curve[["kappa", "f1"]].plot(marker="o", figsize=(6, 3), ylim=(0, 1),
                                 title="Held-out agreement by hand-coded documents")
ax.set_ylabel("pooled over the study codes");"""),
    ("code", """\
k0, k1 = curve.index[0], curve.index[-1]
gain = curve.loc[k1, "kappa"] - curve.loc[k0, "kappa"]
print(f"κ on the held-out documents: {curve.loc[k0, 'kappa']:.2f} zero-shot, {curve.loc[k1, 'kappa']:.2f} after "
      f"learning from {k1} documents ({gain:+.2f}); cross-validated estimate {cv_table.loc['(pooled)', 'kappa']:.2f}.")
print(f"With {len(test_docs)} held-out documents each point is noisy; read the shape, not the second decimal.")"""),
    ("md", """\
## Review the machine's suggestions
Suggestions are machine codings awaiting review, highest score first. Decisions (accept, reject,
recode) persist to a file, so a review can be interrupted and resumed."""),
    ("code", """\
suggestions = after.suggestions()
suggestions[["segment_id", "code", "source", "score", "text"]].head(5)"""),
    ("code", """\
decisions_file = Path(tempfile.mkdtemp()) / "review_decisions.csv"
top = suggestions.head(3)
reviewed = after.review([{"segment_id": s, "code": c, "action": "accept"} for s, c in zip(top.segment_id, top.code)],
                        reviewer="ana", path=decisions_file)
reviewed = reviewed.review(segment_id=suggestions.segment_id.iloc[3], code=suggestions.code.iloc[3],
                           action="reject", reviewer="ana", path=decisions_file)
print(pd.read_csv(decisions_file)[["segment_id", "code", "action", "reviewer"]])
reviewed.to_frame()["status"].value_counts(dropna=False)"""),
    ("md", """\
## What to code next
Active learning: the uncoded segments whose coding would teach the model most (closest to a
decision threshold), in a batch made diverse."""),
    ("code", """\
learner.next_to_code(test, n=5)"""),
    ("md", """\
## Adjudicate disagreements
The disagreement table lists every sentence the two codings treat differently, with each side's
codes, for a discussion between coders (or between the researcher and the machine)."""),
    ("code", """\
dis = reliability.disagreements(reference, as_study_codes(after), test, unit="sentence", codes=STUDY_CODES)
print(f"{len(dis)} sentences to adjudicate")
dis[["doc_id", "speaker", "text", "only_a", "only_b"]].head(8)"""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["05_codebook_development"] = [
    ("md", """\
# Codebook development: near-misses, uncoded material, counterexamples, versions

Deductive coding needs an inductive check: what does the codebook *almost* catch, what does it
miss entirely, and what changes when a definition or counterexample is edited? Every step keeps
the codebook a versioned file whose changes can be diffed."""),
    ("code", SETUP + """
import tempfile

corpus = qc.read_corpus(SAMPLE)
codebook = qc.Codebook.load("../codebooks/technocratic_planning.yaml")
coder = qc.Coder(codebook, cache_dir=CACHE, progress=False)   # informant passages, in the codebook's scope
study1 = coder.in_scope(corpus)
INFORMANTS = list(coder.coded_roles())
codings = coder.code(study1)
codings"""),
    ("md", """\
## Near-misses
Informant sentences whose embedding score for a code came close to the threshold without
reaching it. They are candidates for an added example, or for a sharper exclusion criterion."""),
    ("code", """\
near = qc.explore.near_misses(coder, study1, margin=0.15)     # scores only what the coder codes
near.groupby("code").size().rename("near-misses").to_frame().T"""),
    ("code", """\
near[near["code"].str.startswith("discourse_space")].head(5)[["code", "text", "score", "threshold", "nearest"]]"""),
    ("md", """\
## Uncoded material, clustered into candidate codes
Informant sentences that no coded passage covers, embedded and clustered. Each cluster is shown
with its most distinctive words and two example sentences."""),
    ("code", """\
clusters = qc.explore.cluster_uncoded(codings, study1, n_clusters=6, role=INFORMANTS,
                                      cache_dir=CACHE, random_state=0)
clusters[["cluster", "size", "top_terms", "examples"]]"""),
    ("md", """\
## Counterexamples from review, and a new version of the codebook
A researcher reviews the machine's `convergence` passages (the code and its two directions) in
half of the documents, against their own coding (here the gold coding). Some passages are coded
that the researcher did not code. The researcher agrees that a few of them are near-misses and
adds them to the `counterexamples` of the code they were given. They then bump the version and
save a new file. We see what changed in the codebook (a field-by-field diff) and in the coding.
The change is judged on the **other** half of the documents, because counterexamples taken from
a text always help on that same text."""),
    ("code", """\
gold = qc.read_codings(SAMPLE / "gold_codings.csv", corpus).filter(doc_id=study1.doc_ids)
FAMILY = ["convergence", *codebook.descendants("convergence")]
reviewed_docs, other_docs = study1.doc_ids[::2], study1.doc_ids[1::2]
human = gold.filter(code="convergence").to_frame()
machine = codings.filter(code=FAMILY, source="embedding", doc_id=reviewed_docs).to_frame()

def coded_by_human(row):
    same = human[human["doc_id"] == row["doc_id"]]
    return bool(((same["start"] < row["end"]) & (same["end"] > row["start"])).any())

false_pos = machine[~machine.apply(coded_by_human, axis=1)].sort_values("score", ascending=False)
print(f"{len(machine)} embedding passages of convergence (or a direction of it) in the reviewed documents, "
      f"{len(false_pos)} not coded by the human")
false_pos[["doc_id", "code", "text", "score"]].head(5)"""),
    ("code", """\
workdir = Path(tempfile.mkdtemp())
data = codebook.to_dict()
major, minor, _ = codebook.version.split(".")
data["version"] = f"{major}.{int(minor) + 1}.0"
picked = false_pos.head(4)
for code in data["codes"]:
    for row in picked[picked["code"] == code["id"]].itertuples():      # in the language of its document
        code.setdefault("counterexamples", {}).setdefault(study1[row.doc_id].language, []).append(row.text)
new = qc.Codebook.from_dict(data)
new.save(workdir / f"technocratic_planning_v{new.version}.yaml")
new.diff(codebook)[["code", "change", "field"]]"""),
    ("code", """\
print("fingerprints:", codebook.fingerprint, "->", new.fingerprint)
recoded = qc.Coder(new, cache_dir=CACHE, progress=False).code(study1)

def as_convergence(c):
    \"\"\"The convergence family counted as one code (a direction counts for convergence).\"\"\"
    f = c.filter(code=FAMILY).to_frame()
    return qc.Codings(f.assign(code="convergence"))

def spans(c):
    return set(zip(c.to_frame()["doc_id"], c.to_frame()["start"], c.to_frame()["end"]))

old, now = spans(as_convergence(codings)), spans(as_convergence(recoded))
print(f"convergence passages: {len(old)} before, {len(now)} after; {len(old - now)} dropped, {len(now - old)} added")
rows = {}
for label, docs in (("reviewed documents", reviewed_docs), ("other documents", other_docs)):
    part = study1.subset(docs)
    for version, c in ((codebook.version, codings), (new.version, recoded)):
        a = reliability.agreement(gold.filter(doc_id=docs), as_convergence(c).filter(doc_id=docs), part,
                                  codes=["convergence"])
        rows[(label, version)] = a.loc["convergence", ["predicted", "precision", "recall", "f1", "kappa"]]
pd.DataFrame(rows).T.round(3)"""),
    ("code", """\
text_of = {(r.doc_id, r.start, r.end): r.text for r in as_convergence(codings).to_frame().itertuples()}
for key in sorted(old - now)[:6]:
    print("- dropped:", text_of[key][:160])"""),
    ("md", """\
Re-coding after a codebook edit re-embeds only the codebook, because the sentences come from
the cache. Compare the two halves of the table above. Counterexamples taken from one's own
material raise precision on *that* material. Only the documents they did not come from show
whether the edit generalises. Keep both versions under version control, so that the diff
documents the decision."""),
]


def build(name: str, *, execute: bool = True) -> Path:
    """Write notebooks/<name>.ipynb, executed in this folder when ``execute``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, src in NOTEBOOKS[name]:
        cell = nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
        nb.cells.append(cell)
    if execute:
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(HERE)}})
        start = time.perf_counter()
        client.execute()
        print(f"{name}: executed in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"
    path = HERE / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


if __name__ == "__main__":
    names = sys.argv[1:] or list(NOTEBOOKS)
    for n in names:
        build(n)
