"""Summary statistics shared by the evaluations and the benchmarks, so their figures agree."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-quantile (0 to 1), interpolating linearly between ranks; None when empty.

    The same definition as numpy's default and ``statistics.quantiles(method="inclusive")``,
    so p50 is the median and p100 the maximum.
    """
    if not 0 <= q <= 1:
        raise ValueError(f"q must be in [0, 1], got {q}")
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def percentiles_ms(values: Sequence[float], *qs: float, digits: int = 2) -> dict[str, float]:
    """``{"p50_ms": …}`` for each quantile of a non-empty list of milliseconds, rounded."""
    if not values:
        raise ValueError("no values to summarise")
    out: dict[str, float] = {}
    for q in qs:
        value = percentile(values, q)
        assert value is not None
        out[f"p{round(q * 100)}_ms"] = round(value, digits)
    return out
