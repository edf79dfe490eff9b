"""Analytic LLM-serving formulas: DistServe TTFT, M/G/1 forms, birth-death model, bounds."""

import math

import numpy as np
import pytest

import queuetheory as qt
from queuetheory import llm
from queuetheory.errors import ParameterError, UnstableError
from queuetheory.llm.metrics import batch_means_ci


# ------------------------------------------------------------------ DistServe TTFT
@pytest.mark.parametrize("rate, d", [(2.0, 0.1), (5.0, 0.15), (0.3, 1.0)])
def test_distserve_ttft_equals_pollaczek_khinchine(rate, d):
    # independent evaluation: qt.FCFS on a deterministic service time
    def pk(service, lam):
        return qt.FCFS().mean_response_time(qt.Workload(lam, qt.Deterministic(service)))

    assert llm.distserve_ttft(rate, d) == pytest.approx(pk(d, rate), rel=1e-13)
    # two-stage pipeline: total D plus the waiting of the bottleneck stage D/2
    assert llm.distserve_ttft(rate, d, variant="pipeline") == \
        pytest.approx(d + pk(d / 2, rate) - d / 2, rel=1e-13)
    # intra-op parallelism with speed-up K: service D/K
    for k in (2.0, 3.5):
        assert llm.distserve_ttft(rate, d, variant="intra_op", speedup=k) == \
            pytest.approx(pk(d / k, rate), rel=1e-13)


def test_distserve_ttft_stability_and_errors():
    with pytest.raises(UnstableError, match="must be < 1"):
        llm.distserve_ttft(10.0, 0.1)
    assert math.isfinite(llm.distserve_ttft(10.0, 0.1, variant="pipeline"))  # R D / 2 = 0.5
    with pytest.raises(ParameterError, match="variant"):
        llm.distserve_ttft(1.0, 0.1, variant="tandem")
    with pytest.raises(ParameterError, match="prefill_time must be > 0"):
        llm.distserve_ttft(1.0, -0.1)


def test_general_mg1_forms():
    cost = llm.LinearCost(per_iteration=0.02, per_token=0.0, per_prefill_token=1e-4)
    s = np.array([100, 400, 1600])
    p = np.array([0.5, 0.3, 0.2])
    svc = 0.02 + 1e-4 * s
    law = qt.Discrete(svc, p)
    expect = qt.FCFS().mean_response_time(qt.Workload(3.0, law))
    assert llm.prefill_ttft(3.0, cost, s, p) == pytest.approx(expect, rel=1e-12)
    # output clipping (Yang-Jiao-Xu form): S = prefill + min(o, o_max) TPOT
    o = np.array([10, 50, 400])
    clipped = 0.05 + np.minimum(o, 100) * 0.01
    expect = qt.FCFS().mean_response_time(qt.Workload(0.5, qt.Discrete(clipped, p)))
    got = llm.clipped_output_latency(0.5, o, p, max_tokens=100, time_per_token=0.01,
                                     prefill_time=0.05)
    assert got == pytest.approx(expect, rel=1e-12)
    assert llm.mg1_ttft(1.0, 0.5, math.inf) == math.inf
    with pytest.raises(UnstableError):
        llm.mg1_ttft(2.0, 0.5, 1.0)


# ------------------------------------------------------------ birth-death model
def brute_force_pi(model, n_max=300):
    """Stationary law of the truncated birth-death generator by a dense linear solve."""
    lam = model.arrival_rate
    q = np.zeros((n_max + 1, n_max + 1))
    for n in range(n_max + 1):
        if n < n_max:
            q[n, n + 1] = lam
        if n > 0:
            m = min(n, model.slots)
            q[n, n - 1] = m / (model.mean_output * (model.a + model.c * m))
        q[n, n] = -q[n].sum()
    a = q.T.copy()
    a[-1] = 1.0          # replace one balance equation by the normalisation
    b = np.zeros(n_max + 1)
    b[-1] = 1.0
    return np.linalg.solve(a, b)


def test_birth_death_solution_matches_a_linear_solve():
    m = llm.ContinuousBatchingModel(arrival_rate=3.0, mean_output=50, max_batch_size=8,
                                    iteration_time=(0.01, 0.002))
    pi = brute_force_pi(m)  # tail ratio 0.49: truncation at 300 is negligible
    n = np.arange(pi.size)
    assert [m.pmf(k) for k in range(40)] == pytest.approx(pi[:40], abs=1e-12)
    assert m.mean_in_system == pytest.approx(np.dot(n, pi), rel=1e-9)
    assert m.mean_queue == pytest.approx(np.dot(np.maximum(n - 8, 0), pi), rel=1e-9)
    run = np.minimum(n, 8)
    t = 0.01 + 0.002 * run
    tpot = np.dot(pi, run) / np.dot(pi, np.where(run > 0, run / t, 0.0))
    assert m.tpot == pytest.approx(tpot, rel=1e-9)


def test_birth_death_single_slot_is_mm1():
    # k = 1, constant iteration time: exponential service of mean E[o] t
    m = llm.ContinuousBatchingModel(arrival_rate=1.5, mean_output=20, max_batch_size=1,
                                    iteration_time=(0.02, 0.0), prefill_time=0.1)
    es = 20 * 0.02
    assert m.latency == pytest.approx(es / (1 - 1.5 * es) + 0.1, rel=1e-12)
    assert m.ttft == pytest.approx(1.5 * es * es / (1 - 1.5 * es) + 0.1, rel=1e-12)
    # memory limit: k = min(max_batch_size, floor(M / (s + o)))
    m2 = llm.ContinuousBatchingModel(arrival_rate=0.5, mean_output=20, max_batch_size=64,
                                     iteration_time=(0.02, 0.0), kv_capacity_tokens=130,
                                     mean_prompt=10)
    assert m2.slots == 4
    with pytest.raises(UnstableError, match="arrival_rate must be <"):
        llm.ContinuousBatchingModel(arrival_rate=10.0, mean_output=20, max_batch_size=1,
                                    iteration_time=(0.02, 0.0))


@pytest.mark.parametrize("k, mean_out, lam", [(4, 50, 3.2), (8, 20, 10.0)])
def test_birth_death_model_against_the_simulator(k, mean_out, lam):
    # its regime of validity: geometric outputs, no memory growth (no limit), one-token
    # prompts whose prefill costs like a decode, so every iteration costs a + c m exactly
    a, c = 0.01, 0.002
    model = llm.ContinuousBatchingModel(lam, mean_out, k, (a, c))
    server = llm.Server(max_batch_size=k, cost=llm.LinearCost(a, c, c), wakeup_latency=0.0)
    reqs = llm.generate_requests(12_000, rate=lam, prompt=1,
                                 output=llm.GeometricLength(mean_out), seed=3)
    res = llm.simulate(reqs, server, llm.FCFS(), engine="python", record_kv=False)
    # token-averaged TPOT: the model is exact up to sampling error
    tpot, h = batch_means_ci(res.tpot, 20)
    assert abs(tpot - model.tpot) <= 1.5 * h + 1e-4 * model.tpot
    # latency: the continuous-time chain ignores that an arrival waits for the iteration in
    # progress; measured bias +3% to +4% (llm-models.md §7.3 "validity"); allow 6% + CI
    lat, h = batch_means_ci(res.latency, 20)
    assert abs(lat - model.latency) <= 0.06 * model.latency + 1.5 * h


# -------------------------------------------------------------------- memory area
def test_memory_time_area():
    s, o = 37, 12
    assert llm.memory_time_area(s, o) == sum(s + j for j in range(1, o + 1))
    assert llm.memory_time_area([1, 2], [3, 4]).tolist() == [9.0, 18.0]
    with pytest.raises(ParameterError):
        llm.memory_time_area(-1, 3)


# ------------------------------------------------------------------------ bounds
def test_bounds_arithmetic_and_errors():
    assert llm.compute_bound(2048, 0.1, 1000, 24) == pytest.approx(2048 / (0.1 * 1024))
    eg = llm.mean_memory_area(100, 10, 150)
    assert eg == 10 * 100 + (150 + 10) / 2
    assert llm.memory_bound(10_000, 0.02, eg) == pytest.approx(10_000 / (0.02 * eg))
    assert llm.slot_bound(64, 0.05, 200) == pytest.approx(64 / (200 * 0.05))
    caps = llm.deployment_capacity(mean_prompt=100, mean_output=10)
    assert caps.capacity == math.inf
    with pytest.raises(ParameterError, match="together"):
        llm.deployment_capacity(mean_prompt=100, mean_output=10, token_budget=512)
    with pytest.raises(ParameterError, match="output_second_moment must be >="):
        llm.mean_memory_area(100, 10, 50)
    with pytest.raises(ParameterError, match="batch_time"):
        llm.compute_bound(512, 0.0, 1, 1)


def test_continuous_time_trail_formula_is_the_limit_of_the_iteration_level_one():
    # sizes k x {1, 2, 4} tokens of 1/k seconds: the iteration-level server preempts on a grid
    # of 1/k seconds, so it approaches the continuous-time TRAIL formula as k grows
    base = np.array([1.0, 2.0, 4.0])
    p = np.array([0.5, 0.3, 0.2])
    lam = 0.6 / float(np.dot(base, p))
    gaps = []
    for k in (1, 2, 4):
        x = np.repeat(base * k, [5, 3, 2])
        y = x.copy()  # exact predictions
        ep = qt.EmpiricalPredictions(x, y)
        cont = llm.trail_mean_latency(lam, ep.size_distribution, ep, c=0.5,
                                      time_per_token=1 / k).value
        disc = llm.batch1_mean_latency(llm.TRAIL(0.5), lam, ep.size_distribution, ep,
                                       time_per_token=1 / k).value
        gaps.append(disc - cont)
    assert all(g > 0 for g in gaps)          # coarser preemption costs latency
    assert gaps[1] < 0.7 * gaps[0] and gaps[2] < 0.7 * gaps[1]
