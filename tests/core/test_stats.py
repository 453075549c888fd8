"""The percentile every evaluation and benchmark reports with."""

from __future__ import annotations

import statistics

import pytest

from bot.stats import percentile, percentiles_ms


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([1.0, 2.0], 0.5) == 1.5
    assert percentile([5.0], 0.95) == 5.0
    assert percentile([], 0.5) is None
    assert percentile([4.0, 1.0, 9.0], 0) == 1.0
    assert percentile([4.0, 1.0, 9.0], 1) == 9.0


def test_percentile_agrees_with_the_inclusive_quantiles_of_the_standard_library() -> None:
    values = [0.3, 7.1, 2.2, 9.9, 4.4, 1.0, 5.5, 8.8, 3.3, 6.6, 0.1]
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    for step, cut in enumerate(cuts, 1):
        assert percentile(values, step / 20) == pytest.approx(cut)
    assert percentile(values, 0.5) == statistics.median(values)


def test_percentiles_ms_names_and_rounds_each_quantile() -> None:
    timings = [float(v) for v in range(1, 101)]
    assert percentiles_ms(timings, 0.5, 0.95, 0.99) == {
        "p50_ms": 50.5,
        "p95_ms": 95.05,
        "p99_ms": 99.01,
    }


def test_bad_quantiles_and_empty_timings_are_refused() -> None:
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0], 1.5)
    with pytest.raises(ValueError, match="no values"):
        percentiles_ms([], 0.5)
