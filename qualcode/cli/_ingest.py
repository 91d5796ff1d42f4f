"""``qualcode ingest``: read transcripts, print a summary, optionally write the segments.

The summary gives each PDF's number of pages; the segments of PDF sources carry the pages
they are on (``page``, ``page_end``).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from ..readers._registry import formats_help

__all__ = ["register", "run"]


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (argparse turns the ValueError into a usage error)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"must be a whole number >= 1. Got {text!r} instead."
        raise argparse.ArgumentTypeError(msg)
    return value


def register(subparsers: Any) -> None:
    """Add the ``ingest`` subcommand."""
    p = subparsers.add_parser(
        "ingest",
        help="read transcripts and print a summary (optionally write the segments)",
        description=(
            "Read transcripts, notes, caption files and response tables and print one summary "
            "line per document."
        ),
        epilog=f"formats (by file suffix):\n{formats_help()}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    p.add_argument("--segments", metavar="OUT.csv", help="write the segments table here")
    p.add_argument(
        "--unit", default="sentence", choices=["sentence", "turn", "paragraph", "window"]
    )
    p.add_argument("--window", type=positive_int, default=3, help="sentences per window (--unit window)")
    p.add_argument("--strict", action="store_true", help="stop at the first bad file")
    p.add_argument("--pseudonyms", metavar="MAP", help="name,pseudonym CSV or YAML mapping")
    p.add_argument("--language", metavar="xx", help="language when metadata names none")
    p.add_argument("--sidecar", metavar="CASES", help="case sidecar (default: cases.csv in the folder)")
    p.add_argument("--text-column", metavar="C", help="text column of .csv/.xlsx tables")
    p.add_argument("--id-column", metavar="C", help="id column of .csv/.xlsx tables")
    p.add_argument("--force", action="store_true", help="overwrite an existing --segments file")
    p.set_defaults(func=run)


def _table(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``qualcode ingest``; return the exit status."""
    from .._io import write_csv
    from ..codings._pages import page_columns
    from ..errors import ExportError, IngestWarning
    from ..readers import page_starts, read_corpus

    if args.segments and not args.force:
        from pathlib import Path

        if Path(args.segments).exists():
            msg = f"{args.segments} already exists; refusing to overwrite it (pass --force)."
            raise ExportError(msg)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IngestWarning)
        corpus = read_corpus(
            args.paths,
            strict=args.strict,
            sidecar=args.sidecar,
            language=args.language,
            text_column=args.text_column,
            id_column=args.id_column,
            pseudonyms=args.pseudonyms,
        )
    for w in caught:
        if issubclass(w.category, IngestWarning):
            print(f"qualcode: warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if len(corpus) == 0:
        print("qualcode: no documents found", file=sys.stderr)
        return 1
    summ = corpus.summary()
    pages = {d.doc_id: len(page_starts(d) or []) for d in corpus}
    paged = any(pages.values())  # a pages column only when some source has pages (PDF)
    header = ["doc_id", "format", "language", "kind", *(["pages"] if paged else []),
              "speakers", "turns", "sentences", "words"]
    rows = [header]
    for doc_id, r in summ.iterrows():
        rows.append(
            [str(doc_id), str(r["format"]), str(r["language"]), str(r["kind"])]
            + ([str(pages[doc_id] or "")] if paged else [])
            + [str(int(r[c])) for c in ("speakers", "turns", "sentences", "words")]
        )
    rows.append(
        [f"total ({len(summ)} documents)", "", "", ""]
        + ([str(sum(pages.values()))] if paged else [])
        + [str(int(summ[c].sum())) for c in ("speakers", "turns", "sentences", "words")]
    )
    print(_table(rows, right=set(range(4, len(header)))))
    if args.segments:
        seg = page_columns(corpus.segments(args.unit, window=args.window), corpus)
        write_csv(seg, args.segments)
        print(f"wrote {len(seg)} {args.unit} segments to {args.segments}")
    return 0
