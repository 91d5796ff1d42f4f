"""Theme matrices: nomothetic (cross-case) and ideographic (within-case) views of a Codings table.

Every function takes a :class:`~qualcode.Codings` table (human or machine) plus the
filters they all share (:class:`Selection`: ``coder=, source=, min_score=, role=,
codebook=, aggregate=, codes=``, or ``selection=`` for all at once) and returns a DataFrame
with named axes and ``attrs`` describing how it was computed (``value``, ``coder``,
``unit``, ``aggregate``...).  Counting rules follow ``METHODS.md``: a coding is one (span, code,
coder) row; coverage merges overlapping spans; parents aggregate children without double
counting.  :func:`cell` lists the codings behind any cell.
"""

from ._cell import cell
from ._common import MatrixWarning, prepare
from ._cooc import cooccurrence
from ._framework import case_profile, case_timeline, framework_matrix
from ._selection import Selection
from ._summary import CrossCaseSummary, cross_case_summary
from ._tables import case_by_code, code_by_attribute, long_table

__all__ = [
    "CrossCaseSummary",
    "MatrixWarning",
    "Selection",
    "case_by_code",
    "case_profile",
    "case_timeline",
    "cell",
    "code_by_attribute",
    "cooccurrence",
    "cross_case_summary",
    "framework_matrix",
    "long_table",
    "prepare",
]
