"""Property-based tests (hypothesis) of the prediction-error models."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from local_laws import LocalWeibull
from scipy import special

import queuetheory as qt
from queuetheory.predictions.perfect import PerfectJoint

sizes = st.one_of(
    st.floats(0.2, 5.0).map(qt.Exponential),
    st.floats(0.6, 3.0).map(LocalWeibull),
)
models = st.one_of(
    st.just(qt.ExponentialPrediction()),
    st.floats(0.01, 1.0).map(qt.UniformPrediction),
    st.builds(qt.LognormalPrediction, st.floats(0.05, 1.5), st.sampled_from(["median", "mean"])),
    st.builds(lambda b, w, law: qt.BoundedMultiplicativePrediction(b, b * w, law=law),
              st.floats(0.2, 1.5), st.floats(1.0, 4.0), st.sampled_from(["uniform", "loguniform"])),
    st.builds(lambda b, w, p: qt.BoundedMultiplicativePrediction(b, b * w, law="endpoints", p=p),
              st.floats(0.2, 1.5), st.floats(1.0, 4.0), st.floats(0.0, 1.0)),
)
grids = st.lists(st.floats(1e-4, 30.0), min_size=2, max_size=8).map(lambda v: np.sort(v))


def moment(size, k):
    return 1.0 if k == 0 else size.moment(k)


@given(models, sizes, grids, st.sampled_from([0, 1, 2]))
def test_partial_moment_monotone_complementary_and_limit(model, size, y, k):
    j = model.joint(size)
    lower = j.partial_moment_y(k, y)
    upper = j.tail_moment_y(k, y)
    total = moment(size, k)
    assert np.all(np.diff(lower) >= -1e-12 * total)
    assert np.all(lower >= 0) and np.all(upper >= 0)
    np.testing.assert_allclose(lower + upper, total, rtol=1e-10)
    assert math.isclose(j.partial_moment_y(k, 1e12 * size.mean()), total, rel_tol=1e-10)
    assert j.partial_moment_y(k, math.inf) == total
    assert j.partial_moment_y(k, -1.0) == 0.0
    cdf = j.cdf_y(y)
    np.testing.assert_allclose(cdf + j.sf_y(y), 1.0, rtol=0, atol=1e-12)
    assert np.all(j.pdf_y(y) >= 0)


@given(st.floats(0.1, 10.0), st.lists(st.floats(0.0, 50.0), min_size=1, max_size=6),
       st.sampled_from([0, 1, 2]))
def test_perfect_predictions_equal_size_quantities(mean, y, k):
    size = qt.Exponential(mean)
    y = np.asarray(y)
    for pred in (qt.PerfectPrediction(), qt.UniformPrediction(0.0)):
        j = pred.joint(size)
        assert isinstance(j, PerfectJoint)
        np.testing.assert_array_equal(j.partial_moment_y(k, y), size.partial_moment(k, y))
        np.testing.assert_allclose(j.tail_moment_y(k, y) + size.partial_moment(k, y),
                                   moment(size, k), rtol=1e-13)
        np.testing.assert_array_equal(j.pdf_y(y), size.pdf(y))
        np.testing.assert_array_equal(pred.sample(1, y), y)


@given(st.lists(st.tuples(st.integers(1, 20), st.integers(0, 30)), min_size=1, max_size=40),
       st.lists(st.integers(-2, 35), min_size=1, max_size=10), st.sampled_from([0, 1, 2]),
       st.booleans())
def test_empirical_sums_match_brute_force(pairs, queries, k, strict):
    x = np.array([p[0] for p in pairs], float) / 4
    y = np.array([p[1] for p in pairs], float) / 4
    preds = qt.EmpiricalPredictions(x, y)
    j = preds.joint(preds.size_distribution)
    q = np.asarray(queries, float) / 4
    mask = (y[None, :] < q[:, None]) if strict else (y[None, :] <= q[:, None])
    expected = (x**k * mask).mean(axis=1)
    np.testing.assert_allclose(j.partial_moment_y(k, q, strict=strict), expected,
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(j.tail_moment_y(k, q, strict=strict),
                               (x**k * ~mask).mean(axis=1), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(j.cdf_y(q) + j.sf_y(q), 1.0, atol=1e-14)


@given(st.floats(0.05, 0.95), st.floats(0.05, 20.0))
def test_uniform_cdf_has_closed_form_for_exponential_sizes(alpha, y):
    """P(Y <= y) = P(X <= a) + (y E[X^-1 1(a<X<b)] - (1-α) P(a<X<b)) / (2α), X ~ Exp(1)."""
    a, b = y / (1 + alpha), y / (1 - alpha)
    e1 = special.exp1(a) - special.exp1(b)  # E[X^-1 1(a < X < b)] for X ~ Exp(1)
    p_band = math.exp(-a) - math.exp(-b)
    expected = -math.expm1(-a) + (y * e1 - (1 - alpha) * p_band) / (2 * alpha)
    j = qt.UniformPrediction(alpha).joint(qt.Exponential(1.0))
    assert math.isclose(j.cdf_y(y), expected, rel_tol=1e-9)
