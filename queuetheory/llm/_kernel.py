"""The iteration-level step loop of the LLM-server simulator (numba-compatible pure Python).

Everything here is plain Python over numpy arrays and scalars, written so that
:func:`numba.njit` can compile it unchanged. :mod:`queuetheory.llm.simulator`
runs either this module's :func:`run` directly (``engine="python"``) or its
numba-compiled twin (``engine="numba"``); both execute the same statements in
the same order on IEEE doubles, so they return identical results (tested).

The semantics are documented in :mod:`queuetheory.llm.simulator`; the integer
codes below are filled in by :mod:`queuetheory.llm.server`,
:mod:`queuetheory.llm.policies` and :mod:`queuetheory.llm.costs`.

Event skipping: after a step has been scheduled, if it is *stable* (only
decodes, nothing admitted or preempted, every running request scheduled, no
swap traffic) the same batch is repeated for as many iterations as nothing can
change: up to the next completion, the next arrival or starvation promotion,
the first block allocation that would fail, and policy thresholds (prediction
refreshes, MLFQ quanta). Time is still accumulated iteration by iteration with
the same cost-model call, so the jump is bit-for-bit identical to the loop
(``ip[I_JUMP] = 0`` forces one iteration per step).
"""

from __future__ import annotations

import numpy as np

try:  # numba is optional: without it the helpers are plain Python functions
    from numba.extending import register_jitable
except ImportError:  # pragma: no cover - exercised only without numba
    def register_jitable(*args, **kwargs):  # type: ignore[no-redef]
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda f: f

INF_I = 1 << 62
BIG = 1e300

# ---- integer parameter slots (ip) ----
I_N = 0
I_MAX_BATCH = 1
I_BUDGET = 2
I_BLOCK = 3
I_CAP_BLOCKS = 4
I_WATERMARK = 5
I_MODE = 6
I_HOL = 7
I_CHUNKED = 8
I_CHUNK_CAP = 9
I_PMODE = 10
I_SWAP_BLOCKING = 11
I_CPU_CAP = 12
I_POLICY = 13
I_PREEMPTIVE = 14
I_MAX_PREEMPT = 15
I_REFINE_EVERY = 16
I_MLFQ_NQ = 17
I_MLFQ_Q1 = 18
I_JUMP = 19
I_REC_TOK = 20
I_REC_KV = 21
I_COST_KIND = 22
I_MAX_PARTIAL = 23
I_MCSF_CAP = 24
I_MAX_ITER = 25
N_IP = 26

# ---- float parameter slots (fp) ----
F_WAKEUP = 0
F_SWAP_RATE = 1
F_TRAIL_C = 2
F_MARGIN = 3
F_STARVATION = 4
N_FP = 5

# ---- batching modes ----
MODE_V1 = 0
MODE_V0 = 1
MODE_SARATHI = 2
MODE_STATIC = 3

# ---- preemption modes ----
PM_RECOMPUTE = 0
PM_SWAP = 1
PM_PRESERVE = 2

# ---- policies ----
P_FCFS = 0
P_SPJF = 1
P_SPRPT = 2
P_TRAIL = 3
P_LTR = 4
P_MLFQ = 5
P_MCSF = 6
P_MEMTIME = 7

# ---- cost kinds ----
C_LINEAR = 0
C_PHASE = 1
C_ROOFLINE = 2
C_TABLE = 3

# ---- request states ----
ST_FUTURE = 0
ST_WAIT = 1       # waiting; needs (re)prefill of s + j - comp tokens
ST_RUN = 2
ST_PRESERVED = 3  # waiting with its KV kept on the GPU
ST_SWAPPED = 4    # waiting with its KV in CPU memory
ST_DONE = 5

# ---- counters ----
K_ITER = 0
K_LOOP = 1
K_MEM_PREEMPT = 2
K_PRIO_PREEMPT = 3
K_NKV = 4
K_STATUS = 5
K_DISCARD_PRESERVED = 6
N_COUNTERS = 7


# --------------------------------------------------------------------- cost
@register_jitable
def _interp(x, tab, off, m):
    """Piecewise-linear interpolation with linear extrapolation of tab[off:off+m] -> next m."""
    if m == 1:
        return tab[off + m]
    k = 0
    if x >= tab[off + m - 1]:
        k = m - 2
    elif x > tab[off]:
        lo = 0
        hi = m - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if tab[off + mid] <= x:
                lo = mid
            else:
                hi = mid
        k = lo
    x0 = tab[off + k]
    x1 = tab[off + k + 1]
    y0 = tab[off + m + k]
    y1 = tab[off + m + k + 1]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


@register_jitable
def iteration_time(kind, cp, tab, n_pre_tok, sumsq_pre, n_dec, sum_ctx):
    """Seconds taken by one iteration with the given batch summary.

    n_pre_tok: prefill tokens (sum of chunk lengths); sumsq_pre: sum of squared
    chunk lengths; n_dec: decoding requests; sum_ctx: their total context.
    """
    npt = float(n_pre_tok)
    nd = float(n_dec)
    ctx = float(sum_ctx)
    if kind == C_LINEAR:
        tot = npt + nd
        return (cp[0] + cp[1] * nd + cp[2] * npt + cp[3] * ctx + cp[4] * sumsq_pre
                + cp[5] * tot * tot)
    if kind == C_PHASE:
        tp = 0.0
        td = 0.0
        if n_pre_tok > 0:
            tp = cp[0] + cp[1] * npt + cp[2] * sumsq_pre
        if n_dec > 0:
            if nd < cp[9]:
                td = cp[3] + cp[4] * ctx + cp[5] * nd
                a = cp[3]
            else:
                td = cp[6] + cp[7] * ctx + cp[8] * nd
                a = cp[6]
            if n_pre_tok > 0:
                td = td - a
        return (tp + td) * cp[10]
    if kind == C_ROOFLINE:
        lin = cp[1] + cp[2] * (npt + nd)
        if lin < cp[0]:
            lin = cp[0]
        return lin + cp[3] * ctx
    # C_TABLE: tab = [m_p, x_p.., y_p.., m_d, x_d.., y_d..]; cp = [mixed factor, c_ctx, scale]
    mp = int(tab[0])
    off_d = 1 + 2 * mp
    md = int(tab[off_d])
    if n_pre_tok > 0 and n_dec > 0:
        val = _interp(npt + nd, tab, 1, mp) * cp[0]
    elif n_pre_tok > 0:
        val = _interp(npt, tab, 1, mp)
    else:
        val = _interp(nd, tab, off_d + 1, md)
    return (val + cp[1] * ctx) * cp[2]


# -------------------------------------------------------------------- heap
@register_jitable
def _less(ea, eb, ek1, ek2, eid):
    a = ek1[ea]
    b = ek1[eb]
    if a < b:
        return True
    if a > b:
        return False
    a = ek2[ea]
    b = ek2[eb]
    if a < b:
        return True
    if a > b:
        return False
    return eid[ea] < eid[eb]


@register_jitable
def _heap_push(heap, hn, e, ek1, ek2, eid):
    k = hn
    heap[k] = e
    while k > 0:
        p = (k - 1) // 2
        if _less(heap[k], heap[p], ek1, ek2, eid):
            tmp = heap[p]
            heap[p] = heap[k]
            heap[k] = tmp
            k = p
        else:
            break
    return hn + 1


@register_jitable
def _heap_pop(heap, hn, ek1, ek2, eid):
    hn -= 1
    if hn > 0:
        heap[0] = heap[hn]
        k = 0
        while True:
            left = 2 * k + 1
            if left >= hn:
                break
            c = left
            if left + 1 < hn and _less(heap[left + 1], heap[left], ek1, ek2, eid):
                c = left + 1
            if _less(heap[c], heap[k], ek1, ek2, eid):
                tmp = heap[c]
                heap[c] = heap[k]
                heap[k] = tmp
                k = c
            else:
                break
    return hn


@register_jitable
def _clean_top(heap, hn, ek1, ek2, eid, cur_e):
    while hn > 0 and cur_e[eid[heap[0]]] != heap[0]:
        hn = _heap_pop(heap, hn, ek1, ek2, eid)
    return hn


# Allocation helpers. The pure-Python engine runs the kernel on Python lists (several
# times faster than element access on numpy arrays); under numba the overloads below
# allocate numpy arrays instead. Values and operations are the same IEEE doubles and
# integers either way, so the two engines agree exactly.
def _zeros_i(n):
    return [0] * n


def _zeros_f(n):
    return [0.0] * n


def _zeros_b(n):
    return [False] * n


def _full_i(n, v):
    return [v] * n


def _full_f(n, v):
    return [v] * n


def _grow_i(a, size):
    return a + [0] * (size - len(a))


def _grow_f(a, size):
    return a + [0.0] * (size - len(a))


def _argsort_desc(r, m):
    return sorted(range(m), key=lambda k: -r[k])


try:
    from numba.extending import overload as _overload
except ImportError:  # pragma: no cover
    _overload = None

if _overload is not None:
    # compiled twins of the allocation helpers above: numpy arrays of the given dtype
    def _ol_zeros(dtype):
        def typer(n):
            def impl(n):
                return np.zeros(n, dtype)
            return impl
        return typer

    def _ol_full(dtype):
        def typer(n, v):
            def impl(n, v):
                a = np.empty(n, dtype)
                a[:] = v
                return a
            return impl
        return typer

    def _ol_grow(dtype):
        def typer(a, size):
            def impl(a, size):
                b = np.zeros(size, dtype)
                b[: a.shape[0]] = a
                return b
            return impl
        return typer

    for _func, _factory, _dtype in ((_zeros_i, _ol_zeros, np.int64),
                                    (_zeros_f, _ol_zeros, np.float64),
                                    (_zeros_b, _ol_zeros, np.bool_),
                                    (_full_i, _ol_full, np.int64),
                                    (_full_f, _ol_full, np.float64),
                                    (_grow_i, _ol_grow, np.int64),
                                    (_grow_f, _ol_grow, np.float64)):
        _overload(_func)(_factory(_dtype))

    @_overload(_argsort_desc)
    def _ol_argsort_desc(r, m):
        def impl(r, m):
            return np.argsort(-r[:m])
        return impl


# ------------------------------------------------------------ predictions
@register_jitable
def _pred_rem(i, jj, pred0, every, ref_off, ref_val):
    """Current predicted remaining output of request i after jj tokens."""
    if every > 0 and jj >= every:
        q = jj // every
        cnt = ref_off[i + 1] - ref_off[i]
        if q > cnt:
            q = cnt
        if q > 0:
            return ref_val[ref_off[i] + q - 1] - float(jj - q * every)
    return pred0[i] - float(jj)


@register_jitable
def _key(i, policy, j, s, arr, pred0, skey, every, ref_off, ref_val, level, t_enter,
         prom, ptime):
    """Scheduling key (k1, k2) of request i (lower is served first; ties by id)."""
    if prom[i]:
        return -BIG, ptime[i]
    if policy == P_FCFS:
        return 0.0, arr[i]
    if policy == P_SPJF or policy == P_MCSF:
        return pred0[i], arr[i]
    if policy == P_SPRPT or policy == P_TRAIL:
        return _pred_rem(i, j[i], pred0, every, ref_off, ref_val), arr[i]
    if policy == P_LTR:
        return skey[i], arr[i]
    if policy == P_MLFQ:
        return float(level[i]), t_enter[i]
    # P_MEMTIME: predicted remaining memory x time area (token-iterations)
    r = _pred_rem(i, j[i], pred0, every, ref_off, ref_val)
    if r < 1.0:
        r = 1.0
    base = float(s[i] + j[i])
    return r * base + 0.5 * r * (r - 1.0), arr[i]


@register_jitable
def _preemptible(i, policy, preemptive, j, pred0, trail_c, npre, max_pre):
    if max_pre >= 0 and npre[i] >= max_pre:
        return False
    if policy == P_TRAIL:
        return float(j[i]) <= trail_c * pred0[i]
    return preemptive != 0


@register_jitable
def _mcsf_ok(ic, run, n_run, s, j, pred0, every, ref_off, ref_val, cap_tokens):
    """Jaillet et al. future-memory check: Mem(u) <= M at every u in {r_i} (llm-models §9.7)."""
    m = n_run + 1
    r = _zeros_f(m)
    base = _zeros_f(m)
    for idx in range(n_run):
        i = run[idx]
        v = _pred_rem(i, j[i], pred0, every, ref_off, ref_val)
        r[idx] = v if v > 1.0 else 1.0
        base[idx] = float(s[i] + j[i])
    v = _pred_rem(ic, j[ic], pred0, every, ref_off, ref_val)
    r[m - 1] = v if v > 1.0 else 1.0
    base[m - 1] = float(s[ic] + j[ic])
    order = _argsort_desc(r, m)
    cum = 0.0
    cnt = 0
    p = 0
    while p < m:
        u = r[order[p]]
        while p < m and r[order[p]] == u:
            cum += base[order[p]]
            cnt += 1
            p += 1
        if cum + u * cnt > cap_tokens:
            return False
    return True


@register_jitable
def _remove_at(a, n, pos):
    for k in range(pos, n - 1):
        a[k] = a[k + 1]
    return n - 1


@register_jitable
def _find(a, n, x):
    for k in range(n):
        if a[k] == x:
            return k
    return -1


@register_jitable
def _ceil_div(a, b):
    return -((-a) // b)


@register_jitable
def _need_blocks(tokens, held_i, bs):
    """Blocks to allocate so that ``tokens`` computed tokens fit, given ``held_i`` held (>= 0)."""
    nb = -((-tokens) // bs) - held_i  # _ceil_div inlined: one call less per request-step
    if nb < 0:
        nb = 0
    return nb


# ------------------------------------------------------- waiting queue
# The entry arrays (eid, ek1, ek2, heap, fifo) are grown only by _reserve, called from
# the top level of the step loop before each phase that adds entries, for as many
# entries as that phase can add at most. The helpers below then never reallocate, so
# they return no arrays (rebinding arrays inside the scheduling loops of the compiled
# kernel makes it about twice slower).
@register_jitable
def _reserve(need, eid, ek1, ek2, heap, fifo):
    """Grow the entry arrays to hold ``need`` entries (at least doubling). Returns them."""
    newcap = 2 * len(eid)
    if newcap < need:
        newcap = need
    return (_grow_i(eid, newcap), _grow_f(ek1, newcap), _grow_f(ek2, newcap),
            _grow_i(heap, newcap), _grow_i(fifo, newcap))


@register_jitable
def _push_event(i, k1, k2, ne, hn, eid, ek1, ek2, heap, cur_e):
    """Make entry ``ne`` = (i, k1, k2) request i's current queue entry and push it.

    Needs ``ne < len(eid)`` (see _reserve); returns ``hn``. The caller increments ``ne``.
    """
    eid[ne] = i
    ek1[ne] = k1
    ek2[ne] = k2
    cur_e[i] = ne
    return _heap_push(heap, hn, ne, ek1, ek2, eid)


@register_jitable
def _enqueue(i, k1, k2, t, to_fifo, ne, hn, fn, n_wait, eid, ek1, ek2, heap, fifo, cur_e,
             wait_since):
    """Request i starts waiting at time t with key (k1, k2); ``to_fifo``: starvation-watched.

    Returns ``(ne, hn, fn, n_wait)``.
    """
    hn = _push_event(i, k1, k2, ne, hn, eid, ek1, ek2, heap, cur_e)
    wait_since[i] = t
    if to_fifo:
        fifo[fn] = ne
        fn += 1
    return ne + 1, hn, fn, n_wait + 1


# ---------------------------------------------------------- preemption
SK_NONE = 0       # _worst: every candidate
SK_DISPLACE = 1   # only requests a priority displacement may preempt (_preemptible)
SK_TRAIL = 2      # TRAIL: skip requests past their c-fraction (memory victims)
SK_FCFS_ARR = 3   # every candidate; FCFS key = (0, arrival) (V0: the latest arrival)


@register_jitable
def _worst(lst, m, skip_id, kind, policy, preemptive, max_pre, trail_c, npre, j, s,
           arr, pred0, skey, every, ref_off, ref_val, level, t_enter, prom, ptime):
    """Position in lst[:m] of the largest (k1, k2, id) among the candidates (``kind``).

    ``skip_id`` is never chosen (not checked for SK_DISPLACE, which passes -1).
    Equal keys are broken by the larger request id (the newest request is the victim).
    Returns ``(pos, k1, k2)``, pos = -1 if there is no candidate.
    """
    displace = kind == SK_DISPLACE
    trail_only = kind == SK_TRAIL and policy == P_TRAIL
    fcfs_arr = kind == SK_FCFS_ARR and policy == P_FCFS
    best = -1
    bk1 = 0.0
    bk2 = 0.0
    for q in range(m):
        p = lst[q]
        if displace:
            if not _preemptible(p, policy, preemptive, j, pred0, trail_c, npre, max_pre):
                continue
        elif p == skip_id or (trail_only and not _preemptible(p, policy, preemptive, j, pred0,
                                                              trail_c, npre, -1)):
            continue
        if fcfs_arr:
            k1 = 0.0
            k2 = arr[p]
        else:
            k1, k2 = _key(p, policy, j, s, arr, pred0, skey, every, ref_off, ref_val, level,
                          t_enter, prom, ptime)
        if best < 0 or k1 > bk1 or (k1 == bk1 and (k2 > bk2 or (
                k2 == bk2 and p > lst[best]))):
            best = q
            bk1 = k1
            bk2 = k2
    return best, bk1, bk2


@register_jitable
def _discard_preserved(q, npres, pres_blocks, free, pres, held, comp, recomp, state, counters):
    """Drop the KV of preserved request pres[q]: it will recompute. Returns the scalars."""
    p = pres[q]
    npres = _remove_at(pres, npres, q)
    pres_blocks -= held[p]
    recomp[p] += comp[p]
    comp[p] = 0
    free += held[p]
    held[p] = 0
    state[p] = ST_WAIT
    counters[K_DISCARD_PRESERVED] += 1
    return npres, pres_blocks, free


@register_jitable
def _preempt(vpos, idx, slot, pm, front, trail_adj, t, n_run, budget_left, free, cpu_used,
             cpu_cap, swap_out, npres, pres_blocks, preempt_seq, ne, hn, fn, n_wait, starv,
             run_l, sched, npre, counters, state, comp, held, recomp, swaptok, pres,
             eid, ek1, ek2, heap, fifo, cur_e, wait_since, policy, trail_c, j, s, arr, pred0,
             skey, every, ref_off, ref_val, level, t_enter, prom, ptime):
    """Preempt running request run_l[vpos] and put it back in the waiting queue.

    ``slot``: the counter incremented (memory or priority preemption). ``pm``: what
    happens to its KV (PM_PRESERVE keeps it, PM_SWAP swaps it out if the CPU space
    allows, else it is freed and recomputed). Queue key: ``front`` puts an FCFS
    victim at the front (vLLM); ``trail_adj`` sends a TRAIL request past its
    c-fraction behind every other. ``idx`` (the scan position) moves back if the
    victim stood before it; its scheduled tokens, if any, return to the budget.
    Returns ``(v, n_run, idx, budget_left, free, cpu_used, swap_out, npres,
    pres_blocks, preempt_seq, ne, hn, fn, n_wait)``.
    """
    v = run_l[vpos]
    n_run = _remove_at(run_l, n_run, vpos)
    if vpos < idx:
        idx -= 1
    if sched[v] > 0:
        budget_left += sched[v]
        sched[v] = 0
    npre[v] += 1
    counters[slot] += 1
    if pm == PM_PRESERVE:
        state[v] = ST_PRESERVED
        pres[npres] = v
        npres += 1
        pres_blocks += held[v]
    elif pm == PM_SWAP and (cpu_cap < 0 or cpu_used + comp[v] <= cpu_cap):
        state[v] = ST_SWAPPED
        swap_out += comp[v]
        swaptok[v] += comp[v]
        cpu_used += comp[v]
        free += held[v]
        held[v] = 0
    else:
        state[v] = ST_WAIT
        recomp[v] += comp[v]
        comp[v] = 0
        free += held[v]
        held[v] = 0
    if front and policy == P_FCFS:
        preempt_seq += 1
        k1 = 0.0
        k2 = -float(preempt_seq)
    else:
        k1, k2 = _key(v, policy, j, s, arr, pred0, skey, every, ref_off, ref_val, level,
                      t_enter, prom, ptime)
        if trail_adj and policy == P_TRAIL and not (float(j[v]) <= trail_c * pred0[v]):
            k1 = BIG
    ne, hn, fn, n_wait = _enqueue(v, k1, k2, t, starv < BIG and not prom[v], ne, hn, fn,
                                  n_wait, eid, ek1, ek2, heap, fifo, cur_e, wait_since)
    return (v, n_run, idx, budget_left, free, cpu_used, swap_out, npres, pres_blocks,
            preempt_seq, ne, hn, fn, n_wait)


@register_jitable
def _make_room(i, nb, idx, v0, pm, t, n_run, budget_left, free, cpu_used, cpu_cap, swap_out,
               npres, pres_blocks, preempt_seq, ne, hn, fn, n_wait, starv, run_l, sched, npre,
               counters, state, comp, held, recomp, swaptok, pres, eid, ek1, ek2, heap, fifo,
               cur_e, wait_since, policy, preemptive, trail_c, j, s, arr, pred0, skey, every,
               ref_off, ref_val, level, t_enter, prom, ptime):
    """Free blocks until running request i's allocation of nb blocks fits (memory preemption).

    vLLM v1 (``v0`` False): discard the worst preserved request first, then preempt
    the most recently admitted (FCFS) or the largest-key running request (TRAIL: one
    within its c-fraction, if any). vLLM v0: preempt the latest arrival (FCFS) or
    the largest key. Stops with ok = False when i itself is the victim. Returns
    ``(ok, n_run, idx, budget_left, free, cpu_used, swap_out, npres, pres_blocks,
    preempt_seq, ne, hn, fn, n_wait)``.
    """
    ok = True
    while nb > free:
        if not v0 and npres > 0:
            q, k1, k2 = _worst(pres, npres, -1, SK_NONE, policy, preemptive, -1,
                               trail_c, npre, j, s, arr, pred0, skey, every, ref_off, ref_val,
                               level, t_enter, prom, ptime)
            npres, pres_blocks, free = _discard_preserved(q, npres, pres_blocks, free, pres,
                                                          held, comp, recomp, state, counters)
            continue
        if v0:
            vpos, k1, k2 = _worst(run_l, n_run, -1, SK_FCFS_ARR, policy, preemptive, -1,
                                  trail_c, npre, j, s, arr, pred0, skey, every, ref_off,
                                  ref_val, level, t_enter, prom, ptime)
        elif policy == P_FCFS:
            vpos = n_run - 1
        else:
            vpos, k1, k2 = _worst(run_l, n_run, -1, SK_TRAIL, policy, preemptive, -1,
                                  trail_c, npre, j, s, arr, pred0, skey, every, ref_off,
                                  ref_val, level, t_enter, prom, ptime)
            if vpos < 0:
                vpos = n_run - 1
        (v, n_run, idx, budget_left, free, cpu_used, swap_out, npres, pres_blocks, preempt_seq,
         ne, hn, fn, n_wait) = _preempt(
            vpos, idx, K_MEM_PREEMPT, pm, True, not v0, t, n_run, budget_left, free, cpu_used,
            cpu_cap, swap_out, npres, pres_blocks, preempt_seq, ne, hn, fn, n_wait, starv,
            run_l, sched, npre, counters, state, comp, held, recomp, swaptok, pres, eid, ek1,
            ek2, heap, fifo, cur_e, wait_since, policy, trail_c, j, s, arr, pred0, skey, every,
            ref_off, ref_val, level, t_enter, prom, ptime)
        if v == i:
            ok = False
            break
    return (ok, n_run, idx, budget_left, free, cpu_used, swap_out, npres, pres_blocks,
            preempt_seq, ne, hn, fn, n_wait)


@register_jitable
def _finish(i, idx, t, free, n_run, n_done, finish, held, state, run_l):
    """Running request run_l[idx] = i completes at t. Returns (free, n_run, n_done)."""
    finish[i] = t
    free += held[i]
    held[i] = 0
    state[i] = ST_DONE
    n_run = _remove_at(run_l, n_run, idx)
    return free, n_run, n_done + 1


# ------------------------------------------------------------------- main
def run(ip, fp, arr, s, o, pred0, skey, unit_first, entry_level, j0, comp0, last0,
        ref_off, ref_val, tok_off, cp, tab):
    """Simulate; see module docstring. Returns a tuple of result arrays."""
    n = ip[I_N]
    max_batch = ip[I_MAX_BATCH]
    budget = ip[I_BUDGET]
    bs = ip[I_BLOCK]
    cap_blocks = ip[I_CAP_BLOCKS]
    watermark = ip[I_WATERMARK]
    mode = ip[I_MODE]
    hol = ip[I_HOL]
    chunked = ip[I_CHUNKED]
    chunk_cap = ip[I_CHUNK_CAP]
    pmode = ip[I_PMODE]
    swap_blocking = ip[I_SWAP_BLOCKING]
    cpu_cap = ip[I_CPU_CAP]
    policy = ip[I_POLICY]
    preemptive = ip[I_PREEMPTIVE]
    max_pre = ip[I_MAX_PREEMPT]
    every = ip[I_REFINE_EVERY]
    mlfq_nq = ip[I_MLFQ_NQ]
    mlfq_q1 = ip[I_MLFQ_Q1]
    jump = ip[I_JUMP]
    rec_tok = ip[I_REC_TOK]
    rec_kv = ip[I_REC_KV]
    cost_kind = ip[I_COST_KIND]
    max_partial = ip[I_MAX_PARTIAL]
    mcsf_cap = float(ip[I_MCSF_CAP])
    max_iter = ip[I_MAX_ITER]
    wakeup = fp[F_WAKEUP]
    swap_rate = fp[F_SWAP_RATE]
    trail_c = fp[F_TRAIL_C]
    margin = fp[F_MARGIN]
    starv = fp[F_STARVATION]

    # per-request state
    state = _zeros_i(n)
    j = j0.copy()
    comp = comp0.copy()
    held = _zeros_i(n)
    first_tok = _full_f(n, np.nan)
    finish = _full_f(n, np.nan)
    last_tok = last0.copy()
    npre = _zeros_i(n)
    recomp = _zeros_i(n)
    swaptok = _zeros_i(n)
    maxgap = _zeros_f(n)
    area = _zeros_i(n)
    first_sched = _full_f(n, np.nan)
    level = entry_level.copy()
    used_u = _zeros_i(n)
    t_enter = arr.copy()
    prom = _zeros_b(n)
    ptime = _zeros_f(n)
    wait_since = _zeros_f(n)
    sched = _zeros_i(n)
    run_l = _zeros_i(n + 1)
    n_run = 0
    pres = _zeros_i(n + 1)
    npres = 0
    pres_blocks = 0
    skipbuf = _zeros_i(n + 1)
    cnt_res = _zeros_i(bs)
    counters = _zeros_i(N_COUNTERS)

    # waiting priority queue: entries (id, k1, k2); lazy deletion via cur_e
    cap_e = 2 * n + 16
    eid = _zeros_i(cap_e)
    ek1 = _zeros_f(cap_e)
    ek2 = _zeros_f(cap_e)
    heap = _zeros_i(cap_e)
    fifo = _zeros_i(cap_e)
    cur_e = _full_i(n, -1)
    ne = 0
    hn = 0
    fh = 0
    fn = 0
    n_wait = 0
    preempt_seq = 0

    # outputs that grow
    n_tok_total = tok_off[n]
    tok_times = _full_f(n_tok_total if rec_tok != 0 else 0, np.nan)
    cap_kv = 1024
    kv_t = _zeros_f(cap_kv)
    kv_b = _zeros_i(cap_kv)
    kv_k = _zeros_i(cap_kv)
    kv_n = _zeros_i(cap_kv)
    kv_q = _zeros_i(cap_kv)
    nkv = 0

    total_blocks = cap_blocks if cap_blocks >= 0 else INF_I
    free = total_blocks
    cpu_used = 0
    t = 0.0
    na = 0
    n_done = 0
    static_mode = mode == MODE_STATIC
    pm_mem = PM_SWAP if pmode == PM_SWAP else PM_RECOMPUTE  # a memory preemption frees the KV

    while n_done < n:
        counters[K_LOOP] += 1
        if counters[K_ITER] > max_iter:
            counters[K_STATUS] = 3  # no progress (e.g. a preemption livelock)
            break
        # ---------------------------------------------------------- idle
        if n_run == 0 and n_wait == 0:
            if na >= n:
                counters[K_STATUS] = 2
                break
            if arr[na] >= t:
                t = arr[na] + wakeup  # an idle server wakes up `wakeup` after an arrival
        # ------------------------------------------------------ arrivals
        if ne + n - na > len(eid):  # room for every arrival
            eid, ek1, ek2, heap, fifo = _reserve(ne + n - na, eid, ek1, ek2, heap, fifo)
        while na < n and arr[na] <= t:
            i = na
            na += 1
            state[i] = ST_WAIT
            if policy == P_FCFS:
                k1 = 1.0
                k2 = float(i)
            else:
                k1, k2 = _key(i, policy, j, s, arr, pred0, skey, every, ref_off, ref_val,
                              level, t_enter, prom, ptime)
            ne, hn, fn, n_wait = _enqueue(i, k1, k2, t, starv < BIG, ne, hn, fn, n_wait, eid, ek1,
                                          ek2, heap, fifo, cur_e, wait_since)
        # ---------------------------------------------- starvation promotion
        next_promo = np.inf
        if starv < BIG:
            if ne + n_wait > len(eid):  # each waiting request is promoted at most once
                eid, ek1, ek2, heap, fifo = _reserve(ne + n_wait, eid, ek1, ek2, heap, fifo)
            while fh < fn:
                e = fifo[fh]
                i = eid[e]
                if cur_e[i] != e:
                    fh += 1
                    continue
                if wait_since[i] + starv <= t:
                    fh += 1
                    if policy == P_MLFQ:
                        level[i] = 0
                        used_u[i] = 0
                        t_enter[i] = t
                    else:
                        prom[i] = True
                        ptime[i] = t
                    k1, k2 = _key(i, policy, j, s, arr, pred0, skey, every, ref_off, ref_val,
                                  level, t_enter, prom, ptime)
                    hn = _push_event(i, k1, k2, ne, hn, eid, ek1, ek2, heap, cur_e)
                    ne += 1
                else:
                    next_promo = wait_since[i] + starv
                    break

        # preemptions in this step: displacements d <= n_run, then memory preemptions of the
        # others, plus (V0) of the at most n_wait + d admitted: <= 2 n_run + n_wait in all
        if ne + 2 * n_run + n_wait > len(eid):
            eid, ek1, ek2, heap, fifo = _reserve(ne + 2 * n_run + n_wait, eid, ek1, ek2, heap,
                                                 fifo)

        changed = False
        mem_pre = False
        n_adm = 0
        budget_left = budget
        swap_out = 0
        swap_in = 0
        prefill_step_v0 = False

        # ------------------------------------------- priority displacement
        if preemptive != 0 and not static_mode and n_wait > 0 and n_run > 0:
            while True:
                hn = _clean_top(heap, hn, ek1, ek2, eid, cur_e)
                if hn == 0:
                    break
                ew = heap[0]
                w = eid[ew]
                vpos, vk1, vk2 = _worst(run_l, n_run, -1, SK_DISPLACE, policy, preemptive,
                                        max_pre, trail_c, npre, j, s, arr, pred0, skey, every,
                                        ref_off, ref_val, level, t_enter, prom, ptime)
                if vpos < 0:
                    break
                v = run_l[vpos]
                wk1 = ek1[ew]
                wk2 = ek2[ew]
                if margin > 0.0:
                    better = wk1 < vk1 - margin
                else:
                    better = wk1 < vk1 or (wk1 == vk1 and (wk2 < vk2 or (wk2 == vk2 and w < v)))
                if not better:
                    break
                # would w be admitted without displacing anyone?
                run_tok = 0
                run_need = 0
                for idx in range(n_run):
                    i = run_l[idx]
                    need_tok = s[i] + j[i] - comp[i]
                    if need_tok == 1 and j[i] >= 1:
                        nt = 1
                    else:
                        nt = need_tok if need_tok < chunk_cap else chunk_cap
                    run_tok += nt
                    run_need += _need_blocks(comp[i] + nt, held[i], bs)
                need_w = s[w] + j[w] - comp[w]
                if need_w == 1 and j[w] >= 1:
                    ntw = 1
                else:
                    ntw = need_w if need_w < chunk_cap else chunk_cap
                    if chunked != 0 and ntw > budget - run_tok:
                        ntw = budget - run_tok
                nbw = _need_blocks(comp[w] + ntw, held[w], bs)
                reclaim = pres_blocks
                if state[w] == ST_PRESERVED:
                    reclaim -= held[w]
                if mode == MODE_V0:
                    # mirror V0 admission: a prefill-only step, watermark for new prefills
                    wm = watermark
                    if state[w] == ST_PRESERVED or state[w] == ST_SWAPPED:
                        wm = 0
                        nbw = _need_blocks(comp[w], held[w], bs)
                    else:
                        ntw = need_w
                        nbw = _ceil_div(comp[w] + ntw, bs) - held[w]
                    fits = (n_run < max_batch and ntw <= budget
                            and (cap_blocks < 0 or nbw <= free - wm + reclaim))
                else:
                    fits = (n_run < max_batch and run_tok < budget and ntw >= 1
                            and run_tok + ntw <= budget
                            and (cap_blocks < 0 or nbw + run_need <= free + reclaim))
                if fits:
                    break
                # displace v
                (v, n_run, _, _, free, cpu_used, swap_out, npres, pres_blocks, preempt_seq,
                 ne, hn, fn, n_wait) = _preempt(
                    vpos, 0, K_PRIO_PREEMPT, pmode, False, True, t, n_run, 0, free, cpu_used,
                    cpu_cap, swap_out, npres, pres_blocks, preempt_seq, ne, hn, fn, n_wait,
                    starv, run_l, sched, npre, counters, state, comp, held, recomp, swaptok,
                    pres, eid, ek1, ek2, heap, fifo, cur_e, wait_since, policy, trail_c, j, s,
                    arr, pred0, skey, every, ref_off, ref_val, level, t_enter, prom, ptime)
                changed = True

        # --------------------------------------------------- running requests
        if static_mode:
            for idx in range(n_run):
                i = run_l[idx]
                sched[i] = s[i] + j[i] - comp[i]
        else:
            npass = 2 if mode == MODE_SARATHI else 1
            partial = 0
            stop = False
            if mode == MODE_V0:
                npass = 0  # V0 schedules running decodes after the prefill attempt
            for ps in range(npass):
                idx = 0
                while idx < n_run and not stop:
                    if budget_left <= 0:
                        stop = True
                        break
                    i = run_l[idx]
                    if sched[i] > 0:
                        idx += 1
                        continue
                    need_tok = s[i] + j[i] - comp[i]
                    is_dec = need_tok == 1 and j[i] >= 1
                    if mode == MODE_SARATHI:
                        if ps == 0 and not is_dec:
                            idx += 1
                            continue
                        if ps == 1 and partial >= max_partial:
                            break
                    if is_dec:
                        nt = 1
                    else:
                        nt = need_tok if need_tok < chunk_cap else chunk_cap
                        if nt > budget_left:
                            if chunked != 0:
                                nt = budget_left
                            else:
                                idx += 1
                                continue
                    nb = _need_blocks(comp[i] + nt, held[i], bs)
                    if nb > free:
                        mem_pre = True
                        changed = True
                        (ok, n_run, idx, budget_left, free, cpu_used, swap_out, npres,
                         pres_blocks, preempt_seq, ne, hn, fn, n_wait) = _make_room(
                            i, nb, idx, False, pm_mem, t, n_run, budget_left, free, cpu_used,
                            cpu_cap, swap_out, npres, pres_blocks, preempt_seq, ne, hn, fn,
                            n_wait, starv, run_l, sched, npre, counters, state, comp, held,
                            recomp, swaptok, pres, eid, ek1, ek2, heap, fifo, cur_e,
                            wait_since, policy, preemptive, trail_c, j, s, arr, pred0, skey,
                            every, ref_off, ref_val, level, t_enter, prom, ptime)
                        if not ok:
                            stop = True
                            break
                    free -= nb
                    held[i] += nb
                    sched[i] = nt
                    budget_left -= nt
                    if ps == 1:
                        partial += 1
                    idx += 1

        # ------------------------------------------------------- admission
        if not mem_pre:
            can_admit = True
            if static_mode and n_run > 0:
                can_admit = False
            nskip = 0
            force = n_run == 0
            v0_max_len = 0
            v0_count = 0
            while can_admit and n_run < max_batch and (budget_left > 0 or static_mode):
                hn = _clean_top(heap, hn, ek1, ek2, eid, cur_e)
                if hn == 0:
                    break
                e = heap[0]
                i = eid[e]
                st = state[i]
                need_tok = s[i] + j[i] - comp[i]
                is_dec = need_tok == 1 and j[i] >= 1
                fits = True
                if static_mode:
                    nt = need_tok
                    ntok = s[i] + o[i]
                elif is_dec:
                    nt = 1
                    ntok = comp[i] + nt
                else:
                    nt = need_tok if need_tok < chunk_cap else chunk_cap
                    if mode == MODE_V0:
                        nt = need_tok
                        ml = nt if nt > v0_max_len else v0_max_len
                        if (v0_count + 1) * ml > budget:
                            fits = False
                    elif nt > budget_left:
                        if chunked != 0:
                            nt = budget_left
                        else:
                            fits = False
                    ntok = comp[i] + nt
                if mode == MODE_V0 and is_dec:
                    ntok = comp[i]  # the decode step allocates the rest
                nb = _need_blocks(ntok, held[i], bs)
                wm = watermark
                if force or st == ST_PRESERVED or st == ST_SWAPPED:
                    wm = 0
                if fits and cap_blocks >= 0 and nb > free - wm:
                    # reclaim memory from preserved requests (worst first), not from i
                    while nb > free - wm:
                        q, k1, k2 = _worst(pres, npres, i, SK_NONE, policy, preemptive,
                                           -1, trail_c, npre, j, s, arr, pred0, skey, every,
                                           ref_off, ref_val, level, t_enter, prom, ptime)
                        if q < 0:
                            break
                        npres, pres_blocks, free = _discard_preserved(
                            q, npres, pres_blocks, free, pres, held, comp, recomp, state, counters)
                        changed = True
                    if nb > free - wm:
                        fits = False
                if fits and policy == P_MCSF and not force:
                    fits = _mcsf_ok(i, run_l, n_run, s, j, pred0, every, ref_off, ref_val,
                                    mcsf_cap)
                if fits:
                    hn = _heap_pop(heap, hn, ek1, ek2, eid)
                    cur_e[i] = -1
                    n_wait -= 1
                    if st == ST_PRESERVED:
                        q = _find(pres, npres, i)
                        npres = _remove_at(pres, npres, q)
                        pres_blocks -= held[i]
                    elif st == ST_SWAPPED:
                        swap_in += comp[i]
                        swaptok[i] += comp[i]
                        cpu_used -= comp[i]
                    state[i] = ST_RUN
                    run_l[n_run] = i
                    n_run += 1
                    free -= nb
                    held[i] += nb
                    if first_sched[i] != first_sched[i]:
                        first_sched[i] = t
                    n_adm += 1
                    changed = True
                    force = False
                    if mode == MODE_V0:
                        if not is_dec:
                            sched[i] = nt
                            v0_count += 1
                            if nt > v0_max_len:
                                v0_max_len = nt
                            prefill_step_v0 = True
                    else:
                        sched[i] = nt
                        if not static_mode:
                            budget_left -= nt
                else:
                    if hol != 0:
                        break
                    hn = _heap_pop(heap, hn, ek1, ek2, eid)
                    skipbuf[nskip] = e
                    nskip += 1
            for q in range(nskip):
                hn = _heap_push(heap, hn, skipbuf[q], ek1, ek2, eid)

        # ------------------------------------------ V0: decode-only step
        if mode == MODE_V0 and not prefill_step_v0:
            idx = 0
            while idx < n_run:
                i = run_l[idx]
                nt = s[i] + j[i] - comp[i]
                nb = _need_blocks(comp[i] + nt, held[i], bs)
                if nb > free:
                    mem_pre = True
                    changed = True
                    (ok, n_run, idx, budget_left, free, cpu_used, swap_out, npres, pres_blocks,
                     preempt_seq, ne, hn, fn, n_wait) = _make_room(
                        i, nb, idx, True, pm_mem, t, n_run, budget_left, free, cpu_used,
                        cpu_cap, swap_out, npres, pres_blocks, preempt_seq, ne, hn, fn, n_wait,
                        starv, run_l, sched, npre, counters, state, comp, held, recomp, swaptok,
                        pres, eid, ek1, ek2, heap, fifo, cur_e, wait_since, policy, preemptive,
                        trail_c, j, s, arr, pred0, skey, every, ref_off, ref_val, level,
                        t_enter, prom, ptime)
                    if not ok:
                        continue  # i was removed; run_l[idx] is now the next request
                free -= nb
                held[i] += nb
                sched[i] = nt
                idx += 1

        # ---------------------------------------------------- batch summary
        n_pre_tok = 0
        sumsq = 0.0
        n_dec = 0
        ctx0 = 0
        n_sched = 0
        all_sched = True
        used_tok = 0
        for idx in range(n_run):
            i = run_l[idx]
            nt = sched[i]
            used_tok += comp[i] + nt
            if nt == 0:
                all_sched = False
                continue
            n_sched += 1
            if nt == 1 and j[i] >= 1 and comp[i] == s[i] + j[i] - 1:
                n_dec += 1
                ctx0 += comp[i] + 1
            else:
                n_pre_tok += nt
                sumsq += float(nt) * float(nt)
        for q in range(npres):
            used_tok += comp[pres[q]]

        if n_sched == 0:
            if n_run > 0 or changed:
                # e.g. the first running request was its own allocation's victim: the
                # others run in the next step, at the same time
                continue
            # nothing can run: wait for the next arrival or promotion
            tn = np.inf
            if na < n:
                tn = arr[na]
            if next_promo < tn:
                tn = next_promo
            if tn == np.inf:
                counters[K_STATUS] = 1  # deadlock: should not happen for validated input
                break
            if tn > t:
                t = tn
            continue

        swap_time = 0.0
        if swap_blocking != 0:
            swap_time = float(swap_out + swap_in) * swap_rate

        # --------------------------------------------- length of the jump
        kmax = 1
        t_next = np.inf
        if (jump != 0 and not changed and n_adm == 0 and all_sched and n_pre_tok == 0
                and swap_out == 0 and swap_in == 0
                and not (policy == P_MCSF and n_wait > 0)):
            kmax = INF_I
            for idx in range(n_run):
                i = run_l[idx]
                r = o[i] - j[i]
                if r < kmax:
                    kmax = r
                if policy == P_MLFQ and level[i] < mlfq_nq - 1:
                    qt = mlfq_q1 << level[i]
                    r = qt - used_u[i]
                    if r < kmax:
                        kmax = r
                if n_wait > 0 and every > 0 and preemptive != 0:
                    r = (j[i] // every + 1) * every - j[i]
                    if r < kmax:
                        kmax = r
                if n_wait > 0 and policy == P_MEMTIME and preemptive != 0:
                    # the area key decreases only while the predicted remaining is >= 1
                    pr = _pred_rem(i, j[i], pred0, every, ref_off, ref_val)
                    r = 1
                    if pr >= 3.0:
                        r = int(pr) - 1
                    if r < kmax:
                        kmax = r
            if kmax < 1:
                kmax = 1
            if na < n:
                t_next = arr[na]
            if n_wait > 0 and next_promo < t_next:
                t_next = next_promo
            if kmax > 1 and not static_mode:
                for r in range(bs):
                    cnt_res[r] = 0
                for idx in range(n_run):
                    cnt_res[comp[run_l[idx]] % bs] += 1

        # ------------------------------------------------ advance time
        used_b = total_blocks - free
        tq = t
        t_first = t
        maxg = 0.0
        qd = 0
        for q in range(kmax):
            if q > 0:
                if tq >= t_next:
                    break
                if not static_mode:
                    nbq = cnt_res[(bs - q % bs) % bs]
                    if nbq > free:
                        break
                    free -= nbq
                    used_b += nbq
                used_tok += n_dec
            tau = iteration_time(cost_kind, cp, tab, n_pre_tok, sumsq, n_dec,
                                 ctx0 + q * n_dec) + swap_time
            if rec_kv != 0:
                if nkv >= len(kv_t):
                    cap_kv = 2 * len(kv_t)
                    kv_t = _grow_f(kv_t, cap_kv)
                    kv_b = _grow_i(kv_b, cap_kv)
                    kv_k = _grow_i(kv_k, cap_kv)
                    kv_n = _grow_i(kv_n, cap_kv)
                    kv_q = _grow_i(kv_q, cap_kv)
                kv_t[nkv] = tq
                kv_b[nkv] = used_b
                kv_k[nkv] = used_tok
                kv_n[nkv] = n_sched
                kv_q[nkv] = n_pre_tok + n_dec
                nkv += 1
            tprev = tq
            tq = tq + tau
            if q == 0:
                t_first = tq
            else:
                g = tq - tprev
                if g > maxg:
                    maxg = g
                if rec_tok != 0:
                    for idx in range(n_run):
                        i = run_l[idx]
                        tok_times[tok_off[i] + j[i] + q] = tq
            qd += 1
        counters[K_ITER] += qd

        # ---------------------------- post-iteration update (first iteration)
        t = t_first
        idx = 0
        while idx < n_run:
            i = run_l[idx]
            nt = sched[i]
            if nt > 0:
                comp[i] += nt
                sched[i] = 0
                if comp[i] == s[i] + j[i]:
                    j[i] += 1
                    if policy == P_MLFQ:
                        # quanta count generated tokens; the first costs its prefill units
                        used_u[i] += unit_first[i] if j[i] == 1 else 1
                    if rec_tok != 0:
                        tok_times[tok_off[i] + j[i] - 1] = t
                    if j[i] == 1:
                        first_tok[i] = t
                    else:
                        g = t - last_tok[i]
                        if g > maxgap[i]:
                            maxgap[i] = g
                    last_tok[i] = t
                    if j[i] >= o[i]:
                        area[i] += comp[i]
                        free, n_run, n_done = _finish(i, idx, t, free, n_run, n_done, finish,
                                                      held, state, run_l)
                        continue
            area[i] += comp[i]
            if policy == P_MLFQ and level[i] < mlfq_nq - 1 and used_u[i] >= (mlfq_q1 << level[i]):
                level[i] += 1
                used_u[i] = 0
                t_enter[i] = t
            idx += 1
        for q in range(npres):
            area[pres[q]] += comp[pres[q]]

        # ------------------------------------- bulk update of the jump
        m = qd - 1
        if m > 0:
            t = tq
            for idx in range(n_run):
                i = run_l[idx]
                area[i] += m * comp[i] + (m * (m + 1)) // 2
                j[i] += m
                comp[i] += m
                if not static_mode:
                    held[i] = _ceil_div(comp[i], bs)
                if maxg > maxgap[i]:
                    maxgap[i] = maxg
                last_tok[i] = t
                if policy == P_MLFQ:
                    used_u[i] += m
            for q in range(npres):
                area[pres[q]] += m * comp[pres[q]]
            idx = 0
            while idx < n_run:
                i = run_l[idx]
                if j[i] >= o[i]:
                    free, n_run, n_done = _finish(i, idx, t, free, n_run, n_done, finish, held,
                                                  state, run_l)
                    continue
                if (policy == P_MLFQ and level[i] < mlfq_nq - 1
                        and used_u[i] >= (mlfq_q1 << level[i])):
                    level[i] += 1
                    used_u[i] = 0
                    t_enter[i] = t
                idx += 1

    counters[K_NKV] = nkv
    return (first_tok, finish, npre, recomp, swaptok, maxgap, area, first_sched, tok_times,
            kv_t[:nkv], kv_b[:nkv], kv_k[:nkv], kv_n[:nkv], counters, t, kv_q[:nkv])
