"""Tests of the symbolic integration rules, the fast numerics and the time budget.

Reference values: sympy's own integrate (Meijer-G) evaluated independently,
mpmath quadrature of the integrand, and tests/reference/symbolic_reference.py.
"""

from __future__ import annotations

import time

import mpmath
import numpy as np
import pytest
import sympy as sp

from queuetheory.symbolic import numeric, rules, timeout
from queuetheory.symbolic.integral import QuadIntegral
from queuetheory.symbolic.rules import integrate, integrate_region, match_term, tidy

x, y, t = sp.symbols("x y t", positive=True)
m = sp.Symbol("m", positive=True)


def mp_quad(expr, var, lo, hi, subs, dps=35):
    """Independent check: mpmath quadrature of expr with the substitutions."""
    f = sp.lambdify(var, expr.subs(subs), modules="mpmath")
    with mpmath.workdps(dps):
        a = mpmath.mpf(sp.N(sp.sympify(lo).subs(subs), dps))
        b = mpmath.inf if hi == sp.oo else mpmath.mpf(sp.N(sp.sympify(hi).subs(subs), dps))
        # t = a + u^2 removes endpoint singularities such as t^(-1/2) at the lower limit
        ub = mpmath.inf if b == mpmath.inf else mpmath.sqrt(b - a)
        val = mpmath.quad(lambda u: 2 * u * f(a + u * u), [0, 1, ub] if ub > 1 else [0, ub])
        return sp.Float(val, dps)


# ------------------------------------------------------------------ master integral
@pytest.mark.parametrize("n", [-1, 0, 1, 2, 3])
def test_master_integral_derives_besselk(n):
    r = integrate(x**n * sp.exp(-x - y / x), x, 0, sp.oo, fallback=False)
    expected = 2 * y ** sp.Rational(n + 1, 2) * sp.besselk(n + 1, 2 * sp.sqrt(y))
    assert sp.simplify(r - expected) == 0
    assert not r.has(sp.Integral)


@pytest.mark.parametrize("n", [-1, 0, 2])
def test_master_integral_equals_sympy_meijerg_at_35_digits(n):
    """formulas.md §9 'Symbolic note': sympy returns Meijer-G; compare at 35 digits."""
    r = integrate(x**n * sp.exp(-x - y / x), x, 0, sp.oo, fallback=False)
    mg = timeout.call_with_budget(sp.integrate, x**n * sp.exp(-x - y / x), (x, 0, sp.oo),
                                  budget=60)
    assert mg.has(sp.meijerg) and not mg.has(sp.Integral)
    for yv in (sp.Rational(3, 10), sp.Rational(17, 10)):
        a = sp.N(r.subs(y, yv), 40)
        b = sp.N(mg.subs(y, yv), 40)
        assert abs(a - b) < sp.Float(10) ** -35 * abs(b)


def test_master_integral_with_scale_parameter():
    """∫ x^n e^{-x/m - y/x} dx = 2 (m y)^{(n+1)/2} K_{n+1}(2 sqrt(y/m))."""
    r = integrate(x**2 * sp.exp(-x / m - y / x), x, 0, sp.oo, fallback=False)
    expected = 2 * (m * y) ** sp.Rational(3, 2) * sp.besselk(3, 2 * sp.sqrt(y / m))
    vals = {m: sp.Rational(5, 2), y: sp.Rational(7, 10)}
    assert abs(sp.N((r - expected).subs(vals), 30)) < 1e-28
    ref = mp_quad(x**2 * sp.exp(-x / m - y / x), x, 0, sp.oo, vals)
    assert abs(sp.N(r.subs(vals), 30) - ref) < 1e-25


# ------------------------------------------------------------------ other rules
@pytest.mark.parametrize("expr, lo, hi, rule", [
    (x**3 * sp.exp(-2 * x), 0, y, "poly-exp"),
    (x**2 * sp.exp(-x / m), y, sp.oo, "poly-exp"),
    (sp.exp(-x) / x, y, 3 * y, "expint"),
    (sp.exp(-x) / x**2, y, sp.oo, "expint"),
    (sp.sqrt(x) * sp.exp(-x), y, sp.oo, "gamma"),
    (x**sp.Rational(-7, 2), 1, sp.oo, "power"),
    (x**-3 * sp.exp(-y / x), 1, sp.oo, "inversion+poly-exp"),
    (sp.exp(-sp.sqrt(2) * sp.sqrt(x)) / sp.sqrt(x), 0, y, "substitution u = t^1/2"),
])
def test_rules_agree_with_quadrature(expr, lo, hi, rule):
    steps: list = []
    r = integrate(expr, x, lo, hi, fallback=False, trace=steps)
    assert not r.has(sp.Integral), r
    assert any(s.rule == rule for s in steps), [s.rule for s in steps]
    vals = {y: sp.Rational(13, 10), m: sp.Rational(3, 2)}
    got = sp.N(r.subs(vals), 30)
    ref = mp_quad(expr, x, lo, hi, vals)
    assert abs(got - ref) <= 1e-25 * abs(ref)


def test_unmatched_term_stays_unevaluated_integral():
    lam = sp.Symbol("lambda", positive=True)
    expr = 1 / (1 - lam * (1 - (1 + x) * sp.exp(-x)))
    r = integrate(expr, x, 0, y, fallback=False)
    assert isinstance(r, QuadIntegral)
    val = sp.N(r.subs({lam: sp.Rational(1, 2), y: 2}), 25)
    ref = mp_quad(expr, x, 0, 2, {lam: sp.Rational(1, 2)})
    assert abs(val - ref) < 1e-22


def test_incomplete_bessel_is_not_sent_to_sympy():
    """t^n e^{-t - y/t} on a finite interval matches the normal form but no rule: no fallback."""
    before = timeout.stats["calls"]
    r = integrate(x**2 * sp.exp(-x - y / x), x, 0, y, fallback=True)
    assert isinstance(r, QuadIntegral)
    assert timeout.stats["calls"] == before


def test_fallback_result_is_spot_checked_and_accepted():
    """A term no rule matches (cos) goes to sympy.integrate under the budget."""
    steps: list = []
    r = integrate(sp.cos(x) * sp.exp(-x), x, 0, sp.oo, fallback=True, budget=30, trace=steps)
    assert not r.has(sp.Integral)
    assert r == sp.Rational(1, 2)
    assert steps and steps[-1].rule == "sympy.integrate"


def test_match_term_normal_form():
    mt = match_term(3 * x**2 * sp.exp(-x) * sp.exp(-y / x) * sp.exp(-1), x)
    assert (mt.coeff, mt.n, mt.alpha, mt.beta, mt.gamma) == (3 * sp.exp(-1), 2, -1, -y, 0)
    assert match_term(sp.besselk(0, x), x) is None


def test_integrate_region_splits_and_matches_double_integral():
    """Uniform(1/2) prediction SPRPT old-job term vs an independent 2-D quadrature."""
    a = sp.Rational(1, 2)
    s = sp.Symbol("s", positive=True)
    expr = (s - t + y) ** 2 * sp.exp(-s) / (2 * a * s)
    r = tidy(integrate_region(expr, t, [y, (1 - a) * s], [y + s, (1 + a) * s], s, 0, sp.oo, y))
    assert r.has(sp.expint) and not r.has(sp.Integral)
    with mpmath.workdps(20):
        yv = mpmath.mpf("0.7")
        a = mpmath.mpf(1) / 2
        def inner(sv):
            lo = max(yv, (1 - a) * sv)
            hi = min(yv + sv, (1 + a) * sv)
            if hi <= lo:
                return mpmath.mpf(0)
            return mpmath.quad(lambda tv: (sv - tv + yv) ** 2 / (2 * a * sv), [lo, hi])
        pts = [yv / (1 + a), yv / (1 - a), yv / a, mpmath.inf]
        ref = sp.Float(mpmath.quad(lambda sv: mpmath.exp(-sv) * inner(sv), pts), 20)
    got = sp.N(r.subs(y, sp.Rational(7, 10)), 30)
    assert abs(got - ref) < 1e-17


def test_tidy_collects_bessel_terms():
    e = 2 * y * sp.besselk(3, x) - 4 * sp.exp(-1) * y * sp.besselk(3, x)
    assert tidy(e) == 2 * y * (1 - 2 * sp.exp(-1)) * sp.besselk(3, x)


# ----------------------------------------------------------------------- numerics
@pytest.mark.parametrize("dps", [15, 40])
def test_fast_besselk_matches_mpmath(dps):
    with mpmath.workdps(dps):
        for n in range(5):
            for z in ("1e-8", "0.05", "0.9", "3.7", "11", "33", "140"):
                zz = mpmath.mpf(z)
                with mpmath.workdps(dps + 15):
                    ref = mpmath.besselk(n, zz)
                got = numeric.besselk_mp(n, zz)
                assert abs(got / ref - 1) < mpmath.mpf(10) ** (2 - dps)


def test_quad_integral_evalf_fast_and_accurate():
    expr = QuadIntegral(sp.besselk(0, 2 * sp.sqrt(y)), (y, 0, sp.oo))
    start = time.perf_counter()
    val = sp.N(expr, 30)
    assert time.perf_counter() - start < 10
    assert abs(val - sp.Rational(1, 2)) < 1e-29  # ∫_0^∞ K0(2√y) dy = 1/2 (f_Y/2)


def test_quad_integral_prints_like_integral():
    q = QuadIntegral(sp.exp(-t), (t, 0, sp.oo))
    assert sp.latex(q) == sp.latex(sp.Integral(sp.exp(-t), (t, 0, sp.oo)))
    assert q.doit() == 1


def test_compile_expr_nested_numpy_and_mpmath():
    inner = QuadIntegral(sp.exp(-x * t), (x, 0, 1))
    outer = QuadIntegral(inner * sp.exp(-t), (t, 0, sp.oo))
    f_np = numeric.compile_expr(outer, [], module="numpy")
    f_mp = numeric.compile_expr(outer, [], module="mpmath")
    # ∫_0^∞ e^{-t} (1 - e^{-t})/t dt = log 2
    assert abs(f_np() - np.log(2)) < 1e-11
    with mpmath.workdps(15):
        assert abs(f_mp() - mpmath.log(2)) < mpmath.mpf(10) ** -12


# ------------------------------------------------------------------------ timeout
def _sleep_and_return(seconds: float, value: int) -> int:
    time.sleep(seconds)
    return value


def _raise() -> None:
    raise ValueError("boom")


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_budget_returns_fallback_on_timeout(mode):
    start = time.perf_counter()
    out = timeout.call_with_budget(_sleep_and_return, 30, 1, budget=0.5, fallback="late",
                                   mode=mode)
    assert out == "late"
    assert time.perf_counter() - start < 10


def test_budget_returns_result_and_raises_without_fallback():
    assert timeout.call_with_budget(_sleep_and_return, 0, 7, budget=30) == 7
    with pytest.raises(timeout.BudgetExceeded):
        timeout.call_with_budget(_sleep_and_return, 30, 1, budget=0.3)
    with pytest.raises(RuntimeError, match="boom"):
        timeout.call_with_budget(_raise, budget=30)
    assert timeout.call_with_budget(_raise, budget=30, fallback=None) is None


def test_configure_validates():
    from queuetheory.errors import ParameterError

    with pytest.raises(ParameterError):
        timeout.configure(mode="signal")
    with pytest.raises(ParameterError):
        timeout.configure(budget=-1)
    old = timeout.configure(budget=2.0)
    try:
        assert timeout.settings["budget"] == 2.0
    finally:
        timeout.configure(**old)


def test_rules_module_has_no_sympify_of_strings():
    from queuetheory.errors import ParameterError
    from queuetheory.symbolic.laws import exact

    with pytest.raises(ParameterError):
        exact("x**2")
    with pytest.raises(ParameterError):
        rules.integrate("exp(-x)", x, 0, 1)
    assert rules.integrate(sp.Integer(2), x, 0, 3) == 6
