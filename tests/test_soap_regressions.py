"""Regression tests for bugs fixed in the SOAP engine (queuetheory/soap.py).

Each test compares the engine with something independent of it: a policy's
closed form, or a brute-force evaluation of the SOAP theorem written out by hand
below (formulas.md §4.3 with the bounce rank of §6.2).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from local_laws import empirical_joint_workload

import queuetheory as qt
from queuetheory import soap


# ---------------------------------------------------------------- workloads
def _pairs_workload(seed: int, n: int, rho: float, zeros: int = 0) -> qt.Workload:
    """Empirical (size, prediction) pairs rounded to 0.01 (ties and equal ranks occur),
    ``zeros`` of the predictions set to exactly 0."""
    rng = np.random.default_rng(seed)
    actual = np.round(rng.exponential(1.0, n), 2) + 0.05
    predicted = np.round(actual * rng.lognormal(0.0, 0.6, n), 2)
    if zeros:
        predicted[rng.choice(n, zeros, replace=False)] = 0.0
    pairs = qt.EmpiricalPredictions(actual, predicted, mode="joint")
    size = pairs.size_distribution
    return qt.Workload(rho / size.mean(), size, pairs)


def _agree(est, ref) -> None:
    assert math.isfinite(est.value)
    assert abs(est.value - ref.value) <= est.error + ref.error, (est, ref)


# ------------------------------------------ 1. descriptor_dependence is honoured
ZERO_PRED_POLICIES = {
    "onebit-P-fcfs-T0": lambda: qt.OneBit(threshold=0.0, preemptive=True, shorts="fcfs"),
    "onebit-NP-T0": lambda: qt.OneBit(threshold=0.0, preemptive=False),
    "onebit-NP-T0.5": lambda: qt.OneBit(threshold=0.5, preemptive=False),
    "onebit-size-T0": lambda: qt.OneBit(threshold=0.0, shorts="fcfs", on="size"),
    "skip-T0": lambda: qt.SkipPredict(0.0),
    "skip-T0-NP": lambda: qt.SkipPredict(0.0, shorts_preempt=False),
    "skip-T0.5": lambda: qt.SkipPredict(0.5),
    "trail-0.5": lambda: qt.LimitedPreemptionSPRPT(c=0.5),
    "trail-0": lambda: qt.LimitedPreemptionSPRPT(c=0.0),
}


@pytest.mark.parametrize("name", list(ZERO_PRED_POLICIES))
def test_zero_predictions_engine_matches_closed_form(name):
    # Bug: the descriptor was probed only at random positive predictions, so a one-bit
    # threshold 0 looked constant ("everyone long"): 4.81 instead of the exact 3.98.
    w = _pairs_workload(1, 10, 0.7, zeros=3)
    pol = ZERO_PRED_POLICIES[name]()
    _agree(soap.mean_response_time(pol, w), pol.evaluate(w, method="closed_form"))


def test_onebit_threshold_zero_exact_hand_value():
    # 4 pairs (x, y): (1, 0), (2, 0), (3, 1), (4, 2); threshold 0: shorts are the jobs with
    # y = 0, served first (FCFS among themselves), longs preempted by shorts (formulas.md
    # §5.2, shorts FCFS): E[T] = E[S 1(short)] + P_S λE[S² 1(short)]/(2(1 − ρ_S))
    #                          + E[S 1(long)]/(1 − ρ_S) + P_L λE[S²]/(2(1 − ρ_S)(1 − ρ)).
    pairs = qt.EmpiricalPredictions([1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 2.0])
    lam = 0.2
    w = qt.Workload(lam, pairs.size_distribution, pairs)
    es_s, es2_s, es_l, es2 = 3 / 4, 5 / 4, 7 / 4, 30 / 4
    rho_s, rho = lam * es_s, lam * 2.5
    exact = (es_s + 0.5 * lam * es2_s / (2 * (1 - rho_s)) + es_l / (1 - rho_s)
             + 0.5 * lam * es2 / (2 * (1 - rho_s) * (1 - rho)))
    est = soap.mean_response_time(qt.OneBit(0.0, shorts="fcfs"), w)
    assert abs(est.value - exact) <= est.error + 4 * np.finfo(float).eps * exact


def test_dependence_declared_and_probed_at_atoms():
    w = _pairs_workload(1, 10, 0.7, zeros=3)
    pol = qt.OneBit(threshold=0.0, shorts="fcfs")
    assert soap._dependence(pol, w) == "y"
    # without the declaration, the probe must still see the change at the atoms y = 0
    del pol.descriptor_dependence
    assert soap._dependence(pol, w) == "y"
    bad = qt.OneBit(threshold=1.0)
    bad.descriptor_dependence = "z"
    with pytest.raises(qt.ParameterError, match="descriptor_dependence"):
        soap._dependence(bad, w)


# ------------------------------------------- 2. SPRPT-with-bounce on atomic laws
def bounce_bruteforce(lam, xs, zs, ps, nodes: int = 40) -> float:
    """E[T] of SPRPT-bounce, rank |z − a|, on an atomic law of (size x, prediction z),
    from the SOAP theorem written out by hand (formulas.md §4.3, §6.2):

    * r = sup_{a<x} |z − a| = max(z, |z − x|); r_worst(a) = max(|z − a|, |z − x|);
    * new job z′: c = 0 if z′ >= r, else z′ + r (down through 0 and back up to r);
    * old job z′: {a : |z′ − a| <= r} = [max(0, z′ − r), z′ + r], interval 0 iff z′ <= r;

    the residence integral by Gauss–Legendre on the pieces between the ages where
    r_worst crosses a critical value (N is linear in the rank between them).
    """
    xs, zs, ps = (np.asarray(a, float) for a in (xs, zs, ps))
    gl_t, gl_w = np.polynomial.legendre.leggauss(nodes)

    def n_new(r):
        r = np.asarray(r, float)[..., None]
        c = np.where(zs >= r, 0.0, zs + r)
        return lam * np.sum(ps * np.minimum(xs, c), axis=-1)

    crit = np.unique(np.concatenate([zs, xs - zs, zs - xs]))
    total = 0.0
    for x, z, p in zip(xs, zs, ps):
        r = max(z, abs(z - x))
        in0 = zs <= r
        x0 = np.where(in0, np.minimum(xs, zs + r), 0.0)
        x1 = np.where(in0, 0.0, np.clip(xs - (zs - r), 0.0, 2 * r))
        o0 = lam * np.sum(ps * x0)
        q = lam * np.sum(ps * (x0 ** 2 + x1 ** 2))
        wait = q / (2 * (1 - o0) * (1 - n_new(r)))
        ages = np.concatenate([[0.0, x, z, z - abs(z - x), z + abs(z - x)], z - crit, z + crit])
        ages = np.unique(np.clip(ages, 0.0, x))
        res = 0.0
        for a0, a1 in zip(ages[:-1], ages[1:]):
            a = 0.5 * (a0 + a1) + 0.5 * (a1 - a0) * gl_t
            rw = np.maximum(np.abs(z - a), abs(z - x))
            res += 0.5 * (a1 - a0) * np.sum(gl_w / (1 - n_new(rw)))
        total += p * (wait + res)
    return float(total)


def test_bruteforce_bounce_is_md1_on_one_atom():
    # one job type: every SOAP policy with ranks that never let a new job win is FCFS
    lam = 0.3
    assert bounce_bruteforce(lam, [1.0], [1.0], [1.0]) == pytest.approx(
        1 + lam / (2 * (1 - lam)), rel=1e-14)


def _crosscheck_empirical_joint(rho=0.75):
    return empirical_joint_workload(rho)


@pytest.mark.parametrize("case", ["crosscheck", 0, 3, 9, 17, 22])
def test_bounce_atomic_matches_bruteforce(case):
    # Bug: critical ranks equal in exact arithmetic (x' − z' against another z'') differed
    # by an ulp; the probes of the ulp-wide piece straddled a jump of ρ^new and the engine
    # raised "rho_new is not piecewise linear between critical ranks".
    if case == "crosscheck":
        w = _crosscheck_empirical_joint()
    else:
        rng = np.random.default_rng(case)
        w = _pairs_workload(case, int(rng.integers(3, 15)), 0.8, zeros=2 * (case % 3 == 0))
    j = w.joint
    est = qt.SPRPTBounce().evaluate(w, method="soap")
    ref = bounce_bruteforce(float(w.arrival_rate), j.x, j.y, j.w)
    # the brute force's own error (Gauss–Legendre on smooth pieces) is ~1e-15 relative
    assert abs(est.value - ref) <= est.error + 1e-12 * ref


# ------------------------------------------------- 3. no invalid floating point
def test_padding_segments_raise_no_warning():
    # rows with different numbers of segments are padded with start = end = inf; the
    # worst-rank scan and the critical values used to compute inf − inf and 0·inf there
    S = soap._canonical_segments(qt.PiecewiseRank.from_segments(
        [[(0.0, np.inf, 0.0, 1.0, 0.0)],
         [(0.0, 1.0, 0.0, 2.0, -1.0), (1.0, np.inf, 0.0, 1.0, 1.0)]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wp = soap._worst_pieces(S, np.array([3.0, 3.0]))
        # r_worst(0) = sup over [0, 3): 1 (flat rank); max(2 − 0, 1 + (3 − 1)) = 3
        assert wp.r_value.tolist() == [1.0, 3.0]
        soap._worst_pieces(S, np.array([np.inf, np.inf]))
        crit = soap._critical_values(S, 0.0, np.array([3.0, 0.5]))
    assert sorted(crit.tolist()) == [1.0, 1.0, 1.0, 1.0, 1.5, 2.0]


ENGINE_CASES = [
    (qt.SPRPTBounce, "pairs"), (qt.SPRPT, "pairs"), (qt.SJF, "pairs"), (qt.FB, "pairs"),
    (lambda: qt.OneBit(1.0, preemptive=False), "pairs"),
    (lambda: qt.LimitedPreemptionSPRPT(0.5), "pairs"),
    (qt.SRPT, "mm1"), (qt.SJF, "mm1"), (qt.FCFS, "pareto"), (qt.SJF, "pareto"),
]


@pytest.mark.parametrize("make,wname", ENGINE_CASES)
def test_engine_runs_with_warnings_as_errors(make, wname):
    w = {"pairs": lambda: _pairs_workload(0, 12, 0.8, zeros=2),
         "mm1": lambda: qt.Workload(0.7, qt.Exponential(1.0)),
         "pareto": lambda: qt.Workload(0.2, qt.Pareto(shape=1.5, scale=1.0))}[wname]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = soap.mean_response_time(make(), w, rtol=1e-6)
    if wname == "pareto":  # E[S²] = ∞ and an old job runs to completion: E[T] = ∞
        assert est.value == math.inf
    else:
        assert math.isfinite(est.value) and est.error < 1e-5 * est.value
