"""``qualcode evaluate``: agreement of a coding (machine or human) with a reference coding."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..errors import CodingsError

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  qualcode evaluate results/codings.csv transcripts_sample/gold_codings.csv --corpus transcripts_sample/ \
      --codebook codebooks/technocratic_planning.yaml
  qualcode evaluate coder_b.csv coder_a.csv --corpus data/ --unit paragraph --out agreement.csv \\
      --disagreements to_adjudicate.csv
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    p = sub.add_parser(
        "evaluate",
        help="agreement (precision, recall, F1, kappa, alpha) of codings with a reference",
        description=(
            "Compare CODINGS with a REFERENCE coding of the same corpus, one binary decision per "
            "(segment, code): per-code precision, recall, F1, Cohen's kappa, Krippendorff's alpha "
            "and percent agreement, plus a pooled row."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("codings", type=Path, help="codings to evaluate (CSV/XLSX: doc_id,start,end,code...)")
    p.add_argument("reference", type=Path, help="the reference coding (CSV/XLSX)")
    p.add_argument("--corpus", type=Path, required=True, help="folder or file the codings refer to")
    p.add_argument("--unit", default="sentence", choices=["sentence", "paragraph", "turn"],
                   help="unit of comparison (default: sentence)")
    p.add_argument("--codes", nargs="+", help="only these codes (default: every code used)")
    p.add_argument("--codebook", type=Path,
                   help="only the leaf codes of this codebook (when REFERENCE covers more codes)")
    p.add_argument("--coder", help="only the codings of this coder in CODINGS")
    p.add_argument("--reference-coder", help="only the codings of this coder in REFERENCE")
    p.add_argument("--all-documents", action="store_true",
                   help="compare on every document of the corpus, not only those the reference coded")
    p.add_argument("--out", type=Path, help="write the agreement table to this CSV")
    p.add_argument("--disagreements", type=Path, help="write the units coded differently to this CSV")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``qualcode evaluate``."""
    import qualcode as qc
    from qualcode import reliability

    codes = args.codes
    if args.codebook:
        leaves = qc.Codebook.load(args.codebook).leaves
        codes = [c for c in codes if c in leaves] if codes else leaves
    corpus = qc.read_corpus(args.corpus)
    other = qc.read_codings(args.codings, corpus)
    reference = qc.read_codings(args.reference, corpus)
    if args.coder:
        other = other.filter(coder=args.coder)
    if args.reference_coder:
        reference = reference.filter(coder=args.reference_coder)
    if codes:
        reference = reference.filter(code=codes)
    for name, table in (("CODINGS", other), ("REFERENCE", reference)):
        if not len(table):
            msg = (f"{name} has no codings left to compare (check --coder, --reference-coder, "
                   "--codes and --codebook).")
            raise CodingsError(msg)
    if not args.all_documents:
        # documents the reference never looked at would only add agreed-upon negatives
        corpus = corpus.subset(d for d in corpus.doc_ids if d in set(reference.doc_ids))
        other = other.filter(doc_id=corpus.doc_ids)
    table = reliability.agreement(reference, other, corpus, unit=args.unit, codes=codes)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(f"Agreement of {args.codings} with {args.reference} ({len(table) - 1} codes, "
              f"{table.attrs.get('n_units', '?')} {args.unit} units)")
        print(table.round(3).to_string())
    if args.out:
        from .._io import atomic_path

        with atomic_path(args.out, overwrite=args.force) as tmp:
            table.to_csv(tmp)
        print(f"wrote {args.out}")
    if args.disagreements:
        from .._io import write_csv

        dis = reliability.disagreements(reference, other, corpus, unit=args.unit, codes=codes)
        write_csv(dis, args.disagreements, overwrite=args.force)
        print(f"wrote {args.disagreements} ({len(dis)} units to adjudicate)")
    return 0
