"""Helpers for users' own tests: a tiny in-memory corpus and a precomputed-vector embedder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .corpus._model import Corpus, Document, Turn

__all__ = ["PrecomputedEmbedder", "assert_matrix_equal", "build_document", "tiny_corpus"]


def build_document(
    doc_id: str,
    turns: Sequence[tuple[str, str, str]],
    *,
    language: str = "en",
    kind: str = "interview",
    case_id: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    speaker_cases: Mapping[str, str] | None = None,
) -> Document:
    """Build a Document from ``(speaker, role, text)`` triples.

    The text is written as ``"Speaker: text"`` blocks separated by blank lines, and the
    turn offsets point at the contribution (the label excluded).

    Examples:
        >>> d = build_document("d1", [("I", "interviewer", "Why?"), ("R", "respondent", "Because.")])
        >>> d.turn_text(1)
        'Because.'
    """
    parts: list[str] = []
    spans: list[Turn] = []
    pos = 0
    for speaker, role, text in turns:
        label = f"{speaker}: "
        start = pos + len(label)
        parts.append(label + text)
        spans.append(
            Turn(speaker, role, start, start + len(text), case_id=(speaker_cases or {}).get(speaker))
        )
        pos = start + len(text) + 2
    return Document(
        doc_id,
        "\n\n".join(parts) + "\n",
        case_id=case_id,
        kind=kind,
        language=language,
        attributes=attributes or {},
        turns=tuple(spans),
    )


def tiny_corpus() -> Corpus:
    """Three short documents (two English interviews, one Indonesian) with case attributes."""
    d1 = build_document(
        "int_a",
        [
            ("I", "interviewer", "How are programs chosen in your agency?"),
            (
                "R",
                "respondent",
                "Most programs are already given by the ministry nomenclature. "
                "We copy last year's list and adjust the targets.",
            ),
            ("I", "interviewer", "Do you use data?"),
            ("R", "respondent", "We check the e-monev data on budget absorption every quarter."),
        ],
    )
    d2 = build_document(
        "int_b",
        [
            ("Interviewer", "interviewer", "Does the regional head attend the planning forums?"),
            (
                "Respondent",
                "respondent",
                "The head rarely attends. He leaves everything to Bappeda.\n\n"
                "Coordination meetings happen, but nobody shares what they learn.",
            ),
        ],
    )
    d3 = build_document(
        "int_c",
        [
            ("Pewawancara", "interviewer", "Bagaimana program disusun?"),
            (
                "Narasumber",
                "respondent",
                "Programnya sudah ditentukan dari pusat lewat nomenklatur. "
                "Kami hanya menyesuaikan target dan anggaran.",
            ),
        ],
        language="id",
    )
    cases = pd.DataFrame(
        {
            "agency": ["Bappeda", "OPD Health", "Bappeda"],
            "gov_level": ["province", "city", "regency"],
        },
        index=pd.Index(["int_a", "int_b", "int_c"], name="case_id"),
    )
    return Corpus([d1, d2, d3], cases=cases)


class PrecomputedEmbedder:
    """An embedder that looks vectors up in a mapping from text to vector.

    Lets tests and notebooks reuse vectors computed once with the real model.

    Args:
        vectors: text -> 1-D float array (all of the same dimension).
        model_id: the id of the model that produced them.

    Raises:
        KeyError: ``embed`` is asked for a text it has no vector for.
    """

    def __init__(self, vectors: Mapping[str, Any], model_id: str = "precomputed"):
        self._vectors = {k: np.asarray(v, dtype=np.float32) for k, v in vectors.items()}
        self.model_id = model_id
        dims = {v.shape for v in self._vectors.values()}
        if len(dims) > 1:
            msg = f"all vectors must have the same shape. Got {sorted(dims)}."
            raise ValueError(msg)
        self.dim = next(iter(dims))[0] if dims else 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return the stored vectors of ``texts`` as a float32 array of shape (n, dim)."""
        missing = [t for t in texts if t not in self._vectors]
        if missing:
            msg = f"no precomputed vector for {len(missing)} text(s), e.g. {missing[0][:80]!r}"
            raise KeyError(msg)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32)


def assert_matrix_equal(actual: pd.DataFrame, expected: pd.DataFrame, **kwargs: Any) -> None:
    """Assert two matrices are equal in values, index and columns (names included)."""
    pd.testing.assert_frame_equal(actual, expected, check_names=True, **kwargs)
