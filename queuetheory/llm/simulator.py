r"""Iteration-level simulator of one batched LLM inference server (llm-models.md §10).

:func:`simulate` runs a set of requests through a :class:`~queuetheory.llm.Server`
under a policy (:mod:`queuetheory.llm.policies`) and returns a
:class:`~queuetheory.llm.SimulationResult`.

**Model.** Time is divided into iterations. In one iteration every scheduled
request either processes a chunk of its prefill or generates one output
token; the iteration lasts ``server.cost`` of the batch. A prefill that
completes emits the request's first token (as in vLLM), so a request with o
output tokens and an unchunked prefill is served in o iterations. KV memory is
allocated in blocks of ``block_size`` tokens for the tokens computed
(vLLM's accounting: during the iteration producing token j + 1 a request holds
s + j tokens).

**vLLM-v1 step** (default; llm-models.md §8, [C] vLLM v1 scheduler):

1. arrivals up to now join the waiting queue (policy order; FCFS puts
   preempted requests at the front);
2. preemptive policies may *displace* running requests
   (:mod:`~queuetheory.llm.policies`);
3. running requests are scheduled first, in admission order, each with
   min(tokens left to compute, budget left) tokens; if a block allocation
   fails, the lowest-priority running request is preempted — under FCFS the
   most recently admitted (``running.pop()``), otherwise the largest (key,
   arrival) — and the allocation is retried; if the victim is the request
   being scheduled, scheduling of running requests stops;
4. only if no request was preempted in this step, waiting requests are
   admitted in queue order while the batch size, the token budget and the free
   blocks allow; admission stops at the first request that does not fit
   (``head_of_line=True``) or skips it;
5. the clock advances by the iteration time; each request whose computed
   tokens reach s + j emits a token; finished requests release their blocks.

A request preempted by recompute frees its blocks and later prefills
exactly s + j tokens (prompt plus generated so far). Other batching modes and
the preemption modes are described in :class:`~queuetheory.llm.Server`.

**Event skipping** (``event_skipping=True``): when a step only decodes and
nothing changed, the same batch is repeated in one go until the next
completion, arrival, starvation promotion, failing block allocation,
prediction refresh or MLFQ quantum. Iteration times are still summed one by
one with the same cost call, so per-request timestamps are *identical* to the
per-iteration loop (``event_skipping=False``); see the tests.

**Engines.** ``engine="python"`` runs the reference loop in pure Python;
``engine="numba"`` runs the same code compiled (cached on disk after the first
compilation, which takes tens of seconds); results are identical. ``"auto"``
uses numba when it is installed and the input has at least 20,000 requests.

>>> from queuetheory import llm
>>> reqs = [llm.Request(arrival=0.0, prompt_tokens=1, output_tokens=10, predicted_output=10),
...         llm.Request(arrival=1e-9, prompt_tokens=1, output_tokens=2, predicted_output=2),
...         llm.Request(arrival=2e-9, prompt_tokens=1, output_tokens=1, predicted_output=1)]
>>> server = llm.Server(max_batch_size=1, kv_capacity_tokens=None,
...                     cost=llm.LinearCost(per_iteration=1.0, per_token=0.0,
...                                         per_prefill_token=0.0))
>>> res = llm.simulate(reqs, server, llm.FCFS())     # per-token latencies 1, 6, 13 s/token
>>> [r.latency / r.output_tokens for r in res.requests]
[1.0, 6.0, 13.0]
>>> res = llm.simulate(reqs, server, llm.SPJF())     # 1.3, 1.5, 1 s/token
>>> [round(r.latency / r.output_tokens, 6) for r in res.requests]
[1.3, 1.5, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ParameterError, QueueTheoryError, check_positive_integer
from . import _kernel as K
from .metrics import SimulationResult
from .policies import TRAIL, LLMPolicy
from .requests import Request, RequestSet
from .server import Server

__all__ = ["simulate", "simulate_disaggregated", "numba_available"]

_ENGINES = ("auto", "python", "numba")
_AUTO_NUMBA_MIN = 20_000
_JIT = None


def numba_available() -> bool:
    """True if numba can be imported (the ``"numba"`` engine is usable)."""
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


def _jit_run():
    global _JIT
    if _JIT is None:
        import numba

        _JIT = numba.njit(cache=True)(K.run)
    return _JIT


def _as_request_set(requests: Any) -> RequestSet:
    if isinstance(requests, RequestSet):
        return requests
    if isinstance(requests, Request):
        return RequestSet.from_requests([requests])
    if isinstance(requests, Sequence) or hasattr(requests, "__iter__"):
        return RequestSet.from_requests(list(requests))
    raise ParameterError(f"requests must be an llm.RequestSet or a sequence of llm.Request "
                         f"(got {type(requests).__name__})")


def simulate(requests: Any, server: Server, policy: LLMPolicy, *, seed: Any = None,
             event_skipping: bool = True, engine: str = "auto",
             record_token_times: bool = False, record_kv: bool = True,
             max_iterations: int | None = None) -> SimulationResult:
    """Simulate ``requests`` on ``server`` under ``policy``.

    Parameters
    ----------
    requests : RequestSet or sequence of Request
    server : Server
    policy : LLMPolicy
        e.g. ``llm.FCFS()``, ``llm.SPJF()``, ``llm.TRAIL(c=0.8)``.
    seed : int or Generator, optional
        Randomness of the policy (learning-to-rank scores). Same seed, same result.
    event_skipping : bool
        Jump over decode-only stretches (default). False forces the
        per-iteration loop; results are identical.
    engine : {"auto", "python", "numba"}
        ``"python"``: the reference loop; ``"numba"``: the same loop compiled (identical
        results; about 20x faster; first compilation cached on disk); ``"auto"``: numba
        for 20,000 requests or more when installed.
    record_token_times : bool
        Keep every token's timestamp (``result.token_times``, one array per request).
    record_kv : bool
        Keep the per-iteration KV-use series (default True).
    max_iterations : int, optional
        Stop with :class:`~queuetheory.errors.QueueTheoryError` after this many
        iterations (default 20 × total tokens + 10⁶), which guards against
        configurations that make no progress.

    Returns
    -------
    SimulationResult
    """
    reqs = _as_request_set(requests)
    if not isinstance(server, Server):
        raise ParameterError(f"server must be an llm.Server (got {type(server).__name__})")
    if not isinstance(policy, LLMPolicy):
        raise ParameterError(f"policy must be an llm policy such as llm.FCFS() "
                             f"(got {type(policy).__name__})")
    if engine not in _ENGINES:
        raise ParameterError(f"engine must be one of {_ENGINES} (got {engine!r})")
    n = len(reqs)
    zeros = np.zeros(n, np.int64)
    out = _run(reqs, server, policy, seed=seed, event_skipping=event_skipping, engine=engine,
               record_token_times=record_token_times, record_kv=record_kv,
               j0=zeros, comp0=zeros, last0=np.full(n, np.nan), max_iterations=max_iterations)
    return _result(reqs, server, policy, out, record_token_times, engine=out[-1],
                   input_order=not isinstance(requests, RequestSet))


def _check_memory(reqs: RequestSet, server: Server, outputs: np.ndarray,
                  can_preempt: bool = True) -> None:
    """Every request must fit in the KV cache and (unchunked) in the token budget on its own."""
    total = reqs.prompt_tokens + outputs
    budget = server.max_batched_tokens
    whole = server.batching == "vllm-v0" or not server.chunked_prefill
    if budget is not None and whole and server.batching != "static":
        # a prefill must fit one iteration whole: the prompt, or after a recompute the
        # prompt and the tokens generated so far (up to s + o - 1)
        longest = int((total - 1).max() if can_preempt else reqs.prompt_tokens.max())
        if longest > budget:
            raise ParameterError(
                f"max_batched_tokens must be >= the longest prefill ({longest} tokens: "
                f"{'prompt + output - 1' if can_preempt else 'prompt'}) when prefills are "
                f"not chunked (got {budget})")
    cap = server.capacity_blocks
    if cap is None:
        return
    need = -((-total) // server.block_size)
    if int(need.max()) > cap:
        k = int(np.argmax(need))
        raise ParameterError(
            f"kv_capacity_tokens must hold every request's prompt + output "
            f"({int(total[k])} tokens = {int(need[k])} blocks > {cap} blocks)")


def _run(reqs: RequestSet, server: Server, policy: LLMPolicy, *, seed, event_skipping, engine,
         record_token_times, record_kv, j0, comp0, last0, outputs=None,
         max_iterations=None):
    n = len(reqs)
    o = reqs.output_tokens if outputs is None else np.asarray(outputs, np.int64)
    can_preempt = (server.capacity_blocks is not None or policy.preemptive
                   or isinstance(policy, TRAIL))
    _check_memory(reqs, server, o, can_preempt)
    ip = np.zeros(K.N_IP, np.int64)
    fp = np.zeros(K.N_FP, np.float64)
    ip[K.I_N] = n
    server._fill(ip, fp)
    policy._fill(ip, fp)
    ip[K.I_JUMP] = int(bool(event_skipping))
    ip[K.I_REC_TOK] = int(bool(record_token_times))
    ip[K.I_REC_KV] = int(bool(record_kv))
    ip[K.I_MLFQ_NQ] = max(int(ip[K.I_MLFQ_NQ]), 1)
    ip[K.I_MLFQ_Q1] = max(int(ip[K.I_MLFQ_Q1]), 1)
    if max_iterations is None:
        total = int(reqs.prompt_tokens.sum() + np.asarray(o).sum())
        max_iterations = 20 * total + 1_000_000
    ip[K.I_MAX_ITER] = check_positive_integer("max_iterations", max_iterations)
    kind, cp, tab = server.cost._spec()
    ip[K.I_COST_KIND] = kind
    rng = np.random.default_rng(seed)
    extra = policy._static_arrays(reqs, server, rng)
    skey = np.asarray(extra.get("skey", np.zeros(n)), dtype=np.float64)
    unit_first = np.asarray(extra.get("unit_first", np.ones(n)), dtype=np.int64)
    entry_level = np.asarray(extra.get("entry_level", np.zeros(n)), dtype=np.int64)
    if reqs.refinement is not None:
        every, ref_off, ref_val = reqs.refinement
        ip[K.I_REFINE_EVERY] = every
    else:
        ref_off = np.zeros(n + 1, np.int64)
        ref_val = np.zeros(1, np.float64)
    tok_off = np.concatenate([[0], np.cumsum(o)]).astype(np.int64)
    args = (ip, fp, reqs.arrival.astype(np.float64), reqs.prompt_tokens.astype(np.int64),
            np.asarray(o, np.int64), reqs.predicted_output.astype(np.float64), skey, unit_first,
            entry_level, np.asarray(j0, np.int64), np.asarray(comp0, np.int64),
            np.asarray(last0, np.float64), np.asarray(ref_off, np.int64),
            np.asarray(ref_val, np.float64), tok_off, np.asarray(cp, np.float64),
            np.asarray(tab, np.float64))
    use_numba = engine == "numba" or (engine == "auto" and n >= _AUTO_NUMBA_MIN
                                      and numba_available())
    if engine == "numba" and not numba_available():  # pragma: no cover
        raise ParameterError("engine='numba' needs numba installed")
    if use_numba:
        out = _jit_run()(*args)
    else:  # the reference loop runs on Python lists (much faster than numpy scalars)
        out = K.run(*(a.tolist() for a in args))
    out = tuple(np.asarray(v) if i != 14 else float(v) for i, v in enumerate(out))
    out, iter_tokens = out[:15], out[15]
    status = int(out[13][K.K_STATUS])
    if status == 3:
        raise QueueTheoryError(
            f"the simulation exceeded max_iterations = {int(ip[K.I_MAX_ITER])} iterations "
            f"without serving every request: the configuration makes little or no progress "
            f"(e.g. preemptions that discard work faster than it is done)")
    if status != 0:  # pragma: no cover - guarded by input validation
        raise QueueTheoryError(f"the simulation could not serve every request "
                               f"(status {status})")
    return (*out, tok_off, iter_tokens, "numba" if use_numba else "python")


def _result(reqs: RequestSet, server: Server, policy: LLMPolicy, out, record_token_times,
            *, engine, first_tok=None, input_order=False) -> SimulationResult:
    (first_tok_k, finish, npre, recomp, swaptok, maxgap, area, first_sched, tok_times,
     kv_t, kv_b, kv_k, kv_n, counters, t_end, tok_off, iter_tokens, _eng) = out
    if input_order:  # a list of Request: report in the list's order
        inv = np.empty_like(reqs.order)
        inv[reqs.order] = np.arange(reqs.order.size)
    else:            # a RequestSet: report in its (arrival-sorted) order
        inv = np.arange(len(reqs))

    def back(a):
        return np.asarray(a)[inv]

    ft = first_tok_k if first_tok is None else first_tok
    tt = None
    if record_token_times:
        tt = [tok_times[tok_off[i]:tok_off[i + 1]].copy() for i in inv]
    return SimulationResult(
        arrival=back(reqs.arrival), prompt_tokens=back(reqs.prompt_tokens),
        output_tokens=back(reqs.output_tokens), predicted_output=back(reqs.predicted_output),
        first_token_time=back(ft), finish_time=back(finish), preemptions=back(npre),
        recomputed_tokens=back(recomp), swapped_tokens=back(swaptok),
        max_token_gap=back(maxgap), kv_area=back(area), first_scheduled=back(first_sched),
        token_times=tt, kv_time=np.asarray(kv_t), kv_blocks=np.asarray(kv_b),
        kv_tokens=np.asarray(kv_k), batch_size=np.asarray(kv_n),
        iteration_tokens=np.asarray(iter_tokens), counters=np.asarray(counters),
        end_time=t_end, kv_bytes_per_token=server.kv_bytes_per_token,
        block_size=server.block_size, policy_name=repr(policy), engine=engine)


def simulate_disaggregated(requests: Any, prefill_server: Server, decode_server: Server,
                           policy: LLMPolicy, *, kv_transfer_bandwidth: float = 25e9,
                           seed: Any = None, event_skipping: bool = True,
                           engine: str = "auto") -> tuple[SimulationResult, SimulationResult]:
    r"""Prefill and decode on separate servers in tandem (Splitwise, DistServe; llm-models.md §8).

    Each request is prefilled on ``prefill_server`` (which emits its first
    token), its KV (κ·s bytes, κ = ``decode_server.kv_bytes_per_token``) is
    transferred in κ·s / ``kv_transfer_bandwidth`` seconds, and it then decodes
    its remaining o − 1 tokens on ``decode_server``, arriving there with its
    prompt's KV already computed. The tandem is feed-forward, so the two servers
    are simulated one after the other, exactly.

    Returns
    -------
    (combined, decode) : SimulationResult, SimulationResult
        ``combined`` has the end-to-end per-request metrics (TTFT from the
        prefill server, finish from the decode server, preemptions and recomputed
        tokens of both); ``decode`` is the decode server's own result (KV series,
        iteration counts), over the requests with o ≥ 2, times from the original
        arrivals.
    """
    from ..errors import check_positive

    reqs = _as_request_set(requests)
    bw = check_positive("kv_transfer_bandwidth", kv_transfer_bandwidth)
    if not isinstance(prefill_server, Server) or not isinstance(decode_server, Server):
        raise ParameterError("prefill_server and decode_server must be llm.Server objects")
    if not isinstance(policy, LLMPolicy):
        raise ParameterError("policy must be an llm policy")
    n = len(reqs)
    zeros = np.zeros(n, np.int64)
    pre = _run(reqs, prefill_server, policy, seed=seed, event_skipping=event_skipping,
               engine=engine, record_token_times=False, record_kv=False, j0=zeros,
               comp0=zeros, last0=np.full(n, np.nan), outputs=np.ones(n, np.int64))
    first_tok = pre[0]
    multi = reqs.output_tokens >= 2
    transfer = decode_server.kv_bytes_per_token * reqs.prompt_tokens / bw
    finish = first_tok.copy()
    npre = pre[2].copy()
    recomp = pre[3].copy()
    swaptok = pre[4].copy()
    maxgap = np.zeros(n)
    area = pre[6].copy()
    first_sched = pre[7].copy()
    dec_res = None
    if multi.any():
        idx = np.flatnonzero(multi)
        sub = RequestSet(first_tok[idx] + transfer[idx], reqs.prompt_tokens[idx],
                         reqs.output_tokens[idx], reqs.predicted_output[idx])
        sorted_idx = idx[sub.order]
        dec = _run(sub, decode_server, policy, seed=seed, event_skipping=event_skipping,
                   engine=engine, record_token_times=False, record_kv=True,
                   j0=np.ones(len(sub), np.int64), comp0=sub.prompt_tokens.copy(),
                   last0=first_tok[sorted_idx])
        finish[sorted_idx] = dec[1]
        npre[sorted_idx] += dec[2]
        recomp[sorted_idx] += dec[3]
        swaptok[sorted_idx] += dec[4]
        maxgap[sorted_idx] = dec[5]
        area[sorted_idx] += dec[6]
        # the decode server's own result, over these requests in their original arrival order
        keep = np.sort(sorted_idx)
        sub_orig = RequestSet(reqs.arrival[keep], reqs.prompt_tokens[keep],
                              reqs.output_tokens[keep], reqs.predicted_output[keep])
        pos = np.empty(n, np.int64)
        pos[sorted_idx] = np.arange(sorted_idx.size)
        perm = pos[keep]   # decode-run position of each request of sub_orig
        dec_sorted = tuple(np.asarray(v)[perm] if k < 8 else v for k, v in enumerate(dec))
        dec_res = _result(sub_orig, decode_server, policy, dec_sorted, False, engine=dec[-1],
                          first_tok=first_tok[keep])
    combined_out = (first_tok, finish, npre, recomp, swaptok, maxgap, area, first_sched,
                    np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64),
                    np.zeros(0, np.int64), pre[13] if dec_res is None else dec[13],
                    float(np.nanmax(finish)), pre[15], np.zeros(0, np.int64), pre[17])
    combined = _result(reqs, decode_server, policy, combined_out, False, engine=pre[-1],
                       input_order=not isinstance(requests, RequestSet))
    return combined, dec_res
