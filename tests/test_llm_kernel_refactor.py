"""Shared helpers of the LLM step kernel (queuetheory/llm/_kernel.py).

The step loop's memory preemption (vLLM v1 / Sarathi running pass and the V0
decode step), priority displacement, discarding of preserved requests, waiting
queue insertion and completion are single helpers shared by every code path.
These tests pin the rule each helper implements on small hand-built states
(the expected values follow from llm-models.md §2.4 and §8 by hand), and
stress the entry-array capacity rule (:func:`_reserve` before each phase) with
the pure-Python engine, whose lists raise IndexError on any write past the
reserved capacity.
"""

import math

import numpy as np
import pytest

from queuetheory import llm
from queuetheory.llm import _kernel as K


def test_need_blocks_is_clamped_ceiling():
    for bs in (1, 7, 16):
        for tokens in range(0, 70):
            for held in range(0, 6):
                want = max(0, math.ceil(tokens / bs) - held)
                assert K._need_blocks(tokens, held, bs) == want


def _key_state(n=5):
    """Per-request arrays for _key/_worst as plain lists (the pure-Python engine's form)."""
    return dict(npre=[0] * n, j=[0] * n, s=[10] * n, arr=[0.0, 1.0, 1.0, 2.0, 1.0],
                pred0=[5.0, 9.0, 9.0, 3.0, 9.0], skey=[0.0] * n, every=0, ref_off=[0] * (n + 1),
                ref_val=[0.0], level=[0] * n, t_enter=[0.0] * n, prom=[False] * n,
                ptime=[0.0] * n)


def _worst(lst, skip_id=-1, kind=K.SK_NONE, policy=K.P_SPJF, preemptive=1,
           max_pre=-1, trail_c=0.5, **over):
    st = _key_state()
    st.update(over)
    pos, k1, k2 = K._worst(lst, len(lst), skip_id, kind, policy, preemptive, max_pre,
                           trail_c, st["npre"], st["j"], st["s"], st["arr"], st["pred0"],
                           st["skey"], st["every"], st["ref_off"], st["ref_val"], st["level"],
                           st["t_enter"], st["prom"], st["ptime"])
    return pos, (lst[pos] if pos >= 0 else -1), k1, k2


def test_worst_takes_largest_key_then_largest_id():
    # SPJF key (pred0, arrival): requests 1, 2 and 4 tie at (9, 1); 0 and 3 are smaller
    assert _worst([0, 3, 1, 4, 2])[:2] == (3, 4)
    assert _worst([0, 3, 1, 4, 2])[2:] == (9.0, 1.0)
    assert _worst([0, 3])[:2] == (0, 0)           # (5, 0) > (3, 2)
    assert _worst([4, 1, 2], skip_id=4)[1] == 2   # skip_id is never chosen
    assert _worst([], skip_id=4)[0] == -1


def test_worst_ties_go_to_the_newest_request():
    # equal keys: the largest request id (the newest) is the victim, wherever it stands
    # (an earlier version compared an id with a list position in one code path)
    assert _worst([4, 1, 2])[:2] == (0, 4)
    assert _worst([1, 2, 4])[:2] == (2, 4)


def test_worst_displacement_candidates():
    lst = [0, 3, 1, 4, 2]
    assert _worst(lst, kind=K.SK_DISPLACE, preemptive=0)[0] == -1   # non-preemptive policy
    # max_preemptions: requests already preempted that often are not candidates
    npre = [0, 2, 2, 0, 2]
    assert _worst(lst, kind=K.SK_DISPLACE, max_pre=2, npre=npre)[1] == 0
    # TRAIL: only requests within c * prediction of output are candidates
    j = [0, 0, 0, 0, 5]                      # request 4: 5 > 0.5 * 9
    assert _worst(lst, kind=K.SK_DISPLACE, policy=K.P_TRAIL, j=j)[1] == 2
    assert _worst(lst, kind=K.SK_TRAIL, policy=K.P_TRAIL, j=j)[1] == 2
    # SK_TRAIL skips nobody under other policies, whatever their preemptibility
    assert _worst(lst, kind=K.SK_TRAIL, policy=K.P_SPJF, preemptive=0, j=j)[1] == 4


def test_worst_fcfs_arrival_rule_ignores_promotion():
    lst = [0, 3, 1]
    prom = [False, False, False, True, False]     # a promoted request has key (-BIG, .)
    assert _worst(lst, policy=K.P_FCFS, prom=prom)[1] == 1
    assert _worst(lst, kind=K.SK_FCFS_ARR, policy=K.P_FCFS, prom=prom)[1] == 3


class Step:
    """A minimal kernel state: n requests, some running, the rest in the waiting queue."""

    def __init__(self, n=6, running=(0, 1, 2), comp=(40, 20, 33, 0, 0, 0), held=(3, 2, 3, 0, 0, 0),
                 policy=K.P_FCFS, starv=K.BIG):
        self.n = n
        self.state = [K.ST_WAIT] * n
        for i in running:
            self.state[i] = K.ST_RUN
        self.run_l = list(running) + [0] * (n + 1 - len(running))
        self.n_run = len(running)
        self.sched = [0] * n
        self.npre = [0] * n
        self.counters = [0] * K.N_COUNTERS
        self.comp = list(comp)
        self.held = list(held)
        self.recomp = [0] * n
        self.swaptok = [0] * n
        self.pres = [0] * (n + 1)
        cap = 4
        self.eid, self.heap, self.fifo = [0] * cap, [0] * cap, [0] * cap
        self.ek1, self.ek2 = [0.0] * cap, [0.0] * cap
        self.cur_e = [-1] * n
        self.wait_since = [0.0] * n
        self.policy = policy
        self.starv = starv
        self.sc = dict(n_run=self.n_run, budget_left=100, free=10, cpu_used=0, swap_out=0,
                       npres=0, pres_blocks=0, preempt_seq=0, ne=0, hn=0, fn=0, n_wait=0)
        self.key = dict(j=[3, 1, 2, 0, 0, 0], s=[10] * n, arr=[0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
                        pred0=[4.0, 30.0, 9.0, 9.0, 9.0, 9.0], skey=[0.0] * n, every=0,
                        ref_off=[0] * (n + 1), ref_val=[0.0], level=[0] * n,
                        t_enter=[0.0] * n, prom=[False] * n, ptime=[0.0] * n)

    def reserve(self, need):
        self.eid, self.ek1, self.ek2, self.heap, self.fifo = K._reserve(
            need, self.eid, self.ek1, self.ek2, self.heap, self.fifo)

    def arrays(self):
        return (self.run_l, self.sched, self.npre, self.counters, self.state, self.comp,
                self.held, self.recomp, self.swaptok, self.pres, self.eid, self.ek1, self.ek2,
                self.heap, self.fifo, self.cur_e, self.wait_since)

    def preempt(self, vpos, idx=0, slot=K.K_MEM_PREEMPT, pm=K.PM_RECOMPUTE, front=True,
                trail_adj=True, t=7.5, cpu_cap=-1, trail_c=0.5):
        sc, kp = self.sc, self.key
        out = K._preempt(vpos, idx, slot, pm, front, trail_adj, t, sc["n_run"], sc["budget_left"],
                         sc["free"], sc["cpu_used"], cpu_cap, sc["swap_out"], sc["npres"],
                         sc["pres_blocks"], sc["preempt_seq"], sc["ne"], sc["hn"], sc["fn"],
                         sc["n_wait"], self.starv, *self.arrays(), self.policy, trail_c,
                         kp["j"], kp["s"], kp["arr"], kp["pred0"], kp["skey"], kp["every"],
                         kp["ref_off"], kp["ref_val"], kp["level"], kp["t_enter"], kp["prom"],
                         kp["ptime"])
        (v, sc["n_run"], idx, sc["budget_left"], sc["free"], sc["cpu_used"], sc["swap_out"],
         sc["npres"], sc["pres_blocks"], sc["preempt_seq"], sc["ne"], sc["hn"], sc["fn"],
         sc["n_wait"]) = out
        return v, idx

    def make_room(self, i, nb, idx, v0, pm=K.PM_RECOMPUTE, cpu_cap=-1, preemptive=0,
                  trail_c=0.5):
        sc, kp = self.sc, self.key
        out = K._make_room(i, nb, idx, v0, pm, 7.5, sc["n_run"], sc["budget_left"], sc["free"],
                           sc["cpu_used"], cpu_cap, sc["swap_out"], sc["npres"],
                           sc["pres_blocks"], sc["preempt_seq"], sc["ne"], sc["hn"], sc["fn"],
                           sc["n_wait"], self.starv, *self.arrays(), self.policy, preemptive,
                           trail_c, kp["j"], kp["s"], kp["arr"], kp["pred0"], kp["skey"],
                           kp["every"], kp["ref_off"], kp["ref_val"], kp["level"],
                           kp["t_enter"], kp["prom"], kp["ptime"])
        (ok, sc["n_run"], idx, sc["budget_left"], sc["free"], sc["cpu_used"], sc["swap_out"],
         sc["npres"], sc["pres_blocks"], sc["preempt_seq"], sc["ne"], sc["hn"], sc["fn"],
         sc["n_wait"]) = out
        return ok, idx

    def top(self):
        """Request at the head of the waiting queue."""
        return self.eid[self.heap[0]]


def test_preempt_recompute_requeues_at_the_front_under_fcfs():
    st = Step()
    st.sched[1] = 5
    v, idx = st.preempt(vpos=1, idx=2)
    assert v == 1 and idx == 1                          # the scan position moves back
    assert st.run_l[:st.sc["n_run"]] == [0, 2]
    assert st.sc["budget_left"] == 105 and st.sched[1] == 0   # its tokens return to the budget
    assert st.state[1] == K.ST_WAIT and st.comp[1] == 0 and st.recomp[1] == 20
    assert st.held[1] == 0 and st.sc["free"] == 12
    assert st.npre[1] == 1 and st.counters[K.K_MEM_PREEMPT] == 1
    assert st.cur_e[1] == 0 and st.sc["ne"] == 1 and st.sc["n_wait"] == 1
    assert st.wait_since[1] == 7.5 and st.sc["fn"] == 0       # no starvation watch
    assert (st.ek1[0], st.ek2[0]) == (0.0, -1.0)
    st.preempt(vpos=1)                                  # request 2: preempted later, served first
    assert (st.ek1[1], st.ek2[1]) == (0.0, -2.0) and st.top() == 2


def test_preempt_swap_and_preserve_modes():
    st = Step()
    st.preempt(vpos=0, pm=K.PM_SWAP, cpu_cap=40)       # 40 tokens fit in the CPU space
    assert st.state[0] == K.ST_SWAPPED and st.comp[0] == 40 and st.swaptok[0] == 40
    assert st.sc["swap_out"] == 40 and st.sc["cpu_used"] == 40 and st.sc["free"] == 13
    st.preempt(vpos=0, pm=K.PM_SWAP, cpu_cap=40)       # request 1 does not fit: recompute
    assert st.state[1] == K.ST_WAIT and st.comp[1] == 0 and st.recomp[1] == 20
    assert st.sc["swap_out"] == 40 and st.sc["free"] == 15
    st.preempt(vpos=0, pm=K.PM_PRESERVE, slot=K.K_PRIO_PREEMPT, front=False)
    assert st.state[2] == K.ST_PRESERVED and st.held[2] == 3 and st.comp[2] == 33
    assert st.pres[:st.sc["npres"]] == [2] and st.sc["pres_blocks"] == 3
    assert st.sc["free"] == 15                          # a preserved request keeps its KV
    assert st.counters[K.K_MEM_PREEMPT] == 2 and st.counters[K.K_PRIO_PREEMPT] == 1
    # front=False: the FCFS key (0, arrival) of _key, not the front-of-queue sequence
    assert (st.ek1[2], st.ek2[2]) == (0.0, 2.0)


def test_preempt_trail_key_and_starvation_watch():
    st = Step(policy=K.P_TRAIL, starv=3.0)
    st.key["prom"][1] = True
    st.preempt(vpos=0)           # request 0: j = 3 > 0.5 * 4, past its c-fraction: key BIG
    assert st.ek1[0] == K.BIG and st.sc["fn"] == 1 and st.fifo[0] == 0
    st.preempt(vpos=0, trail_adj=False)   # request 1 (promoted): key (-BIG, ptime), not watched
    assert st.ek1[1] == -K.BIG and st.sc["fn"] == 1
    st.preempt(vpos=0, trail_adj=False)   # request 2: j = 2 > 4.5 would not matter: SPRPT key
    assert (st.ek1[2], st.ek2[2]) == (9.0 - 2.0, 2.0)
    assert st.top() == 1


def test_make_room_v1_discards_preserved_before_preempting():
    st = Step(policy=K.P_SPJF)
    st.preempt(vpos=0, pm=K.PM_PRESERVE, slot=K.K_PRIO_PREEMPT, front=False)  # 0: 3 blocks kept
    st.sc["free"] = 1
    ok, idx = st.make_room(i=2, nb=4, idx=1, v0=False)
    assert ok and idx == 1 and st.sc["free"] == 4
    assert st.sc["npres"] == 0 and st.state[0] == K.ST_WAIT and st.recomp[0] == 40
    assert st.counters[K.K_DISCARD_PRESERVED] == 1 and st.counters[K.K_MEM_PREEMPT] == 0
    # more: the largest-key running request (1: prediction 30) is preempted next
    ok, idx = st.make_room(i=2, nb=6, idx=1, v0=False)
    assert ok and idx == 0 and st.run_l[:st.sc["n_run"]] == [2] and st.state[1] == K.ST_WAIT
    # and when i itself is the only victim left, ok is False
    ok, _ = st.make_room(i=2, nb=100, idx=0, v0=False)
    assert not ok and st.sc["n_run"] == 0 and st.state[2] == K.ST_WAIT


def test_make_room_v0_preempts_latest_arrival_and_keeps_preserved():
    st = Step(running=(0, 1, 2))
    st.sc["npres"], st.pres[0], st.state[5], st.held[5] = 1, 5, K.ST_PRESERVED, 2
    st.sc["free"] = 0
    ok, idx = st.make_room(i=0, nb=3, idx=0, v0=True)   # latest arrival: request 2 (3 blocks)
    assert ok and st.run_l[:st.sc["n_run"]] == [0, 1] and st.state[5] == K.ST_PRESERVED
    st2 = Step(running=(0, 1, 2))
    st2.sc["free"] = 0
    ok, _ = st2.make_room(i=0, nb=3, idx=0, v0=False)   # v1 FCFS: the last admitted, same here
    assert ok and st2.run_l[:st2.sc["n_run"]] == [0, 1]


def test_reserve_keeps_entries_and_at_least_doubles():
    st = Step()
    st.eid[:] = [1, 2, 3, 4]
    st.ek1[:] = [0.5, 1.5, 2.5, 3.5]
    st.reserve(5)
    assert len(st.eid) == 8 and st.eid[:4] == [1, 2, 3, 4] and st.ek1[:4] == [0.5, 1.5, 2.5, 3.5]
    st.reserve(50)
    assert all(len(a) == 50 for a in (st.eid, st.ek1, st.ek2, st.heap, st.fifo))


STRESS = {
    "v0-preserve-preemptive": dict(max_batch_size=8, kv_capacity_tokens=480,
                                   batching="vllm-v0", preemption="preserve"),
    "v1-swap-tiny": dict(max_batch_size=8, kv_capacity_tokens=480, preemption="swap",
                         cpu_swap_capacity_tokens=200, max_batched_tokens=64),
    "sarathi-recompute": dict(max_batch_size=8, kv_capacity_tokens=480, batching="sarathi",
                              max_batched_tokens=48),
}


@pytest.mark.parametrize("server_name", list(STRESS))
@pytest.mark.parametrize("policy", [llm.SPRPT(), llm.SkipJoinMLFQ(starvation_threshold=0.05),
                                    llm.FCFS()], ids=["SPRPT", "MLFQ", "FCFS"])
def test_many_preemptions_fit_the_reserved_entries(server_name, policy):
    """Memory and priority preemptions, promotions: every entry write stays in _reserve's room."""
    n = 40
    reqs = llm.generate_requests(n, rate=400.0, prompt=llm.LogNormalLength(30, 0.8, maximum=120),
                                 output=llm.GeometricLength(60),
                                 prediction=llm.LogNormalPrediction(1.0), seed=5)
    server = llm.Server(cost=llm.LinearCost(0.01, 1e-4), **STRESS[server_name])
    jump = llm.simulate(reqs, server, policy, engine="python")      # IndexError if overrun
    loop = llm.simulate(reqs, server, policy, engine="python", event_skipping=False)
    assert np.array_equal(jump.finish_time, loop.finish_time)
    assert np.array_equal(jump.preemptions, loop.preemptions)
    assert np.all(np.isfinite(jump.finish_time))
    assert jump.memory_preemptions + jump.priority_preemptions == jump.preemptions.sum() > 0
    if isinstance(policy, llm.SkipJoinMLFQ):
        assert jump.preemptions.sum() > 10 * n    # far more entries than the initial 2n + 16
