"""Throughput levels off at the capacity bounds; recompute eviction oscillates (§11.3-4).

* Compute bound (Li, Dai, Peng 2025, §6.1): with a token budget b per iteration of
  t_b seconds, mixed prefill/decode batching (vLLM v1, Sarathi) levels off at
  λ* = b/(t_b(m_p + m_d)); batching that does not mix them (vLLM v0) saturates
  earlier. In the simulator the prefill emits the first output token, so a request
  processes m_p = E[s] prefill and m_d = E[o] − 1 decode tokens.
* Memory bound (Nie, Si, Zhou 2026, §6.2): M/(b̄ E[g]) with g = o s + o(o + 1)/2;
  by Little's law for memory it cannot be exceeded (with the simulator's vLLM
  accounting, g − o token-iterations per request).
* Limit cycle (Ao, Dong, Luo, Simchi-Levi 2026, §6.4): homogeneous requests near
  memory capacity with recompute eviction and costly re-prefill: sustained
  oscillation of the batch and a large throughput loss.
"""

import numpy as np
import pytest

from queuetheory import llm


def overload_throughput(res, reqs, start=0.3):
    t_end = float(reqs.arrival[-1])
    return res.throughput(start=start * t_end, end=t_end)


COMPUTE_COST = llm.LinearCost(per_iteration=0.02, per_token=5e-5, per_prefill_token=5e-5)


@pytest.fixture(scope="module")
def compute_bound():
    b = 512
    tb = COMPUTE_COST.iteration_time(prefill=[b])       # a full batch: 0.0456 s
    caps = llm.deployment_capacity(mean_prompt=200, mean_output=49, token_budget=b,
                                   batch_time=tb, max_batch_size=128,
                                   decode_iteration_time=COMPUTE_COST.decode_time(128))
    assert caps.binding == "compute"
    return caps.capacity


@pytest.mark.parametrize("batching", ["vllm-v1", "sarathi"])
def test_mixed_batching_levels_off_at_the_compute_bound(compute_bound, batching):
    server = llm.Server(max_batch_size=128, cost=COMPUTE_COST, max_batched_tokens=512,
                        batching=batching)
    tokens_per_request = 200 + 49
    for load in (0.5, 2.0, 3.0):
        reqs = llm.generate_requests(3000, rate=load * compute_bound, prompt=200,
                                     output=llm.GeometricLength(50), seed=1)
        res = llm.simulate(reqs, server, llm.FCFS(), engine="python")
        t_end = float(reqs.arrival[-1])
        # the work rate (tokens processed per second) is exact: no in-flight edge effects
        work = res.processed_token_rate(start=0.3 * t_end, end=t_end) / tokens_per_request
        # completions in the window are off by at most the in-flight requests (<= 128)
        done = overload_throughput(res, reqs)
        slack = 128 / (0.7 * t_end)
        if load < 1:
            assert work == pytest.approx(load * compute_bound, rel=0.05)
            assert abs(done - load * compute_bound) <= slack
        else:
            # exact up to the one iteration that straddles the end of the window
            edge = 512 / tokens_per_request / (0.7 * t_end)
            assert 0.995 * compute_bound <= work <= compute_bound + edge, (load, work)
            assert abs(done - compute_bound) <= slack


def test_unmixed_batching_saturates_below_the_compute_bound(compute_bound):
    server = llm.Server(max_batch_size=128, cost=COMPUTE_COST, max_batched_tokens=512,
                        batching="vllm-v0", watermark=0.0)
    ratios = []
    for load in (2.0, 3.0):
        reqs = llm.generate_requests(3000, rate=load * compute_bound, prompt=200,
                                     output=llm.GeometricLength(50), seed=1)
        res = llm.simulate(reqs, server, llm.FCFS(), engine="python")
        t_end = float(reqs.arrival[-1])
        ratios.append(res.processed_token_rate(start=0.3 * t_end, end=t_end) / 249
                      / compute_bound)
    # a plateau (independent of the offered load) well below the bound
    assert max(ratios) < 0.8
    assert abs(ratios[0] - ratios[1]) < 0.02


S, O, M = 20, 200, 4000   # homogeneous requests grow from 20 to 220 tokens in 4000 tokens of KV


def memory_server(prefill_cost, preemption="recompute"):
    return llm.Server(max_batch_size=1000, kv_capacity_tokens=M, block_size=1,
                      cost=llm.LinearCost(per_iteration=0.01, per_token=0.0,
                                          per_prefill_token=prefill_cost),
                      preemption=preemption)


def memory_bound():
    return llm.memory_bound(M, 0.01, llm.memory_time_area(S, O))


def test_throughput_levels_off_at_the_memory_bound():
    mu = memory_bound()
    caps = llm.deployment_capacity(mean_prompt=S, mean_output=O, output_second_moment=O * O,
                                   capacity_tokens=M, iteration_time=0.01)
    assert caps.binding == "memory" and caps.capacity == pytest.approx(mu)
    little = M / (0.01 * (llm.memory_time_area(S, O) - O))  # vLLM accounting: g - o
    for load in (2.0,):
        reqs = llm.generate_requests(2500, rate=load * mu, prompt=S, output=O, seed=1)
        res = llm.simulate(reqs, memory_server(0.0), llm.FCFS(), engine="python")
        thr = overload_throughput(res, reqs)
        assert 0.95 * mu <= thr <= little * 1.01, (load, thr / mu)
        assert res.kv_peak_tokens <= M


def batch_autocorrelation(res, t0, t1, step=0.1, max_lag=10.0):
    grid = np.arange(t0, t1, step)
    b = res.batch_size[np.searchsorted(res.kv_time, grid, side="right") - 1].astype(float)
    x = b - b.mean()
    ac = np.correlate(x, x, "full")[x.size - 1:] / np.dot(x, x)
    lags = np.arange(int(1.0 / step), int(max_lag / step))
    return b, float(ac[lags].max())


def test_recompute_eviction_limit_cycle_loses_throughput():
    mu = memory_bound()
    reqs = llm.generate_requests(2000, rate=1.5 * mu, prompt=S, output=O, seed=1)
    # re-prefilling s + j tokens costs 2e-4 s per token on top of the 10 ms iteration
    rec = llm.simulate(reqs, memory_server(2e-4, "recompute"), llm.FCFS(), engine="python")
    t_end = float(reqs.arrival[-1])
    thr_rec = overload_throughput(rec, reqs)
    assert thr_rec < 0.75 * mu                     # measured: about 0.6
    assert rec.preemptions.sum() > len(reqs)       # several evictions per request
    # sustained oscillation of the running batch, in both halves of the window
    for t0, t1 in ((0.3 * t_end, 0.65 * t_end), (0.65 * t_end, t_end)):
        b, peak = batch_autocorrelation(rec, t0, t1)
        assert peak > 0.5                               # periodic
        assert np.percentile(b, 90) >= 2 * np.percentile(b, 10)   # large swings
    # the loss comes from recomputation: cheap swapping keeps most of the throughput ...
    swap = llm.simulate(reqs, memory_server(2e-4, "swap"), llm.FCFS(), engine="python")
    assert overload_throughput(swap, reqs) > 0.85 * mu
    # (an admission rule that never needs to evict, MC-SF, avoids it altogether:
    # test_llm_semantics.py::test_mcsf_admission_avoids_evictions)
