"""The adaptive Gauss-Kronrod integrator: exactness, honest error estimates, edge cases."""

import math
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from queuetheory.errors import IntegrationError
from queuetheory.integrate import _NODES, _WG_FULL, _WK, Estimate, IntegrationWarning, quad


def test_rule_weights_integrate_polynomials_exactly():
    # Kronrod 21 is exact to degree 31, the embedded Gauss 10 to degree 19.
    for d in range(32):
        exact = (1 - (-1) ** (d + 1)) / (d + 1)
        assert abs(np.dot(_WK, _NODES**d) - exact) < 1e-14
        if d < 20:
            assert abs(np.dot(_WG_FULL, _NODES**d) - exact) < 1e-14


CASES = [
    # (integrand, a, b, points, exact by mpmath)
    (lambda x: np.exp(-x), 0.0, np.inf, None, lambda: mpmath.mpf(1)),
    (lambda x: 1 / np.sqrt(x), 0.0, 1.0, None, lambda: mpmath.mpf(2)),
    (lambda x: np.log(x), 0.0, 1.0, None, lambda: mpmath.mpf(-1)),
    (lambda x: 1 / (1 + x**2), 0.0, np.inf, None, lambda: mpmath.pi / 2),
    (lambda x: np.abs(x - 0.3), 0.0, 1.0, [0.3], lambda: mpmath.mpf("0.29")),
    (lambda x: np.exp(-x) / (1 - 0.999 * (1 - (1 + x) * np.exp(-x))), 0.0, np.inf, None,
     lambda: mpmath.quad(lambda t: mpmath.exp(-t) / (1 - mpmath.mpf("0.999")
                                                      * (1 - (1 + t) * mpmath.exp(-t))),
                         [0, 1, 10, 100, mpmath.inf])),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_known_integrals_with_honest_error(case):
    f, a, b, pts, exact = CASES[case]
    mpmath.mp.dps = 30
    ref = float(exact())
    est = quad(f, a, b, points=pts, rtol=1e-11)
    actual = abs(est.value - ref)
    assert actual <= max(est.error, 1e-15 * abs(ref)), (est, ref)
    assert est.error <= 1e-10 * abs(ref)


def test_vector_integrand_shares_subdivision():
    ests = quad(lambda x: np.stack([np.exp(-x), x * np.exp(-x), x**2 * np.exp(-x)], axis=1),
                0.0, np.inf)
    assert [round(e.value, 12) for e in ests] == [1.0, 1.0, 2.0]


def test_nonfinite_integrand_raises():
    with pytest.raises(IntegrationError, match="not finite"):
        quad(lambda x: np.where(x > 0.5, np.nan, 1.0), 0.0, 1.0)


def test_bad_limits_raise():
    with pytest.raises(IntegrationError, match="lower limit"):
        quad(np.exp, -np.inf, 0.0)
    with pytest.raises(IntegrationError, match="upper limit"):
        quad(np.exp, 1.0, 0.0)


def test_heavy_tail_warns_instead_of_lying():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est = quad(lambda t: 0.5 * t**-1.5, 1.0, np.inf, rtol=1e-12)
    assert any(issubclass(r.category, IntegrationWarning) for r in rec)
    assert abs(est.value - 1.0) <= est.error


def test_overflowing_tail_nodes_are_zero():
    est = quad(lambda t: 1.5 * t**-2.5, 1.0, np.inf, rtol=1e-10)
    assert abs(est.value - 1.0) <= max(est.error, 1e-14)


def test_estimate_arithmetic():
    e = Estimate(1.0, 0.1) + Estimate(2.0, 0.2) - 0.5
    assert e == Estimate(2.5, 0.1 + 0.2)
    assert (2 * e).error == pytest.approx(0.6)
    assert Estimate(0.0, 0.0).relative_error == 0.0
    assert math.isinf(Estimate(0.0, 1.0).relative_error)
    assert float(e) == 2.5


@given(st.floats(0.3, 5.0), st.floats(0.1, 10.0))
def test_gamma_integrals_match_closed_form(shape, scale):
    # Endpoint singularities x^(shape-1) down to x^-0.7; stronger ones must be substituted away
    # (documented in queuetheory.integrate), as the formulas do for log singularities.
    from scipy.special import gamma

    est = quad(lambda x: x ** (shape - 1) * np.exp(-x / scale), 0.0, np.inf, rtol=1e-10,
               tail_scale=scale, warn=False)
    ref = gamma(shape) * scale**shape
    assert abs(est.value - ref) <= max(est.error, 1e-13 * ref) * 1.0001
