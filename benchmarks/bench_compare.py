"""Nomenclature comparison benchmark: recall and precision of compare_items on perturbed lists.

Usage::

    python benchmarks/bench_compare.py [--seeds 5] [--no-embed]

For each programme list of the synthetic sample (the 83 programmes of Province A and the 37
of the second pair, ``transcripts_sample/programs/``) a perturbed copy is built with a known
true matching, the way a second document names the same programmes:

* every name is rewritten: case changed, ``PROGRAM`` dropped or abbreviated (``Prog.``),
  abbreviations (``Pening.``, ``Pengemb.``, ``SDM``, ``&``...), Indonesian affix variants
  (``Peningkatan`` -> ``Meningkatkan``, ``Pengelolaan`` -> ``Mengelola``), typos (a letter
  dropped or two letters swapped), punctuation and bracketed acronyms removed;
* about 15% of the names are translated into English (they have no code then);
* half of the remaining items lose their code;
* 8 items are removed and 10 programmes that are not in the list are added;
* the order is shuffled.

``compare_items(original, perturbed)`` is run with and without embeddings (the default
multilingual model) and the script prints, per list and seed, recall (true pairs found /
true pairs) and precision (true pairs found / pairs made), the matches per method and the
time.  Goal: recall >= 95% and precision >= 95%.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "transcripts_sample" / "programs"

#: English versions of some programme names (as an English summary of the RPJMD would write them)
ENGLISH = {
    "PROGRAM PENGELOLAAN PENDIDIKAN": "Education Management Programme",
    "PROGRAM PENGEMBANGAN KURIKULUM": "Curriculum Development Programme",
    "PROGRAM PENYELENGGARAAN JALAN": "Road Management Programme",
    "PROGRAM PENANGGULANGAN BENCANA": "Disaster Management Programme",
    "PROGRAM REHABILITASI SOSIAL": "Social Rehabilitation Programme",
    "PROGRAM PERLINDUNGAN KHUSUS ANAK": "Special Child Protection Programme",
    "PROGRAM PENGAWASAN KEAMANAN PANGAN": "Food Safety Supervision Programme",
    "PROGRAM PENGENDALIAN PENDUDUK": "Population Control Programme",
    "PROGRAM APLIKASI INFORMATIKA": "Informatics Applications Programme",
    "PROGRAM PROMOSI PENANAMAN MODAL": "Investment Promotion Programme",
    "PROGRAM PENGEMBANGAN KEBUDAYAAN": "Culture Development Programme",
    "PROGRAM PEMBINAAN PERPUSTAKAAN": "Library Development Programme",
    "PROGRAM PEMASARAN PARIWISATA": "Tourism Marketing Programme",
    "PROGRAM PENYULUHAN PERTANIAN": "Agricultural Extension Programme",
    "PROGRAM PENGELOLAAN HUTAN": "Forest Management Programme",
    "PROGRAM PENGEMBANGAN EKSPOR": "Export Development Programme",
    "PROGRAM PENGELOLAAN KEUANGAN DAERAH": "Regional Financial Management Programme",
    "PROGRAM PENELITIAN DAN PENGEMBANGAN DAERAH": "Regional Research and Development Programme",
    "PROGRAM PEMBERDAYAAN SOSIAL": "Social Empowerment Programme",
    "PROGRAM PENGEMBANGAN PERMUKIMAN": "Settlement Development Programme",
    "PROGRAM PENGELOLAAN ARSIP": "Archives Management Programme",
}
ADDED = [
    "PROGRAM PENGELOLAAN PERSAMPAHAN",
    "PROGRAM PENDAFTARAN PENDUDUK",
    "PROGRAM PENCATATAN SIPIL",
    "PROGRAM PENATAAN DESA",
    "PROGRAM PENGEMBANGAN EKONOMI KREATIF",
    "PROGRAM PENGELOLAAN TAMAN HUTAN RAYA",
    "PROGRAM PEMBINAAN PEMADAM KEBAKARAN",
    "PROGRAM PENGELOLAAN PERIKANAN TANGKAP",
    "PROGRAM PENGEMBANGAN SUMBER DAYA PARIWISATA DAN EKONOMI KREATIF",
    "PROGRAM PENYELENGGARAAN PENGAWASAN",
]
ABBREV = [
    (r"\bPROGRAM\b", "Prog."), (r"\bPENINGKATAN\b", "Pening."), (r"\bPENGEMBANGAN\b", "Pengemb."),
    (r"\bPENGELOLAAN\b", "Pengel."), (r"\bSUMBER DAYA MANUSIA\b", "SDM"), (r"\bDAN\b", "&"),
    (r"\bPEMBANGUNAN\b", "Pemb."), (r"\bMASYARAKAT\b", "Masy."), (r"\bKESEHATAN\b", "Kes."),
]
AFFIX = [(r"\bPENINGKATAN\b", "MENINGKATKAN"), (r"\bPENGELOLAAN\b", "MENGELOLA"),
         (r"\bPENGEMBANGAN\b", "MENGEMBANGKAN"), (r"\bPEMBERDAYAAN\b", "MEMBERDAYAKAN"),
         (r"\bPENGENDALIAN\b", "MENGENDALIKAN"), (r"\bPENYEDIAAN\b", "MENYEDIAKAN")]


def _typo(name: str, rng: random.Random) -> str:
    words = name.split()
    long = [k for k, w in enumerate(words) if len(w) >= 7 and w.isalpha()]
    if not long:
        return name
    k = rng.choice(long)
    w = words[k]
    i = rng.randrange(1, len(w) - 2)
    words[k] = w[:i] + w[i + 1 :] if rng.random() < 0.5 else w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    return " ".join(words)


def perturb_name(name: str, rng: random.Random) -> str:
    out = name
    ops = rng.sample(["abbrev", "affix", "typo", "punct", "drop_program"], k=rng.randint(1, 3))
    if "punct" in ops:
        out = re.sub(r"\s*\([^)]*\)", "", out).replace(",", "")
    if "affix" in ops:
        for pat, rep in AFFIX:
            out = re.sub(pat, rep, out)
    if "abbrev" in ops:
        for pat, rep in rng.sample(ABBREV, k=3):
            out = re.sub(pat, rep, out)
    if "drop_program" in ops:
        out = re.sub(r"^PROGRAM\s+", "", out)
    if "typo" in ops:
        out = _typo(out, rng)
    style = rng.choice(["upper", "title", "lower", "sentence"])
    if style == "title":
        out = out.title()
    elif style == "lower":
        out = out.lower()
    elif style == "sentence":
        out = out[:1].upper() + out[1:].lower()
    return out


def perturbed_copy(items: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, set[tuple[int, int]]]:
    """``(perturbed items, true pairs (row in items, row in perturbed))``."""
    rng = random.Random(seed)
    keep = sorted(rng.sample(range(len(items)), k=len(items) - min(8, len(items) // 5)))
    rows = []
    for i in keep:
        code, name = items.at[i, "item_code"], items.at[i, "item_name"]
        if name in ENGLISH and rng.random() < 0.8:
            rows.append({"item_code": None, "item_name": ENGLISH[name], "true": i})
            continue
        rows.append({"item_code": code if rng.random() < 0.5 else None,
                     "item_name": perturb_name(name, rng), "true": i})
    present = set(items["item_name"])
    for name in ADDED:
        if name not in present:
            rows.append({"item_code": None, "item_name": perturb_name(name, rng), "true": -1})
    rng.shuffle(rows)
    frame = pd.DataFrame(rows)
    truth = {(int(r.true), j) for j, r in enumerate(frame.itertuples()) if r.true >= 0}
    return frame[["item_code", "item_name"]], truth


def score(cmp, truth: set[tuple[int, int]]) -> tuple[float, float]:
    made = {(int(r.a_row), int(r.b_row)) for r in cmp.matches.itertuples()}
    hit = len(made & truth)
    return hit / len(truth), (hit / len(made) if made else 1.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--no-embed", action="store_true", help="skip the embedding runs")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from qualcode.documents import compare_items

    lists = {
        "province (83)": pd.read_csv(PROGRAMS / "province_programs.csv", dtype=str),
        "province B (37)": pd.read_csv(PROGRAMS / "province_b_programs.csv", dtype=str),
    }
    embedder = None
    if not args.no_embed:
        from qualcode.backends import get_embedder

        embedder = get_embedder()
        embedder.embed(["warm-up"])
    modes = [("no embedding", False)] + ([] if args.no_embed else [("with embedding", True)])
    totals: dict[str, list[float]] = {}
    print(f"{'list':16} {'seed':>4} {'mode':15} {'true':>5} {'made':>5} {'recall':>7} {'precision':>9} "
          f"{'time s':>7}  matches per method")
    for lname, frame in lists.items():
        items = frame.rename(columns={"code": "item_code", "program_name": "item_name"})
        for seed in range(args.seeds):
            other, truth = perturbed_copy(items, seed)
            for mode, embed in modes:
                t = time.perf_counter()
                cmp = compare_items(items, other, embed=embed, embedder=embedder)
                dt = time.perf_counter() - t
                rec, prec = score(cmp, truth)
                totals.setdefault(mode, []).extend([rec, prec])
                totals.setdefault(mode + " recall", []).append(rec)
                totals.setdefault(mode + " precision", []).append(prec)
                per = {k: int(v) for k, v in cmp.by_method().items() if v}
                print(f"{lname:16} {seed:>4} {mode:15} {len(truth):>5} {len(cmp.matches):>5} "
                      f"{rec:7.1%} {prec:9.1%} {dt:7.2f}  {per}")
    print()
    for mode, _ in modes:
        r = totals[mode + " recall"]
        p = totals[mode + " precision"]
        print(f"{mode:15}: mean recall {sum(r) / len(r):.1%} (min {min(r):.1%}), mean precision "
              f"{sum(p) / len(p):.1%} (min {min(p):.1%}); goal >= 95% each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
