"""stats.inverse_width_limit: 1/n extrapolation with a t interval, checked against exact data
and by coverage under its own model (Monte Carlo)."""

import numpy as np
import pytest

from ntkutils.stats import inverse_width_limit


def test_exact_data_recovers_limit_and_coefficient() -> None:
    n = np.array([500.0, 1000.0, 2000.0, 4000.0])
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(4, 6)) * 1e-9
    fit = inverse_width_limit(n, (0.97 - 40.0 / n)[:, None] + noise, ci=0.98)
    assert fit.limit == pytest.approx(0.97, abs=1e-7)
    assert fit.coefficient == pytest.approx(-40.0, abs=1e-3)
    assert fit.ci_low < 0.97 < fit.ci_high
    assert fit.predict(1000.0) == pytest.approx(0.93, abs=1e-6)


def test_interval_covers_at_its_nominal_rate() -> None:
    rng = np.random.default_rng(1)
    n = np.array([500.0, 1000.0, 2000.0, 4000.0])
    sd = 4.0 / np.sqrt(n)                       # per-repeat noise ∝ n^{-1/2}, as for kernels
    hits = 0
    trials = 2000
    for _ in range(trials):
        v = (1.0 - 60.0 / n)[:, None] + sd[:, None] * rng.normal(size=(4, 8))
        fit = inverse_width_limit(n, v, ci=0.9)
        hits += fit.ci_low <= 1.0 <= fit.ci_high
    assert 0.87 < hits / trials < 0.93


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="widths"):
        inverse_width_limit([1.0, 2.0], np.ones((2, 3)))
    with pytest.raises(ValueError, match="vary"):
        inverse_width_limit([1.0, 2.0, 3.0], np.ones((3, 3)))


def test_log_mean_ratio_matches_closed_form_and_covers() -> None:
    from ntkutils.stats import log_mean_ratio

    r = log_mean_ratio([2.0, 2.2, 1.8], [1.0, 1.1, 0.9], ci=0.95)
    assert r.estimate == pytest.approx(np.log(2.0))
    assert r.stderr == pytest.approx(np.sqrt(2 * 0.01 / 3), rel=1e-12)  # relative variance 0.01/3 in each sample
    rng = np.random.default_rng(3)
    hits = sum(
        (lambda f: f.ci_low <= 0.0 <= f.ci_high)(log_mean_ratio(1 + 0.05 * rng.normal(size=4), 1 + 0.05 * rng.normal(size=6), ci=0.9))
        for _ in range(2000))
    assert 0.87 < hits / 2000 < 0.93
    with pytest.raises(ValueError, match="a must be 1-D"):
        log_mean_ratio([1.0], [1.0, 2.0])
