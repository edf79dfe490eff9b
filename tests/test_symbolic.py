"""Tests of queuetheory.symbolic: derived closed forms, identities, agreement with the engine.

Independent references:
* tests/reference/symbolic_reference.py (plain mpmath from the definitions and the
  hand-typed formulas of formulas.md §9), values pasted below;
* exact special cases (formulas.md §2.6, §2.7, §5.3);
* the numeric engine (``policy.evaluate``, quadrature), at 1e-10 relative.
"""

from __future__ import annotations

import time

import mpmath
import numpy as np
import pytest
import sympy as sp

import queuetheory as qt
from queuetheory.errors import ParameterError, UnstableError
from queuetheory.symbolic import Blocks, SymbolicResult
from queuetheory.symbolic.laws import (
    SymbolicExponential,
    SymbolicExponentialPrediction,
    SymbolicUniformPrediction,
    SymbolicWorkload,
)

lam = sp.Symbol("lambda", positive=True)
y = sp.Symbol("y", positive=True)
K = sp.besselk
r2 = 2 * sp.sqrt(y)

# tests/reference/symbolic_reference.py (40-digit mpmath, definitions / §9 by hand)
REF_FY = {sp.Rational(3, 10): "0.73586583258008626765225920028",
          sp.Rational(17, 10): "0.109798451788692759204557133972"}
REF_M2P = {sp.Rational(3, 10): "0.264569829526242403399148173768",
           sp.Rational(17, 10): "1.00273372081401055674849416256"}
REF_OLD = {sp.Rational(3, 10): "0.458572007861863942200928906466",
           sp.Rational(17, 10): "0.263518756213858688115823867133"}
REF_UNIFORM_FY = {sp.Rational(3, 10): "0.768271040994490980178784338637",
                  sp.Rational(17, 10): "0.168325727194474889787225366038"}
REF_SPRPT_08 = "3.13752398913752279650325885046"
REF_SPJF_08 = "3.37578637248441689707309042241"
REF_SRPT_07 = "1.87456668960064189771805345578"


EXP_PRED = qt.ExponentialPrediction()


def exp_workload(pred=EXP_PRED, rate=lam):
    return qt.Workload(rate, qt.Exponential(1.0), pred)


@pytest.fixture(scope="module")
def exp_blocks():
    return Blocks(exp_workload())


def close(a, b, tol):
    a, b = sp.Float(a, 40), sp.Float(b, 40)
    return abs(a - b) <= tol * abs(b)


# ----------------------------------------------------------- §9 building blocks
def test_section9_blocks_are_derived_in_closed_form(exp_blocks):
    b = exp_blocks
    table = {
        "f_Y": (b.pdf_y(y), 2 * K(0, r2)),
        "P(Y>y)": (b.sf_y(y), 2 * sp.sqrt(y) * K(1, r2)),
        "m1": (b.m1_y(y), 2 * sp.sqrt(y) * K(1, r2)),
        "E[S 1(Y>y)]": (b.moment_above_y(1, y), 2 * y * K(2, r2)),
        "rho'": (b.load_below_y(y), lam * (1 - 2 * y * K(2, r2))),
        "E[S^2 1(Y>y)]": (b.moment_above_y(2, y), 2 * y ** sp.Rational(3, 2) * K(3, r2)),
        "M2'": (b.moment_below_y(2, y), 2 - 2 * y ** sp.Rational(3, 2) * K(3, r2)),
        "old": (b.old_sprpt(y), (1 - 2 / sp.E) * 2 * y ** sp.Rational(3, 2) * K(3, r2)),
    }
    for name, (derived, expected) in table.items():
        assert not derived.has(sp.Integral), name
        assert sp.expand(derived - expected) == 0, (name, derived)


def test_trail_size_old_term_matches_section9(exp_blocks):
    """§9: E[max(S − Y + y, (1 − C)S)² 1(Y > y)] = (1 − 2C e^{−C})·2y^{3/2}K₃(2√y)."""
    c = sp.Rational(1, 3)
    got = exp_blocks.old_trail_size(y, c)
    expected = (1 - 2 * c * sp.exp(-c)) * 2 * y ** sp.Rational(3, 2) * K(3, r2)
    assert sp.simplify(sp.expand(got - expected)) == 0


@pytest.mark.parametrize("yv", [sp.Rational(3, 10), sp.Rational(17, 10)])
def test_blocks_match_independent_definitions_at_30_digits(exp_blocks, yv):
    b = exp_blocks
    assert close(sp.N(b.pdf_y(y).subs(y, yv), 35), REF_FY[yv], 1e-29)
    assert close(sp.N(b.moment_below_y(2, y).subs(y, yv), 35), REF_M2P[yv], 1e-29)
    assert close(sp.N(b.old_sprpt(y).subs(y, yv), 35), REF_OLD[yv], 1e-29)


@pytest.mark.parametrize("yv", [sp.Rational(3, 10), sp.Rational(17, 10)])
def test_uniform_prediction_exponential_integral_forms(yv):
    b = Blocks(exp_workload(qt.UniformPrediction(0.5)))
    fy = b.pdf_y(y)
    assert fy.has(sp.expint) and not fy.has(sp.Integral)
    assert sp.expand(fy - (sp.expint(1, 2 * y / 3) - sp.expint(1, 2 * y))) == 0
    assert close(sp.N(fy.subs(y, yv), 35), REF_UNIFORM_FY[yv], 1e-29)
    # rho'(y) is elementary for uniform predictions
    assert not b.load_below_y(y).has(sp.expint, sp.Integral)


def test_mm1_size_blocks_section_2_6():
    b = Blocks(qt.Workload(lam, qt.Exponential(1.0)))
    x = sp.Symbol("x", positive=True)
    assert sp.expand(b.load_below(x) - lam * (1 - (1 + x) * sp.exp(-x))) == 0
    assert sp.expand(b.partial_moment(2, x) - (2 - (x**2 + 2 * x + 2) * sp.exp(-x))) == 0
    assert sp.expand(b.truncated_load(x) - lam * (1 - sp.exp(-x))) == 0
    assert sp.expand(b.limited_second(x) - 2 * (1 - (1 + x) * sp.exp(-x))) == 0


def test_weibull_blocks_section_2_6():
    """Weibull shape 1/2, scale 1/2 (w = √(2x)): §2.6 closed forms via the substitution rule."""
    b = Blocks(qt.Workload(lam, qt.Weibull(0.5, 0.5)))
    x = sp.Symbol("x", positive=True)
    w = sp.sqrt(2 * x)
    assert sp.simplify(b.load_below(x) - lam * (1 - sp.exp(-w) * (1 + w + w**2 / 2))) == 0
    assert sp.simplify(b.limited_second(x)
                       - 6 * (1 - sp.exp(-w) * (1 + w + w**2 / 2 + w**3 / 6))) == 0
    assert b.moment(2) == 6


# ------------------------------------------------------------------- the API
def test_verbatim_example_from_the_issue():
    w = qt.Workload(arrival_rate=lam, size=qt.Exponential(mean=1),
                    prediction=qt.ExponentialPrediction())
    e = qt.symbolic.mean_response_time(qt.SPRPT(), w)
    assert isinstance(e, sp.Expr)
    assert e.has(sp.besselk) and lam in e.free_symbols
    start = time.perf_counter()
    v15 = sp.N(e.subs(lam, sp.Rational(4, 5)), 15)
    assert time.perf_counter() - start < 20
    assert str(v15).startswith("3.13752398914") or str(v15).startswith("3.1375239891375")
    v30 = sp.N(e.subs(lam, sp.Rational(4, 5)), 30)
    assert close(v30, REF_SPRPT_08, 1e-28)


def test_spjf_mean_matches_reference_at_25_digits():
    e = qt.symbolic.mean_response_time(qt.SPJF(), exp_workload())
    assert close(sp.N(e.subs(lam, sp.Rational(4, 5)), 30), REF_SPJF_08, 1e-25)


def test_srpt_mm1_matches_reference_at_25_digits():
    e = qt.symbolic.mean_response_time(qt.SRPT(), qt.Workload(lam, qt.Exponential(1.0)))
    assert close(sp.N(e.subs(lam, sp.Rational(7, 10)), 30), REF_SRPT_07, 1e-25)


def test_fcfs_mm1_simplifies_to_1_over_1_minus_lambda():
    e = qt.symbolic.mean_response_time(qt.FCFS(), qt.Workload(lam, qt.Exponential(1.0)))
    assert sp.simplify(e - 1 / (1 - lam)) == 0
    for pol in (qt.PS(), qt.LCFS()):
        e = qt.symbolic.mean_response_time(pol, qt.Workload(lam, qt.Exponential(1.0)))
        assert sp.simplify(e - 1 / (1 - lam)) == 0


def test_fcfs_any_symbolic_density():
    """P-K for Weibull(1/2, 1/2): 1 + 3λ/(1 − λ) (§2.6); two-point law 8 + 50λ/(1 − 8λ)."""
    e = qt.symbolic.mean_response_time(qt.FCFS(), qt.Workload(lam, qt.Weibull(0.5, 0.5)))
    assert sp.simplify(e - (1 + 3 * lam / (1 - lam))) == 0
    e = qt.symbolic.mean_response_time(qt.FCFS(), qt.Workload(lam, qt.Discrete([2, 14],
                                                                              [0.5, 0.5])))
    assert sp.simplify(e - (8 + 50 * lam / (1 - 8 * lam))) == 0


def test_symbolic_distribution_parameter():
    m = sp.Symbol("m", positive=True)
    w = SymbolicWorkload(lam, SymbolicExponential(mean=m))
    e = qt.symbolic.mean_response_time(qt.FCFS(), w)
    assert sp.simplify(e - m / (1 - lam * m)) == 0
    e = qt.symbolic.mean_response_time(qt.PS(), w)
    assert sp.simplify(e - m / (1 - lam * m)) == 0
    b = Blocks(SymbolicWorkload(lam, SymbolicExponential(mean=m),
                                SymbolicExponentialPrediction()))
    fy = b.pdf_y(y)  # ∫ e^{-x/m}/m · e^{-y/x}/x dx = (2/m) K0(2√(y/m))
    assert sp.simplify(fy - 2 / m * K(0, 2 * sp.sqrt(y / m))) == 0


def test_symbolic_threshold_parameter_one_bit_section_5_3():
    """Threshold variant, S ~ Exp(1): t₂(T) of §5.3 exactly, and t₁ = 1 + λ t₂."""
    T = sp.Symbol("T", positive=True)
    w = qt.Workload(lam, qt.Exponential(1.0))
    t2 = qt.symbolic.mean_response_time(qt.OneBit(1.0, preemptive=True), w,
                                        parameters={"threshold": T})
    t1 = qt.symbolic.mean_response_time(qt.OneBit(1.0, preemptive=False), w,
                                        parameters={"threshold": T})
    rho_T = lam * (1 - (T + 1) * sp.exp(-T))
    assert sp.simplify(t2 - (1 - lam + lam * sp.exp(-T)) / ((1 - lam) * (1 - rho_T))) == 0
    assert sp.simplify(t1 - (1 + lam * (1 - lam + lam * sp.exp(-T))
                             / ((1 - lam) * (1 - rho_T)))) == 0
    assert sp.simplify(t1 - (1 + lam * t2)) == 0


def test_one_bit_prediction_variant_bessel_forms():
    """§5.3 prediction variant: replace e^{-T} by 2√T K₁(2√T) and ρ_T by ρ′(T)."""
    T = sp.Symbol("T", positive=True)
    w = exp_workload()
    t2 = qt.symbolic.mean_response_time(qt.OneBit(1.0, preemptive=True), w,
                                        parameters={"threshold": T})
    t1 = qt.symbolic.mean_response_time(qt.OneBit(1.0, preemptive=False), w,
                                        parameters={"threshold": T})
    p_long = 2 * sp.sqrt(T) * K(1, 2 * sp.sqrt(T))
    rho_p = lam * (1 - 2 * T * K(2, 2 * sp.sqrt(T)))
    assert not t2.has(sp.Integral)
    assert sp.simplify(t2 - (1 - lam + lam * p_long) / ((1 - lam) * (1 - rho_p))) == 0
    assert sp.simplify(t1 - (1 + lam * t2)) == 0


# --------------------------------------------------------- symbolic identities
U = sp.Dummy("u", positive=True)


def integral_parts(expr):
    """Split expr = rest + Σ c_i ∫ f_i by linearity; integrands summed per limits."""
    u = U
    rest = sp.Integer(0)
    parts: dict = {}
    for term in sp.Add.make_args(sp.expand(expr, deep=False)):
        ints = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Integral)]
        if not ints:
            rest += term
            continue
        (node,) = ints
        (var, lo, hi), = node.limits
        key = (lo, hi)
        parts[key] = parts.get(key, 0) + (term / node) * node.function.xreplace({var: u})
    return rest, parts


def assert_same_formula(a, b):
    ra, pa = integral_parts(a)
    rb, pb = integral_parts(b)
    assert sp.simplify(ra - rb) == 0
    assert set(pa) == set(pb)
    for key in pa:
        d = pa[key] - pb[key]
        assert d == 0 or sp.cancel(sp.together(d)) == 0 or sp.simplify(d) == 0, key


def test_perfect_predictions_reduce_sprpt_to_srpt():
    w = qt.Workload(lam, qt.Exponential(1.0))
    assert_same_formula(qt.symbolic.mean_response_time(qt.SPRPT(), w),
                        qt.symbolic.mean_response_time(qt.SRPT(), w))
    assert_same_formula(qt.symbolic.mean_response_time(qt.SPJF(), w),
                        qt.symbolic.mean_response_time(qt.SJF(), w))


def test_limited_preemption_reduces_to_sprpt_and_spjf():
    w = exp_workload()
    sprpt = qt.symbolic.mean_response_time(qt.SPRPT(), w)
    spjf = qt.symbolic.mean_response_time(qt.SPJF(), w)
    assert_same_formula(qt.symbolic.mean_response_time(qt.LimitedPreemptionSPRPT(c=1.0), w),
                        sprpt)
    assert_same_formula(qt.symbolic.mean_response_time(qt.LimitedPreemptionSPRPT(c=0.0), w),
                        spjf)


def test_sprpt_mean_is_the_section9_formula():
    """The derived SPRPT mean is §9's formula; its residence integral is done in closed form.

    ρ′′(v) = λ m₁(v) and, in this model, P(Y > v) − P(Y − S ≥ v) = (1 − 1/e) m₁(v), so
    (1 − 1/e)∫ m₁/(1 − ρ′) dv = −(1 − 1/e) log(1 − λ)/λ (fundamental theorem of calculus).
    """
    e = qt.symbolic.mean_response_time(qt.SPRPT(), exp_workload())
    rho_p = lam * (1 - 2 * y * K(2, r2))
    b3 = 2 * y ** sp.Rational(3, 2) * K(3, r2)
    residence = -(1 - 1 / sp.E) * sp.log(1 - lam) / lam
    section9 = (lam * sp.Integral(2 * K(0, r2) * (1 - b3 / sp.E) / (1 - rho_p) ** 2, (y, 0, sp.oo))
                + 1 / sp.E + residence)
    assert_same_formula(e, section9)
    # the closed residence term against §9's integral, evaluated independently with scipy
    from scipy import integrate as sint
    from scipy import special

    def g(v):  # y = v^2
        rho_v = 0.8 * (1 - 2 * v * v * special.kv(2, 2 * v))
        return 2 * v * 2 * v * special.kv(1, 2 * v) / (1 - rho_v)

    ref = (1 - np.exp(-1)) * (sint.quad(g, 0, 5, epsabs=0, epsrel=1e-13)[0]
                              + sint.quad(g, 5, np.inf, epsabs=0, epsrel=1e-13)[0])
    assert abs(float(residence.subs(lam, sp.Rational(4, 5))) - ref) < 1e-12 * ref


def test_psjf_first_term_is_a_logarithm():
    """∫ x f(x)/(1 − ρ(x)) dx = −log(1 − ρ)/λ (ρ′(x) = λ x f(x))."""
    e = qt.symbolic.mean_response_time(qt.PSJF(), qt.Workload(lam, qt.Exponential(1.0)))
    rest, parts = integral_parts(e)
    assert sp.simplify(rest + sp.log(1 - lam) / lam) == 0
    assert len(parts) == 1


# ------------------------------------------------ agreement with the numeric engine
FAST_CASES = [
    (qt.SJF(), None), (qt.PSJF(), None), (qt.SRPT(), None), (qt.FB(), None),
    (qt.SPJF(), qt.ExponentialPrediction()), (qt.PSPJF(), qt.ExponentialPrediction()),
    (qt.SPRPT(), qt.ExponentialPrediction()), (qt.SPRPT(), qt.UniformPrediction(0.5)),
    (qt.LimitedPreemptionSPRPT(0.5, threshold="size"), qt.ExponentialPrediction()),
    (qt.LimitedPreemptionSPRPT(0.5), qt.UniformPrediction(0.5)),
    (qt.OneBit(0.7, preemptive=True, shorts="fcfs"), qt.ExponentialPrediction()),
]


@pytest.mark.parametrize("policy, pred", FAST_CASES, ids=lambda v: repr(v))
def test_mean_agrees_with_numeric_engine(policy, pred):
    e = qt.symbolic.mean_response_time(policy, exp_workload(pred))
    sym = float(sp.N(e.subs(lam, sp.Rational(7, 10)), 17))
    num = policy.evaluate(exp_workload(pred, 0.7), rtol=1e-12).value
    assert abs(sym - num) <= 1e-10 * num


@pytest.mark.slow
@pytest.mark.parametrize("policy", [qt.LimitedPreemptionSPRPT(0.5)])
def test_trail_nested_integral_agrees_with_numeric_engine(policy):
    w = exp_workload()
    r = qt.symbolic.derive(policy, w)
    sym = r.lambdify(lam, modules="numpy")(0.7)
    num = policy.evaluate(exp_workload(rate=0.7), rtol=1e-12).value
    assert abs(sym - num) <= 1e-10 * num


@pytest.mark.parametrize("policy, pred, x, yv", [
    (qt.SRPT(), None, 0.8, None),
    (qt.FB(), None, 2.0, None),
    (qt.SPRPT(), qt.ExponentialPrediction(), 2.0, 0.4),
    (qt.SPRPT(), qt.ExponentialPrediction(), 0.8, 1.3),
    (qt.LimitedPreemptionSPRPT(0.5), qt.ExponentialPrediction(), 0.8, 1.3),
    (qt.OneBit(1.0), qt.UniformPrediction(0.5), 0.8, 1.3),
])
def test_conditional_agrees_with_numeric_engine(policy, pred, x, yv):
    e = qt.symbolic.response_time(policy, exp_workload(pred), sp.nsimplify(x),
                                  None if yv is None else sp.nsimplify(yv))
    sym = float(sp.N(e.subs(lam, sp.Rational(7, 10)), 17))
    num = policy.evaluate_conditional(exp_workload(pred, 0.7), x, yv, rtol=1e-12).value
    assert abs(sym - num) <= 1e-10 * num


def test_conditional_with_symbols():
    x = sp.Symbol("x", positive=True)
    e = qt.symbolic.response_time(qt.PSJF(), qt.Workload(lam, qt.Exponential(1.0)), x)
    rho = lam * (1 - (1 + x) * sp.exp(-x))
    expected = x / (1 - rho) + lam * (2 - (x**2 + 2 * x + 2) * sp.exp(-x)) / (2 * (1 - rho) ** 2)
    assert sp.simplify(e - expected) == 0
    e = qt.symbolic.response_time(qt.SPRPT(), exp_workload(), x, y)
    assert e.has(sp.Min) and e.has(sp.besselk)


# -------------------------------------------------------------- result objects
def test_derive_result_latex_lambdify_and_steps():
    r = qt.symbolic.derive(qt.SPRPT(), exp_workload())
    assert isinstance(r, SymbolicResult)
    assert "K_{0}" in r.latex() and "K_{3}" in r.latex()
    assert r._repr_latex_().startswith("$\\displaystyle")
    assert any(s.rule == "bessel-k" for s in r.steps)
    assert any("K_{3}" in line for line in r.derivation_latex())
    f_np = r.lambdify(lam)
    vals = f_np(np.array([0.5, 0.8]))
    assert abs(vals[1] - 3.13752398913752) < 1e-10
    f_mp = r.lambdify(lam, modules="mpmath")
    with mpmath.workdps(20):
        assert abs(f_mp(mpmath.mpf(4) / 5) - mpmath.mpf(REF_SPRPT_08)) < 1e-17
    assert abs(float(r.evalf(15, {lam: sp.Rational(1, 2)})) - vals[0]) < 1e-10
    with pytest.raises(ParameterError, match="free symbols"):
        r.evalf(15)


# ---------------------------------------------------------------------- errors
def test_unknown_policy_lists_supported():
    class Mystery(qt.Policy):
        name = "mystery"

    with pytest.raises(NotImplementedError, match="supported policies: .*SPRPT"):
        qt.symbolic.mean_response_time(Mystery(), exp_workload())
    assert "SRPT" in qt.symbolic.registered_policies()


def test_bad_inputs_raise_parameter_errors():
    with pytest.raises(ParameterError, match="prediction y"):
        qt.symbolic.response_time(qt.SPRPT(), exp_workload(), 1)
    with pytest.raises(ParameterError):
        qt.symbolic.response_time(qt.SRPT(), qt.Workload(lam, qt.Exponential(1.0)), -1)
    with pytest.raises(ParameterError):
        qt.symbolic.response_time(qt.SRPT(), qt.Workload(lam, qt.Exponential(1.0)), "x")
    with pytest.raises(ParameterError, match="alpha"):
        SymbolicUniformPrediction(1.5)
    with pytest.raises(ParameterError):
        qt.symbolic.mean_response_time("SRPT", exp_workload())
    with pytest.raises(UnstableError):
        qt.symbolic.mean_response_time(qt.FCFS(), qt.Workload(1.5, qt.Exponential(1.0)))
    with pytest.raises(ParameterError):
        qt.symbolic.mean_response_time(qt.FCFS(), exp_workload(), parameters={"c": "1/2"})


# ------------------------------------------------------ exact SOAP, atomic laws
class _AgeRank(qt.Policy):
    """An age-only rank function given as segments (start, end, level, value, slope)."""

    uses = "nothing"

    def __init__(self, segments, name):
        self.segments, self.name = segments, name

    def _rank_segments(self, d):
        from queuetheory.policies.rank import PiecewiseRank

        return PiecewiseRank.from_segments([self.segments] * d.shape[0])


TWO_POINT = qt.Discrete([2.0, 14.0], [0.5, 0.5])


@pytest.mark.parametrize("segments, t2, t14", [
    # SERPT: 8 − a on [0, 2), 14 − a after (formulas.md §4.5)
    ([(0, 2, 0, 8, -1), (2, np.inf, 0, 12, -1)],
     18 * lam / (1 - 2 * lam) + 2,
     50 * lam / ((1 - 8 * lam) * (1 - 2 * lam)) + 6 / (1 - 2 * lam) + 8),
    # Gittins: 4 − 2a on [0, 2), 14 − a after
    ([(0, 2, 0, 4, -2), (2, np.inf, 0, 12, -1)],
     6 * lam / (1 - 2 * lam) + 2,
     50 * lam / ((1 - 8 * lam) * (1 - 2 * lam)) + 10 / (1 - 2 * lam) + 4),
], ids=["SERPT", "Gittins"])
def test_two_point_soap_example_exact(segments, t2, t14):
    pol = _AgeRank(segments, "age-rank")
    w = qt.Workload(lam, TWO_POINT)
    assert sp.simplify(qt.symbolic.response_time(pol, w, 2) - t2) == 0
    assert sp.simplify(qt.symbolic.response_time(pol, w, 14) - t14) == 0
    mean = qt.symbolic.mean_response_time(pol, w)
    assert sp.simplify(mean - (t2 + t14) / 2) == 0
    assert mean.is_rational_function(lam)


@pytest.mark.parametrize("policy", [qt.SRPT(), qt.FB(), qt.SJF(), qt.PSJF(), qt.FCFS()],
                         ids=lambda p: p.name)
def test_atomic_soap_agrees_with_numeric_engine(policy):
    e = qt.symbolic.mean_response_time(policy, qt.Workload(lam, TWO_POINT))
    assert e.is_rational_function(lam)
    sym = float(e.subs(lam, sp.Rational(8, 100)))
    num = policy.evaluate(qt.Workload(0.08, TWO_POINT), rtol=1e-12).value
    assert abs(sym - num) <= 1e-10 * num
