"""The LLM simulator in its degenerate configuration is an M/G/1 queue (llm-models.md §11.1).

One request at a time, no memory limit, free prefill, every iteration 1 s and one
token: a request with o output tokens is a job of size o. Scheduling happens only
between iterations, so

* FCFS and SPJF (non-preemptive) are *exactly* the M/G/1 FCFS (Pollaczek–Khinchine)
  and SPJF with atoms: ``qt.FCFS`` / ``qt.SPJF`` on the discrete joint law;
* SPRPT and TRAIL(c) are exactly the SOAP policies with point ranks at whole ages
  (``llm.IterationLevelPolicy``), *not* the continuous-time ``qt.SPRPT`` /
  ``qt.LimitedPreemptionSPRPT``, which preempt at arrival instants.

Exact values: tests/reference/llm_batch1_soap.py (rational arithmetic, independent of
the package). The simulation is compared with them within batch-means confidence
intervals, per policy and for paired differences (common random numbers), which
are sharp enough to tell every pair of policies apart.
"""

import numpy as np
import pytest

import queuetheory as qt
from queuetheory import llm
from queuetheory.llm.metrics import batch_means_ci

# (output tokens, prediction, probability): o in {1, 2, 3, 6, 12} w.p. .3 .25 .2 .15 .1,
# prediction o, 2o, ceil(o/2) w.p. 1/2, 1/4, 1/4 (duplicates merged).
JOINT = [(1, 1, 0.225), (1, 2, 0.075), (2, 1, 0.0625), (2, 2, 0.125), (2, 4, 0.0625),
         (3, 2, 0.05), (3, 3, 0.1), (3, 6, 0.05), (6, 3, 0.0375), (6, 6, 0.075),
         (6, 12, 0.0375), (12, 6, 0.025), (12, 12, 0.05), (12, 24, 0.025)]
LAM = 0.2  # rho = 0.7
# Exact mean latencies from tests/reference/llm_batch1_soap.py (fractions, SOAP by hand)
EXACT = {"FCFS": 11.133333333333333, "SPJF": 8.258179158255308,
         "SPRPT": 7.470917825887811, "TRAIL(0.5)": 7.540257844574593}
POLICIES = {"FCFS": llm.FCFS(), "SPJF": llm.SPJF(), "SPRPT": llm.SPRPT(),
            "TRAIL(0.5)": llm.TRAIL(c=0.5)}


def joint_pairs():
    xs, ys = [], []
    for x, y, p in JOINT:
        k = round(p * 80)
        xs += [float(x)] * k
        ys += [float(y)] * k
    return qt.EmpiricalPredictions(xs, ys)


def test_joint_law_matches_reference_script():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parent / "reference" / "llm_batch1_soap.py"
    spec = importlib.util.spec_from_file_location("llm_batch1_soap", path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    assert [(x, float(y), float(p)) for x, y, p in ref.joint()] == JOINT
    jobs = ref.joint()
    lam = ref.F(1, 5)
    assert float(ref.fcfs_mean(jobs, lam)) == EXACT["FCFS"]
    assert float(ref.soap_mean(jobs, lam, "SPRPT")) == EXACT["SPRPT"]


def test_package_formulas_reproduce_the_exact_values():
    ep = joint_pairs()
    w = ep.workload(LAM)
    # non-preemptive policies: the iteration-level server is exactly the M/G/1
    assert qt.FCFS().mean_response_time(w) == pytest.approx(EXACT["FCFS"], rel=1e-12)
    assert qt.SPJF().mean_response_time(w) == pytest.approx(EXACT["SPJF"], rel=1e-12)
    for name, pol in POLICIES.items():
        est = llm.batch1_mean_latency(pol, LAM, ep.size_distribution, ep)
        assert est.value == pytest.approx(EXACT[name], rel=1e-11), name
    # time scaling: tau seconds per token and rate lam/tau give tau times the latency
    est = llm.batch1_mean_latency(llm.TRAIL(0.5), LAM / 0.05, ep.size_distribution, ep,
                                  time_per_token=0.05)
    assert est.value == pytest.approx(0.05 * EXACT["TRAIL(0.5)"], rel=1e-11)
    assert llm.batch1_mean_latency(llm.TRAIL(0.0), LAM, ep.size_distribution, ep).value == \
        pytest.approx(EXACT["SPJF"], rel=1e-11)
    assert llm.batch1_mean_latency(llm.TRAIL(1.0), LAM, ep.size_distribution, ep).value == \
        pytest.approx(EXACT["SPRPT"], rel=1e-11)
    # the continuous-time formulas are a different model: off by O(tau / E[S])
    cont = llm.trail_mean_latency(LAM, ep.size_distribution, ep, c=0.5).value
    assert cont == pytest.approx(qt.LimitedPreemptionSPRPT(0.5).mean_response_time(w), rel=1e-10)
    assert abs(cont - EXACT["TRAIL(0.5)"]) / EXACT["TRAIL(0.5)"] > 0.01


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(2024)
    n = 30_000
    probs = np.array([p for _, _, p in JOINT])
    k = rng.choice(len(JOINT), size=n, p=probs / probs.sum())
    o = np.array([x for x, _, _ in JOINT])[k]
    y = np.array([float(y) for _, y, _ in JOINT])[k]
    arrivals = np.cumsum(rng.exponential(1 / LAM, n))
    reqs = llm.RequestSet(arrivals, 1, o, y)
    server = llm.Server(max_batch_size=1, kv_capacity_tokens=None,
                        cost=llm.LinearCost(per_iteration=1.0, per_token=0.0,
                                            per_prefill_token=0.0), wakeup_latency=0.0)
    out = {name: llm.simulate(reqs, server, pol, engine="python", record_kv=False)
           for name, pol in POLICIES.items()}
    return reqs, server, out


@pytest.mark.parametrize("name", list(POLICIES))
def test_simulation_matches_exact_mean_latency(simulated, name):
    _, _, out = simulated
    mean, half = batch_means_ci(out[name].latency, batches=20)
    # 1.5 x the 95% half-width (about 3 standard errors); seeded, so deterministic
    assert abs(mean - EXACT[name]) <= 1.5 * half, (name, mean, half, EXACT[name])


@pytest.mark.parametrize("a, b", [("FCFS", "SPJF"), ("SPJF", "SPRPT"),
                                  ("TRAIL(0.5)", "SPRPT"), ("SPJF", "TRAIL(0.5)")])
def test_paired_differences_match_and_separate_the_policies(simulated, a, b):
    _, _, out = simulated
    diff, half = batch_means_ci(out[a].latency - out[b].latency, batches=20)
    exact = EXACT[a] - EXACT[b]
    assert abs(diff - exact) <= 1.5 * half, (a, b, diff, half, exact)
    # the interval excludes 0: the test could not pass with one policy in place of the other
    assert abs(exact) > 3 * half


def test_continuous_time_sprpt_is_rejected_by_the_paired_interval(simulated):
    # qt.SPRPT preempts at arrival instants; the iteration-level server cannot
    _, _, out = simulated
    w = joint_pairs().workload(LAM)
    cont_gap = qt.SPJF().mean_response_time(w) - qt.SPRPT().mean_response_time(w)
    diff, half = batch_means_ci(out["SPJF"].latency - out["SPRPT"].latency, batches=20)
    assert abs(diff - cont_gap) > 3 * half


def test_preemption_modes_are_equivalent_with_free_prefill(simulated):
    # resuming after recompute costs one free prefill iteration that also emits a token,
    # exactly like resuming a preserved or (overlapped) swapped request
    reqs, server, out = simulated
    sub = llm.RequestSet(reqs.arrival[:5000], 1, reqs.output_tokens[:5000],
                         reqs.predicted_output[:5000])
    results = []
    for mode, extra in (("recompute", {}), ("preserve", {}), ("swap", {"swap_overlap": True})):
        srv = llm.Server(max_batch_size=1, cost=server.cost, wakeup_latency=0.0,
                         preemption=mode, **extra)
        results.append(llm.simulate(sub, srv, llm.SPRPT(), engine="python"))
    assert results[0].priority_preemptions > 100
    for r in results[1:]:
        assert np.array_equal(r.finish_time, results[0].finish_time)
