"""Ingest benchmark: read a generated >= 1M-word corpus and cut it into sentences.

Usage::

    python benchmarks/bench_ingest.py [--words 1000000] [--files 400] [--keep DIR]

Generates synthetic transcripts (mixed English / Indonesian, interviews with
timestamps and bold labels, FGD notes) in a temporary folder, then times
``read_corpus(folder)`` and ``corpus.segments("sentence")`` and prints words/s, seconds and
peak memory (``resource.getrusage`` max RSS of this process).  Target on a 2-core
machine: 1M words in <= 30 s, peak <= 1 GB.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

EN = (
    "the planning agency copies last year's program list because the ministry nomenclature "
    "decides most programs and we only adjust the targets when the budget ceiling arrives "
    "data from e-monev is checked every quarter but the musrenbang forum is mostly a formality "
    "that is what happens in our office and we think it should change soon"
).split()
ID = (
    "kami menyusun program berdasarkan nomenklatur dari kementerian dan data e-monev yang "
    "dicek setiap triwulan tetapi forum musrenbang itu hanya formalitas karena pagu anggaran "
    "sudah ditentukan sebelumnya jadi kami tidak bisa mengubah banyak hal di dinas ini"
).split()
NAMES = ["Pak Hendra", "Ibu Sari", "Dr. Wulan", "Bapak Joko", "Mbak Rina", "Mas Agus"]


def _sentence(rng: random.Random, vocab: list[str]) -> str:
    n = rng.randint(6, 22)
    words = [rng.choice(vocab) for _ in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice([".", ".", ".", "?", "!"])


def _interview(rng: random.Random, target: int, lang: str) -> tuple[str, int]:
    vocab = EN if lang == "en" else ID
    if rng.random() < 0.2:  # code-switching
        vocab = vocab + (ID if lang == "en" else EN)[:15]
    style = rng.choice(["plain", "ts", "bold"])
    name = rng.choice(NAMES)
    spk = rng.choice([("I", "R"), ("Interviewer", name), ("Pewawancara", "Narasumber")])
    lines = [f"---\nlanguage: {lang}\nregion: r{rng.randint(1, 9)}\n---\n# Interview\n"]
    words = 0
    sec = 0
    turn = 0
    while words < target:
        who = spk[turn % 2]
        n_sent = rng.randint(1, 2) if turn % 2 == 0 else rng.randint(2, 8)
        body = " ".join(_sentence(rng, vocab) for _ in range(n_sent))
        if turn % 2 and rng.random() < 0.3:
            body += "\n\n" + _sentence(rng, vocab)
        words += len(body.split())
        sec += rng.randint(5, 60)
        ts = f"[{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}] "
        if style == "ts":
            lines.append(f"{ts}{who}: {body}\n")
        elif style == "bold":
            lines.append(f"**{who}:** {body}\n")
        else:
            lines.append(f"{who}: {body}\n\n")
        turn += 1
    return "".join(lines), words


def _notes(rng: random.Random, target: int, lang: str) -> tuple[str, int]:
    vocab = EN if lang == "en" else ID
    lines = ["# FGD notes\n\n"]
    words = 0
    while words < target:
        tag = rng.choice(["P1", "P2", "P3 (farmer, 50s)", "Peserta 4", "Moderator", ""])
        body = _sentence(rng, vocab)
        words += len(body.split())
        lines.append(f"- {tag}: {body}\n" if tag else f"- {body}\n")
    return "".join(lines), words


def generate(folder: Path, total_words: int, n_files: int, seed: int = 7) -> int:
    """Write ``n_files`` transcripts totalling about ``total_words`` words; return the count."""
    rng = random.Random(seed)
    per = total_words // n_files + 1
    words = 0
    for i in range(n_files):
        lang = "id" if i % 2 else "en"
        if i % 10 == 9:
            text, n = _notes(rng, per, lang)
            name = f"fgd_{i:04d}.md"
        else:
            text, n = _interview(rng, per, lang)
            name = f"int_{i:04d}.{'md' if i % 3 == 0 else 'txt'}"
        (folder / name).write_text(text, encoding="utf-8")
        words += n
    return words


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=400)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = ap.parse_args(argv)

    from qualcode.corpus import blank_nlp
    from qualcode.readers import read_corpus

    blank_nlp("en"), blank_nlp("id")  # model loading is not part of the measurement
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        written = generate(folder, args.words, args.files)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        corpus = read_corpus(folder)
        t1 = time.perf_counter()
        seg = corpus.segments("sentence")
        t2 = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        words = int(seg["n_words"].sum())
        total = t2 - t0
        print(f"files:            {len(corpus)} ({written:,} words generated)")
        print(f"words in turns:   {words:,}")
        print(f"sentences:        {len(seg):,}")
        print(f"read_corpus:      {t1 - t0:.2f} s")
        print(f"segments:         {t2 - t1:.2f} s")
        print(f"total:            {total:.2f} s  ({words / total:,.0f} words/s)")
        print(f"peak RSS:         {peak:,.0f} MB (before reading: {rss0:,.0f} MB)")
        ok = total <= 30 * max(words, 1) / 1_000_000 and peak <= 1024
        print("target (1M words <= 30 s, peak <= 1 GB):", "met" if ok else "MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
