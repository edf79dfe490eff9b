"""Limited-preemption SPRPT (TRAIL, formulas.md §8).

Independent checks: mpmath evaluations written without the package
(tests/reference/prediction_policies_reference.py, "trail", "basic", "cond"),
the exact endpoints c = 0 (SPJF) and c = 1 (SPRPT), the known-size form §8.3
evaluated by plain nested scipy quadrature, and an independent event simulation.
"""

from __future__ import annotations

import importlib.util
import math
import pathlib

import numpy as np
import pytest
from scipy import integrate

import queuetheory as qt
from queuetheory.errors import ParameterError, UnstableError

_spec = importlib.util.spec_from_file_location(
    "prediction_sim", pathlib.Path(__file__).parent / "reference" / "prediction_sim.py")
SIM = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(SIM)

# mpmath (25 digits), M/M/1 with exponential predictions.
REF_TRAIL = {  # TRAIL(c), threshold on the prediction; key = 'lambda/c'
    '0.5/0.25': '1.6935581107891445095',
    '0.9/0.25': '5.131089708201722838',
    '0.99/0.25': '28.905506742215881947',
    '0.5/0.5': '1.672617690705710601',
    '0.9/0.5': '5.1222713575274311719',
    '0.99/0.5': '28.96486467618855876',
    '0.5/0.75': '1.6629620306708055288',
    '0.9/0.75': '5.107324585612747169',
    '0.99/0.75': '28.951131064982003159',
}
REF_TRAIL_SIZE = {  # threshold on the size, key = 'lambda/c'
    '0.5/0.5': '1.6329622491348159061',
    '0.7/0.5': '2.3127314661745822481',
    '0.8/0.5': '3.0502406242072507616',
    '0.9/0.5': '4.9457406789663930543',
    '0.95/0.5': '8.1735416140518517473',
    '0.99/0.5': '28.495033356739931992',
}
REF_TRAIL_COND = {  # TRAIL(0.5) E[T | x, y] at lambda = 0.8, key = 'x/y'
    '1/0.5': '1.7558169962016544615',
    '0.5/2': '3.7528568589245113211',
    '3/1': '4.4544378452247938586',
}


def mm1(lam: float) -> qt.Workload:
    return qt.Workload(lam, qt.Exponential(1.0), qt.ExponentialPrediction())


@pytest.mark.parametrize("threshold, key", [("prediction", k) for k in REF_TRAIL]
                         + [("size", k) for k in REF_TRAIL_SIZE])
def test_trail_vs_mpmath(threshold, key):
    lam, c = (float(v) for v in key.split("/"))
    est = qt.LimitedPreemptionSPRPT(c, threshold=threshold).evaluate(mm1(lam))
    exact = float((REF_TRAIL if threshold == "prediction" else REF_TRAIL_SIZE)[key])
    assert est.value == pytest.approx(exact, rel=1e-8)
    assert abs(est.value - exact) <= est.error + 1e-13 * exact


@pytest.mark.parametrize("key", list(REF_TRAIL_COND))
def test_trail_conditional_vs_mpmath(key):
    x, y = (float(v) for v in key.split("/"))
    got = qt.LimitedPreemptionSPRPT(0.5).response_time(mm1(0.8), x, y)
    assert got == pytest.approx(float(REF_TRAIL_COND[key]), rel=1e-9)


@pytest.mark.parametrize("threshold", ["prediction", "size"])
def test_endpoints_are_spjf_and_sprpt(threshold):
    w = mm1(0.8)
    spjf, sprpt = qt.SPJF().mean_response_time(w), qt.SPRPT().mean_response_time(w)
    assert qt.LimitedPreemptionSPRPT(0.0, threshold).mean_response_time(w) == spjf
    assert qt.LimitedPreemptionSPRPT(1.0, threshold).mean_response_time(w) == sprpt
    # continuity at the endpoints through the general formula
    near0 = qt.LimitedPreemptionSPRPT(1e-7, threshold).mean_response_time(w)
    near1 = qt.LimitedPreemptionSPRPT(1 - 1e-7, threshold).mean_response_time(w)
    assert near0 == pytest.approx(spjf, rel=1e-5)
    assert near1 == pytest.approx(sprpt, rel=1e-5)
    assert qt.LimitedPreemptionSPRPT(0.0, threshold).response_time(w, 1.0, 2.0) == \
        qt.SPJF().response_time(w, 1.0, 2.0)


def _known_size_trail(lam: float, c: float) -> float:
    """formulas.md §8.3 for S ~ Exp(1), evaluated by plain nested scipy quadrature."""
    def rho(t):
        return lam * (1 - (1 + t) * math.exp(-t))

    def tail2(z):  # E[S² 1(S > z)]
        return (z * z + 2 * z + 2) * math.exp(-z)

    def T(x):
        z = x / (1 - c)
        m2 = 2 - tail2(x)
        old = x * x * (math.exp(-x) - math.exp(-z)) + (1 - c) ** 2 * tail2(z)
        wait = lam * (m2 + old) / (2 * (1 - rho(x)) ** 2)
        res = integrate.quad(lambda t: 1 / (1 - rho(t)), (1 - c) * x, x, epsabs=0,
                             epsrel=1e-12)[0]
        return wait + res + (1 - c) * x

    return integrate.quad(lambda x: math.exp(-x) * T(x), 0, np.inf, epsabs=0, epsrel=1e-11,
                          limit=200)[0]


@pytest.mark.parametrize("c", [0.3, 0.7])
def test_exact_predictions_give_known_size_form(c):
    lam = 0.7
    w = qt.Workload(lam, qt.Exponential(1.0))
    ref = _known_size_trail(lam, c)
    a = qt.LimitedPreemptionSPRPT(c).mean_response_time(w)
    b = qt.LimitedPreemptionSPRPT(c, threshold="size").mean_response_time(w)
    assert a == pytest.approx(ref, rel=1e-9)
    assert b == pytest.approx(ref, rel=1e-9)  # §8.4 reduces to §8.3 with Y = S


def test_ranks_and_descriptor():
    p = qt.LimitedPreemptionSPRPT(0.5)
    assert p.rank(2.0, 0.5) == (0.0, 1.5)
    assert p.rank(2.0, 1.0)[0] == -math.inf  # non-preemptible from c·y on
    p0 = qt.LimitedPreemptionSPRPT(0.0)
    seg = p0.rank_segments(np.array([2.0]))
    assert seg.start[0, 0] == seg.end[0, 0] == 0.0  # point segment at age 0: SPJF
    assert p0.rank(2.0, 0.0) == (0.0, 2.0) and p0.rank(2.0, 1e-9)[0] == -math.inf
    ps = qt.LimitedPreemptionSPRPT(0.5, threshold="size")
    d = ps.descriptor(np.array([4.0]), np.array([1.0]))
    np.testing.assert_array_equal(d, [[1.0, 4.0]])
    assert ps.rank([1.0, 4.0], 1.5) == (0.0, -0.5)  # preemptible until 0.5·x = 2
    assert ps.rank([1.0, 4.0], 2.5)[0] == -math.inf
    assert isinstance(qt.TRAIL(0.3), qt.LimitedPreemptionSPRPT)


SIM_CASES = {"trail": (qt.LimitedPreemptionSPRPT(0.5), SIM.trail(0.5)),
             "trail-0.2": (qt.LimitedPreemptionSPRPT(0.2), SIM.trail(0.2)),
             "trail-size": (qt.LimitedPreemptionSPRPT(0.5, "size"), SIM.trail_size(0.5))}


def _simulate(name, n, seed, lam):
    pol, rank = SIM_CASES[name]
    rng = np.random.default_rng(seed)
    gaps, x = rng.exponential(1 / lam, n), rng.exponential(1.0, n)
    y = x * rng.exponential(1.0, n)
    sim, half = SIM.simulate(rank, SIM.fcfs_ties, gaps, x, y)
    return pol.mean_response_time(mm1(lam)), sim, half


def test_trail_vs_simulation():
    exact, sim, half = _simulate("trail", 60_000, seed=3, lam=0.6)
    assert abs(sim - exact) <= half, (exact, sim, half)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SIM_CASES))
def test_trail_vs_long_simulation(name):
    exact, sim, half = _simulate(name, 1_500_000, seed=31, lam=0.7)
    assert abs(sim - exact) <= half, (exact, sim, half)


def test_bad_input():
    for c in (-0.1, 1.5, float("nan"), float("inf")):
        with pytest.raises(ParameterError, match="c must"):
            qt.LimitedPreemptionSPRPT(c)
    with pytest.raises(ParameterError, match="threshold must be one of"):
        qt.LimitedPreemptionSPRPT(0.5, threshold="age")
    with pytest.raises(UnstableError):
        qt.LimitedPreemptionSPRPT(0.5).mean_response_time(mm1(1.0))
