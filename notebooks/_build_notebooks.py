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

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

# --------------------------------------------------------------------------------------------
NOTEBOOKS["01_quickstart"] = [
    ("md", """\
# qualcode quick start

Ingest interview transcripts, apply a codebook with explainable rules and embeddings, and read
the result as a case × code matrix with the quotes behind every number. The material is the
bundled **synthetic** sample modelled on a study of technocratic planning in Indonesia."""),
    ("code", SETUP + """

corpus = qc.read_corpus(SAMPLE)                     # txt, md, docx, vtt/srt, csv + cases.csv
study1 = corpus.subset([d for d in corpus.doc_ids if d.startswith("tp")])
study1"""),
    ("code", """\
study1.segments(unit="sentence")[["doc_id", "speaker", "role", "text", "agency", "gov_level"]].head()"""),
    ("code", """\
codebook = qc.Codebook.load("../codebooks/technocratic_planning.yaml")
codebook"""),
    ("code", """\
coder = qc.Coder(codebook, unit="sentence", cache_dir=CACHE, progress=False)
codings = coder.code(study1)                        # rules (spaCy) + embeddings (multilingual e5)
codings"""),
    ("code", """\
m = matrices.case_by_code(codings, study1, codebook=codebook, aggregate="children", role="respondent")
m"""),
    ("code", """\
plotting.heatmap(m.drop(columns=["planning_process", "institutions_and_actors", "evidence_and_judgement"]),
                 title="Coded respondent sentences per case and code")"""),
    ("code", """\
# the quotes behind one cell of the matrix: every number traces back to text
matrices.cell(m, "tp06_regent_expert_staff_regency_d", "elite_involvement", corpus=study1)[["speaker", "text", "score"]]"""),
    ("code", """\
# why was a sentence coded? the rule and its matched text, or the nearest codebook example
first = codings.filter(code="convergence", source="rule").to_frame().iloc[0]
print(first.text)
codings.explain(first.segment_id)"""),
    ("md", """\
Next: `02_replicate_technocratic_planning.ipynb` (ideographic and nomothetic analysis of study 1),
`03_ai_in_government_themes.ipynb`, `04_human_in_the_loop.ipynb` (learning from your own coding,
agreement statistics) and `05_codebook_development.ipynb`."""),
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
(11 interviews and one FGD, English and Indonesian; see `transcripts_sample/README.md`). The
machine coding is a first pass to be read critically, so we also load the sample's gold coding
to see how far to trust it."""),
    ("code", SETUP + """

corpus = qc.read_corpus(SAMPLE)
study1 = corpus.subset([d for d in corpus.doc_ids if d.startswith("tp")])
codebook = qc.Codebook.load("../codebooks/technocratic_planning.yaml")
CORE = ["convergence", "discourse_space", "data_based_policy", "elite_involvement"]
LEAVES = codebook.leaves
# informants: the interviewees and each FGD participant (not the FGD as a whole, not the moderator)
turns = study1.segments("turn")
INFORMANTS = list(dict.fromkeys(turns.loc[turns["role"].isin(["respondent", "participant"]), "case_id"]))
study1.cases.loc[INFORMANTS, ["position", "agency", "gov_level", "region"]]"""),
    ("code", """\
coder = qc.Coder(codebook, unit="sentence", cache_dir=CACHE, progress=False)
machine = coder.code(study1).filter(role=["respondent", "participant"])
gold = qc.read_codings(SAMPLE / "gold_codings.csv", corpus).filter(doc_id=study1.doc_ids)
print(machine)
print(gold)"""),
    ("md", """\
## How far can we trust the machine coding?
Agreement of the machine with the gold coding, one binary decision per (sentence, code).
Cohen's κ and Krippendorff's α correct for chance; read them before reading any matrix."""),
    ("code", """\
agree = reliability.agreement(gold, machine.filter(code=LEAVES), study1, unit="sentence")
agree[["support", "predicted", "precision", "recall", "f1", "kappa", "alpha"]].round(2)"""),
    ("md", """\
In what follows we use the **gold coding** for the substantive reading (it stands in for the
student's own coding) and show the machine coding beside it where the comparison is telling.

## 1. Ideographic pass: one informant at a time
Start with the province Bappeda planner (tp01): which codes dominate the interview, where in the
interview they appear, and in the informant's own words."""),
    ("code", """\
matrices.case_profile(gold, study1, "tp01_bappeda_province_planner", quotes=1, codebook=codebook)"""),
    ("code", """\
tl = matrices.case_timeline(gold, study1, "tp01_bappeda_province_planner", unit="turn", codes=LEAVES)
plotting.timeline(tl, title="tp01: codes through the interview turns")"""),
    ("code", """\
# the same for the regency whose regent engages with planning (a candidate disconfirming case)
matrices.case_profile(gold, study1, "tp06_regent_expert_staff_regency_d", quotes=1, codebook=codebook)"""),
    ("md", """\
## 2. Nomothetic pass: patterns across cases
Cases are the interviews plus each FGD participant (`tp_fgd1_P1`...), so the focus group counts
person by person, not as one voice."""),
    ("code", """\
seg = matrices.case_by_code(gold, study1, value="n_segments", codes=LEAVES, margins=True)
seg"""),
    ("code", """\
presence = matrices.case_by_code(gold, study1, value="present", codes=LEAVES).loc[INFORMANTS]
share = presence.mean().sort_values(ascending=False).rename("share of cases")
share.to_frame().style.format("{:.0%}")"""),
    ("code", """\
by_level = matrices.code_by_attribute(gold, study1, "gov_level", value="n_cases", codes=LEAVES)
display(plotting.attribute_bars(by_level, title="Cases with each code, by government level"))
by_level"""),
    ("code", """\
by_agency = matrices.code_by_attribute(gold, study1, "agency", value="n_cases", codes=LEAVES)
by_agency"""),
    ("code", """\
cooc = matrices.cooccurrence(gold, study1, level="document", measure="c", codes=LEAVES)
plotting.cooccurrence_heatmap(cooc, title="Code co-occurrence within documents (c coefficient)")"""),
    ("code", """\
framework = matrices.framework_matrix(gold, study1, quotes=1, codes=CORE, max_chars=160)
framework.loc[["tp01_bappeda_province_planner", "tp05_dprd_city_member", "tp_fgd1_P2"]]"""),
    ("md", """\
## 3. Back to the cases that disconfirm
A pattern holds only as far as its exceptions are understood. `cross_case_summary` lists the cases
that lack a code most other cases have; we read them, and we read the *content* of
`elite_involvement` where it is positive (a head who engages) rather than absent."""),
    ("code", """\
summary = matrices.cross_case_summary(gold, study1, codes=LEAVES, cases=INFORMANTS)
summary.disconfirming[["code", "case_id", "share_cases", "agency", "gov_level"]]"""),
    ("code", """\
engaged = matrices.cell(matrices.case_by_code(gold, study1, codes=["elite_involvement"]),
                        "tp06_regent_expert_staff_regency_d", "elite_involvement", corpus=study1)
for text in engaged["text"].head(4):
    print("-", text)"""),
    ("md", """\
## 4. Synchronisation as shared nomenclature (the paper's Figure 2)
The paper compares program lists of a province and a city: 83 programs run by the province, 78
of them the same as the city's; in another pair 37 and 36. The sample ships small program-
nomenclature lists (`transcripts_sample/programs/`) built to those numbers. A program is shared
when both its nomenclature code and its name match."""),
    ("code", """\
def overlap(province_csv, city_csv):
    prov = pd.read_csv(SAMPLE / "programs" / province_csv)
    city = pd.read_csv(SAMPLE / "programs" / city_csv)
    shared = prov.merge(city, on=["code", "program_name"])
    same_code = prov.merge(city, on="code")
    return {"province programs": len(prov), "city programs": len(city),
            "shared (code + name)": len(shared), "shared code only": len(same_code),
            "share of province programs also run by the city": f"{len(shared) / len(prov):.0%}"}

table = pd.DataFrame({"pair A": overlap("province_programs.csv", "city_programs.csv"),
                      "pair B": overlap("province_b_programs.csv", "city_b_programs.csv")})
# the paper's Figure 2: 83 province programs, 78 shared with the city; 37 and 36
assert (table.loc["province programs"].tolist(), table.loc["shared (code + name)"].tolist()) == ([83, 37], [78, 36])
table"""),
    ("md", """\
## 5. Real, pseudo or fragile technocracy?
The judgement rests on the matrices above. We collect the numbers it depends on, so that the
argument can be checked and re-run."""),
    ("code", """\
n_cases = len(INFORMANTS)
evidence = pd.DataFrame({
    "cases with the code": presence.sum(),
    "share of cases": presence.mean().round(2),
    "coded segments": seg.loc[INFORMANTS, LEAVES].sum(),
})
evidence.loc[CORE + ["synchronization", "logical_framework", "fragile_technocracy"]]"""),
    ("code", """\
print(f"{n_cases} informants. Central convergence is reported by {share['convergence']:.0%} of them, "
      f"judgements of planning as procedure or legal cover (fragile technocracy) by "
      f"{share['fragile_technocracy']:.0%}, data-based policy by {share['data_based_policy']:.0%}, "
      f"and the elite's involvement by {share['elite_involvement']:.0%}.")
by_code = summary.disconfirming.groupby("code")["case_id"].apply(lambda c: ", ".join(c))
for code, cases in by_code.items():
    print(f"- {code}: absent for {cases}")"""),
    ("md", """\
Read together, the matrices support the paper's conclusion for this (synthetic) material:
technocratic planning exists as procedure — documents, nomenclature and e-monev reports are
produced everywhere — but its substance is **fragile**: programs are largely given from above,
forums rarely work as discursive spaces, data are reported rather than used, and where a regional
head engages (tp06/tp11) the planning conversation changes. A student would now go back to these
disconfirming cases once more, and to the machine–gold disagreements, before writing up."""),
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
English and Indonesian — with the study's nine themes, and reads them across cases and groups."""),
    ("code", SETUP + """

corpus = qc.read_corpus(SAMPLE)
study2 = corpus.subset([d for d in corpus.doc_ids if d.startswith("ai")])
codebook = qc.Codebook.load("../codebooks/ai_in_government.yaml")
LEAVES = codebook.leaves
study2.summary().groupby(["kind", "language"]).size().rename("documents").to_frame()"""),
    ("code", """\
coder = qc.Coder(codebook, unit="sentence", cache_dir=CACHE, progress=False)
codings = coder.code(study2).filter(role=["respondent", "participant", "unknown"])
gold = qc.read_codings(SAMPLE / "gold_codings.csv", corpus).filter(doc_id=study2.doc_ids)
codings"""),
    ("code", """\
agree = reliability.agreement(gold, codings.filter(code=LEAVES), study2, unit="sentence")
agree[["support", "predicted", "precision", "recall", "f1", "kappa"]].round(2)"""),
    ("md", """\
## Themes across the material
Interviews and FGD participants are cases; each survey answer is a case of its own. We look at
prevalence by kind of material first (survey answers are short and many)."""),
    ("code", """\
long = matrices.long_table(codings, study2, codes=LEAVES)
turns = study2.segments("turn")
kind_of_case = turns.drop_duplicates("case_id").set_index("case_id")["kind"]   # the material a case speaks in
long["kind"] = long["case"].map(kind_of_case)
long.pivot_table(index="code", columns="kind", values="present", aggfunc="sum", fill_value=0)"""),
    ("code", """\
m = matrices.case_by_code(codings, study2, value="coverage", codes=LEAVES)
interviews = [c for c in m.index if not c.startswith("ai_survey")]
plotting.heatmap((m.loc[interviews] * 100).round(1), title="Coverage (% of characters) per case and theme", fmt=".0f")"""),
    ("code", """\
by_level = matrices.code_by_attribute(codings, study2, "gov_level", value="n_cases", codes=LEAVES)
plotting.attribute_bars(by_level, title="Cases with each theme, by government level")"""),
    ("md", """\
## The digital divide in the survey answers
Survey respondents carry their own attributes (area, channel, age group): does
`accessibility_digital_divide` come up more among rural respondents?"""),
    ("code", """\
survey = study2.subset([d for d in study2.doc_ids if d.startswith("ai_survey")])
area = matrices.code_by_attribute(codings.filter(doc_id=survey.doc_ids), survey, "area", value="n_cases",
                                  codes=LEAVES, margins=True)
area"""),
    ("code", """\
cooc = matrices.cooccurrence(codings, study2, level="segment", measure="count", codes=LEAVES)
plotting.cooccurrence_heatmap(cooc, title="Themes coded on the same sentence")"""),
    ("code", """\
fw = matrices.framework_matrix(codings, study2, quotes=1, codes=["efficiency_gains", "resistance_to_change",
                                                                  "language_limitations"], max_chars=140)
fw.loc[[c for c in fw.index if c.startswith("ai0")]]"""),
    ("code", """\
order = [d for d in study2.doc_ids if not d.startswith("ai_survey")]
summary = matrices.cross_case_summary(codings, study2, order=order, codes=LEAVES)
display(plotting.saturation_curve(summary, title="New themes per additional interview or focus group"))
summary.codes[["n_cases", "share_cases", "n_segments"]]"""),
    ("code", """\
# saturation by the gold (human) coding, in the same order, for comparison
gold_summary = matrices.cross_case_summary(gold, study2, order=order, codes=LEAVES)
pd.DataFrame({"machine: new codes": summary.saturation.set_index("doc_id")["n_new"],
              "gold: new codes": gold_summary.saturation.set_index("doc_id")["n_new"]})"""),
    ("code", """\
top = summary.codes["share_cases"].sort_values(ascending=False)
print("Most widespread themes (machine coding):", ", ".join(f"{c} {v:.0%}" for c, v in top.head(3).items()))
print("Least widespread:", ", ".join(f"{c} {v:.0%}" for c, v in top.tail(2).items()))
rural = area.loc["accessibility_digital_divide", "rural"], area.loc["accessibility_digital_divide", "urban"]
print(f"accessibility_digital_divide among survey respondents: {rural[0]} rural vs {rural[1]} urban answers")"""),
    ("md", """\
The themes of the paper reappear across the material: efficiency gains and service delivery
where systems work, infrastructure and data integration as implementation problems, language
limits of chatbots, and a digital divide that the survey answers place among rural respondents.
The saturation curve is flat here: in both the machine and the gold coding every theme already
appears in the first interview, because the synthetic interviews were written to exercise every
code. In real material the curve shows where further interviews stop adding themes; read it,
like any count, from a coding whose agreement with human judgement you have checked (table
above), or after review."""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["04_human_in_the_loop"] = [
    ("md", """\
# Human in the loop: teach the coder, review its suggestions, measure agreement

A researcher codes part of the material by hand; qualcode learns from it (one classifier per
code on sentence embeddings, rule hits, neighbouring sentences and position, with thresholds
chosen by cross-validation), codes the rest, and the researcher reviews, measures agreement and
adjudicates. Here the sample's gold coding plays the researcher's hand coding."""),
    ("code", SETUP + """
import tempfile

corpus = qc.read_corpus(SAMPLE)
study1 = corpus.subset([d for d in corpus.doc_ids if d.startswith("tp")])
codebook = qc.Codebook.load("../codebooks/technocratic_planning.yaml")
LEAVES = codebook.leaves
gold = qc.read_codings(SAMPLE / "gold_codings.csv", corpus).filter(doc_id=study1.doc_ids)

train_docs = study1.doc_ids[::2]           # "coded by hand" so far
test_docs = study1.doc_ids[1::2]           # still to code
train, test = study1.subset(train_docs), study1.subset(test_docs)
human = gold.filter(doc_id=train_docs)
print(f"hand-coded: {len(train_docs)} documents, {len(human)} codings; to code: {len(test_docs)} documents")"""),
    ("code", """\
SPEAKERS = ["respondent", "participant"]   # the gold codes informants' speech, not the questions
zero_shot = qc.Coder(codebook, unit="sentence", cache_dir=CACHE, progress=False)
before = zero_shot.code(test).filter(code=LEAVES, role=SPEAKERS)

learner = qc.Coder(codebook, unit="sentence", cache_dir=CACHE, progress=False)
learner.fit(train, human)
after = learner.code(test).filter(code=LEAVES, role=SPEAKERS)
learner"""),
    ("code", """\
reference = gold.filter(doc_id=test_docs)
table = pd.DataFrame({
    "zero-shot F1": reliability.agreement(reference, before, test)["f1"],
    "after fit F1": reliability.agreement(reference, after, test)["f1"],
    "zero-shot kappa": reliability.agreement(reference, before, test)["kappa"],
    "after fit kappa": reliability.agreement(reference, after, test)["kappa"],
})
table.round(2)"""),
    ("code", """\
# Krippendorff's alpha with a bootstrap confidence interval (over sentences) for the fitted coder
report = reliability.agreement_report(reference, after, test, unit="sentence")
report.loc[report["document"] == "(pooled)", ["code", "n_units", "pa", "kappa", "alpha"]].round(3)"""),
    ("code", """\
ci = reliability.bootstrap_ci(reference, after, test, statistic="alpha", n_boot=200, seed=0)
print(f"pooled alpha {ci['estimate']:.2f}, 95% bootstrap CI [{ci['low']:.2f}, {ci['high']:.2f}] over sentences")"""),
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
decision threshold)."""),
    ("code", """\
learner.next_to_code(test, n=5)"""),
    ("md", """\
## Adjudicate disagreements
The disagreement table lists every sentence the two codings treat differently, with each side's
codes, for a discussion between coders (or between the researcher and the machine)."""),
    ("code", """\
dis = reliability.disagreements(reference, after, test, unit="sentence")
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
import shutil, tempfile

corpus = qc.read_corpus(SAMPLE)
study1 = corpus.subset([d for d in corpus.doc_ids if d.startswith("tp")])
codebook = qc.Codebook.load("../codebooks/technocratic_planning.yaml")
LEAVES = codebook.leaves
coder = qc.Coder(codebook, unit="sentence", cache_dir=CACHE, progress=False)
SPEAKERS = ["respondent", "participant"]          # what informants said, not the questions
codings = coder.code(study1).filter(role=SPEAKERS)
codings"""),
    ("md", """\
## Near-misses
Respondent sentences whose embedding score for a code came close to the threshold without
reaching it: candidates for an added example, or for a sharper exclusion criterion."""),
    ("code", """\
near = qc.explore.near_misses(coder, study1, margin=0.15, role="respondent")
near.groupby("code").size().rename("near-misses").to_frame().T"""),
    ("code", """\
near[near["code"] == "discourse_space"].head(5)[["text", "score", "threshold", "nearest"]]"""),
    ("md", """\
## Uncoded material, clustered into candidate codes
Respondent sentences that received no code at all, embedded and clustered; each cluster is shown
with its most distinctive words and two example sentences."""),
    ("code", """\
clusters = qc.explore.cluster_uncoded(codings, study1, n_clusters=6, role="respondent",
                                      cache_dir=CACHE, random_state=0)
clusters[["cluster", "size", "top_terms", "examples"]]"""),
    ("md", """\
## Counterexamples from review, and a new version of the codebook
Reviewing the machine's `convergence` suggestions against the (gold) human coding shows
sentences it codes that a human did not. A researcher who agrees they are near-misses adds a
few of them to the code's `counterexamples`, bumps the version and saves a new file; we then
see what changed, in the codebook (a field-by-field diff) and in the coding."""),
    ("code", """\
gold = qc.read_codings(SAMPLE / "gold_codings.csv", corpus).filter(doc_id=study1.doc_ids)
human = gold.filter(code="convergence").to_frame()
machine = codings.filter(code="convergence", source="embedding").to_frame()

def coded_by_human(row):
    same = human[human["doc_id"] == row["doc_id"]]
    return bool(((same["start"] < row["end"]) & (same["end"] > row["start"])).any())

false_pos = machine[~machine.apply(coded_by_human, axis=1)].sort_values("score", ascending=False)
print(f"{len(machine)} embedding codings of convergence, {len(false_pos)} not coded by the human")
false_pos[["doc_id", "text", "score"]].head(5)"""),
    ("code", """\
workdir = Path(tempfile.mkdtemp())
data = codebook.to_dict()
data["version"] = "1.1.0"
picked = false_pos["text"].head(4).tolist()
for code in data["codes"]:
    if code["id"] == "convergence":
        code.setdefault("counterexamples", {}).setdefault("en", []).extend(picked)
new = qc.Codebook.from_dict(data)
new.save(workdir / "technocratic_planning_v1.1.yaml")
new.diff(codebook)[["code", "change", "field"]]"""),
    ("code", """\
print("fingerprints:", codebook.fingerprint, "->", new.fingerprint)
recoded = qc.Coder(new, unit="sentence", cache_dir=CACHE, progress=False).code(study1).filter(role=SPEAKERS)
old = set(codings.filter(code="convergence").to_frame().segment_id)
now = set(recoded.filter(code="convergence").to_frame().segment_id)
print(f"convergence: {len(old)} sentences before, {len(now)} after; {len(old - now)} dropped, {len(now - old)} added")
before = reliability.agreement(gold, codings, study1, codes=["convergence"])
after = reliability.agreement(gold, recoded, study1, codes=["convergence"])
pd.DataFrame({"v1.0.0": before.loc["convergence"], "v1.1.0": after.loc["convergence"]}).loc[
    ["predicted", "precision", "recall", "f1", "kappa"]].round(3)"""),
    ("code", """\
text_of = {r.segment_id: r.text for r in study1.segments("sentence").itertuples()}
for sid in sorted(old - now)[:6]:
    print("- dropped:", text_of.get(sid, sid)[:160])"""),
    ("md", """\
Re-coding after a codebook edit re-embeds only the codebook (the sentences come from the cache).
Note the trade-off: counterexamples taken from one's own material raise precision on *that*
material; check the change on documents the counterexamples did not come from before keeping
it, and keep both versions under version control so the diff documents the decision."""),
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
