"""Invariants of the classic policies over a registry of (policy, distribution, load) cases.

formulas.md §2.7: SRPT is optimal; PS and LCFS-PR have equal means; E[T] → E[S]
as λ → 0 (to first order); FB = PS for exponential sizes; Kleinrock's
conservation law for work-conserving non-preemptive policies. Hypothesis
repeats them over random distribution parameters and loads.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import queuetheory as qt
from queuetheory.integrate import quad

# ------------------------------------------------------------------ the registry
#: Size laws with finite second moments (name -> factory).
LAWS: dict[str, Callable[[], qt.SizeDistribution]] = {
    "exp": lambda: qt.Exponential(1.0),
    "weibull-0.5": lambda: qt.Weibull(shape=0.5, scale=0.5),
    "weibull-2": lambda: qt.Weibull(shape=2.0, scale=1.0),
    "hyperexp": lambda: qt.HyperExponential(probs=[0.9, 0.1], means=[0.5, 5.5]),
    "bpareto": lambda: qt.BoundedPareto(shape=1.5, low=1.0, high=1000.0),
    "erlang": lambda: qt.Erlang(3, 1.0),
    "uniform": lambda: qt.Uniform(0.5, 2.0),
    "lognormal": lambda: qt.Lognormal(0.0, 1.0),
    "pareto-2.5": lambda: qt.Pareto(shape=2.5, scale=1.0),
    "deterministic": lambda: qt.Deterministic(1.5),
    "discrete": lambda: qt.Discrete([0.5, 1.0, 4.0], [0.5, 0.3, 0.2]),
}
LOADS = (0.3, 0.7, 0.95)


def _policies(law: qt.SizeDistribution) -> list[qt.Policy]:
    median = float(law.ppf(0.5))
    return [qt.FCFS(), qt.LCFS(), qt.PS(), qt.FB(), qt.SJF(), qt.PSJF(), qt.SRPT(),
            qt.NonPreemptivePriority([median]), qt.PreemptivePriority([median])]


#: (policy, law name, load) for every combination.
REGISTRY = [(pol, name, rho) for name, make in LAWS.items() for rho in LOADS
            for pol in _policies(make())]


def _workload(name: str, rho: float) -> qt.Workload:
    law = LAWS[name]()
    return qt.Workload(rho / law.mean(), law)


def _case_id(case) -> str:
    pol, name, rho = case
    return f"{pol.name}-{name}-{rho}"


# ------------------------------------------------------------------ registry invariants
@pytest.mark.parametrize("case", REGISTRY, ids=[_case_id(c) for c in REGISTRY])
def test_srpt_is_optimal(case):
    pol, name, rho = case
    w = _workload(name, rho)
    srpt, other = qt.SRPT().evaluate(w), pol.evaluate(w)
    assert srpt.value <= other.value + srpt.error + other.error
    assert other.value >= w.mean_size  # nobody beats the bare service time


@pytest.mark.parametrize("name", list(LAWS))
@pytest.mark.parametrize("rho", LOADS)
def test_ps_equals_lcfs(name, rho):
    w = _workload(name, rho)
    assert qt.PS().mean_response_time(w) == qt.LCFS().mean_response_time(w)
    for x in (0.3, 1.0, 7.0):
        assert qt.PS().response_time(w, x) == qt.LCFS().response_time(w, x)


@pytest.mark.parametrize("case", REGISTRY[::3] + REGISTRY[1::3], ids=_case_id)
def test_light_traffic_limit(case):
    """E[T] = E[S] + λ c + O(λ²) with 0 <= c <= E[S]² + E[S²]/2 for every classic policy.

    Each T(x) − x is at most λ (x E[S] + E[S²]/2) to first order (work found on
    arrival plus work arriving during service), so the first-order coefficient is
    bounded by E[S]² + E[S²]/2; the quotient at λ and 2λ must agree (linear onset).
    """
    pol, name, _ = case
    law = LAWS[name]()
    es, es2 = law.mean(), law.moment(2)
    lam = 1e-6 / es
    e1 = pol.evaluate(qt.Workload(lam, law))
    e2 = pol.evaluate(qt.Workload(2 * lam, law))
    d1, d2 = e1.value - es, e2.value - es
    bound = es**2 + es2 / 2
    noise = (e1.error + e2.error + 1e-15 * es) / lam
    assert -noise * lam <= d1 <= 1.01 * bound * lam  # E[T] within O(λ) of E[S]
    assert abs(d2 / (2 * lam) - d1 / lam) <= 1e-4 * bound + 2 * noise


@pytest.mark.parametrize("mean", [0.2, 1.0, 30.0])
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9, 0.99])
def test_fb_equals_ps_for_exponential(mean, rho):
    w = qt.Workload(rho / mean, qt.Exponential(mean))
    fb, ps = qt.FB().evaluate(w), qt.PS().evaluate(w)
    assert abs(fb.value - ps.value) <= 1e-10 * ps.value
    assert abs(fb.value - ps.value) <= fb.error + ps.error


# ------------------------------------------------------------------ Kleinrock
def _kleinrock_rhs(w: qt.Workload) -> float:
    """ρ W₀ / (1 − ρ), W₀ = λ E[S²] / 2: load-weighted waiting of any non-preemptive
    work-conserving policy (Kleinrock's conservation law)."""
    w0 = w.arrival_rate * w.size.moment(2) / 2
    return w.load * w0 / (1 - w.load)


def _weighted_waiting(pol: qt.Policy, w: qt.Workload) -> float:
    """∫ λ x f(x) (T(x) − x) dx (atoms summed): the load-weighted mean waiting time."""
    law, lam = w.size, w.arrival_rate

    def wait(x: np.ndarray) -> np.ndarray:
        return np.array([pol.response_time(w, xi) - xi for xi in np.atleast_1d(x)])

    total = 0.0
    values, probs = law.atoms
    if values.size:
        total += float(np.sum(lam * probs * values * wait(values)))
    if law.atoms[1].sum() < 1:
        lo, hi = law.support
        total += quad(lambda x: lam * x * law.pdf(x) * wait(x), lo, hi,
                      points=law.breakpoints(), rtol=1e-9).value
    return total


@pytest.mark.parametrize("name", ["exp", "weibull-2", "uniform", "discrete", "hyperexp"])
@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_kleinrock_conservation_nonpreemptive(name, rho):
    w = _workload(name, rho)
    rhs = _kleinrock_rhs(w)
    # FCFS
    assert _weighted_waiting(qt.FCFS(), w) == pytest.approx(rhs, rel=1e-8)
    # non-preemptive priority: sum_k rho_k E[W_k]
    law = w.size
    bounds = [float(law.ppf(0.3)), float(law.ppf(0.8))]
    pol = qt.NonPreemptivePriority(bounds)
    lhs = 0.0
    for label, (_prob, wk) in pol.waiting_times(w).items():
        k = int(label)
        upper = bounds[k] if k < len(bounds) else math.inf
        lower = bounds[k - 1] if k > 0 else 0.0
        top = law.mean() if math.isinf(upper) else law.partial_moment(1, upper)
        lhs += w.arrival_rate * (top - law.partial_moment(1, lower)) * wk
    assert lhs == pytest.approx(rhs, rel=1e-10)
    # SJF, the continuum version: ∫ λ x f(x) W(x) dx
    assert _weighted_waiting(qt.SJF(), w) == pytest.approx(rhs, rel=1e-7)


def test_kleinrock_fails_for_preemptive_policies():
    """Sanity check that the conservation test discriminates: PSJF breaks it."""
    w = _workload("exp", 0.8)
    gap = _weighted_waiting(qt.PSJF(), w) - _kleinrock_rhs(w)
    assert abs(gap) > 0.01 * _kleinrock_rhs(w)


# ------------------------------------------------------------------ hypothesis
rhos = st.floats(min_value=0.05, max_value=0.97)


@st.composite
def size_laws(draw) -> qt.SizeDistribution:
    kind = draw(st.sampled_from(["exp", "weibull", "hyperexp", "bpareto", "discrete"]))
    if kind == "exp":
        return qt.Exponential(draw(st.floats(0.01, 100.0)))
    if kind == "weibull":
        return qt.Weibull(shape=draw(st.floats(0.3, 4.0)), scale=draw(st.floats(0.1, 10.0)))
    if kind == "hyperexp":
        p = draw(st.floats(0.05, 0.95))
        m1, m2 = draw(st.floats(0.05, 2.0)), draw(st.floats(2.0, 50.0))
        return qt.HyperExponential(probs=[p, 1 - p], means=[m1, m2])
    if kind == "bpareto":
        low = draw(st.floats(0.1, 10.0))
        return qt.BoundedPareto(shape=draw(st.floats(0.5, 2.5)), low=low,
                                high=low * draw(st.floats(2.0, 1e5)))
    n = draw(st.integers(1, 6))
    values = sorted(set(draw(st.lists(st.floats(0.1, 20.0), min_size=n, max_size=n))))
    weights = np.asarray(draw(st.lists(st.floats(0.05, 1.0), min_size=len(values),
                                       max_size=len(values))))
    return qt.Discrete(values, weights / weights.sum())


@given(law=size_laws(), rho=rhos)
def test_hypothesis_srpt_optimal_and_ps_lcfs(law, rho):
    w = qt.Workload(rho / law.mean(), law)
    srpt = qt.SRPT().evaluate(w)
    assert srpt.relative_error <= 1e-9
    for pol in _policies(law):
        other = pol.evaluate(w)
        assert srpt.value <= other.value + srpt.error + other.error, pol.name
    assert qt.PS().mean_response_time(w) == qt.LCFS().mean_response_time(w)
    assert qt.PS().mean_response_time(w) == pytest.approx(law.mean() / (1 - rho), rel=1e-12)


@given(mean=st.floats(0.01, 100.0), rho=rhos)
def test_hypothesis_fb_equals_ps_exponential(mean, rho):
    w = qt.Workload(rho / mean, qt.Exponential(mean))
    assert qt.FB().mean_response_time(w) == pytest.approx(mean / (1 - rho), rel=1e-10)


@given(shape=st.floats(0.2, 0.95), rho=rhos)
def test_hypothesis_fb_beats_ps_for_decreasing_hazard(shape, rho):
    """FB minimizes E[T] among blind policies when the hazard rate decreases."""
    law = qt.Weibull(shape=shape, scale=1.0)
    w = qt.Workload(rho / law.mean(), law)
    assert qt.FB().mean_response_time(w) < qt.PS().mean_response_time(w)


@given(law=size_laws(), rho=rhos, q=st.floats(0.1, 0.9))
def test_hypothesis_kleinrock_priority(law, rho, q):
    """Σ_k ρ_k E[W_k] = ρ W₀ / (1 − ρ) for non-preemptive priority with a random split."""
    w = qt.Workload(rho / law.mean(), law)
    b = float(law.ppf(q))
    pol = qt.NonPreemptivePriority([b])
    waits = pol.waiting_times(w)
    rho_1 = w.arrival_rate * law.partial_moment(1, b)
    lhs = rho_1 * waits.get(0.0, (0, 0))[1] + (w.load - rho_1) * waits.get(1.0, (0, 0))[1]
    assert lhs == pytest.approx(_kleinrock_rhs(w), rel=1e-10)


@given(law=size_laws(), rho=rhos)
def test_hypothesis_conditional_monotone(law, rho):
    """T(x) >= x and T(x) is non-decreasing in x for the size-based policies and FB."""
    w = qt.Workload(rho / law.mean(), law)
    xs = np.unique(law.ppf(np.array([0.1, 0.5, 0.9])))
    for pol in (qt.SJF(), qt.PSJF(), qt.FB(), qt.SRPT()):
        ts = [pol.response_time(w, float(x)) for x in xs]
        assert all(t >= x for t, x in zip(ts, xs))
        assert all(t1 <= t2 * (1 + 1e-12) for t1, t2 in zip(ts[:-1], ts[1:]))


@given(values=st.lists(st.floats(0.1, 20.0), min_size=1, max_size=8, unique=True),
       rho=rhos, seed=st.integers(0, 2**32 - 1))
def test_hypothesis_mean_is_average_of_conditionals_on_atoms(values, rho, seed):
    """E[T] = Σ p_i T(v_i) on discrete laws (SRPT's mean goes through the Fubini form)."""
    weights = np.random.default_rng(seed).uniform(0.05, 1.0, len(values))
    law = qt.Discrete(sorted(values), weights / weights.sum())
    w = qt.Workload(rho / law.mean(), law)
    v, p = law.atoms
    b = float(np.median(v))
    for pol in (qt.SJF(), qt.PSJF(), qt.FB(), qt.SRPT(), qt.NonPreemptivePriority([b]),
                qt.PreemptivePriority([b])):
        mean = pol.evaluate(w)
        avg = float(np.sum(p * np.array([pol.response_time(w, x) for x in v])))
        assert abs(mean.value - avg) <= mean.error + 1e-13 * avg, pol.name


@pytest.mark.parametrize("name", ["exp", "weibull-0.5", "bpareto"])
def test_srpt_fubini_mean_equals_average_of_nested_conditionals(name):
    """E[T] (Fubini form) = ∫ f(x) T(x) dx with T(x) from the nested conditional form."""
    w = _workload(name, 0.9)
    law = w.size
    pol = qt.SRPT()
    lo, hi = law.support
    # integrate over u = F(x) (x = F⁻¹(u)): bounded integrand, no density singularity
    avg = quad(lambda u: np.array([pol.response_time(w, float(x)) for x in law.ppf(u)]),
               0.0, 1.0, rtol=1e-9)
    mean = pol.evaluate(w)
    assert abs(mean.value - avg.value) <= mean.error + avg.error + 1e-9 * mean.value
