"""Hypothesis property tests of every size distribution over random valid parameters.

Properties (exact mathematics; the tolerances only absorb floating-point
rounding of a few ulps, never modelling error):

* F is non-decreasing and F + F̄ = 1;
* x -> E[S^k 1(S <= x)] is non-decreasing, equals E[S^k] at x = inf (also
  when E[S^k] = inf), and the remainder E[S^k] - E[S^k 1(S <= x)] is at least
  x^k P(S > x) and decreases as x grows;
* E[min(S, x)^k] <= min(x^k, E[S^k]);
* E[S^k 1(S < x)] <= E[S^k 1(S <= x)], with difference exactly x^k P(S = x)
  (zero away from atoms);
* ppf is the generalized inverse: F(ppf(q)) >= q, and F(x) >= q implies
  ppf(q) <= x.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from queuetheory import (
    BoundedPareto,
    Deterministic,
    Discrete,
    Empirical,
    Erlang,
    Exponential,
    HyperExponential,
    Lognormal,
    Pareto,
    ScipyDistribution,
    Uniform,
    Weibull,
)

# Overflow/invalid-value warnings would mean a silently wrong inf or NaN path.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

ROUND = 1e-12  # relative slack for rounding in sums of closed forms
EPS = np.finfo(float).eps


def _pos(lo: float = 0.05, hi: float = 20.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def hyperexponentials(draw):
    n = draw(st.integers(1, 4))
    w = np.array(draw(st.lists(_pos(0.05, 1.0), min_size=n, max_size=n)))
    means = draw(st.lists(_pos(0.01, 50.0), min_size=n, max_size=n))
    return HyperExponential(w / w.sum(), means)


@st.composite
def discretes(draw):
    n = draw(st.integers(1, 6))
    values = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 7.25, 10.0]),
                           min_size=n, max_size=n))
    assume(any(v > 0 for v in values))
    w = np.array(draw(st.lists(_pos(0.05, 1.0), min_size=n, max_size=n)))
    return Discrete(values, w / w.sum())


@st.composite
def empiricals(draw):
    samples = draw(st.lists(st.sampled_from([0.0, 0.25, 1.0, 1.0, 2.5, 4.0, 9.0]),
                            min_size=1, max_size=30))
    assume(any(v > 0 for v in samples))
    return Empirical(samples)


@st.composite
def bounded_paretos(draw):
    low = draw(_pos(0.01, 5.0))
    ratio = draw(st.floats(1.01, 1e4))
    return BoundedPareto(draw(_pos(0.1, 4.0)), low, low * ratio)


@st.composite
def uniforms(draw):
    low = draw(st.floats(0.0, 10.0))
    return Uniform(low, low + draw(_pos(0.01, 10.0)))


DISTS = st.one_of(
    st.builds(Exponential, _pos()),
    st.builds(Erlang, st.integers(1, 30), _pos()),
    hyperexponentials(),
    st.builds(Weibull, _pos(0.2, 5.0), _pos()),
    st.builds(Lognormal, st.floats(-3.0, 3.0), _pos(0.1, 2.5)),
    st.builds(Pareto, _pos(0.5, 5.0), _pos()),
    bounded_paretos(),
    uniforms(),
    st.builds(Deterministic, _pos()),
    discretes(),
    empiricals(),
)

# The scipy wrapper integrates its partial moments numerically: fewer draws.
SCIPY_DISTS = st.builds(lambda a, s: ScipyDistribution(scipy.stats.gamma(a, scale=s)),
                        _pos(0.5, 6.0), _pos(0.1, 5.0))


def _grid(d, qs):
    """Points spread over the bulk and both ends of the law, plus its atoms."""
    x = np.concatenate([np.asarray(d.ppf(np.asarray(qs)), dtype=float), d.atoms[0],
                        [0.0, d.support[0], d.support[1] if math.isfinite(d.support[1]) else 0.0]])
    x = x[np.isfinite(x)]
    return np.unique(np.concatenate([x, x * (1 + 1e-9)]))


QS = st.lists(st.floats(1e-6, 1 - 1e-6), min_size=1, max_size=8)


def _check_cdf(d, x, tol=4e-15):
    f = d.cdf(x)
    assert np.all(np.diff(f) >= 0)
    assert np.all(np.abs(f + d.sf(x) - 1.0) <= tol)


def _check_partial(d, x):
    for k in (0, 1, 2):
        pm = d.partial_moment(k, x)
        assert np.all(np.diff(pm) >= -ROUND * np.abs(pm[1:])), k
        full = d.moment(k) if k else 1.0
        at_inf = d.partial_moment(k, math.inf)
        if math.isinf(full):
            assert at_inf == math.inf
        else:
            assert abs(at_inf - full) <= ROUND * full
            assert np.all(pm <= full * (1 + ROUND))
            # the remainder E[S^k 1(S > x)] is at least x^k P(S > x), and it
            # decreases along x -> inf (here out to 1e150, so that x^2 stays finite)
            far = np.concatenate([x, np.geomspace(max(x.max(), 1.0), 1e150, 30)])
            rem = full - d.partial_moment(k, far)
            assert np.all(rem >= far**k * d.sf(far) * (1 - ROUND) - ROUND * full)
            assert np.all(np.diff(rem[x.size:]) <= ROUND * full)


def _check_limited(d, x):
    for k in (1, 2):
        lm = d.limited_moment(k, x)
        bound = np.minimum(x**k, d.moment(k))
        assert np.all(lm <= bound * (1 + ROUND) + 1e-300)
        assert np.all(lm >= 0)


def _check_strict(d, x):
    for k in (0, 1, 2):
        incl = d.partial_moment(k, x)
        strict = d.partial_moment(k, x, strict=True)
        assert np.all(strict <= incl * (1 + ROUND) + 1e-300)
        jump = x**k * d.pmf(x)
        assert np.allclose(incl - strict, jump, rtol=1e-12, atol=1e-14 * np.max(np.abs(incl)))


def _check_ppf(d, qs):
    q = np.asarray(qs)
    x = d.ppf(q)
    # one ulp of x moves F by eps x f(x): the round trip is exact up to that
    slack = 8 * EPS * (q + x * d.pdf(x))
    assert np.all(d.cdf(x) >= q - slack)
    # generalized inverse: nothing noticeably smaller reaches q
    if not d.has_atoms:
        below = x * (1 - 1e-9)
        assert np.all(d.cdf(below) <= q + slack)
    else:
        values, _ = d.atoms
        assert np.all(np.isin(x, values))
        prev = np.searchsorted(values, x) - 1
        smaller = values[np.maximum(prev, 0)]
        assert np.all((prev < 0) | (d.cdf(smaller) < q))


@given(DISTS, QS)
def test_cdf_monotone_and_complement(d, qs):
    _check_cdf(d, _grid(d, qs))


@given(DISTS, QS)
def test_partial_moments_monotone_and_converge(d, qs):
    _check_partial(d, _grid(d, qs))


@given(DISTS, QS)
def test_limited_moment_bounded(d, qs):
    _check_limited(d, _grid(d, qs))


@given(DISTS, QS)
def test_strict_vs_inclusive_differ_only_at_atoms(d, qs):
    _check_strict(d, _grid(d, qs))


@given(DISTS, QS)
def test_ppf_is_generalized_inverse(d, qs):
    _check_ppf(d, qs)


@settings(max_examples=8)  # each example runs several batched quadratures (~0.3 s)
@given(SCIPY_DISTS, st.lists(st.floats(1e-4, 1 - 1e-4), min_size=1, max_size=4))
def test_scipy_wrapper_properties(d, qs):
    x = _grid(d, qs)
    _check_cdf(d, x, tol=2e-14)  # scipy's gamma cdf and sf are accurate to ~1e-15 each
    _check_partial(d, x)
    _check_limited(d, x)
    _check_strict(d, x)
    _check_ppf(d, qs)


@given(DISTS, st.integers(0, 2**32 - 1))
def test_sampling_reproducible_and_in_support(d, seed):
    a = d.sample(seed, 50)
    assert np.array_equal(a, d.sample(np.random.default_rng(seed), 50))
    lo, hi = d.support
    assert np.all((a >= lo) & (a <= hi))
