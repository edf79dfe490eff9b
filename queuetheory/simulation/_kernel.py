r"""The event loop of the simulator, written once in numba-compatible Python.

:func:`run_kernel` advances a single-server queue whose jobs carry
piecewise-linear ranks (:class:`~queuetheory.policies.rank.PiecewiseRank`)
from event to event. It is plain Python: :mod:`queuetheory.simulation.simulator`
runs it as is (``engine="python"``) or compiled by ``numba.njit``
(``engine="numba"``). The helpers are decorated with numba's
``register_jitable``, which leaves them ordinary Python functions when called
from Python and compiles them into the kernel when the kernel is jitted, so
both engines execute the same statements and give bit-identical results.

Semantics (formulas.md §0.2, §4.1)
----------------------------------
* The job of minimum rank ``(level, value)`` (lexicographic) is served,
  preemptive-resume. Only jobs in service age, so waiting ranks are frozen.
* A segment with ``start == end`` is a point: it is the rank of a job waiting
  at that age; a job chosen for service moves past the point at once.
* Ties at equal rank are resolved by the right-derivative of the rank under
  service: a tied job whose rank would not rise when served (slope <= 0, a
  point, or level ``-inf``) is preferred, and among those the tie-break key
  ``seq * sign`` decides (``sign = +1``: earlier arrival first; ``-1``: later
  arrival first; the sign is given per segment). If every tied job's rank
  rises (slopes ``s_i > 0``), the tied jobs share the server at rates
  proportional to ``1/s_i``, so that their ranks rise together at rate
  ``1/sum(1/s_i)`` (for FB, plain processor sharing among the jobs of least
  age). This is the limit of the rank rule under arbitrarily fine time steps.
* Processor sharing (``ps`` flag) shares the server equally among all jobs.

Data layout
-----------
A *slot* holds one job in the system. ``pf[slot, :]`` holds the job's floats
(columns ``C_*``), ``pk[slot]`` its current segment, ``pn[slot]`` its number
of segments and ``seg[slot, k, :]`` its segments (columns ``S_*``). ``heap``
is a binary heap of waiting slots ordered by (level, value, class, tie key);
``grp[:gs]`` are the slots in service and ``grate[:gs]`` their service rates.
``ist``/``fst`` hold the integer/float scalar state between calls (indices
``I_*``/``F_*``); ``par`` the parameters (``P_*``). A call returns a status
(``NEED_CHUNK``: give the next chunk of arrivals; ``NEED_GROW``: enlarge the
slot arrays; ``DONE``: every measured job has completed; ``DRAINED``: no jobs
and no arrivals left; negative: error).
"""

from __future__ import annotations

import math

_HELPERS: list = []


def register_jitable(fn):
    """Mark ``fn`` as a helper compiled into the kernel by :func:`jitted_kernel`."""
    _HELPERS.append(fn)
    return fn


INF = math.inf

# status codes
NEED_CHUNK = 1
NEED_GROW = 2
DONE = 3
DRAINED = 4
ERR_SEGMENTS = -1

# per-slot float columns
C_X = 0  # size
C_ARR = 1  # arrival time
C_SEQ = 2  # global arrival index
C_AGE = 3  # service received
C_LEV = 4  # waiting rank: level
C_VAL = 5  # waiting rank: value
C_CLS = 6  # 0: rank does not rise when served; 1: it rises
C_TB = 7  # tie key seq * sign
N_PF = 8

# segment columns
S_START = 0
S_END = 1
S_LEVEL = 2
S_VALUE = 3
S_SLOPE = 4
S_SIGN = 5
N_SEG = 6

# integer state
I_IA = 0  # next arrival in the current chunk
I_FREE = 1  # number of free slots on the stack
I_HEAP = 2  # heap size
I_GS = 3  # number of jobs in service
I_N = 4  # number of jobs in the system
I_DONE = 5  # completed jobs with seq < n_total
I_MAXN = 6  # largest number in system seen
I_EVENTS = 7  # number of events processed
N_IST = 8

# float state
F_T = 0  # clock
F_W = 1  # work in system
F_GL = 2  # rank level of the jobs in service
F_GV = 3  # rank value of the jobs in service
F_TW = 4  # start of the measurement window (arrival of the first measured job)
F_TN = 5  # end of the window (arrival of job n_total)
F_INTN = 6  # integral of N(t) over the window
F_INTW = 7  # integral of W(t) over the window
F_BUSY = 8  # busy time in the window
N_FST = 9

# parameters
P_N = 0  # jobs with seq < P_N are counted
P_WARM = 1  # jobs with seq < P_WARM are warm-up
P_BSIZE = 2  # batch size (jobs)
P_NB = 3  # number of batches
P_PS = 4  # processor sharing
P_FINAL = 5  # the current chunk is the last one
P_REC = 6  # record completion times
P_NBK = 7  # number of size buckets
N_PAR = 8

EV_NONE = 0
EV_DONE = 1
EV_BOUND = 2
EV_CROSS = 3


@register_jitable
def _less(a, b, pf):
    """True if waiting slot ``a`` is served before waiting slot ``b``."""
    la = pf[a, C_LEV]
    lb = pf[b, C_LEV]
    if la != lb:
        return la < lb
    va = pf[a, C_VAL]
    vb = pf[b, C_VAL]
    if va != vb:
        return va < vb
    ca = pf[a, C_CLS]
    cb = pf[b, C_CLS]
    if ca != cb:
        return ca < cb
    return pf[a, C_TB] < pf[b, C_TB]


@register_jitable
def _push(heap, hn, s, pf):
    i = hn
    while i > 0:
        parent = (i - 1) >> 1
        p = heap[parent]
        if _less(s, p, pf):
            heap[i] = p
            i = parent
        else:
            break
    heap[i] = s
    return hn + 1


@register_jitable
def _pop(heap, hn, pf):
    top = heap[0]
    hn -= 1
    if hn > 0:
        last = heap[hn]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= hn:
                break
            if c + 1 < hn and _less(heap[c + 1], heap[c], pf):
                c += 1
            if _less(heap[c], last, pf):
                heap[i] = heap[c]
                i = c
            else:
                break
        heap[i] = last
    return top, hn


@register_jitable
def _set_rank(s, pf, pk, seg):
    """Waiting rank of slot ``s`` from its current segment and age."""
    k = pk[s]
    lev = seg[s, k, S_LEVEL]
    st = seg[s, k, S_START]
    if lev == -INF:
        v = 0.0
        c = 0.0
    elif st == seg[s, k, S_END]:
        v = seg[s, k, S_VALUE]
        c = 0.0
    else:
        sl = seg[s, k, S_SLOPE]
        v = seg[s, k, S_VALUE] + sl * (pf[s, C_AGE] - st)
        c = 1.0 if sl > 0.0 else 0.0
    pf[s, C_LEV] = lev
    pf[s, C_VAL] = v
    pf[s, C_CLS] = c
    pf[s, C_TB] = pf[s, C_SEQ] * seg[s, k, S_SIGN]


@register_jitable
def _park(s, gl, gv, pf, pk, seg):
    """Waiting rank of slot ``s`` leaving service at rank ``(gl, gv)``."""
    k = pk[s]
    pf[s, C_LEV] = gl
    if gl == -INF:
        pf[s, C_VAL] = 0.0
        pf[s, C_CLS] = 0.0
    else:
        pf[s, C_VAL] = gv
        pf[s, C_CLS] = 1.0 if seg[s, k, S_SLOPE] > 0.0 else 0.0
    pf[s, C_TB] = pf[s, C_SEQ] * seg[s, k, S_SIGN]


@register_jitable
def _take_ties(heap, hn, grp, gs, pf, gl, gv):
    """Move every waiting job tied at rank ``(gl, gv)`` into the served group ``grp[:gs]``.
    Returns the new (gs, hn)."""
    while hn > 0:
        top = heap[0]
        if pf[top, C_LEV] == gl and pf[top, C_VAL] == gv:
            m, hn = _pop(heap, hn, pf)
            grp[gs] = m
            gs += 1
        else:
            break
    return gs, hn


@register_jitable
def _select(heap, hn, grp, pf, pk, pn, seg):
    """Take the best waiting job(s) into service. Returns (gs, gl, gv, hn, ok)."""
    while hn > 0:
        s, hn = _pop(heap, hn, pf)
        k = pk[s]
        if seg[s, k, S_START] == seg[s, k, S_END]:
            # a point: the job moves past it as soon as it is chosen
            if k + 1 >= pn[s]:
                return 0, 0.0, 0.0, hn, False
            pk[s] = k + 1
            _set_rank(s, pf, pk, seg)
            hn = _push(heap, hn, s, pf)
            continue
        gl = pf[s, C_LEV]
        gv = pf[s, C_VAL]
        grp[0] = s
        gs = 1
        if pf[s, C_CLS] == 1.0:
            # rising rank: every tied waiting job (all of class 1) shares the server
            gs, hn = _take_ties(heap, hn, grp, gs, pf, gl, gv)
        return gs, gl, gv, hn, True
    return 0, 0.0, 0.0, hn, True


def run_kernel(ct, cx, edges, cseg, cnseg, seq0, pf, pk, pn, seg, free, heap, grp, grate,
               ist, fst, par, bstat, kstat, rec):
    """Process events until the chunk of arrivals is used up or the run ends.

    Parameters
    ----------
    ct, cx : float64 (nc,)
        Arrival times and sizes of the chunk's jobs.
    edges : float64 (ne,)
        Increasing size-bucket edges: bucket ``i`` holds sizes in
        ``[edges[i-1], edges[i])``.
    cseg : float64 (nc, mc, N_SEG)
        Their rank segments (columns ``S_*``); ``cnseg`` (int64) counts them.
    seq0 : int
        Global index of the chunk's first job.
    pf, pk, pn, seg, free, heap, grp, grate : slot arrays (see module doc).
    ist, fst, par : state and parameters (indices ``I_*``, ``F_*``, ``P_*``).
    bstat : float64 (nb, 5)
        Per batch (jobs in order of arrival): sum of response times, sum of
        slowdowns, count, sum of the work found in the system at arrival, sum
        of sizes (the last two are control variates with known means).
    kstat : float64 (nbk, 3)
        The same per size bucket.
    rec : float64
        Completion time by global index when recording (``par[P_REC]``).

    Returns
    -------
    int
        A status code.
    """
    ia = ist[I_IA]
    nfree = ist[I_FREE]
    hn = ist[I_HEAP]
    gs = ist[I_GS]
    N = ist[I_N]
    done = ist[I_DONE]
    maxn = ist[I_MAXN]
    events = ist[I_EVENTS]
    t = fst[F_T]
    W = fst[F_W]
    gl = fst[F_GL]
    gv = fst[F_GV]
    tw = fst[F_TW]
    tn = fst[F_TN]
    int_n = fst[F_INTN]
    int_w = fst[F_INTW]
    busy_t = fst[F_BUSY]
    n_total = par[P_N]
    warmup = par[P_WARM]
    bsize = par[P_BSIZE]
    nb = par[P_NB]
    ps = par[P_PS] != 0
    final = par[P_FINAL] != 0
    record = par[P_REC] != 0
    nc = ct.shape[0]
    ne = edges.shape[0]
    status = 0

    while True:
        # ------------------------------------------------ next internal event
        dt = INF
        ev = EV_NONE
        who = -1
        gr = 0.0  # rate at which the rank value of the jobs in service moves
        if gs == 1:
            s = grp[0]
            k = pk[s]
            grate[0] = 1.0
            age = pf[s, C_AGE]
            dt = pf[s, C_X] - age
            if dt < 0.0:
                dt = 0.0
            ev = EV_DONE
            who = 0
            db = seg[s, k, S_END] - age
            if db < dt:
                dt = db if db > 0.0 else 0.0
                ev = EV_BOUND
            if gl != -INF and not ps:
                gr = seg[s, k, S_SLOPE]
        elif gs > 1:
            if ps:
                r = 1.0 / gs
                for i in range(gs):
                    grate[i] = r
            else:
                inv = 0.0
                for i in range(gs):
                    s = grp[i]
                    inv += 1.0 / seg[s, pk[s], S_SLOPE]
                for i in range(gs):
                    s = grp[i]
                    grate[i] = (1.0 / seg[s, pk[s], S_SLOPE]) / inv
                gr = 1.0 / inv
            for i in range(gs):
                s = grp[i]
                r = grate[i]
                age = pf[s, C_AGE]
                dc = (pf[s, C_X] - age) / r
                if dc < 0.0:
                    dc = 0.0
                if dc < dt:
                    dt = dc
                    ev = EV_DONE
                    who = i
                db = (seg[s, pk[s], S_END] - age) / r
                if db < dt:
                    dt = db if db > 0.0 else 0.0
                    ev = EV_BOUND
                    who = i
        if gr > 0.0 and hn > 0:
            top = heap[0]
            if pf[top, C_LEV] == gl:
                tv = pf[top, C_VAL]
                if tv <= gv:
                    dx = 0.0
                else:
                    dx = (tv - gv) / gr
                if dx < dt:
                    dt = dx
                    ev = EV_CROSS

        # ------------------------------------------------------- next arrival
        if ia < nc:
            ta = ct[ia]
        elif final:
            ta = INF
        else:
            status = NEED_CHUNK
            break
        if ev == EV_NONE and ta == INF:
            status = DRAINED
            break
        arrival = ta < t + dt
        if arrival:
            if nfree == 0:
                status = NEED_GROW
                break
            tnew = ta
        else:
            tnew = t + dt
        dtt = tnew - t
        events += 1

        # ------------------------------------------------ advance the clock
        if dtt > 0.0:
            a = t if t > tw else tw
            b = tnew if tnew < tn else tn
            if b > a:
                ln = b - a
                int_n += N * ln
                if gs > 0:
                    int_w += (W - (a - t)) * ln - 0.5 * ln * ln
                    busy_t += ln
                else:
                    int_w += W * ln
            if gs > 0:
                W -= dtt
                for i in range(gs):
                    s = grp[i]
                    pf[s, C_AGE] += grate[i] * dtt
                if gr != 0.0:
                    gv += gr * dtt
        t = tnew

        if arrival:
            # ------------------------------------------------------ arrival
            nfree -= 1
            s = free[nfree]
            i = ia
            ia += 1
            m = cnseg[i]
            pn[s] = m
            for kk in range(m):
                for c in range(N_SEG):
                    seg[s, kk, c] = cseg[i, kk, c]
            x = cx[i]
            seq = seq0 + i
            pf[s, C_X] = x
            pf[s, C_ARR] = t
            pf[s, C_SEQ] = seq
            pf[s, C_AGE] = 0.0
            pk[s] = 0
            _set_rank(s, pf, pk, seg)
            N += 1
            if N > maxn:
                maxn = N
            if seq >= warmup and seq < n_total:
                # controls: work found at arrival (PASTA) and own size, per batch
                bi = (seq - warmup) // bsize
                if bi >= nb:
                    bi = nb - 1
                bstat[bi, 3] += W
                bstat[bi, 4] += x
            W += x
            if seq == warmup:
                tw = t
            if seq == n_total:
                tn = t
            if ps:
                grp[gs] = s
                gs += 1
                continue
            if gs == 0:
                hn = _push(heap, hn, s, pf)
                gs, gl, gv, hn, ok = _select(heap, hn, grp, pf, pk, pn, seg)
                if not ok:
                    status = ERR_SEGMENTS
                    break
                continue
            lev = pf[s, C_LEV]
            val = pf[s, C_VAL]
            preempt = False
            join = False
            if lev < gl:
                preempt = True
            elif lev == gl:
                if val < gv:
                    preempt = True
                elif val == gv:
                    g0 = grp[0]
                    if gs > 1 or (gl != -INF and seg[g0, pk[g0], S_SLOPE] > 0.0):
                        scls = 1.0
                    else:
                        scls = 0.0
                    c0 = pf[s, C_CLS]
                    if c0 < scls:
                        preempt = True
                    elif c0 == scls:
                        if c0 == 1.0:
                            join = True
                        elif pf[s, C_TB] < pf[g0, C_SEQ] * seg[g0, pk[g0], S_SIGN]:
                            preempt = True
            if preempt:
                for i in range(gs):
                    g = grp[i]
                    _park(g, gl, gv, pf, pk, seg)
                    hn = _push(heap, hn, g, pf)
                if seg[s, 0, S_START] == seg[s, 0, S_END]:
                    hn = _push(heap, hn, s, pf)
                    gs, gl, gv, hn, ok = _select(heap, hn, grp, pf, pk, pn, seg)
                    if not ok:
                        status = ERR_SEGMENTS
                        break
                else:
                    grp[0] = s
                    gs = 1
                    gl = lev
                    gv = val
            elif join:
                grp[gs] = s
                gs += 1
            else:
                hn = _push(heap, hn, s, pf)

        elif ev == EV_DONE:
            # --------------------------------------------------- completion
            s = grp[who]
            pf[s, C_AGE] = pf[s, C_X]
            seq = int(pf[s, C_SEQ])
            if seq < n_total:
                done += 1
                if record:
                    rec[seq] = t
                if seq >= warmup:
                    resp = t - pf[s, C_ARR]
                    sd = resp / pf[s, C_X]
                    bi = (seq - warmup) // bsize
                    if bi >= nb:
                        bi = nb - 1
                    bstat[bi, 0] += resp
                    bstat[bi, 1] += sd
                    bstat[bi, 2] += 1.0
                    kb = 0
                    xs = pf[s, C_X]
                    while kb < ne and xs >= edges[kb]:
                        kb += 1
                    kstat[kb, 0] += resp
                    kstat[kb, 1] += sd
                    kstat[kb, 2] += 1.0
            free[nfree] = s
            nfree += 1
            N -= 1
            if N == 0:
                W = 0.0
            gs -= 1
            grp[who] = grp[gs]
            if done == n_total:
                status = DONE
                break
            if gs == 0:
                gs, gl, gv, hn, ok = _select(heap, hn, grp, pf, pk, pn, seg)
                if not ok:
                    status = ERR_SEGMENTS
                    break

        elif ev == EV_BOUND:
            # ---------------------------------------------- segment boundary
            s = grp[who]
            k = pk[s]
            pf[s, C_AGE] = seg[s, k, S_END]
            for i in range(gs):
                g = grp[i]
                if g != s:
                    _park(g, gl, gv, pf, pk, seg)
                    hn = _push(heap, hn, g, pf)
            if k + 1 >= pn[s]:
                status = ERR_SEGMENTS
                break
            pk[s] = k + 1
            _set_rank(s, pf, pk, seg)
            hn = _push(heap, hn, s, pf)
            gs, gl, gv, hn, ok = _select(heap, hn, grp, pf, pk, pn, seg)
            if not ok:
                status = ERR_SEGMENTS
                break

        else:
            # ------------------------------- rising rank reaches a waiting rank
            top = heap[0]
            gv = pf[top, C_VAL]
            if pf[top, C_CLS] == 0.0:
                for i in range(gs):
                    g = grp[i]
                    _park(g, gl, gv, pf, pk, seg)
                    hn = _push(heap, hn, g, pf)
                gs, gl, gv, hn, ok = _select(heap, hn, grp, pf, pk, pn, seg)
                if not ok:
                    status = ERR_SEGMENTS
                    break
            else:
                gs, hn = _take_ties(heap, hn, grp, gs, pf, gl, gv)

    ist[I_IA] = ia
    ist[I_FREE] = nfree
    ist[I_HEAP] = hn
    ist[I_GS] = gs
    ist[I_N] = N
    ist[I_DONE] = done
    ist[I_MAXN] = maxn
    ist[I_EVENTS] = events
    fst[F_T] = t
    fst[F_W] = W
    fst[F_GL] = gl
    fst[F_GV] = gv
    fst[F_TW] = tw
    fst[F_TN] = tn
    fst[F_INTN] = int_n
    fst[F_INTW] = int_w
    fst[F_BUSY] = busy_t
    return status


# errors found by prepare_chunk
SEG_OK = 0
SEG_FIRST_START = 1
SEG_GAP = 2
SEG_INVALID = 3
SEG_PADDING = 4
SEG_SHORT = 5


def prepare_chunk(start, end, level, value, slope, sign, sign0, x, cseg, cnseg):
    """Check the rank segments of a chunk of jobs and pack them for :func:`run_kernel`.

    ``start`` ... ``slope`` are the (n, m) arrays of a PiecewiseRank; padding
    segments have ``start = inf`` and must come last. ``sign`` (n, m) holds the
    tie-break sign of each segment, or has no rows, in which case ``sign0``
    is used. Writes ``cseg`` (n, m, N_SEG) and ``cnseg`` (n,), with value and
    slope set to 0 on non-preemptible (level -inf) segments.

    Returns
    -------
    (code, j, k)
        ``SEG_OK`` or the first error found, at job ``j``, segment ``k``.
    """
    n = start.shape[0]
    m = start.shape[1]
    has_sign = sign.shape[0] > 0
    for j in range(n):
        cnt = 0
        reach = -INF
        prev = 0.0
        for k in range(m):
            st = start[j, k]
            if st == INF:
                break
            if k == 0:
                if st != 0.0:
                    return SEG_FIRST_START, j, k
            elif st != prev:
                return SEG_GAP, j, k
            en = end[j, k]
            lv = level[j, k]
            va = value[j, k]
            sl = slope[j, k]
            if not (en >= st) or lv != lv or va != va or not (abs(sl) < INF):
                return SEG_INVALID, j, k
            if en > st and en > reach:
                reach = en
            cseg[j, k, S_START] = st
            cseg[j, k, S_END] = en
            cseg[j, k, S_LEVEL] = lv
            if lv == -INF:
                cseg[j, k, S_VALUE] = 0.0
                cseg[j, k, S_SLOPE] = 0.0
            else:
                cseg[j, k, S_VALUE] = va
                cseg[j, k, S_SLOPE] = sl
            cseg[j, k, S_SIGN] = sign[j, k] if has_sign else sign0
            prev = en
            cnt += 1
        for k in range(cnt, m):
            if start[j, k] != INF:
                return SEG_PADDING, j, k
        if cnt == 0 or reach < x[j]:
            return SEG_SHORT, j, 0
        cnseg[j] = cnt
    return SEG_OK, 0, 0


_JITTED = None


def jitted_kernel():
    """(:func:`run_kernel`, :func:`prepare_chunk`) compiled by numba (cached on disk).

    Raises ImportError without numba.
    """
    global _JITTED
    if _JITTED is None:
        import numba
        from numba.extending import register_jitable as _register

        for fn in _HELPERS:
            _register(fn)
        _JITTED = (numba.njit(cache=True, nogil=True)(run_kernel),
                   numba.njit(cache=True, nogil=True)(prepare_chunk))
    return _JITTED
