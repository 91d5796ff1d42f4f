"""Agreement coefficients on label sequences and reliability matrices (METHODS.md §3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from .._params import Options, check_param

__all__ = ["cohen_kappa", "holsti", "krippendorff_alpha", "percent_agreement"]


def _pair(a: Sequence[Any] | np.ndarray, b: Sequence[Any] | np.ndarray, func: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(list(a), dtype=object), np.asarray(list(b), dtype=object)
    if x.shape != y.shape or x.ndim != 1:
        msg = f"{func}: a and b must be 1-D sequences of the same length. Got {x.shape} and {y.shape}."
        raise ValueError(msg)
    if len(x) == 0:
        msg = f"{func}: a and b are empty."
        raise ValueError(msg)
    return x, y


def percent_agreement(a: Sequence[Any] | np.ndarray, b: Sequence[Any] | np.ndarray) -> float:
    """Share of units on which two coders gave the same value: PA = agreements / units.

    Not corrected for chance.  At unit level a binary decision agrees both when both coders
    applied the code and when neither did.

    Args:
        a: the first coder's value per unit.
        b: the second coder's value per unit (same length).

    Returns:
        PA in [0, 1].

    Raises:
        ValueError: the sequences differ in length or are empty.

    Examples:
        >>> percent_agreement([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
        0.6
    """
    x, y = _pair(a, b, "percent_agreement")
    return float(np.mean(x == y))


def cohen_kappa(a: Sequence[Any] | np.ndarray, b: Sequence[Any] | np.ndarray) -> float:
    """Cohen's kappa for two coders on nominal data.

    κ = (p_o − p_e) / (1 − p_e), with p_e = Σ_k p_A(k)·p_B(k) from each coder's own
    marginals (the same as scikit-learn's unweighted ``cohen_kappa_score``).

    Args:
        a: the first coder's value per unit.
        b: the second coder's value per unit.

    Returns:
        κ; NaN when p_e = 1 (both coders used one and the same value everywhere), where
        κ is undefined.

    Raises:
        ValueError: the sequences differ in length or are empty.

    Examples:
        >>> round(cohen_kappa([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]), 3)
        0.091
    """
    x, y = _pair(a, b, "cohen_kappa")
    labels, inv = np.unique(np.concatenate([x, y]).astype(str), return_inverse=True)
    k = len(labels)
    xi, yi = inv[: len(x)], inv[len(x) :]
    po = float(np.mean(xi == yi))
    pa = np.bincount(xi, minlength=k) / len(x)
    pb = np.bincount(yi, minlength=k) / len(y)
    pe = float(pa @ pb)
    if np.isclose(pe, 1.0):
        return float("nan")
    return (po - pe) / (1.0 - pe)


def _alpha_nominal(values: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) from a coders × units array of codes (-1 = missing)."""
    m, n_units = values.shape
    present = values >= 0
    m_u = present.sum(axis=0)
    keep = m_u >= 2
    v, m_u = values[:, keep], m_u[keep]
    if v.size == 0:
        return float("nan")
    k = int(v.max()) + 1
    # counts n_uc: how many coders gave value c in unit u
    cnt = np.zeros((v.shape[1], k), dtype=np.float64)
    for row in v:
        ok = row >= 0
        np.add.at(cnt, (np.flatnonzero(ok), row[ok]), 1.0)
    w = 1.0 / (m_u - 1)
    # coincidences o_ck = Σ_u (n_uc n_uk − [c = k] n_uc) / (m_u − 1)
    o = (cnt * w[:, None]).T @ cnt
    o[np.diag_indices(k)] -= (cnt * w[:, None]).sum(axis=0)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    disagree_o = o.sum() - np.trace(o)
    disagree_e = n_c.sum() ** 2 - (n_c**2).sum()
    if disagree_e == 0:
        return float("nan")
    return float(1.0 - (n - 1) * disagree_o / disagree_e)


_LEVEL = [Options(str, ("nominal", "ordinal", "interval", "ratio"))]
Level = Literal["nominal", "ordinal", "interval", "ratio"]


def krippendorff_alpha(data: Any, level: Level = "nominal") -> float:
    """Krippendorff's alpha for any number of coders, with missing values.

    Args:
        data: reliability data, a coders × units array (list of lists or DataFrame with
            coders as rows); NaN or None where a coder did not code a unit.  Values may be
            numbers or strings (nominal only).
        level: ``nominal`` (own implementation, coincidence matrix as in METHODS.md),
            ``ordinal``, ``interval`` or ``ratio`` (delegated to the ``krippendorff``
            package).

    Returns:
        α; NaN when undefined (fewer than two pairable values, or a single value used
        throughout).  Units with fewer than two values are dropped.

    Raises:
        ValueError: unknown level or data that is not 2-D.

    Examples:
        >>> round(krippendorff_alpha([[1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]]), 3)
        0.095
    """
    check_param("level", level, _LEVEL, "krippendorff_alpha")  # in the body: called per table cell
    arr = np.asarray(data.to_numpy() if hasattr(data, "to_numpy") else data, dtype=object)
    if arr.ndim != 2:
        msg = f"krippendorff_alpha: data must be a coders x units 2-D array. Got shape {arr.shape}."
        raise ValueError(msg)
    flat = arr.ravel()
    missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in flat]).reshape(arr.shape)
    if level == "nominal":
        labels = {str(v) for v, mi in zip(flat, missing.ravel(), strict=True) if not mi}
        index = {lab: i for i, lab in enumerate(sorted(labels))}
        codes = np.full(arr.shape, -1, dtype=np.int64)
        codes[~missing] = [index[str(v)] for v in arr[~missing]]
        return _alpha_nominal(codes)
    import krippendorff

    num = np.where(missing, np.nan, arr).astype(float)
    try:
        return float(krippendorff.alpha(reliability_data=num, level_of_measurement=level))
    except ValueError:
        return float("nan")


def holsti(n_agree: int, n_a: int, n_b: int) -> float:
    """Holsti's index 2A / (N_A + N_B), for coders who did not code the same units.

    Args:
        n_agree: number of coding decisions both coders made identically.
        n_a: number of decisions of the first coder.
        n_b: number of decisions of the second coder.

    Returns:
        The index in [0, 1]; NaN when ``n_a + n_b == 0``.

    Examples:
        >>> holsti(8, 10, 10)
        0.8
    """
    tot = n_a + n_b
    return float("nan") if tot == 0 else 2.0 * n_agree / tot
