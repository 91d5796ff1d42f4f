"""Coding: the Coder (rules + embeddings + learning), zero-shot embedding scores, classifiers."""

from ._coder import Coder
from ._embed import BACKGROUND_TEXTS, CALIBRATION, CodePrototypes, EmbeddingMatcher, EmbeddingScores
from ._learn import segment_labels

__all__ = [
    "BACKGROUND_TEXTS",
    "CALIBRATION",
    "CodePrototypes",
    "Coder",
    "EmbeddingMatcher",
    "EmbeddingScores",
    "segment_labels",
]
