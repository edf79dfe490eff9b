"""Classic M/G/1 policies: exact special cases, atoms, heavy tails, ranks and bad input.

The high-precision comparisons against mpmath are in test_classic_reference.py;
invariants over a registry of workloads are in test_invariants.py.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import queuetheory as qt
from queuetheory.distributions.base import SizeDistribution
from queuetheory.errors import ParameterError, UnstableError
from queuetheory.policies.rank import NONPREEMPTIBLE

EPS = np.finfo(float).eps


def close(est: qt.Estimate, exact: float, *, extra: float = 0.0) -> bool:
    """|value − exact| within the reported error estimate (plus ``extra`` relative)."""
    return abs(est.value - exact) <= est.error + extra * abs(exact) + 4 * EPS * abs(exact)


# ------------------------------------------------------------------ issue snippet
def test_issue_snippet_verbatim():
    w = qt.Workload(arrival_rate=0.9, size=qt.Exponential(mean=1.0))
    assert f"{qt.SRPT().mean_response_time(w):.10f}" == "3.5521250996"
    t1 = qt.SRPT().response_time(w, 1.0)
    assert 1.0 < t1 < qt.PS().response_time(w, 1.0)
    heavy = qt.Workload(arrival_rate=0.5 / 3, size=qt.Pareto(shape=1.5, scale=1.0))
    assert qt.FCFS().mean_response_time(heavy) == math.inf


def test_public_names_and_alias():
    for name in ("FCFS", "LCFS", "PS", "SJF", "PSJF", "SRPT", "FB", "LAS",
                 "NonPreemptivePriority", "PreemptivePriority"):
        assert hasattr(qt, name)
        assert name in qt.policies.classic.__all__
    assert qt.LAS is qt.FB
    assert repr(qt.PreemptivePriority([1.0, 2.0])) == "PreemptivePriority(classes=[1.0, 2.0])"


def test_evaluate_returns_estimate_and_floats():
    w = qt.Workload(0.7, qt.Weibull(shape=0.5, scale=0.5))
    for pol in (qt.FCFS(), qt.LCFS(), qt.PS(), qt.FB(), qt.SJF(), qt.PSJF(), qt.SRPT(),
                qt.NonPreemptivePriority([1.0]), qt.PreemptivePriority([1.0])):
        est = pol.evaluate(w)
        assert isinstance(est, qt.Estimate)
        assert type(est.value) is float and type(est.error) is float
        assert 0 < est.error <= 1e-10 * est.value
        assert type(pol.mean_response_time(w)) is float
        assert type(pol.response_time(w, 0.7)) is float


# ------------------------------------------------------------------ exact special cases
@pytest.mark.parametrize("lam", [0.1, 0.5, 0.9, 0.99, 0.999])
def test_mm1_fcfs_ps_lcfs_fb_closed_form(lam):
    w = qt.Workload(lam, qt.Exponential(mean=1.0))
    exact = 1.0 / (1.0 - lam)
    for pol in (qt.FCFS(), qt.PS(), qt.LCFS()):
        assert close(pol.evaluate(w), exact)
    fb = qt.FB().evaluate(w)  # FB = PS for exponential sizes (formulas.md §2.3)
    assert abs(fb.value - exact) <= 1e-10 * exact
    assert close(fb, exact)


@pytest.mark.parametrize("mean", [0.01, 1.0, 250.0])
def test_mm1_scaling(mean):
    """Time scales with the mean size at fixed load."""
    rho = 0.8
    base = qt.Workload(rho, qt.Exponential(1.0))
    scaled = qt.Workload(rho / mean, qt.Exponential(mean))
    for pol in (qt.SRPT(), qt.FB(), qt.PSJF(), qt.SJF()):
        a, b = pol.evaluate(base), pol.evaluate(scaled)
        assert abs(b.value / mean - a.value) <= a.error + b.error / mean
    assert qt.SRPT().response_time(scaled, 2.0 * mean) == pytest.approx(
        mean * qt.SRPT().response_time(base, 2.0), rel=1e-12)


def test_ps_insensitivity():
    rho = 0.85
    laws = [qt.Exponential(2.0), qt.Weibull(shape=0.5, scale=0.5 * 2.0),
            qt.Pareto(shape=1.5, scale=2.0 / 3.0), qt.Deterministic(2.0),
            qt.Discrete([1.0, 3.0], [0.5, 0.5]),
            qt.HyperExponential(probs=[0.5, 0.5], means=[1.0, 3.0])]
    for law in laws:
        assert law.mean() == pytest.approx(2.0, rel=1e-14)
        w = qt.Workload(rho / law.mean(), law)
        assert close(qt.PS().evaluate(w), 2.0 / (1 - rho))
        assert close(qt.PS().evaluate_conditional(w, 5.0), 5.0 / (1 - rho))
        assert qt.LCFS().mean_response_time(w) == qt.PS().mean_response_time(w)


def test_fcfs_second_moment_mm1_and_md1():
    # M/M/1: T ~ Exp(mu - lambda), E[T^2] = 2 / (1 - lambda)^2.
    for lam in (0.3, 0.9):
        w = qt.Workload(lam, qt.Exponential(1.0))
        assert qt.FCFS().second_moment(w) == pytest.approx(2 / (1 - lam) ** 2, rel=1e-13)
    # M/D/1 (size 1, lambda = 1/2): E[W] = 1/2, E[W^2] = 2/4 + (1/2)/(3/2) = 5/6,
    # E[T^2] = 5/6 + 2 * 1/2 + 1 = 17/6.
    w = qt.Workload(0.5, qt.Deterministic(1.0))
    assert qt.FCFS().second_moment(w) == pytest.approx(17 / 6, rel=1e-14)
    # Pareto shape 2.5: E[S^3] = inf.
    assert qt.FCFS().second_moment(qt.Workload(0.1, qt.Pareto(shape=2.5))) == math.inf
    with pytest.raises(UnstableError):
        qt.FCFS().second_moment(qt.Workload(2.0, qt.Exponential(1.0)))


def _two_point():
    """Sizes 1 and 3 with probability 1/2 each; lambda = 1/4, rho = 1/2."""
    return qt.Workload(0.25, qt.Discrete([1.0, 3.0], [0.5, 0.5]))


def test_cobham_two_classes_hand_computed():
    # Hand computation (formulas.md §2.4): lambda = 1/4, classes {1} and {3}:
    # rho_1 = 1/8, rho = 1/2, E[S^2] = 5, W0 = lambda E[S^2]/2 = 5/8.
    w = _two_point()
    lam = Fraction(1, 4)
    w0 = lam * 5 / 2
    s1, s2 = Fraction(1, 8), Fraction(1, 2)
    np_w1, np_w2 = w0 / (1 - s1), w0 / ((1 - s1) * (1 - s2))
    assert np_w1 == Fraction(5, 7) and np_w2 == Fraction(10, 7)
    np_pol = qt.NonPreemptivePriority([2.0])
    assert close(np_pol.evaluate_conditional(w, 1.0), float(1 + np_w1))
    assert close(np_pol.evaluate_conditional(w, 3.0), float(3 + np_w2))
    assert close(np_pol.evaluate(w), float(Fraction(43, 14)))
    # preemptive: T_1 = 1 + (lam * 1/2 * 1 / 2) / (1 - s1), T_2 = 3/(1 - s1) + W0 / (...)
    p_t1 = 1 + (lam * Fraction(1, 2) / 2) / (1 - s1)
    p_t2 = 3 / (1 - s1) + w0 / ((1 - s1) * (1 - s2))
    assert p_t1 == Fraction(15, 14) and p_t2 == Fraction(34, 7)
    p_pol = qt.PreemptivePriority([2.0])
    assert close(p_pol.evaluate_conditional(w, 1.0), float(p_t1))
    assert close(p_pol.evaluate_conditional(w, 3.0), float(p_t2))
    assert close(p_pol.evaluate(w), float(Fraction(83, 28)))
    # Cobham per-class waiting times
    table = np_pol.waiting_times(w)
    assert table[0.0] == pytest.approx((0.5, 5 / 7), rel=1e-14)
    assert table[1.0] == pytest.approx((0.5, 10 / 7), rel=1e-14)


def test_sjf_psjf_equal_cobham_on_atoms():
    """On a discrete law, SJF / PSJF are Cobham with one class per atom (atom-aware forms)."""
    vals = [0.5, 1.0, 2.0, 4.0, 7.0]
    probs = [0.3, 0.25, 0.2, 0.15, 0.1]
    law = qt.Discrete(vals, probs)
    w = qt.Workload(0.9 / law.mean(), law)
    bounds = vals[:-1]  # class k = (v_{k-1}, v_k] holds exactly the atom v_k
    for sized, cobham in ((qt.SJF(), qt.NonPreemptivePriority(bounds)),
                          (qt.PSJF(), qt.PreemptivePriority(bounds))):
        a, b = sized.evaluate(w), cobham.evaluate(w)
        assert abs(a.value - b.value) <= a.error + b.error
        for x in vals:
            a, b = sized.evaluate_conditional(w, x), cobham.evaluate_conditional(w, x)
            assert abs(a.value - b.value) <= a.error + b.error


@pytest.mark.parametrize("pair", ["sjf", "psjf"])
def test_sjf_psjf_are_continuum_limits_of_cobham(pair):
    """Cobham with K geometric size classes converges to SJF / PSJF as K → ∞.

    The gap shrinks like K^-p (p = 2 for SJF, p = 1 for PSJF, whose within-class
    FCFS order differs from size order at first order); Richardson extrapolation
    of the Cobham values must then land much closer to the closed form.
    """
    law = qt.Weibull(shape=0.5, scale=0.5)
    w = qt.Workload(0.8, law)
    sized, cls, p = ((qt.SJF(), qt.NonPreemptivePriority, 2) if pair == "sjf"
                     else (qt.PSJF(), qt.PreemptivePriority, 1))
    target = sized.mean_response_time(w)
    c = {k: cls(np.geomspace(1e-8, 1e3, k)).mean_response_time(w) for k in (200, 400, 800)}
    gaps = [abs(c[k] - target) for k in (200, 400, 800)]
    for g1, g2 in zip(gaps[:-1], gaps[1:]):
        assert g2 < 1.1 * 2.0**-p * g1
    richardson = (2**p * c[800] - c[400]) / (2**p - 1)
    assert abs(richardson - target) < 0.1 * gaps[-1]


def test_deterministic_sizes_srpt_psjf_sjf_equal_fcfs():
    """M/D/1: no job ever preempts another of equal size, so SRPT = PSJF = SJF = FCFS.

    This needs the atom-aware denominators (1 − ρ(x⁻))(1 − ρ(x)) of formulas.md §2.5;
    the continuous-law form λx²/(2(1 − ρ)²) would be wrong by a factor 1/(1 − ρ).
    """
    for lam, x in ((0.4, 2.0), (0.99, 1.0)):
        w = qt.Workload(lam / x, qt.Deterministic(x))
        fcfs = x + lam * x / (2 * (1 - lam))
        for pol in (qt.FCFS(), qt.SRPT(), qt.PSJF(), qt.SJF()):
            assert close(pol.evaluate(w), fcfs)
            assert close(pol.evaluate_conditional(w, x), fcfs)
        # FB on M/D/1: x/(1 − ρ) + λx²/(2(1 − ρ)²)
        fb = x / (1 - lam) + lam * x / (2 * (1 - lam) ** 2)
        assert close(qt.FB().evaluate(w), fb)


class _AtomsOrStrips(SizeDistribution):
    """Test-only law: probability ``q`` on Exp(1), the rest on atoms at ``values``.

    With ``delta > 0`` each atom is spread uniformly over [v − δ, v + δ]; as δ → 0
    every quantity converges to the atomic law's. Closed forms throughout.
    """

    def __init__(self, q, values, probs, delta=0.0):
        self.q = float(q)
        self.v = np.asarray(values, float)
        self.p = (1 - self.q) * np.asarray(probs, float)
        self.d = float(delta)

    def _has_continuous_part(self):
        return self.q > 0 or self.d > 0

    def _atoms(self):
        return (self.v, self.p) if self.d == 0 else (np.empty(0), np.empty(0))

    def _pdf(self, x):
        out = self.q * np.exp(-x)
        if self.d > 0:
            for v, p in zip(self.v, self.p):
                out = out + np.where(np.abs(x - v) <= self.d, p / (2 * self.d), 0.0)
        return out

    def _partial_moment(self, k, x, strict):
        x = np.maximum(np.asarray(x, float), 0.0)
        from scipy import special

        out = self.q * math.factorial(k) * special.gammainc(k + 1, x)
        for v, p in zip(self.v, self.p):
            if self.d == 0:
                hit = (x > v) if strict else (x >= v)
                out = out + np.where(hit, p * v**k, 0.0)
            else:
                lo, hi = v - self.d, v + self.d
                t = np.clip(x, lo, hi)
                out = out + p * (t ** (k + 1) - lo ** (k + 1)) / ((k + 1) * 2 * self.d)
        return out

    def _cdf(self, x):
        return self._partial_moment(0, x, False)

    def _sf(self, x):  # computed directly: 1 − cdf would leave 1e-16 noise in the tail
        x = np.maximum(np.asarray(x, float), 0.0)
        out = self.q * np.exp(-x)
        for v, p in zip(self.v, self.p):
            if self.d == 0:
                out = out + np.where(x < v, p, 0.0)
            else:
                out = out + p * (v + self.d - np.clip(x, v - self.d, v + self.d)) / (2 * self.d)
        return out

    def _support(self):
        return (0.0, math.inf if self.q > 0 else float(self.v.max() + self.d))

    def _moment(self, k):
        return float(self._partial_moment(k, np.asarray(1e6), False))

    def _breakpoints(self):
        if self.d == 0:
            return np.empty(0)
        return np.sort(np.concatenate([self.v - self.d, self.v + self.d]))

    def _scale(self):
        return 1.0


@pytest.mark.parametrize("q", [0.0, 0.4])
def test_atom_aware_forms_are_limits_of_continuous_laws(q):
    """SRPT, SJF and FB at atoms = limits of narrow uniform strips (mixed laws too)."""
    vals_, probs = [1.0, 2.5], [0.6, 0.4]
    atomic = _AtomsOrStrips(q, vals_, probs)
    lam = 0.9 / atomic.mean()
    w0 = qt.Workload(lam, atomic)
    # (Not PSJF: within a strip PSJF serves smaller-first with preemption, which is not
    # FCFS among equal sizes, so its strip limit differs from the atom; PSJF's atoms are
    # checked against Cobham in test_sjf_psjf_equal_cobham_on_atoms.)
    for pol in (qt.SRPT(), qt.SJF(), qt.FB()):
        target = pol.mean_response_time(w0)
        vals = []
        for delta in (1e-2, 5e-3, 2.5e-3):
            strips = _AtomsOrStrips(q, vals_, probs, delta)
            w = qt.Workload(lam * atomic.mean() / strips.mean(), strips)
            vals.append(pol.mean_response_time(w))
        gaps = [abs(v - target) for v in vals]
        assert gaps[1] < 0.55 * gaps[0] and gaps[2] < 0.55 * gaps[1], (pol.name, gaps)
        richardson = 2 * vals[2] - vals[1]  # the gap is O(δ)
        assert abs(richardson - target) < 0.02 * gaps[2], (pol.name, gaps)
    # The continuous-law denominator (1 − ρ(x))² at the atoms would be far off the limit.
    v, p = atomic.atoms
    le = 1 - lam * atomic.partial_moment(1, v)
    lt = 1 - lam * atomic.partial_moment(1, v, strict=True)
    w_num = lam * atomic.limited_moment(2, v) / 2
    naive = qt.SRPT().mean_response_time(w0) + np.sum(p * w_num * (1 / le**2 - 1 / (le * lt)))
    assert abs(naive - qt.SRPT().mean_response_time(w0)) > 0.05 * naive


def test_atomic_sums_against_plain_python():
    """Exact sums of the atomic path against a direct loop (math.fsum), 300 atoms."""
    rng = np.random.default_rng(7)
    samples = np.round(rng.exponential(1.0, 300), 3) + 0.001
    law = qt.Empirical(samples)
    vals, probs = law.atoms
    lam = 0.95 / law.mean()
    w = qt.Workload(lam, law)

    def rho(x, strict=False):
        return lam * math.fsum(p * v for v, p in zip(vals, probs) if (v < x if strict else v <= x))

    def sf(x):
        return math.fsum(p for v, p in zip(vals, probs) if v > x)

    def lim2(x):
        return math.fsum(p * min(v, x) ** 2 for v, p in zip(vals, probs))

    def wait(x):
        return lam * lim2(x) / (2 * (1 - rho(x, True)) * (1 - rho(x)))

    edges = [0.0, *vals]
    resid = math.fsum((b - a) * sf(a) / (1 - rho(a)) for a, b in zip(edges[:-1], edges[1:]))
    srpt = math.fsum(p * wait(v) for v, p in zip(vals, probs)) + resid
    est = qt.SRPT().evaluate(w)
    assert abs(est.value - srpt) <= est.error + 1e-13 * srpt
    x = float(vals[150])
    res_x = math.fsum((min(b, x) - a) / (1 - rho(a)) for a, b in zip(edges[:-1], edges[1:])
                      if a < x)
    est = qt.SRPT().evaluate_conditional(w, x)
    assert abs(est.value - (wait(x) + res_x)) <= est.error + 1e-13 * est.value


def test_empirical_large_matches_discrete():
    rng = np.random.default_rng(3)
    samples = rng.weibull(0.7, 100_000)
    emp = qt.Empirical(samples)
    vals, probs = emp.atoms
    disc = qt.Discrete(vals, probs)
    lam = 0.9 / emp.mean()
    for pol in (qt.SRPT(), qt.FB()):
        a = pol.evaluate(qt.Workload(lam, emp))
        b = pol.evaluate(qt.Workload(lam, disc))
        assert abs(a.value - b.value) <= a.error + b.error


# ------------------------------------------------------------------ heavy tails
@pytest.mark.parametrize("shape", [1.1, 1.5, 1.9])
def test_heavy_tails(shape):
    law = qt.Pareto(shape=shape, scale=1.0)
    assert law.moment(2) == math.inf
    w = qt.Workload(0.7 / law.mean(), law)
    for pol in (qt.FCFS(), qt.SJF(), qt.NonPreemptivePriority([2.0])):
        assert pol.mean_response_time(w) == math.inf
        assert pol.response_time(w, 1.5) == math.inf
    finite = {pol.name: pol.evaluate(w) for pol in (qt.SRPT(), qt.PS(), qt.FB(), qt.PSJF(),
                                                     qt.LCFS())}
    for est in finite.values():
        assert math.isfinite(est.value) and est.error < 1e-9 * est.value
    assert finite["SRPT"].value <= finite["PSJF"].value
    assert finite["SRPT"].value <= finite["PS"].value
    assert finite["FB"].value < finite["PS"].value  # Pareto has decreasing hazard rate
    # preemptive priority: the small class does not see the heavy class's tail
    pp = qt.PreemptivePriority([2.0])
    assert math.isfinite(pp.response_time(w, 1.5))
    assert pp.response_time(w, 3.0) == math.inf
    assert pp.mean_response_time(w) == math.inf


# ------------------------------------------------------------------ function classes
def test_function_classes_equal_boundaries():
    law = qt.Weibull(shape=0.5, scale=0.5)
    w = qt.Workload(0.8, law)
    for cls in (qt.NonPreemptivePriority, qt.PreemptivePriority):
        by_bounds = cls([0.3, 2.0])
        vectorized = cls(lambda x: (np.asarray(x) > 0.3).astype(int) + (np.asarray(x) > 2.0))
        scalar_only = cls(lambda x: 0 if x <= 0.3 else (1 if x <= 2.0 else 2))
        ref = by_bounds.evaluate(w)
        for pol in (vectorized, scalar_only):
            est = pol.evaluate(w)
            assert abs(est.value - ref.value) <= 1e-12 * ref.value
            for x in (0.1, 0.3, 1.0, 5.0):
                assert pol.response_time(w, x) == pytest.approx(by_bounds.response_time(w, x),
                                                                rel=1e-12)


def test_function_classes_non_monotone_labels_and_atoms():
    """Labels need not follow size order: big jobs first, small ones second."""
    law = qt.Discrete([1.0, 2.0, 4.0], [0.5, 0.3, 0.2])
    w = qt.Workload(0.8 / law.mean(), law)
    pol = qt.PreemptivePriority(lambda x: 0 if x > 3 else 1)
    lam = w.arrival_rate
    # class 0 = {4}, class 1 = {1, 2}
    rho0 = lam * 0.8
    r0 = lam * 0.2 * 16 / 2
    t4 = 4 + r0 / (1 - rho0)
    r1 = lam * (0.5 * 1 + 0.3 * 4 + 0.2 * 16) / 2
    t1 = 1 / (1 - rho0) + r1 / ((1 - rho0) * (1 - w.load))
    assert pol.response_time(w, 4.0) == pytest.approx(t4, rel=1e-13)
    assert pol.response_time(w, 1.0) == pytest.approx(t1, rel=1e-13)


# ------------------------------------------------------------------ ranks
def test_rank_functions():
    assert qt.SRPT().rank(3.0, 1.0) == (0.0, 2.0)
    assert qt.PSJF().rank(3.0, 1.0) == (0.0, 3.0)
    assert qt.FB().rank(3.0, 1.25) == (0.0, 1.25)
    assert qt.FCFS().rank(0.0, 5.0) == (0.0, 0.0)
    assert qt.SJF().rank(3.0, 0.0) == (0.0, 3.0)
    assert qt.SJF().rank(3.0, 0.5) == (NONPREEMPTIBLE, -np.inf)
    np_pol = qt.NonPreemptivePriority([1.0, 2.0])
    assert np_pol.rank(1.5, 0.0) == (1.0, 0.0)
    assert np_pol.rank(1.5, 0.1)[0] == NONPREEMPTIBLE
    assert qt.PreemptivePriority([1.0, 2.0]).rank(2.5, 7.0) == (2.0, 0.0)
    assert qt.PreemptivePriority([1.0, 2.0]).rank(1.0, 0.0) == (0.0, 0.0)  # (0, 1] is class 0
    assert qt.PreemptivePriority(lambda x: 7).rank(2.5, 1.0) == (7.0, 0.0)
    segs = qt.SRPT().rank_segments(np.array([1.0, 2.0, 3.0]))
    assert segs.n_jobs == 3 and np.all(segs.slope == -1.0)
    assert qt.LCFS().tie_break == "lcfs" and not qt.LCFS().is_soap
    assert qt.PS().processor_sharing and not qt.PS().is_soap
    assert {qt.SRPT().uses, qt.SJF().uses, qt.PSJF().uses} == {"size"}
    assert {qt.FCFS().uses, qt.FB().uses, qt.PS().uses, qt.LCFS().uses} == {"nothing"}
    assert all(p.has_closed_form for p in (qt.FCFS(), qt.SRPT(), qt.FB(), qt.LCFS()))


# ------------------------------------------------------------------ bad input
def test_unstable_workload_names_lambda_mean_rho():
    w = qt.Workload(1.2, qt.Exponential(1.0))
    for pol in (qt.FCFS(), qt.SRPT(), qt.PS(), qt.PreemptivePriority([1.0])):
        with pytest.raises(UnstableError) as info:
            pol.mean_response_time(w)
        msg = str(info.value)
        assert "lambda" in msg and "E[S]" in msg and "rho" in msg and "1.2" in msg
        with pytest.raises(UnstableError):
            pol.response_time(w, 1.0)
    with pytest.raises(UnstableError):  # rho == 1 exactly
        qt.SRPT().mean_response_time(qt.Workload(1.0, qt.Exponential(1.0)))


@pytest.mark.parametrize("x", [-1.0, 0.0, math.nan, math.inf, "big"])
def test_bad_job_size(x):
    w = qt.Workload(0.5, qt.Exponential(1.0))
    for pol in (qt.SRPT(), qt.FCFS(), qt.NonPreemptivePriority([1.0])):
        with pytest.raises(ParameterError, match="x must be"):
            pol.response_time(w, x)


@pytest.mark.parametrize("classes, match", [
    ([2.0, 1.0], "strictly increasing"),
    ([1.0, 1.0], "strictly increasing"),
    ([-1.0, 2.0], "> 0"),
    ([0.0], "> 0"),
    ([1.0, math.nan], "finite"),
    ([1.0, math.inf], "finite"),
    ("1,2", "string"),
    ([[1.0, 2.0]], "1-D"),
    (["a"], "classes"),
    (None, "classes"),
])
def test_bad_classes(classes, match):
    for cls in (qt.NonPreemptivePriority, qt.PreemptivePriority):
        with pytest.raises(ParameterError, match=match):
            cls(classes)


def test_bad_class_functions():
    w = qt.Workload(0.5, qt.Exponential(1.0))

    def boom(x):
        raise RuntimeError("no")

    for func, match in ((lambda x: x * 0.5 + 0.25, "integer class label"),
                        (lambda x: "a", "integer class labels"),
                        (boom, "raised RuntimeError"),
                        (lambda x: np.full(np.shape(x), np.nan), "integer class label")):
        with pytest.raises(ParameterError, match=match):
            qt.PreemptivePriority(func).mean_response_time(w)


def test_bad_method_and_workload():
    with pytest.raises(ParameterError, match="method"):
        qt.SRPT().evaluate(qt.Workload(0.5, qt.Exponential(1.0)), method="fast")
    with pytest.raises(ParameterError, match="workload"):
        qt.SRPT().evaluate("M/M/1")
