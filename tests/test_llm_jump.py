"""Event skipping (jumping over decode-only stretches) gives results identical to the loop.

``event_skipping=False`` forces one iteration per step (the reference loop); the
jump must reproduce every per-request timestamp, counter and the per-iteration KV
series bit for bit (llm-models.md §11.7), in every batching and preemption mode and
for every policy. The numba engine must equal the pure-Python engine (slow test:
the first numba compilation takes a while).
"""

import numpy as np
import pytest

from queuetheory import llm

FIELDS = ("first_token_time", "finish_time", "preemptions", "recomputed_tokens",
          "swapped_bytes", "max_token_gap", "kv_area", "queueing_delay", "kv_time",
          "kv_blocks", "kv_tokens", "batch_size")

COST = llm.LinearCost(per_iteration=0.01, per_token=5e-4, per_prefill_token=1e-4,
                      per_context_token=1e-6)


def workload(n=100, seed=3):
    return llm.generate_requests(
        n, rate=40.0, prompt=llm.LogNormalLength(120, 1.0), output=llm.GeometricLength(40),
        prediction=llm.RefinedPrediction(llm.LogNormalPrediction(0.5), every=8), seed=seed)


SERVERS = {
    "v1-recompute": dict(max_batch_size=16, kv_capacity_tokens=2000, max_batched_tokens=256),
    "v1-swap": dict(max_batch_size=16, kv_capacity_tokens=2000, preemption="swap",
                    cpu_swap_capacity_tokens=1500),
    "v1-preserve-skip": dict(max_batch_size=16, kv_capacity_tokens=2000, preemption="preserve",
                             head_of_line=False),
    "v0": dict(max_batch_size=16, kv_capacity_tokens=2000, batching="vllm-v0"),
    "sarathi": dict(max_batch_size=16, kv_capacity_tokens=2000, batching="sarathi",
                    max_batched_tokens=96),
    "static": dict(max_batch_size=8, kv_capacity_tokens=4000, batching="static"),
    "unlimited": dict(max_batch_size=4, kv_capacity_tokens=None, block_size=7),
}
POLICIES = {
    "FCFS": llm.FCFS(), "SPJF": llm.SPJF(), "SPRPT": llm.SPRPT(), "TRAIL": llm.TRAIL(0.5),
    "LTR": llm.LearningToRank(0.6, starvation_threshold=1.0),
    "MLFQ": llm.SkipJoinMLFQ(), "MCSF": llm.MCSF(), "MemTime": llm.MemoryTimeRank(True, 1.0),
}


def assert_identical(a, b):
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.shape == y.shape, f
        assert np.array_equal(x, y, equal_nan=True), f
    assert a.n_iterations == b.n_iterations
    assert a.end_time == b.end_time
    if a.token_times is not None:
        for u, v in zip(a.token_times, b.token_times):
            assert np.array_equal(u, v)


@pytest.mark.parametrize("server_name", list(SERVERS))
@pytest.mark.parametrize("policy_name", ["FCFS", "SPRPT", "TRAIL", "LTR", "MLFQ", "MCSF"])
def test_jump_identical_to_per_iteration_loop(server_name, policy_name):
    reqs = workload()
    server = llm.Server(cost=COST, **SERVERS[server_name])
    pol = POLICIES[policy_name]
    jump = llm.simulate(reqs, server, pol, seed=1, engine="python", record_token_times=True)
    loop = llm.simulate(reqs, server, pol, seed=1, engine="python", record_token_times=True,
                        event_skipping=False)
    assert_identical(jump, loop)
    assert jump.n_steps <= loop.n_steps and loop.n_steps >= loop.n_iterations
    # token timestamps are consistent with the per-request summaries
    for tt, f, g, o in zip(jump.token_times, jump.first_token_time, jump.finish_time,
                           jump.output_tokens):
        assert tt.size == o and tt[0] == f and tt[-1] == g and np.all(np.diff(tt) > 0)


def test_jump_saves_steps_on_decode_heavy_work():
    reqs = llm.generate_requests(300, rate=2.0, prompt=500, output=llm.GeometricLength(200),
                                 seed=4)
    server = llm.Server(max_batch_size=64, kv_capacity_tokens=100_000,
                        cost=llm.distserve_opt13b())
    jump = llm.simulate(reqs, server, llm.FCFS(), engine="python")
    loop = llm.simulate(reqs, server, llm.FCFS(), engine="python", event_skipping=False)
    assert_identical(jump, loop)
    assert jump.n_steps * 5 < loop.n_steps


@pytest.mark.parametrize("policy_name", ["SPJF", "MemTime"])
@pytest.mark.parametrize("server_name", ["v1-recompute", "v1-preserve-skip", "sarathi"])
def test_jump_identical_other_policies(policy_name, server_name):
    reqs = workload(seed=8)
    server = llm.Server(cost=COST, **SERVERS[server_name])
    pol = POLICIES[policy_name]
    assert_identical(llm.simulate(reqs, server, pol, engine="python"),
                     llm.simulate(reqs, server, pol, engine="python", event_skipping=False))


@pytest.mark.slow
@pytest.mark.parametrize("server_name", list(SERVERS))
def test_numba_engine_identical_to_python(server_name):
    pytest.importorskip("numba")
    reqs = workload(n=400, seed=11)
    server = llm.Server(cost=COST, **SERVERS[server_name])
    for pol in POLICIES.values():
        a = llm.simulate(reqs, server, pol, seed=2, engine="python", record_token_times=True)
        b = llm.simulate(reqs, server, pol, seed=2, engine="numba", record_token_times=True)
        assert b.engine == "numba" and a.engine == "python"
        assert_identical(a, b)
