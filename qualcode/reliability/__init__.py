"""Inter-coder reliability (METHODS.md §3): percent agreement, Cohen's κ, Krippendorff's α.

Units are predefined segments (sentences, paragraphs, turns or a coder run's own units).
Multi-label coding is compared as one binary decision per (unit, code).  A span coding
counts for a unit when it covers at least half of the unit or lies inside it.
``agreement_report(a, b, corpus, unit="character")`` compares NVivo's way instead: every
character of every document is a unit (source size, κ, agreement %, A and B %, not A and
not B %, disagreement %, A and not B %, B and not A % per code × document).

Unitized α (αu over character spans) is not implemented: it was not validated against a
published worked example.
"""

from ._agreement import agreement, agreement_report, bootstrap_ci, disagreements, unit_codes
from ._measures import cohen_kappa, holsti, krippendorff_alpha, percent_agreement

__all__ = [
    "agreement",
    "agreement_report",
    "bootstrap_ci",
    "cohen_kappa",
    "disagreements",
    "holsti",
    "krippendorff_alpha",
    "percent_agreement",
    "unit_codes",
]
