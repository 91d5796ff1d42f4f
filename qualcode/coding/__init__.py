"""Coding: the Coder (rules + embeddings + learning), zero-shot embedding scores, classifiers.

The path of one ``Coder.code(corpus)`` call: :meth:`Coder.score` (rule hits from
:mod:`qualcode.rules`, zero-shot scores from :class:`EmbeddingMatcher`) gives
:class:`SegmentScores`; the decision step (``_fusion``) applies the effective thresholds
(``_thresholds``) and writes one coding per coded segment with its evidence.
"""

from ._coder import Coder
from ._embed import (
    BACKGROUND_TEXTS,
    CALIBRATION,
    REFERENCE_SAMPLE,
    CodePrototypes,
    EmbeddingMatcher,
    EmbeddingScores,
    Reference,
    reference_rows,
)
from ._finetune import FineTune, FineTuneResult, fine_tune_encoder
from ._learn import segment_labels
from ._scores import RuleScores, SegmentScores
from ._thresholds import DEFAULT_THRESHOLD, effective_thresholds

__all__ = [
    "BACKGROUND_TEXTS",
    "CALIBRATION",
    "DEFAULT_THRESHOLD",
    "CodePrototypes",
    "Coder",
    "EmbeddingMatcher",
    "EmbeddingScores",
    "FineTune",
    "FineTuneResult",
    "REFERENCE_SAMPLE",
    "Reference",
    "RuleScores",
    "SegmentScores",
    "effective_thresholds",
    "fine_tune_encoder",
    "reference_rows",
    "segment_labels",
]
