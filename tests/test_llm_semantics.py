"""vLLM-v1 scheduling semantics of the LLM simulator, checked on hand-computed timelines.

Every expected number below was derived by hand from the rules of
llm-models.md §8 (see the step-by-step comments), not by running the code.
"""

import math

import numpy as np
import pytest

from queuetheory import llm
from queuetheory.errors import ParameterError


def toy_requests():
    return [llm.Request(arrival=0.0, prompt_tokens=1, output_tokens=10, predicted_output=10),
            llm.Request(arrival=1e-9, prompt_tokens=1, output_tokens=2, predicted_output=2),
            llm.Request(arrival=2e-9, prompt_tokens=1, output_tokens=1, predicted_output=1)]


def toy_server():
    return llm.Server(max_batch_size=1, kv_capacity_tokens=None,
                      cost=llm.LinearCost(per_iteration=1.0, per_token=0.0,
                                          per_prefill_token=0.0))


def test_learning_to_rank_toy_example_verbatim():
    # Fu et al. (NeurIPS 2024) Fig. 1; llm-models.md §11.5. The idle server starts one
    # wakeup_latency (1 us) after the first arrival, so the three requests are scheduled together.
    reqs = toy_requests()
    server = toy_server()
    res = llm.simulate(reqs, server, llm.FCFS())
    per_token = [r.latency / r.output_tokens for r in res.requests]
    assert per_token == pytest.approx([1.0, 6.0, 13.0], abs=1e-5)
    assert np.mean(per_token) == pytest.approx(20 / 3, abs=1e-5)
    res = llm.simulate(reqs, server, llm.SPJF())
    per_token = [r.latency / r.output_tokens for r in res.requests]
    assert per_token == pytest.approx([1.3, 1.5, 1.0], abs=1e-5)
    assert np.mean(per_token) == pytest.approx(3.8 / 3, abs=1e-5)


def test_toy_example_exact_times_without_wakeup():
    server = llm.Server(max_batch_size=1, cost=llm.LinearCost(1.0, 0.0, 0.0), wakeup_latency=0.0)
    reqs = [llm.Request(0.0, 1, 10, 10), llm.Request(0.0, 1, 2, 2), llm.Request(0.0, 1, 1, 1)]
    assert llm.simulate(reqs, server, llm.FCFS()).finish_time.tolist() == [10.0, 12.0, 13.0]
    assert llm.simulate(reqs, server, llm.SPJF()).finish_time.tolist() == [13.0, 3.0, 1.0]
    # a late arrival does not interrupt SPJF but does interrupt SPRPT at the next boundary
    reqs = [llm.Request(0.0, 1, 10, 10), llm.Request(2.5, 1, 1, 1)]
    assert llm.simulate(reqs, server, llm.SPJF()).finish_time.tolist() == [10.0, 11.0]
    assert llm.simulate(reqs, server, llm.SPRPT()).finish_time.tolist() == [11.0, 4.0]


def memory_server(**kw):
    # 8 KV tokens in blocks of 1; each iteration lasts 1 s + 0.01 s per prefill token
    return llm.Server(max_batch_size=10, kv_capacity_tokens=8, block_size=1,
                      cost=llm.LinearCost(per_iteration=1.0, per_token=0.0,
                                          per_prefill_token=0.01),
                      wakeup_latency=0.0, **kw)


def test_fcfs_victim_is_newest_and_recomputes_prompt_plus_generated():
    # R0, R1: s = 2, o = 6 at t = 0; R2: s = 1, o = 1 at t = 3.
    # step 1 [0, 1.04): both prefill 2 tokens (4 blocks)            -> j = 1, 1
    # step 2 [1.04, 2.04), step 3 [2.04, 3.04): decodes (8 blocks)  -> j = 3, 3, memory full
    # step 4 at 3.04: R0 gets its block? no: R0 needs a 5th block, none free, so the newest
    #   admitted (R1, running.pop()) is preempted: 4 blocks freed, 4 tokens to recompute,
    #   R1 goes to the FRONT of the queue (ahead of R2, which arrived at 3.0); no admission
    #   in this step, although R2 would fit.                       R0 j = 4 at 4.04
    # steps 5, 6: R1 needs s + j = 5 blocks > free (2, 1): head of line blocks R2 too.
    #   R0 finishes at 6.04.
    # step 7 at 6.04: R1 re-prefills exactly s + j = 5 tokens and R2 prefills 1:
    #   1 + 0.01 * 6 = 1.06 s -> R1 token 4 and R2 done at 7.10; R1 done at 9.10.
    reqs = [llm.Request(0.0, 2, 6), llm.Request(0.0, 2, 6), llm.Request(3.0, 1, 1)]
    res = llm.simulate(reqs, memory_server(), llm.FCFS(), record_token_times=True)
    assert res.finish_time == pytest.approx([6.04, 9.10, 7.10], abs=1e-12)
    assert res.preemptions.tolist() == [0, 1, 0]
    assert res.recomputed_tokens.tolist() == [0, 4, 0]
    assert res.token_times[1] == pytest.approx([1.04, 2.04, 3.04, 7.10, 8.10, 9.10], abs=1e-12)
    assert res.token_gaps().max() == pytest.approx(7.10 - 3.04, abs=1e-12)
    assert res.token_gaps().size == 5 + 5
    assert res.max_token_gap[1] == pytest.approx(7.10 - 3.04, abs=1e-12)
    assert res.memory_preemptions == 1 and res.priority_preemptions == 0
    assert res.kv_peak_blocks == 8


def test_admission_skips_blocked_head_when_head_of_line_is_off():
    # As above until step 5 at 4.04: R1 (5 blocks) is skipped and R2 (1 block) admitted:
    # 1 + 0.01 = 1.01 s -> R2 done at 5.05; R0 done at 6.05; R1 re-prefills 5 tokens at 6.05
    # (1.05 s) and finishes at 9.10.
    reqs = [llm.Request(0.0, 2, 6), llm.Request(0.0, 2, 6), llm.Request(3.0, 1, 1)]
    res = llm.simulate(reqs, memory_server(head_of_line=False), llm.FCFS())
    assert res.finish_time == pytest.approx([6.05, 9.10, 5.05], abs=1e-12)
    assert res.ttft[2] == pytest.approx(2.05, abs=1e-12)


def test_priority_victim_is_largest_key_not_newest():
    # R0 (t = 0, predicted 100) and R1 (t = 0.5, predicted 1), s = 2, o = 6, 8 blocks.
    # FCFS: at 3.04 R1 (newest) is the victim of R1's own failed allocation: recompute 3.
    #   R0 done 6.04; R1 re-prefills s + j = 4 tokens at 6.04 (1.04 s), done 10.08.
    # SPJF (vLLM priority: victim = max (priority, arrival)): R0 is preempted although it was
    #   already scheduled in that step (its 5 blocks are freed, 4 tokens to recompute); R1 runs
    #   on, done 7.04; R0 re-prefills 5 tokens (1.05 s) at 7.04 and finishes at 10.09.
    reqs = [llm.Request(0.0, 2, 6, 100), llm.Request(0.5, 2, 6, 1)]
    fcfs = llm.simulate(reqs, memory_server(), llm.FCFS())
    assert fcfs.finish_time == pytest.approx([6.04, 10.08], abs=1e-12)
    assert fcfs.recomputed_tokens.tolist() == [0, 3]
    spjf = llm.simulate(reqs, memory_server(), llm.SPJF())
    assert spjf.finish_time == pytest.approx([10.09, 7.04], abs=1e-12)
    assert spjf.preemptions.tolist() == [1, 0]
    assert spjf.recomputed_tokens.tolist() == [4, 0]


def displacement_case(preemption, **kw):
    # One slot. R0: s = 2, o = 5, predicted 5; R1 arrives at 1.5 with s = 2, o = 1, predicted 1.
    server = llm.Server(max_batch_size=1, cost=llm.LinearCost(1.0, 0.0, 0.01),
                        wakeup_latency=0.0, preemption=preemption, **kw)
    reqs = [llm.Request(0.0, 2, 5, 5), llm.Request(1.5, 2, 1, 1)]
    return llm.simulate(reqs, server, llm.SPRPT())


def test_displacement_recompute_preserve_swap():
    # R0 prefill [0, 1.02), decode [1.02, 2.02); at 2.02 R1 (key 1) displaces R0 (key 5 - 2):
    # R1 prefill 2 tokens -> done 3.04.
    res = displacement_case("recompute")  # R0 re-prefills s + j = 4 tokens: 1.04 s
    assert res.finish_time == pytest.approx([3.04 + 1.04 + 2.0, 3.04], abs=1e-12)
    assert res.recomputed_tokens.tolist() == [3, 0]
    assert res.priority_preemptions == 1 and res.memory_preemptions == 0
    res = displacement_case("preserve")   # R0 keeps its KV and resumes decoding
    assert res.finish_time == pytest.approx([6.04, 3.04], abs=1e-12)
    assert res.recomputed_tokens.tolist() == [0, 0]
    # while R1 runs, the preserved 3 tokens of R0 stay resident: 3 + 2 tokens in use
    k = np.searchsorted(res.kv_time, 2.02)
    assert res.kv_tokens[k] == 5
    # swap: kappa = 1e9 B/token over 1e10 B/s = 0.1 s per token, blocking:
    # out 3 tokens in R1's iteration (+0.3 s), in 3 tokens at R0's resumption (+0.3 s)
    res = displacement_case("swap", kv_bytes_per_token=1e9, swap_bandwidth=1e10)
    assert res.finish_time == pytest.approx([3.34 + 1.3 + 2.0, 3.34], abs=1e-12)
    assert res.swapped_bytes.tolist() == [6e9, 0.0]
    # overlapped swap costs no time (idealised proactive swapping)
    res = displacement_case("swap", kv_bytes_per_token=1e9, swap_bandwidth=1e10,
                            swap_overlap=True)
    assert res.finish_time == pytest.approx([6.04, 3.04], abs=1e-12)


def test_trail_cutoff_limits_preemption():
    # One slot, 1 s per iteration. R0: o = 10, predicted 10. TRAIL(0.3): R0 can be displaced
    # only at boundaries with j <= 3.
    server = llm.Server(max_batch_size=1, cost=llm.LinearCost(1.0, 0.0, 0.0), wakeup_latency=0.0)
    reqs = [llm.Request(0.0, 1, 10, 10), llm.Request(2.5, 1, 1, 1), llm.Request(5.5, 1, 1, 1)]
    # at t = 3 (j = 3) R1 displaces R0 (done 4); at t = 6 R0 has j = 5 > 3: R2 waits for it
    trail = llm.simulate(reqs, server, llm.TRAIL(c=0.3))
    assert trail.finish_time.tolist() == [11.0, 4.0, 12.0]
    sprpt = llm.simulate(reqs, server, llm.SPRPT())   # no cutoff: R2 also gets in at t = 6
    assert sprpt.finish_time.tolist() == [12.0, 4.0, 7.0]
    spjf_like = llm.simulate(reqs, server, llm.TRAIL(c=0.0))
    assert spjf_like.finish_time.tolist() == [10.0, 11.0, 12.0]
    # margin 5: at t = 3, 1 < 7 - 5 so R1 displaces R0; at t = 6, 1 < 5 - 5 fails: R2 waits
    assert llm.simulate(reqs, server, llm.SPRPT(margin=5.0)).finish_time.tolist() == \
        [11.0, 4.0, 12.0]
    # margin 6.5: 1 < 7 - 6.5 fails too: no displacement at all
    assert llm.simulate(reqs, server, llm.SPRPT(margin=6.5)).finish_time.tolist() == \
        [10.0, 11.0, 12.0]


def test_chunked_prefill_and_token_budget():
    # budget 4 tokens per iteration: a 10-token prompt is prefilled in chunks 4, 4, 2 and its
    # first token comes with the last chunk; without chunking it is never scheduled with a
    # budget below its length, so the server must reject it... unless the budget allows it.
    cost = llm.LinearCost(per_iteration=1.0, per_token=0.0, per_prefill_token=0.0)
    server = llm.Server(max_batch_size=4, max_batched_tokens=4, cost=cost, wakeup_latency=0.0)
    res = llm.simulate([llm.Request(0.0, 10, 2)], server, llm.FCFS())
    assert res.ttft.tolist() == [3.0] and res.finish_time.tolist() == [4.0]
    # a decode of another request takes one token of the budget: chunks 3, 3, 3, 1
    res = llm.simulate([llm.Request(0.0, 1, 20), llm.Request(0.5, 10, 1)], server, llm.FCFS())
    assert res.finish_time[1] == pytest.approx(5.0)


def test_static_batching_waits_for_the_whole_batch():
    cost = llm.LinearCost(per_iteration=1.0, per_token=0.0, per_prefill_token=0.0)
    server = llm.Server(max_batch_size=2, cost=cost, batching="static", wakeup_latency=0.0)
    reqs = [llm.Request(0.0, 1, 2), llm.Request(0.0, 1, 5), llm.Request(0.5, 1, 1)]
    res = llm.simulate(reqs, server, llm.FCFS())
    # the batch {R0, R1} runs 5 iterations; R2 joins only after R1 finishes at 5
    assert res.finish_time.tolist() == [2.0, 5.0, 6.0]
    # continuous batching lets R2 in as soon as R0 leaves the batch at t = 2
    res = llm.simulate(reqs, llm.Server(max_batch_size=2, cost=cost, wakeup_latency=0.0),
                       llm.FCFS())
    assert res.finish_time.tolist() == [2.0, 5.0, 3.0]


def test_vllm_v0_prefill_and_decode_do_not_mix():
    cost = llm.LinearCost(per_iteration=1.0, per_token=0.0, per_prefill_token=0.0)
    v0 = llm.Server(max_batch_size=4, cost=cost, batching="vllm-v0", wakeup_latency=0.0)
    reqs = [llm.Request(0.0, 1, 3), llm.Request(0.5, 1, 3)]
    # V0: at t = 1 the new prefill runs alone (R0 pauses), R0 resumes at 2
    assert llm.simulate(reqs, v0, llm.FCFS()).finish_time.tolist() == [4.0, 4.0]
    v1 = llm.Server(max_batch_size=4, cost=cost, wakeup_latency=0.0)
    assert llm.simulate(reqs, v1, llm.FCFS()).finish_time.tolist() == [3.0, 4.0]


def test_memory_time_area_per_request_follows_vllm_accounting():
    # an uninterrupted request holds s + j tokens during the iteration producing token j + 1:
    # o*s + o(o - 1)/2 = g(s, o) - o token-iterations
    server = llm.Server(max_batch_size=4, cost=llm.LinearCost(0.01, 0.001), wakeup_latency=0.0)
    reqs = [llm.Request(0.0, 7, 13), llm.Request(0.003, 20, 1)]
    res = llm.simulate(reqs, server, llm.FCFS())
    g = llm.memory_time_area([7, 20], [13, 1])
    assert res.kv_area.tolist() == (g - np.array([13, 1])).tolist()


def test_seed_reproduces_and_changes_learning_to_rank():
    reqs = llm.generate_requests(200, rate=30.0, prompt=50, output=llm.GeometricLength(30),
                                 seed=5)
    server = llm.Server(max_batch_size=4, cost=llm.LinearCost(0.01, 0.001), wakeup_latency=0.0)
    a = llm.simulate(reqs, server, llm.LearningToRank(0.5), seed=1)
    b = llm.simulate(reqs, server, llm.LearningToRank(0.5), seed=1)
    c = llm.simulate(reqs, server, llm.LearningToRank(0.5), seed=2)
    assert np.array_equal(a.finish_time, b.finish_time)
    assert not np.array_equal(a.finish_time, c.finish_time)


def test_learning_to_rank_with_perfect_ranking_is_preemptive_shortest_first():
    # with distinct output lengths and Kendall tau = 1 the scores order requests exactly by
    # output length, so learning to rank schedules exactly like PSPJF with exact predictions
    rng = np.random.default_rng(9)
    o = rng.permutation(np.arange(1, 151))
    reqs = llm.RequestSet(np.cumsum(rng.exponential(0.05, o.size)), 10, o)
    server = llm.Server(max_batch_size=2, cost=llm.LinearCost(0.01, 0.001), wakeup_latency=0.0)
    ltr = llm.simulate(reqs, server, llm.LearningToRank(kendall_tau=1.0), seed=3)
    pspjf = llm.simulate(reqs, server, llm.SPJF(preemptive=True))
    assert np.array_equal(ltr.finish_time, pspjf.finish_time)
    assert ltr.priority_preemptions > 0


def test_starvation_promotion():
    # one slot; a long, badly ranked request waits behind a stream of short ones unless
    # promoted after 5 s of waiting
    reqs = [llm.Request(0.0, 1, 1, 1)] + [llm.Request(0.1, 1, 20, 20)] + \
        [llm.Request(0.5 + k, 1, 1, 1) for k in range(40)]
    server = llm.Server(max_batch_size=1, cost=llm.LinearCost(1.0, 0.0, 0.0), wakeup_latency=0.0)
    base = llm.simulate(reqs, server, llm.MemoryTimeRank())
    prom = llm.simulate(reqs, server, llm.MemoryTimeRank(starvation_threshold=5.0))
    assert base.finish_time[1] == pytest.approx(61.0)      # after all 40 short ones
    # waiting since 0.1, promoted at the first step at or after 5.1 (t = 6), non-preemptive
    assert prom.finish_time[1] == pytest.approx(26.0)


def test_mlfq_skip_join_levels():
    cost = llm.LinearCost(per_iteration=0.01, per_token=0.0, per_prefill_token=1e-4)
    server = llm.Server(max_batch_size=4, cost=cost)
    reqs = llm.RequestSet([0.0, 0.1], [1000, 10], [5, 5])
    arrays = llm.SkipJoinMLFQ(n_queues=6, base_quantum=1)._static_arrays(reqs, server, None)
    # prefill of 1000 tokens: 0.11 s = 11 decode iterations -> first queue with quantum >= 11
    # is q = 16 (level 4); 10 tokens: 0.011 s -> 2 units -> quantum 2 (level 1)
    assert arrays["unit_first"].tolist() == [11, 2]
    assert arrays["entry_level"].tolist() == [4, 1]


def test_mcsf_admission_avoids_evictions():
    # homogeneous requests that grow from 20 to 120 tokens in 1000 tokens of KV
    reqs = llm.generate_requests(300, rate=40.0, prompt=20, output=100, seed=2)
    server = llm.Server(max_batch_size=100, kv_capacity_tokens=1000, block_size=1,
                        cost=llm.LinearCost(0.01, 0.0, 0.0))
    fcfs = llm.simulate(reqs, server, llm.FCFS())
    mcsf = llm.simulate(reqs, server, llm.MCSF())
    assert fcfs.preemptions.sum() > 0
    assert mcsf.preemptions.sum() == 0
    assert mcsf.kv_peak_tokens <= 1000


@pytest.mark.parametrize("kwargs, match", [
    ({"max_batch_size": 0}, "max_batch_size"),
    ({"kv_capacity_tokens": -5}, "kv_capacity_tokens"),
    ({"kv_capacity_tokens": 8, "block_size": 16}, "kv_capacity_tokens"),
    ({"batching": "orca"}, "batching"),
    ({"preemption": "drop"}, "preemption"),
    ({"watermark": 1.5}, "watermark"),
    ({"wakeup_latency": -1.0}, "wakeup_latency"),
    ({"max_batched_tokens": 0}, "max_batched_tokens"),
])
def test_server_rejects_bad_parameters(kwargs, match):
    base = {"cost": llm.LinearCost(1.0)}
    base.update(kwargs)
    with pytest.raises(ParameterError, match=match):
        llm.Server(**base)


def test_bad_input_raises_parameter_error():
    server = llm.Server(max_batch_size=2, kv_capacity_tokens=32, block_size=16,
                        cost=llm.LinearCost(1.0))
    with pytest.raises(ParameterError, match="kv_capacity_tokens must hold"):
        llm.simulate([llm.Request(0.0, 30, 10)], server, llm.FCFS())
    with pytest.raises(ParameterError, match="output_tokens"):
        llm.simulate([llm.Request(0.0, 3, 0)], server, llm.FCFS())
    with pytest.raises(ParameterError, match="arrival"):
        llm.simulate([llm.Request(-1.0, 3, 2)], server, llm.FCFS())
    with pytest.raises(ParameterError, match="policy"):
        llm.simulate([llm.Request(0.0, 3, 2)], server, "fcfs")
    with pytest.raises(ParameterError, match="engine"):
        llm.simulate([llm.Request(0.0, 3, 2)], server, llm.FCFS(), engine="cuda")
    v0 = llm.Server(max_batch_size=2, max_batched_tokens=64, batching="vllm-v0",
                    cost=llm.LinearCost(1.0))
    with pytest.raises(ParameterError, match="max_batched_tokens must be >="):
        llm.simulate([llm.Request(0.0, 70, 10)], v0, llm.FCFS())   # the prompt cannot fit
    llm.simulate([llm.Request(0.0, 60, 10)], v0, llm.FCFS())       # no preemption possible
    v0_mem = llm.Server(max_batch_size=2, max_batched_tokens=64, batching="vllm-v0",
                        kv_capacity_tokens=1024, cost=llm.LinearCost(1.0))
    with pytest.raises(ParameterError, match="prompt \\+ output - 1"):
        llm.simulate([llm.Request(0.0, 60, 10)], v0_mem, llm.FCFS())  # a recompute could not
    with pytest.raises(ParameterError, match="c must be >= 0"):
        llm.TRAIL(c=-0.1)
    with pytest.raises(ParameterError, match="kendall_tau"):
        llm.LearningToRank(kendall_tau=2.0)
    with pytest.raises(ParameterError, match="cost"):
        llm.Server(max_batch_size=1)


def test_max_iterations_guard():
    server = llm.Server(max_batch_size=1, cost=llm.LinearCost(1.0))
    with pytest.raises(Exception, match="max_iterations"):
        llm.simulate([llm.Request(0.0, 1, 50)], server, llm.FCFS(), max_iterations=10,
                     event_skipping=False)
    assert math.isfinite(llm.simulate([llm.Request(0.0, 1, 5)], server, llm.FCFS()).end_time)


def test_disaggregated_prefill_and_decode_servers():
    # prefill server: one request at a time, 0.1 s + 1 ms per prompt token;
    # KV transfer: 1e6 B/token over 1e9 B/s = 1 ms per prompt token; decode server: 10 ms
    pre = llm.Server(max_batch_size=1, cost=llm.LinearCost(0.1, 0.0, 0.001), wakeup_latency=0.0)
    dec = llm.Server(max_batch_size=8, cost=llm.LinearCost(0.01, 0.0, 0.0), wakeup_latency=0.0,
                     kv_bytes_per_token=1e6)
    reqs = [llm.Request(0.0, 100, 3), llm.Request(0.05, 200, 1)]
    both, decode = llm.simulate_disaggregated(reqs, pre, dec, llm.FCFS(),
                                              kv_transfer_bandwidth=1e9)
    # R0: prefill [0, 0.2), transfer 0.1 s, decodes at 0.3 -> 0.31, 0.32
    # R1: waits for R0's prefill, prefill [0.2, 0.5) emits its only token
    assert both.ttft == pytest.approx([0.2, 0.45], abs=1e-12)
    assert both.finish_time == pytest.approx([0.32, 0.5], abs=1e-12)
    assert both.max_token_gap[0] == pytest.approx(0.11, abs=1e-12)
    assert len(decode) == 1 and decode.finish_time[0] == pytest.approx(0.32, abs=1e-12)
    # the prefill server only needs room for the prompt (and its first token)
    small = llm.Server(max_batch_size=1, kv_capacity_tokens=208, block_size=16,
                       cost=llm.LinearCost(0.1, 0.0, 0.001))
    llm.simulate_disaggregated(reqs, small, dec, llm.FCFS(), kv_transfer_bandwidth=1e9)


def test_metrics_on_a_hand_computed_run():
    # two requests on one slot, 1 s per iteration: R0 (o = 3) runs [0, 3), R1 (o = 2, arrives
    # at 0.5) runs [3, 5). TTFT 1 and 3.5, TPOT 1 and 1, latencies 3 and 4.5.
    server = llm.Server(max_batch_size=1, cost=llm.LinearCost(1.0, 0.0, 0.0), wakeup_latency=0.0,
                        kv_bytes_per_token=10.0)
    res = llm.simulate([llm.Request(0.0, 4, 3), llm.Request(0.5, 2, 2)], server, llm.FCFS())
    assert res.ttft.tolist() == [1.0, 3.5]
    assert res.tpot.tolist() == [1.0, 1.0]
    assert res.latency.tolist() == [3.0, 4.5]
    assert res.normalized_latency.tolist() == [1.0, 2.25]
    assert res.queueing_delay.tolist() == [0.0, 2.5]
    assert res.slo_attainment(ttft=2.0) == 0.5
    assert res.goodput(ttft=2.0) == pytest.approx(1 / 5)   # 1 request over [0, 5]
    assert res.throughput() == pytest.approx(2 / 5)
    assert res.token_throughput() == pytest.approx(5 / 5)
    # KV in use per iteration: 4, 5, 6 (R0), then 2, 3 (R1): time average 4, area 20 token-s
    assert res.kv_tokens.tolist() == [4, 5, 6, 2, 3]
    assert res.kv_time_average() == pytest.approx(4.0)
    assert res.memory_time_area() == pytest.approx(20 * 10.0)
    assert res.kv_peak_tokens == 6
    assert res.processed_token_rate() == pytest.approx((4 + 1 + 1 + 2 + 1) / 5)
    m, h = llm.batch_means_ci(np.arange(100.0), batches=4)
    assert m == pytest.approx(49.5) and h > 0
    assert res.summary()["requests"] == 2 and "SimulationResult" in repr(res)
    with pytest.raises(ParameterError, match="metric"):
        res.mean("speed")
