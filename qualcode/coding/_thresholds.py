"""The effective threshold of a code: decided here, and only here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["DEFAULT_THRESHOLD", "effective_thresholds"]

#: Threshold on the calibrated embedding score when neither the code nor the Coder sets one.
DEFAULT_THRESHOLD = 0.5


def effective_thresholds(
    codebook: Any,
    codes: Sequence[str],
    *,
    default: float | None = None,
    learned: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The threshold each code's calibrated embedding score must reach: the one place it is decided.

    In order of precedence: a threshold learned by ``fit`` (``learned``), the code's own
    ``embedding.threshold`` in the codebook, the Coder's ``threshold`` (``default``), and
    :data:`DEFAULT_THRESHOLD`.

    Args:
        codebook: the codebook (codes not in it get the default).
        codes: the codes to give a threshold.
        default: the Coder's ``threshold`` parameter.
        learned: thresholds raised by ``fit``.

    Returns:
        ``{code: threshold}``.
    """
    out: dict[str, float] = {}
    for c in codes:
        own = _own_threshold(codebook, c)
        if own is not None:
            out[c] = float(own)
        elif default is not None:
            out[c] = float(default)
        else:
            out[c] = DEFAULT_THRESHOLD
    if learned:
        out.update({c: float(t) for c, t in learned.items() if c in out})
    return out


def _own_threshold(codebook: Any, code: str) -> float | None:
    """The code's ``embedding.threshold`` in the codebook (None when it sets none)."""
    try:
        settings = codebook[code].embedding
    except (KeyError, TypeError, AttributeError):
        return None
    value = settings.get("threshold") if isinstance(settings, Mapping) else getattr(settings, "threshold", None)
    return None if value is None else float(value)
