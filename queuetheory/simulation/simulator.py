r"""Event-driven M/G/1 simulation of any rank-based policy.

:func:`simulate` runs the policy object itself: the jobs' descriptors come
from :meth:`Policy.descriptor` and their ranks from
:meth:`Policy.rank_segments` (:class:`~queuetheory.policies.rank.PiecewiseRank`),
so the simulation checks exactly what the analysis (closed forms or the SOAP
engine) computes. Semantics (formulas.md §0.2, §4.1):

* the job of least rank ``(level, value)`` is served, preemptive-resume; only
  the job in service ages, so waiting ranks are frozen;
* the job in service keeps the server until it completes, reaches a segment
  boundary, an arrival has a lower rank, or its rising rank reaches the best
  waiting rank;
* a point segment (``start == end``) is the rank of a job *waiting* at that
  age; a job chosen for service moves past it at once (non-preemptive SJF:
  rank ``(0, x)`` at age 0, ``-inf`` afterwards);
* ties at equal rank: a tied job whose rank would not rise under service
  (slope <= 0, a point, or level ``-inf``) is preferred, and among those the
  earlier arrival wins (``policy.tie_break == "fcfs"``) or the later
  (``"lcfs"``, LCFS preemptive-resume). If the ranks of all tied jobs rise
  (slopes ``s_i > 0``), they share the server at rates proportional to
  ``1/s_i`` so that their ranks stay equal: this is exact FB/LAS (rank = age)
  and the limit of the rank rule under vanishing time steps;
* **per-level tie-breaking**: a policy may define a method
  ``tie_break_for_level(level) -> "fcfs" | "lcfs"``; it is called once per
  distinct rank level and overrides ``policy.tie_break`` for jobs waiting at
  that level (one-bit advice with shorts LCFS-PR at level 1 and longs FCFS at
  level 2, formulas.md §5.1);
* processor sharing (``policy.processor_sharing``) shares the server equally;
* a policy whose rank depends on the workload's laws may define
  ``for_workload(workload)``, returning a bound copy that :func:`simulate` runs
  (SERPT, Gittins).

Common random numbers: the root ``SeedSequence(seed)`` spawns three
independent streams, for inter-arrival gaps, sizes and predictions, drawn in
chunks of fixed size, so every policy simulated with the same seed sees the
same arrival times, sizes and predictions.

Estimation: the first ``warmup`` jobs are discarded; the next ones are split,
in order of arrival, into ``batches`` consecutive batches of equal size; the
interval is the Student-t interval of the batch means (non-overlapping batch
means; Law & Kelton, *Simulation Modeling and Analysis*, §9.5.3). With
``replications=R`` it is instead the t interval of ``R`` independent runs
(each with its own warm-up). When E[S²] < ∞ and ρ < 1, the reported
``mean_response_time`` and ``confidence_interval`` are a control-variate
estimate (the plain ones are ``sample_mean_response_time`` and
``sample_interval``): the batch means are regressed on the batch means of the
work found in the system at arrival, whose expectation is λE[S²]/(2(1−ρ)) for
every work-conserving policy (PASTA), and of the job sizes (expectation E[S]);
the interval is the Lavenberg–Welch t interval with ``batches − 3`` degrees of
freedom (Lavenberg & Welch, Management Science 27, 1981). It is typically 2–8
times narrower; for FCFS, where T = (work found) + (own size) on every sample
path, it is exact up to rounding. Arrivals continue after the last counted job
until every counted job has left, so the last jobs see a steady-state future.

The event loop (:mod:`queuetheory.simulation._kernel`) is compiled with numba
when it is installed (the ``fast`` extra) and runs as plain Python otherwise;
both give bit-identical results.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import (
    ParameterError,
    QueueTheoryError,
    RankFunctionError,
    check_positive_integer,
)
from ..policies.base import Policy
from ..workload import Workload
from . import _kernel as K
from .results import JobRecords, SimulationResult, SizeBuckets, UnstableSimulationWarning

__all__ = ["simulate", "simulate_trace", "DEFAULT_CHUNK", "numba_available"]

#: Jobs generated per chunk (fixed, so that the random streams do not depend on the policy).
DEFAULT_CHUNK = 1 << 16
_DEFAULT_BATCHES = 32
_PROGRESS_MIN_JOBS = 2_000_000
_ENGINES = ("auto", "numba", "python")

def numba_available() -> bool:
    """True if numba can be imported (the compiled engine is available)."""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


def _kernel_for(engine: str):
    """(run_kernel, prepare_chunk) for the engine."""
    return (K.run_kernel, K.prepare_chunk) if engine == "python" else K.jitted_kernel()


def _resolve_engine(engine: str) -> str:
    if engine not in _ENGINES:
        raise ParameterError(f"engine must be one of {_ENGINES} (got {engine!r})")
    if engine == "auto":
        return "numba" if numba_available() else "python"
    if engine == "numba" and not numba_available():
        raise ParameterError("engine='numba' needs numba (pip install 'queuetheory[fast]')")
    return engine


# ------------------------------------------------------------------ ranks of a chunk
class _RankBuilder:
    """Turns sizes and predictions into the kernel's segment arrays, with checks."""

    def __init__(self, policy: Policy, prepare):
        self.policy = policy
        self.prepare = prepare
        self.ps = bool(getattr(policy, "processor_sharing", False))
        hook = getattr(policy, "tie_break_for_level", None)
        self.hook = hook if callable(hook) else None
        self.default_sign = self._sign(getattr(policy, "tie_break", "fcfs"), "tie_break")
        self._level_signs: dict[float, float] = {}

    def _sign(self, rule: Any, what: str) -> float:
        if rule == "fcfs":
            return 1.0
        if rule == "lcfs":
            return -1.0
        raise RankFunctionError(
            f"{self.policy.name}: {what} must be 'fcfs' or 'lcfs' (got {rule!r})")

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = x.size
        if self.ps:
            seg = np.zeros((n, 1, K.N_SEG))
            seg[:, 0, K.S_END] = np.inf
            seg[:, 0, K.S_SIGN] = 1.0
            return seg, np.ones(n, dtype=np.int64)
        name = self.policy.name
        try:
            d = np.asarray(self.policy.descriptor(x, y))
            # jobs with equal descriptors have equal ranks: compute them once when all are equal
            # (policies that know nothing: FCFS, FB, SERPT, Gittins, ...)
            same = d.ndim >= 1 and d.shape[0] == n and n > 1 and bool(np.all(d == d[:1]))
            r = self.policy.rank_segments(d[:1] if same else d)
        except RankFunctionError:
            raise
        except Exception as exc:
            raise RankFunctionError(
                f"the rank function of {name} failed: {type(exc).__name__}: {exc}") from exc
        try:
            arrays = [np.asarray(a, dtype=float) for a in (r.start, r.end, r.level, r.value,
                                                           r.slope)]
        except Exception as exc:
            raise RankFunctionError(
                f"{name}.rank_segments must return a PiecewiseRank (got {type(r).__name__})"
            ) from exc
        if arrays[0].ndim == 1:
            arrays = [a[:, None] for a in arrays]
        if same and arrays[0].ndim == 2 and arrays[0].shape[0] == 1:
            arrays = [np.broadcast_to(a, (n, a.shape[1])) for a in arrays]
        shape = arrays[0].shape
        if len(shape) != 2 or shape[0] != n or shape[1] == 0 or any(a.shape != shape
                                                                   for a in arrays):
            raise RankFunctionError(
                f"{name}.rank_segments returned arrays of shapes {[a.shape for a in arrays]} "
                f"for {n} jobs; expected ({n}, m) each with m >= 1")
        arrays = [np.ascontiguousarray(a) for a in arrays]
        start, end, level, value, slope = arrays
        if self.hook is None:
            sign = np.zeros((0, 0))
        else:
            sign = np.full(shape, self.default_sign)
            for lev in np.unique(level[start < np.inf]):
                key = float(lev)
                if key not in self._level_signs:
                    try:
                        rule = self.hook(key)
                    except Exception as exc:
                        raise RankFunctionError(
                            f"{name}.tie_break_for_level({key!r}) failed: {exc}") from exc
                    self._level_signs[key] = self._sign(rule, f"tie_break_for_level({key!r})")
                sign[level == lev] = self._level_signs[key]
        seg = np.empty(shape + (K.N_SEG,))
        nseg = np.empty(n, dtype=np.int64)
        code, j, k = self.prepare(start, end, level, value, slope, sign, self.default_sign,
                                  np.ascontiguousarray(x, dtype=float), seg, nseg)
        if code != K.SEG_OK:
            self._raise(code, int(j), int(k), arrays, x, y)
        return seg, nseg

    def _raise(self, code: int, j: int, k: int, arrays: list[np.ndarray], x: np.ndarray,
               y: np.ndarray) -> None:
        name = self.policy.name
        start, end, level, value, slope = (a[j] for a in arrays)
        job = f"the job of size {x[j]!r} and prediction {y[j]!r}"
        if code == K.SEG_FIRST_START:
            msg = f"the first rank segment must start at age 0 ({job} starts at {start[0]!r})"
        elif code == K.SEG_GAP:
            msg = (f"rank segments must be contiguous (segment {k - 1} of {job} ends at "
                   f"{end[k - 1]!r} but the next starts at {start[k]!r})")
        elif code == K.SEG_INVALID:
            msg = (f"invalid rank segment {k} of {job}: (start, end, level, value, slope) = "
                   f"{(start[k], end[k], level[k], value[k], slope[k])!r} (need start <= end, "
                   f"no NaN, finite slope)")
        elif code == K.SEG_PADDING:
            msg = f"padding segments (start = inf) must come last ({job})"
        else:
            reach = max([e for s_, e in zip(start, end) if e > s_], default=-np.inf)
            msg = f"the rank of {job} is defined only up to age {reach!r}"
        raise RankFunctionError(f"{name}: {msg}")


# ------------------------------------------------------------------ sources of arrivals
def _workload_chunks(workload: Workload, seq: np.random.SeedSequence,
                     chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    g_gap, g_size, g_pred = (np.random.Generator(np.random.PCG64(s)) for s in _children(seq, 3))
    rate = float(workload.arrival_rate)
    t0 = 0.0
    while True:
        gaps = g_gap.exponential(1.0 / rate, chunk)
        x = np.asarray(workload.size.sample(g_size, chunk), dtype=float)
        y = np.asarray(workload.prediction.sample(g_pred, x), dtype=float)
        if x.shape != (chunk,) or not np.all(np.isfinite(x) & (x > 0)):
            raise ParameterError(
                f"the size distribution {workload.size!r} sampled a size that is not finite "
                f"and > 0")
        if y.shape != (chunk,) or np.any(np.isnan(y)):
            raise ParameterError(
                f"the prediction model {workload.prediction!r} sampled NaN predictions")
        t = t0 + np.cumsum(gaps)
        t0 = float(t[-1])
        yield t, x, y


def _trace_chunks(t: np.ndarray, x: np.ndarray, y: np.ndarray,
                  chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    for i in range(0, t.size, chunk):
        yield t[i:i + chunk], x[i:i + chunk], y[i:i + chunk]


def _children(seq: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children of ``seq`` (as ``spawn`` gives them, without mutating it)."""
    return [np.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + (i,),
                                   pool_size=seq.pool_size) for i in range(n)]


def _root_seed(seed: Any) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
                        and seed >= 0):
        return np.random.SeedSequence(None if seed is None else int(seed))
    raise ParameterError(
        f"seed must be a non-negative integer, a numpy SeedSequence or None (got {seed!r})")


# ------------------------------------------------------------------ one run
@dataclass
class _Raw:
    bstat: np.ndarray
    kstat: np.ndarray
    int_n: float
    int_w: float
    busy: float
    window: float
    arrivals: int
    max_n: int
    records: JobRecords | None


class _State:
    """Slot arrays and scalar state of the kernel, grown on demand."""

    def __init__(self, capacity: int, width: int):
        self.pf = np.zeros((capacity, K.N_PF))
        self.pk = np.zeros(capacity, dtype=np.int64)
        self.pn = np.zeros(capacity, dtype=np.int64)
        self.seg = np.zeros((capacity, width, K.N_SEG))
        self.free = np.arange(capacity - 1, -1, -1, dtype=np.int64)
        self.heap = np.zeros(capacity, dtype=np.int64)
        self.grp = np.zeros(capacity, dtype=np.int64)
        self.grate = np.zeros(capacity)
        self.ist = np.zeros(K.N_IST, dtype=np.int64)
        self.ist[K.I_FREE] = capacity
        self.fst = np.zeros(K.N_FST)
        self.fst[K.F_TW] = math.inf
        self.fst[K.F_TN] = math.inf

    @property
    def capacity(self) -> int:
        return self.pk.size

    def widen(self, width: int) -> None:
        if width > self.seg.shape[1]:
            seg = np.zeros((self.capacity, width, K.N_SEG))
            seg[:, :self.seg.shape[1]] = self.seg
            self.seg = seg

    def grow(self) -> None:
        old = self.capacity
        new = 2 * old
        nfree = int(self.ist[K.I_FREE])

        def ext(a: np.ndarray) -> np.ndarray:
            b = np.zeros((new,) + a.shape[1:], dtype=a.dtype)
            b[:old] = a
            return b

        self.pf, self.pk, self.pn, self.seg = (ext(a) for a in (self.pf, self.pk, self.pn,
                                                                 self.seg))
        self.heap, self.grp, self.grate = (ext(a) for a in (self.heap, self.grp, self.grate))
        free = np.zeros(new, dtype=np.int64)
        free[:nfree] = self.free[:nfree]
        free[nfree:nfree + new - old] = np.arange(new - 1, old - 1, -1)
        self.free = free
        self.ist[K.I_FREE] = nfree + new - old


def _run_once(policy: Policy, chunks: Iterator, *, n_total: int, warmup: int, batches: int,
              edges: np.ndarray, extra: int, records: bool, kernel, progress: Any) -> _Raw:
    kernel, prepare = kernel
    builder = _RankBuilder(policy, prepare)
    n_meas = n_total - warmup
    bsize = n_meas // batches
    nbk = edges.size + 1
    bstat = np.zeros((batches, 5))
    kstat = np.zeros((nbk, 3))
    par = np.zeros(K.N_PAR, dtype=np.int64)
    par[K.P_N] = n_total
    par[K.P_WARM] = warmup
    par[K.P_BSIZE] = bsize
    par[K.P_NB] = batches
    par[K.P_PS] = int(builder.ps)
    par[K.P_REC] = int(records)
    par[K.P_NBK] = nbk
    rec = np.full(n_total if records else 1, np.nan)
    if records:
        r_t, r_x, r_y = (np.empty(n_total) for _ in range(3))
    cap_arrivals = n_total + extra
    st = _State(256, 1)
    seq0 = 0
    empty_f = np.zeros(0)
    ct, cx, cseg, cnseg = empty_f, empty_f, np.zeros((0, 1, K.N_SEG)), np.zeros(0, np.int64)
    edges = np.ascontiguousarray(edges, dtype=float)
    status = K.NEED_CHUNK
    while True:
        if status == K.NEED_CHUNK:
            seq0 += ct.size
            try:
                t, x, y = next(chunks) if seq0 < cap_arrivals else (empty_f, empty_f, empty_f)
            except StopIteration:
                t, x, y = empty_f, empty_f, empty_f
            if seq0 + t.size >= cap_arrivals:
                t, x, y = t[:cap_arrivals - seq0], x[:cap_arrivals - seq0], y[:cap_arrivals - seq0]
                par[K.P_FINAL] = 1
            if t.size == 0:
                par[K.P_FINAL] = 1
            if records and seq0 < n_total:
                k = min(t.size, n_total - seq0)
                r_t[seq0:seq0 + k], r_x[seq0:seq0 + k], r_y[seq0:seq0 + k] = t[:k], x[:k], y[:k]
            cseg, cnseg = builder(x, y) if t.size else (np.zeros((0, 1, K.N_SEG)), cnseg[:0])
            st.widen(cseg.shape[1])
            ct = np.ascontiguousarray(t, dtype=float)
            cx = np.ascontiguousarray(x, dtype=float)
            st.ist[K.I_IA] = 0
            if progress is not None:
                progress.update(min(t.size, max(0, n_total - seq0)))
        elif status == K.NEED_GROW:
            st.grow()
        status = kernel(ct, cx, edges, cseg, cnseg, seq0, st.pf, st.pk, st.pn, st.seg, st.free,
                        st.heap, st.grp, st.grate, st.ist, st.fst, par, bstat, kstat, rec)
        if status in (K.DONE, K.DRAINED):
            break
        if status < 0:
            raise RankFunctionError(
                f"{policy.name}: a job reached an age not covered by its rank segments")
    tw, tn, t_end = st.fst[K.F_TW], st.fst[K.F_TN], st.fst[K.F_T]
    window = (tn if math.isfinite(tn) else t_end) - tw
    recs = None
    if records:
        recs = JobRecords(arrival=r_t, size=r_x, prediction=r_y, completion=rec, warmup=warmup)
    return _Raw(bstat=bstat, kstat=kstat, int_n=float(st.fst[K.F_INTN]),
                int_w=float(st.fst[K.F_INTW]), busy=float(st.fst[K.F_BUSY]),
                window=float(window), arrivals=int(seq0 + st.ist[K.I_IA]),
                max_n=int(st.ist[K.I_MAXN]), records=recs)


# ------------------------------------------------------------------ statistics
def _t_interval(means: np.ndarray, center: float, level: float) -> tuple[float, float]:
    from scipy import stats

    b = means.size
    if b < 2:
        return (-math.inf, math.inf)
    sd = float(np.std(means, ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, b - 1)) * sd / math.sqrt(b)
    return (center - half, center + half)


#: Relative floor of the control-variate half-width: when the controls explain the response
#: times exactly (FCFS: T = work found at arrival + own size), the residual variance is pure
#: floating-point rounding.
_CV_FLOOR = 1e-9


def _controlled(y: np.ndarray, c: np.ndarray, mu: np.ndarray,
                level: float) -> tuple[float, tuple[float, float]] | None:
    """Control-variate estimate of E[y] and its t interval (Lavenberg & Welch 1981).

    ``y`` (B,) are batch means, ``c`` (B, q) the batch means of controls with
    known expectations ``mu``. The estimate is the intercept of the least-squares
    fit of ``y`` on ``c - mu``; its variance is the residual variance (B - q - 1
    degrees of freedom) times the (0, 0) entry of (XᵀX)⁻¹.
    """
    from scipy import stats

    b, q = c.shape
    if b < q + 3:
        return None
    x = np.column_stack([np.ones(b), c - mu])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    dof = b - q - 1
    s2 = float(resid @ resid) / dof
    try:
        v00 = float(np.linalg.inv(x.T @ x)[0, 0])
    except np.linalg.LinAlgError:
        return None
    if not (math.isfinite(v00) and v00 > 0):
        return None
    est = float(coef[0])
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * math.sqrt(s2 * v00)
    half = max(half, _CV_FLOOR * abs(est))
    return est, (est - half, est + half)


def _bucket_summary(edges: np.ndarray, kstat: np.ndarray) -> SizeBuckets:
    cnt = kstat[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        mt = np.where(cnt > 0, kstat[:, 0] / np.where(cnt > 0, cnt, 1), np.nan)
        ms = np.where(cnt > 0, kstat[:, 1] / np.where(cnt > 0, cnt, 1), np.nan)
    return SizeBuckets(edges=edges.copy(), count=cnt.astype(np.int64), mean_response_time=mt,
                       mean_slowdown=ms)


# ------------------------------------------------------------------ public API
def _check_level(level: Any) -> float:
    try:
        lv = float(level)
    except (TypeError, ValueError):
        raise ParameterError(f"level must be a probability in (0, 1) (got {level!r})") from None
    if not 0.0 < lv < 1.0:
        raise ParameterError(f"level must lie in (0, 1) (got {level!r})")
    return lv


def _check_policy(policy: Any) -> Policy:
    if not isinstance(policy, Policy):
        raise ParameterError(f"policy must be a queuetheory Policy (got {type(policy).__name__})")
    return policy


def _progress_bar(progress: Any, total: int, desc: str):
    if progress is None:
        progress = total >= _PROGRESS_MIN_JOBS and sys.stderr.isatty()
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, desc=desc, unit="job", unit_scale=True, leave=False)


def simulate(policy: Policy, workload: Workload | None = None, *, jobs: int | None = None,
             seed: Any = None, warmup: int | None = None, level: float = 0.95,
             batches: int = _DEFAULT_BATCHES, replications: int | None = None,
             size_buckets: Any = None, records: bool = False, engine: str = "auto",
             progress: bool | None = None, trace: Any = None,
             chunk_size: int = DEFAULT_CHUNK) -> SimulationResult:
    r"""Simulate an M/G/1 queue under ``policy`` and estimate its mean response time.

    Parameters
    ----------
    policy : Policy
        Any rank-based policy (``descriptor`` + ``rank_segments``), or processor
        sharing. See the module documentation for the exact semantics.
    workload : Workload
        Poisson arrivals, size law and prediction model. ρ >= 1 is allowed but
        raises :class:`UnstableSimulationWarning` and gives ``stable=False``.
    jobs : int
        Number of arrivals counted, warm-up included (default 10^6).
    seed : int, SeedSequence or None
        Root of the random streams; the same seed gives the same numbers, and
        the same arrivals, sizes and predictions for every policy.
    warmup : int, optional
        Jobs discarded at the start (default ``jobs // 10``; 0 for traces).
    level : float
        Confidence level of the intervals (default 0.95).
    batches : int
        Number of batch means (default 32), at least 2.
    replications : int, optional
        Use this many independent replications of ``jobs`` arrivals each instead
        of batch means.
    size_buckets : array_like, optional
        Increasing bucket edges for the per-size means (default: the deciles of
        the size law).
    records : bool
        Keep per-job records (arrival, size, prediction, completion) of the
        counted jobs, as numpy arrays.
    engine : {"auto", "numba", "python"}
        The compiled or the pure-Python event loop (same results).
    progress : bool, optional
        Show a tqdm progress bar. Default: only for runs of at least 2·10^6 jobs
        on an interactive terminal.
    trace : tuple, optional
        ``(arrival_times, sizes)`` or ``(arrival_times, sizes, predictions)``:
        simulate these jobs instead of sampling ``workload`` (see
        :func:`simulate_trace`).
    chunk_size : int
        Jobs generated per chunk. Results depend on it (the size and prediction
        samplers may consume their streams per chunk); keep the default to
        compare runs.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.5, size=qt.Exponential(mean=1.0))
    >>> r = qt.simulate(qt.SRPT(), w, jobs=100_000, seed=1)
    >>> low, high = r.confidence_interval
    >>> bool(low < qt.SRPT().mean_response_time(w) < high), r.estimator
    (True, 'control variates')
    >>> r.jobs, r.warmup, r.stable
    (90000, 10000, True)
    """
    policy = _check_policy(policy)
    if trace is not None:
        if workload is not None:
            raise ParameterError("give either a workload or a trace, not both")
        if isinstance(trace, dict):
            arrivals, sizes, preds = (trace.get("arrivals"), trace.get("sizes"),
                                      trace.get("predictions"))
        else:
            trace = tuple(trace)
            if len(trace) not in (2, 3):
                raise ParameterError(
                    "trace must be (arrival_times, sizes) or (arrival_times, sizes, predictions)")
            arrivals, sizes = trace[0], trace[1]
            preds = trace[2] if len(trace) == 3 else None
        if jobs is not None or replications is not None:
            raise ParameterError("jobs and replications do not apply to a trace")
        return simulate_trace(policy, arrivals, sizes, preds, warmup=warmup or 0, level=level,
                              batches=batches, size_buckets=size_buckets, records=records,
                              engine=engine, progress=progress, chunk_size=chunk_size)
    if not isinstance(workload, Workload):
        raise ParameterError(f"workload must be a queuetheory.Workload "
                             f"(got {type(workload).__name__})")
    jobs = 1_000_000 if jobs is None else check_positive_integer("jobs", jobs)
    warmup = jobs // 10 if warmup is None else _check_warmup(warmup, jobs)
    level = _check_level(level)
    chunk_size = check_positive_integer("chunk_size", chunk_size)
    eng = _resolve_engine(engine)
    rate = workload._numeric_rate()
    rho = rate * workload.mean_size
    stable = bool(rho < 1)
    warns: list[str] = []
    if not stable:
        msg = (f"the load rho = {rho:g} >= 1: the queue has no steady state; the simulated "
               f"means describe this finite run only")
        warnings.warn(msg, UnstableSimulationWarning, stacklevel=2)
        warns.append(msg)
    edges = _edges(size_buckets, lambda q: workload.size.ppf(q))
    policy = _bind(policy, workload)
    root = _root_seed(seed)
    controls = None
    if stable:
        m2 = float(workload.size.moment(2))
        if math.isfinite(m2):
            controls = np.array([rate * m2 / (2.0 * (1.0 - rho)), workload.mean_size])
    extra = jobs if stable else 0
    kernel = _kernel_for(eng)
    t0 = time.perf_counter()
    if replications is None:
        batches = _check_batches(batches, jobs - warmup)
        bar = _progress_bar(progress, jobs, policy.name)
        try:
            raw = _run_once(policy, _workload_chunks(workload, root, chunk_size), n_total=jobs,
                            warmup=warmup, batches=batches, edges=edges, extra=extra,
                            records=records, kernel=kernel, progress=bar)
        finally:
            if bar is not None:
                bar.close()
        elapsed = time.perf_counter() - t0
        return _summarize(policy, repr(workload), [raw], warmup, root, level, "batch means",
                          edges, stable, warns, eng, elapsed, controls)
    reps = check_positive_integer("replications", replications)
    if reps < 2:
        raise ParameterError(f"replications must be >= 2 (got {reps})")
    if records:
        raise ParameterError("records=True is not available with replications")
    bar = _progress_bar(progress, jobs * reps, policy.name)
    raws = []
    try:
        for child in _children(np.random.SeedSequence(root.entropy, spawn_key=tuple(
                root.spawn_key) + (1 << 20,), pool_size=root.pool_size), reps):
            raws.append(_run_once(policy, _workload_chunks(workload, child, chunk_size),
                                  n_total=jobs, warmup=warmup, batches=1, edges=edges,
                                  extra=extra, records=False, kernel=kernel, progress=bar))
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - t0
    return _summarize(policy, repr(workload), raws, warmup, root, level, "replications", edges,
                      stable, warns, eng, elapsed, controls)


def simulate_trace(policy: Policy, arrivals: Any, sizes: Any, predictions: Any = None, *,
                   warmup: int = 0, level: float = 0.95, batches: int = _DEFAULT_BATCHES,
                   size_buckets: Any = None, records: bool = False, engine: str = "auto",
                   progress: bool | None = None,
                   chunk_size: int = DEFAULT_CHUNK) -> SimulationResult:
    """Simulate ``policy`` on given jobs: arrival times, sizes and optional predictions.

    ``arrivals`` must be non-decreasing and finite, ``sizes`` finite and > 0,
    ``predictions`` (default: the sizes, i.e. perfect predictions) not NaN.
    Every job is counted except the first ``warmup``; the queue is drained
    after the last arrival. The batch-means interval (``batches`` batches, at
    most the number of counted jobs) assumes the trace is long and stationary.

    >>> import queuetheory as qt
    >>> from queuetheory.policies.rank import PiecewiseRank
    >>> class SRPT(qt.Policy):
    ...     name, uses = "SRPT", "size"
    ...     def _rank_segments(self, d):
    ...         return PiecewiseRank.linear(d, slope=-1.0)
    >>> r = qt.simulate_trace(SRPT(), [0.0, 1.0, 2.0], [3.0, 1.0, 1.0], batches=2,
    ...                       records=True)
    >>> r.records.completion.tolist()
    [5.0, 2.0, 3.0]
    """
    policy = _check_policy(policy)
    t = np.array(arrivals, dtype=float).ravel()
    x = np.array(sizes, dtype=float).ravel()
    y = x.copy() if predictions is None else np.array(predictions, dtype=float).ravel()
    n = t.size
    if n == 0 or x.size != n or y.size != n:
        raise ParameterError(
            f"arrivals, sizes and predictions must be non-empty and of equal length "
            f"(got {t.size}, {x.size}, {y.size})")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
        raise ParameterError("arrivals must be finite and non-decreasing")
    if not np.all(np.isfinite(x) & (x > 0)):
        raise ParameterError("sizes must be finite and > 0")
    if np.any(np.isnan(y)):
        raise ParameterError("predictions must not be NaN")
    warmup = _check_warmup(warmup, n)
    level = _check_level(level)
    chunk_size = check_positive_integer("chunk_size", chunk_size)
    batches = _check_batches(batches, n - warmup)
    eng = _resolve_engine(engine)
    edges = _edges(size_buckets, lambda q: np.quantile(x, q))
    kernel = _kernel_for(eng)
    t0 = time.perf_counter()
    bar = _progress_bar(progress, n, policy.name)
    try:
        raw = _run_once(policy, _trace_chunks(t, x, y, chunk_size), n_total=n, warmup=warmup,
                        batches=batches, edges=edges, extra=0, records=records, kernel=kernel,
                        progress=bar)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - t0
    return _summarize(policy, "trace", [raw], warmup, None, level, "batch means", edges, None,
                      [], eng, elapsed)


def _bind(policy: Policy, workload: Workload) -> Policy:
    """The policy with the workload's laws attached, for policies whose ranks depend on
    them (SERPT, Gittins).

    Hook: a policy may define ``for_workload(workload)`` returning a bound copy;
    :func:`simulate` simulates that copy. Other policies are returned unchanged.
    """
    bind = getattr(policy, "for_workload", None)
    if not callable(bind):
        return policy
    try:
        return bind(workload)
    except QueueTheoryError:
        raise
    except Exception as exc:
        raise RankFunctionError(
            f"{policy.name}.for_workload(workload) failed: {type(exc).__name__}: {exc}") from exc


def _check_warmup(warmup: Any, jobs: int) -> int:
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or warmup < 0:
        raise ParameterError(f"warmup must be an integer >= 0 (got {warmup!r})")
    if warmup >= jobs:
        raise ParameterError(f"warmup must be < jobs (got warmup={warmup}, jobs={jobs})")
    return int(warmup)


def _check_batches(batches: Any, measured: int) -> int:
    if isinstance(batches, bool) or not isinstance(batches, (int, np.integer)) or batches < 2:
        raise ParameterError(f"batches must be an integer >= 2 (got {batches!r})")
    if batches > measured:
        raise ParameterError(
            f"batches must be <= the number of measured jobs (got batches={batches}, "
            f"{measured} measured jobs)")
    return int(batches)


def _edges(size_buckets: Any, quantile) -> np.ndarray:
    if size_buckets is None:
        try:
            e = np.asarray(quantile(np.linspace(0.1, 0.9, 9)), dtype=float)
        except (QueueTheoryError, NotImplementedError, ArithmeticError):
            e = np.zeros(0)
        return np.unique(e[np.isfinite(e)])
    e = np.asarray(size_buckets, dtype=float).ravel()
    if np.any(np.isnan(e)) or np.any(np.diff(e) <= 0):
        raise ParameterError("size_buckets must be strictly increasing edges without NaN")
    return e


def _summarize(policy: Policy, wl: str, raws: list[_Raw], warmup: int,
               root: np.random.SeedSequence | None, level: float, method: str,
               edges: np.ndarray, stable: bool | None, warns: list[str], engine: str,
               elapsed: float, controls: np.ndarray | None = None) -> SimulationResult:
    if method == "batch means":
        bstat = raws[0].bstat
    else:
        bstat = np.array([r.bstat.sum(axis=0) for r in raws])
    tot = bstat.sum(axis=0)
    n_meas = int(tot[2])
    mean_t = float(tot[0] / tot[2])
    mean_s = float(tot[1] / tot[2])
    bm_t = bstat[:, 0] / bstat[:, 2]
    bm_s = bstat[:, 1] / bstat[:, 2]
    kstat = sum(r.kstat for r in raws)
    cv = None
    if controls is not None:
        cv = _controlled(bm_t, bstat[:, 3:5] / bstat[:, 2:3], controls, level)
    sample_ci = _t_interval(bm_t, mean_t, level)
    est, ci, estimator = (mean_t, sample_ci, method) if cv is None else (*cv, "control variates")
    window = sum(r.window for r in raws)
    return SimulationResult(
        policy=policy.name,
        workload=wl,
        jobs=n_meas,
        warmup=warmup,
        arrivals=sum(r.arrivals for r in raws),
        seed=None if root is None else int(root.entropy),
        level=level,
        method=method,
        batches=int(bstat.shape[0]),
        mean_response_time=est,
        confidence_interval=ci,
        estimator=estimator,
        sample_mean_response_time=mean_t,
        sample_interval=sample_ci,
        mean_slowdown=mean_s,
        slowdown_interval=_t_interval(bm_s, mean_s, level),
        buckets=_bucket_summary(edges, kstat),
        mean_number_in_system=sum(r.int_n for r in raws) / window,
        mean_work_in_system=sum(r.int_w for r in raws) / window,
        utilization=sum(r.busy for r in raws) / window,
        arrival_rate=n_meas / window,
        stable=stable,
        warnings=tuple(warns),
        records=raws[0].records if len(raws) == 1 else None,
        engine=engine,
        elapsed=elapsed,
        max_in_system=max(r.max_n for r in raws),
        batch_means=bm_t,
    )
