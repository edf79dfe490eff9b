r"""The generic SOAP engine: exact mean response times of any SOAP policy in the M/G/1.

The SOAP framework (Scully, Harchol-Balter and Scheller-Wolf, *SOAP: One Clean
Analysis of All Age-Based Scheduling Policies*, POMACS 2018; formulas.md §4)
covers every policy that serves the job of minimum *rank* r(d, a), a function
of the job's descriptor d (what the scheduler knows about it) and its age a,
preemptively, with ties going to the earlier arrival. For a tagged job of size
x and descriptor d, with worst future rank
:math:`r_{worst}(a) = \sup\{r(d, t) : a \le t < x\}` and r = r_worst(0):

.. math::

    E[T_{d,x}] = \frac{\lambda \sum_{i \ge 0} E[(X^{old}_i[r])^2]}
                      {2 (1 - \rho^{old}_0[r]) (1 - \rho^{new}[r])}
               + \int_0^x \frac{da}{1 - \rho^{new}[r_{worst}(a)]},

where, for another job with descriptor d′ and size X′,

* ``new jobs`` (win only with strictly smaller rank):
  :math:`c_{d'}[r] = \inf\{a \ge 0 : r(d', a) \ge r\}`,
  :math:`\rho^{new}[r] = \lambda E[\min(X', c_{D'}[r])]`;
* ``old jobs`` (win ties): :math:`\{a : r(d', a) \le r\}` decomposed into maximal
  intervals :math:`[b_i, c_i]`, interval 0 reserved for the one containing age 0;
  :math:`X^{old}_i = \min(\max(X' - b_i, 0), c_i - b_i)` and
  :math:`\rho^{old}_0[r] = \lambda E[X^{old}_0[r]]`.

The engine implements this theorem literally (formulas.md §4.2–4.3), for any
:class:`~queuetheory.policies.base.Policy` whose ranks are given as
:class:`~queuetheory.policies.rank.PiecewiseRank` segments: lexicographic
(level, value) ranks, rank −∞ (non-preemptible), ranks that rise, fall and jump,
old jobs with several intervals of relevance, and point segments.

Exactness
---------
With piecewise-linear segments, the new-job cutoffs :math:`c_{d'}[r]`, the
old-job intervals and the pieces of :math:`r_{worst}` are computed exactly per
descriptor (vectorized over descriptors); the per-job quantities
:math:`\min(x', c)`, :math:`X^{old}_i` are then piecewise polynomials in the size.

Numerics
--------
Write :math:`N(r) = \rho^{new}[r]`, :math:`O(r) = \rho^{old}_0[r]` and
:math:`Q(r) = \lambda \sum_i E[(X^{old}_i[r])^2]`, functions of the rank only.
Then :math:`E[T_{d,x}] = Q/(2(1-O)(1-N))` at r plus the residence integral,
which along a piece of :math:`r_{worst}` of slope k is
:math:`|k|^{-1}\int dv/(1 - N(v))` (flat pieces: length/(1 − N)).

* **Atomic laws** (Discrete, Deterministic, Empirical sizes with exact
  predictions; :class:`~queuetheory.EmpiricalPredictions` pairs): every sum is
  finite and evaluated exactly. N is piecewise linear in the rank between the
  critical ranks of the atoms (segment ends, and the rank at age x′), so the
  residence integrals are exact sums of logarithms. Cost O(n²) in the number
  of atoms n (a :class:`~queuetheory.errors.ParameterError` above
  :data:`MAX_ATOMS`).
* **Continuous laws**: for every rank level, N, O, Q and 1/(1 − N) are
  tabulated as piecewise Chebyshev interpolants in the rank value, built
  adaptively and lazily on the ranks the tagged jobs need, with the jump points
  that atoms or finitely many descriptors produce as panel breaks (evaluated
  exactly there). Each table value is an adaptive Gauss–Kronrod integral over
  the other jobs' law: over the size (descriptor known from the size, or no
  descriptor), or over the prediction with an inner integral over the size
  (prediction descriptors), split at the exact kinks of the piecewise
  polynomials and at the descriptors where the combinatorial structure of the
  cutoffs and intervals changes (located by bisection to machine precision).
  The overall mean is then an adaptive quadrature over the tagged job's law.
* **Error estimate**: the quadrature error estimates of every level plus the
  interpolation error of the tables propagated through the formula
  (first-order sensitivities).

:math:`E[T] = \infty` is returned when the old-job term diverges (e.g. ranks
that let an old job run to completion, like FCFS, with E[S²] = ∞).

>>> import queuetheory as qt
>>> w = qt.Workload(arrival_rate=0.1, size=qt.Discrete(values=[2.0, 14.0], probs=[0.5, 0.5]))
>>> est = mean_response_time(qt.FCFS(), w)
>>> est.value  # 8 + 0.1 * 100 / (2 * 0.2) = 33
33.0
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import IntegrationError, ParameterError
from .integrate import DEFAULT_RTOL, GK21_NODES, Estimate, IntegrationWarning, kronrod_estimate

__all__ = [
    "mean_response_time",
    "response_time",
    "decompose",
    "Decomposition",
    "rank_terms",
    "MAX_ATOMS",
]

#: Largest number of atoms (size atoms × prediction atoms) of an atomic law the
#: engine evaluates exactly (the cost is quadratic in this number).
MAX_ATOMS = 4000

_EPS = float(np.finfo(float).eps)
_NEG_INF = -math.inf
#: Ladder of probe sizes of the infinite-old-job-term test (:meth:`_Model._q_infinite`).
_Q_PROBE_MAX = 1e60
_Q_PROBE_STEP = 1e3
#: With ``tail_piece``, :func:`_bquad` puts a finite piece of one scale before the tail when
#: the last finite edge lies this many scales or more (and less than one) above the start.
_TAIL_PIECE_MIN = 1e-6


# =====================================================================================
# Ranks and segments
# =====================================================================================
def _gt(l1, v1, l2, v2):
    """Lexicographic (l1, v1) > (l2, v2)."""
    return (l1 > l2) | ((l1 == l2) & (v1 > v2))


def _ge(l1, v1, l2, v2):
    """Lexicographic (l1, v1) >= (l2, v2)."""
    return (l1 > l2) | ((l1 == l2) & (v1 >= v2))


@dataclass
class _Segs:
    """Canonical segment arrays, shape (n, m): sorted, padded with start = end = inf.

    Rank −∞ segments have value 0 and slope 0; a point segment has start == end.
    """

    start: np.ndarray
    end: np.ndarray
    level: np.ndarray
    value: np.ndarray
    slope: np.ndarray

    @property
    def n(self) -> int:
        return self.start.shape[0]

    @property
    def m(self) -> int:
        return self.start.shape[1]

    def take(self, idx) -> _Segs:
        return _Segs(self.start[idx], self.end[idx], self.level[idx], self.value[idx],
                     self.slope[idx])

    def compact(self) -> _Segs:
        """Drop padding columns that no row uses."""
        used = np.isfinite(self.start).any(axis=0)
        if used.all():
            return self
        k = int(np.flatnonzero(used).max()) + 1 if used.any() else 1
        return _Segs(self.start[:, :k], self.end[:, :k], self.level[:, :k],
                     self.value[:, :k], self.slope[:, :k])


def _canonical_segments(pr: Any, who: str = "the policy") -> _Segs:
    """Validate and canonicalize a :class:`PiecewiseRank` (see formulas.md §4.3 notes).

    Raises :class:`ParameterError` describing the defect if the segments do not
    tile [0, ∞) (points aside), or contain NaN or +∞ ranks.
    """
    try:
        arrs = [np.array(getattr(pr, name), dtype=float, ndmin=2)
                for name in ("start", "end", "level", "value", "slope")]
    except (AttributeError, TypeError, ValueError):
        raise ParameterError(f"{who} returned ranks that are not a PiecewiseRank "
                             f"(got {type(pr).__name__})") from None
    start, end, level, value, slope = arrs
    shape = start.shape
    if any(a.shape != shape for a in arrs) or len(shape) != 2 or shape[1] == 0:
        raise ParameterError(f"{who} returned PiecewiseRank arrays of inconsistent shapes "
                             f"{[a.shape for a in arrs]}")
    valid = np.isfinite(start)
    if np.any(np.isnan(level[valid])) or np.any(level[valid] == np.inf):
        raise ParameterError(f"{who} returned a rank level that is NaN or +inf "
                             f"(levels must be finite, or -inf for non-preemptible)")
    finite_level = valid & np.isfinite(level)
    if np.any(~np.isfinite(value[finite_level])) or np.any(~np.isfinite(slope[finite_level])):
        raise ParameterError(f"{who} returned a rank value or slope that is not finite")
    if np.any(end[valid] < start[valid]) or np.any(start[valid] < 0):
        raise ParameterError(f"{who} returned a rank segment with end < start or start < 0")
    start = np.where(valid, start, np.inf)
    end = np.where(valid, end, np.inf)
    level = np.where(valid, level, np.inf)
    nonpre = level == _NEG_INF
    value = np.where(valid & ~nonpre, value, 0.0)
    slope = np.where(valid & ~nonpre, slope, 0.0)
    is_point = valid & (start == end)
    # Sort: by start, points before intervals at the same start, padding last.
    key_ok = True
    if shape[1] > 1:
        ds = np.diff(start, axis=1)
        same = ds == 0
        bad_order = (ds < 0) | (same & ~is_point[:, :-1] & is_point[:, 1:])
        bad_order |= ~valid[:, :-1] & valid[:, 1:]
        key_ok = not bool(np.any(bad_order))
    if not key_ok:
        order = np.lexsort((~is_point, start), axis=1)
        rows = np.arange(shape[0])[:, None]
        start, end, level, value, slope = (a[rows, order] for a in (start, end, level, value,
                                                                      slope))
        is_point = is_point[rows, order]
        valid = valid[rows, order]
    interval = valid & ~is_point
    if not np.all(interval.any(axis=1)):
        raise ParameterError(f"{who} returned a rank with no segment of positive length")
    # Interval segments must tile [0, inf): each starts where the previous one ended.
    prev_end = np.where(interval, end, -np.inf)
    prev_end = np.maximum.accumulate(prev_end, axis=1)
    prev_end = np.concatenate([np.zeros((shape[0], 1)), prev_end[:, :-1]], axis=1)
    prev_end = np.where(np.isneginf(prev_end), 0.0, prev_end)
    gap = interval & (start != prev_end)
    last_end = np.max(np.where(interval, end, -np.inf), axis=1)
    if np.any(gap) or np.any(last_end != np.inf):
        j = int(np.flatnonzero(gap.any(axis=1) | (last_end != np.inf))[0])
        segs = [(float(s), float(e)) for s, e, v in zip(start[j], end[j], valid[j]) if v]
        raise ParameterError(
            f"{who} returned rank segments that do not tile the ages [0, inf) "
            f"contiguously (segments (start, end) of job {j}: {segs})")
    return _Segs(start, end, level, value, slope)


def _signature_hash(feats: list[np.ndarray]) -> np.ndarray:
    """Hash integer features into one uint64 per row, independently of padding.

    Each feature is shape (P,) or (P, k) (a block of columns); zero entries are
    skipped and every non-zero entry is mixed with its (feature, column)
    position, so trailing all-zero columns (padding that depends on the batch)
    do not change a row's hash.
    """
    P = np.shape(feats[0])[0]
    h = np.full(P, 1469598103934665603, dtype=np.uint64)
    prime = np.uint64(1099511628211)
    with np.errstate(over="ignore"):
        for i, f in enumerate(feats):
            f = np.asarray(f)
            f2 = f.reshape(P, -1)
            for j in range(f2.shape[1]):
                v = f2[:, j].astype(np.int64).astype(np.uint64)
                tag = np.uint64((i * 65537 + j + 1) * 2654435761 % (1 << 61))
                mixed = (h ^ (v * np.uint64(0x9E3779B97F4A7C15) + tag)) * prime
                h = np.where(v != 0, mixed, h)
    return h


# =====================================================================================
# Batched adaptive Gauss–Kronrod quadrature (many integrals, own breakpoints each)
# =====================================================================================
#: Panel kinds of the batched quadrature.
_LIN, _TAIL, _HEAD = 0, 1, 2
#: Power of the head map x = H t^p on [0, H]: smooths x^(-1/2)- and log-singular densities.
_HEAD_POWER = 4


def _map_nodes(t: np.ndarray, kind: np.ndarray, own: np.ndarray, c: np.ndarray,
               L: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and dx/dt at panel coordinates t (k, j) for panels of the given kinds."""
    x = t.copy()
    jac = np.ones_like(t)
    tl = kind == _TAIL
    if np.any(tl):
        tt = t[tl]
        om = 1.0 - tt
        sc = L[own[tl]][:, None]
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            x[tl] = c[own[tl]][:, None] + sc * tt / om
            jac[tl] = sc / om**2
    hd = kind == _HEAD
    if np.any(hd):
        tt = t[hd]
        hh = H[own[hd]][:, None]
        x[hd] = hh * tt**_HEAD_POWER
        jac[hd] = _HEAD_POWER * hh * tt ** (_HEAD_POWER - 1)
    return x, jac


def _gk_rule(f, lo, hi, kind, own, c, L, H):
    """QUADPACK qk21 on every panel (linear, tail x = c + L t/(1 − t), head x = H t^4)."""
    half = 0.5 * (hi - lo)
    mid = 0.5 * (hi + lo)
    t = mid[:, None] + half[:, None] * GK21_NODES[None, :]
    x, jac = _map_nodes(t, kind, own, c, L, H)
    k = lo.size
    big = ~np.isfinite(x)
    xs = np.where(big, 0.0, x)
    fx = np.asarray(f(xs.ravel(), np.repeat(own, 21)), dtype=float).reshape(k, 21, -1)
    with np.errstate(invalid="ignore", over="ignore"):
        fx = fx * jac[:, :, None]
    fx[big] = 0.0
    if not np.all(np.isfinite(fx)):
        bad = x[~np.all(np.isfinite(fx), axis=2)]
        raise IntegrationError(f"integrand is not finite at {bad.size} node(s), "
                               f"e.g. x = {float(bad.flat[0])!r}")
    return kronrod_estimate(fx, half)


@dataclass
class _Panels:
    """Final subdivision of a batched quadrature: panels [lo, hi] in their own coordinate
    (see :func:`_map_nodes`), their kinds and owners, and per owner c, L, H."""

    lo: np.ndarray
    hi: np.ndarray
    kind: np.ndarray
    own: np.ndarray
    c: np.ndarray
    L: np.ndarray
    H: np.ndarray

    @property
    def tail(self) -> np.ndarray:
        return self.kind == _TAIL

    def to_x(self, t: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """x at coordinates t of panels idx (same shape)."""
        x, _ = _map_nodes(np.asarray(t, float).reshape(-1, 1), self.kind[idx], self.own[idx],
                          self.c, self.L, self.H)
        return x[:, 0]

    def from_x(self, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Panel coordinate of x in panels idx."""
        k = self.kind[idx]
        own = self.own[idx]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            d = x - self.c[own]
            tail_t = np.where(np.isinf(x), 1.0, d / (d + self.L[own]))
            head_t = np.maximum(x / self.H[own], 0.0) ** (1.0 / _HEAD_POWER)
        return np.where(k == _TAIL, tail_t, np.where(k == _HEAD, head_t, x))

    def nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """x at the 21 Kronrod nodes of every panel and dx/ds (s the local coordinate)."""
        half = 0.5 * (self.hi - self.lo)
        t = 0.5 * (self.hi + self.lo)[:, None] + half[:, None] * GK21_NODES[None, :]
        x, jac = _map_nodes(t, self.kind, self.own, self.c, self.L, self.H)
        return x, jac * half[:, None]


def _bquad(f, a, b, points=None, *, rtol, atol=0.0, tail_scale=1.0, limit=2000,
           ratio=4.0, panels=False, tail_piece=False):
    """Integrate ``f(x, owner)`` over [a_i, b_i] for every owner i adaptively.

    ``points`` (n, k) are per-owner breakpoints (NaN ignored); b may be +inf (a
    tail map x = c + L t/(1 − t) from the last finite edge, L the owner's
    ``tail_scale``). An interval starting at 0 is integrated in t with x = H t⁴,
    which makes x^(−1/2)- and log-singular densities at 0 smooth. Intervals much
    wider than the scale are split one scale from their start and then
    geometrically (ratio 4); ``tail_piece`` also gives a tail whose last finite edge lies
    less than one scale from the start a finite piece of one scale first (see
    :data:`_TAIL_PIECE_MIN`). Owners that have converged leave the working arrays (the
    same sums, so bitwise the same results). Convergence per owner and component:
    error <= max(atol, rtol |value|). Returns (value, error, converged), values (n, m)
    (and the final panels with ``panels=True``).
    """
    a = np.asarray(a, float).ravel()
    b = np.asarray(b, float).ravel()
    n = a.size
    scale = np.broadcast_to(np.asarray(tail_scale, float), (n,)).copy()
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    pts = np.empty((n, 0)) if points is None else np.asarray(points, float).reshape(n, -1)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(pts) & (pts > a[:, None]) & (pts < b[:, None])
    pts = np.sort(np.where(ok, pts, a[:, None]), axis=1)
    inf = np.isinf(b)
    last = np.maximum(pts[:, -1] if pts.shape[1] else a, a)
    # an infinite range starting at a finite point gets a finite first piece of one scale;
    # with ``tail_piece`` also when its last finite edge is less than one scale (and at least
    # _TAIL_PIECE_MIN scales) from its start: that piece is then split geometrically at once,
    # where a tail starting at a small kink resolves a 1/x-like integrand near its start one
    # bisection per round
    short = inf & (last <= a)
    if tail_piece:
        short |= inf & (last < a + scale) & (last >= a + _TAIL_PIECE_MIN * scale)
    last = np.where(short, last + scale, last)
    edges = np.column_stack([a, pts, np.where(inf, last, b)])
    lo, hi = edges[:, :-1], edges[:, 1:]
    own = np.broadcast_to(np.arange(n)[:, None], lo.shape)
    keep = hi > lo
    lo, hi, own = lo[keep], hi[keep], own[keep]
    # an interval much wider than the owner's scale gets a break one scale from its start
    # (all 21 nodes of [0, 10^6] would miss mass concentrated near 0)
    sc_own = scale[own]
    wide = hi - lo > 4 * sc_own
    if np.any(wide):
        cut = lo[wide] + sc_own[wide]
        new_hi = hi[wide]
        hi = np.where(wide, lo + sc_own, hi)
        lo = np.concatenate([lo, cut])
        hi = np.concatenate([hi, new_hi])
        own = np.concatenate([own, own[wide]])
    # geometric pre-split of wide intervals away from 0
    with np.errstate(divide="ignore", invalid="ignore"):
        pieces = np.where(lo > 0, np.ceil(np.log(hi / lo) / math.log(ratio) - 1e-9), 1.0)
    pieces = np.clip(np.nan_to_num(pieces, nan=1.0), 1, 400).astype(int)
    if np.any(pieces > 1):
        idx = np.repeat(np.arange(lo.size), pieces)
        j = np.arange(idx.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        q = np.where(lo[idx] > 0, hi[idx] / np.where(lo[idx] > 0, lo[idx], 1.0), 1.0)
        nl = np.where(j == 0, lo[idx], lo[idx] * q ** (j / pieces[idx]))
        nh = np.where(j == pieces[idx] - 1, hi[idx], lo[idx] * q ** ((j + 1) / pieces[idx]))
        lo, hi, own = nl, nh, own[idx]
    kind = np.zeros(lo.size, np.int8)
    # the piece [0, h] of an owner starting at 0 becomes a head panel t in [0, 1]
    H = np.zeros(n)
    head = (lo == 0.0) & (a[own] == 0.0)
    if np.any(head):
        H[own[head]] = hi[head]
        lo[head], hi[head] = 0.0, 1.0
        kind[head] = _HEAD
    if np.any(inf):
        t_own = np.flatnonzero(inf)
        lo = np.concatenate([lo, np.zeros(t_own.size)])
        hi = np.concatenate([hi, np.ones(t_own.size)])
        own = np.concatenate([own, t_own])
        kind = np.concatenate([kind, np.full(t_own.size, _TAIL, np.int8)])
    if lo.size == 0:
        probe = np.asarray(f(a[:1], np.zeros(1, int)), float).reshape(1, -1)
        z = np.zeros((n, probe.shape[1]))
        if panels:
            e = np.empty(0)
            return z, z.copy(), np.ones(n, bool), _Panels(e, e, e.astype(np.int8),
                                                          e.astype(int), last, scale, H)
        return z, z.copy(), np.ones(n, bool)
    res, err = _gk_rule(f, lo, hi, kind, own, last, scale, H)
    m = res.shape[1]

    def per_owner(v):
        out = np.empty((n, m))
        for j in range(m):
            out[:, j] = np.bincount(own, weights=v[:, j], minlength=n)
        return out

    # totals of the owners that are done and whose panels were dropped from the working
    # arrays (so that a round costs in proportion to the panels still being refined)
    fixed_res = np.zeros((n, m))
    fixed_err = np.zeros((n, m))
    active = np.ones(n, bool)
    failed = np.zeros(n, bool)
    while True:
        tot, tot_err = per_owner(res) + fixed_res, per_owner(err) + fixed_err
        tol = np.maximum(np.reshape(atol, (-1, 1)) if np.ndim(atol) == 1 else atol,
                         rtol * np.abs(tot))
        active &= ~np.all(tot_err <= tol, axis=1)
        if not np.any(active):
            break
        count = np.bincount(own, minlength=n)
        over = active & (count >= limit)
        failed |= over
        active &= ~over
        t_own = tol[own]
        with np.errstate(divide="ignore", invalid="ignore"):
            norm = np.where(t_own > 0, err / t_own, np.where(err > 0, np.inf, 0.0)).max(axis=1)
        split = active[own] & (norm > 0.5 / count[own])
        width = hi - lo
        lin = kind == _LIN
        tiny = lin & (width <= 64 * _EPS * np.maximum(np.abs(lo), np.abs(hi)))
        tiny |= ~lin & (width <= 64 * _EPS * np.maximum(hi, 1e-300))
        split &= ~tiny
        stuck = active & (np.bincount(own[split], minlength=n) == 0)
        failed |= stuck
        active &= ~stuck
        split &= active[own]
        if not np.any(split):
            break
        mids = 0.5 * (lo[split] + hi[split])
        nlo = np.concatenate([lo[split], mids])
        nhi = np.concatenate([mids, hi[split]])
        nkind = np.concatenate([kind[split], kind[split]])
        nown = np.concatenate([own[split], own[split]])
        r2, e2 = _gk_rule(f, nlo, nhi, nkind, nown, last, scale, H)
        stay = ~split
        if not panels:
            gone = ~active[own]
            if np.any(gone):
                done = np.bincount(own[gone], minlength=n) > 0
                fixed_res[done], fixed_err[done] = tot[done], tot_err[done]
                stay &= ~gone
        lo, hi = np.concatenate([lo[stay], nlo]), np.concatenate([hi[stay], nhi])
        kind, own = np.concatenate([kind[stay], nkind]), np.concatenate([own[stay], nown])
        res, err = np.concatenate([res[stay], r2]), np.concatenate([err[stay], e2])
    if panels:
        return per_owner(res), per_owner(err), ~failed, _Panels(lo, hi, kind, own, last,
                                                                scale, H)
    return per_owner(res) + fixed_res, per_owner(err) + fixed_err, ~failed


def _legendre_matrix(s: np.ndarray, deg: int) -> np.ndarray:
    """P_0..P_deg at points s, shape (len(s), deg + 1)."""
    s = np.asarray(s, float)
    P = np.empty((s.size, deg + 1))
    P[:, 0] = 1.0
    if deg >= 1:
        P[:, 1] = s
    for n in range(1, deg):
        P[:, n + 1] = ((2 * n + 1) * s * P[:, n] - n * P[:, n - 1]) / (n + 1)
    return P


def _legendre_setup():
    V = _legendre_matrix(GK21_NODES, 20)
    return np.linalg.inv(V)


_LEG_INV = _legendre_setup()


def _legendre_antiderivative(c: np.ndarray) -> np.ndarray:
    """Coefficients of ∫_{-1}^s Σ c_n P_n for c (..., 21): shape (..., 22)."""
    deg = c.shape[-1] - 1
    a = np.zeros(c.shape[:-1] + (deg + 2,))
    a[..., 0] += c[..., 0]
    a[..., 1] += c[..., 0]
    for n in range(1, deg + 1):
        a[..., n + 1] += c[..., n] / (2 * n + 1)
        a[..., n - 1] -= c[..., n] / (2 * n + 1)
    return a


class _Cum:
    """Cumulative integrals of m integrands per owner, at any point, from a final subdivision.

    On each panel the integrand times dx/ds is interpolated by a Legendre series of
    degree 20 at the 21 Kronrod nodes and integrated exactly; ``left(j, t)`` is
    ∫ from the owner's lower limit to t, ``right(j, t)`` ∫ from t to its upper limit
    (no cancellation in either). Accuracy: that of the panels' Gauss–Kronrod rule.
    """

    def __init__(self, pan: _Panels, G: np.ndarray, n_owner: int) -> None:
        # per owner: head panel, linear panels by x, tail panels by t
        order = np.lexsort((pan.lo, pan.kind == _TAIL, pan.kind != _HEAD, pan.own))
        sub = _Panels(pan.lo[order], pan.hi[order], pan.kind[order], pan.own[order],
                      pan.c, pan.L, pan.H)
        self.pan = sub
        self.lo, self.hi, self.own = sub.lo, sub.hi, sub.own
        G = G[order]
        coef = np.einsum("nj,pjm->pmn", _LEG_INV, G)
        self.anti = _legendre_antiderivative(coef)  # (P, m, 22)
        full = self.anti.sum(axis=2)  # value at s = 1 (P_n(1) = 1)
        self.full = full
        P = self.lo.size
        counts = np.bincount(self.own, minlength=n_owner)
        self.start = np.concatenate([[0], np.cumsum(counts)])[:-1]
        self.count = counts
        cs = np.cumsum(full, axis=0)
        cs0 = np.vstack([np.zeros((1, full.shape[1])), cs])
        own_start = self.start[self.own]
        own_end = own_start + counts[self.own]
        self.cumL = cs0[np.arange(P)] - cs0[own_start]
        self.cumR = cs0[own_end] - cs0[np.arange(P) + 1]
        self.total = np.zeros((n_owner, full.shape[1]))
        np.add.at(self.total, self.own, full)
        self.xlo = sub.to_x(sub.lo, np.arange(P))

    def _locate(self, j: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo = self.start[j].copy()
        hi = lo + self.count[j] - 1
        # binary search: last panel of owner j with xlo <= t
        while True:
            act = hi > lo
            if not np.any(act):
                break
            mid = (lo + hi + 1) // 2
            go = act & (self.xlo[np.minimum(mid, self.xlo.size - 1)] <= t)
            lo = np.where(go, mid, lo)
            hi = np.where(act & ~go, mid - 1, hi)
        p = lo
        u = self.pan.from_x(t, p)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            s = (2 * u - self.lo[p] - self.hi[p]) / (self.hi[p] - self.lo[p])
        s = np.clip(np.nan_to_num(s, nan=-1.0), -1.0, 1.0)
        return p, s

    def left_right(self, j: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(∫_a^t, ∫_t^b) for owners j at points t, each (len(t), m)."""
        j = np.asarray(j, np.int64)
        t = np.asarray(t, float)
        m = self.total.shape[1]
        tot = self.total[j]
        left = np.zeros((t.size, m))
        right = tot.copy()
        if self.lo.size == 0:
            return left, np.zeros((t.size, m))
        has = self.count[j] > 0
        first = self.start[np.where(has, j, 0)]
        below = ~has | (t <= self.xlo[first])
        above = has & np.isinf(t)
        left[above] = tot[above]
        right[above] = 0.0
        right[~has] = 0.0
        mid = np.flatnonzero(~below & ~above)
        for k0 in range(0, mid.size, 200_000):
            idx = mid[k0:k0 + 200_000]
            p, s = self._locate(j[idx], t[idx])
            part = _legendre_clenshaw(self.anti, p, s)
            left[idx] = self.cumL[p] + part
            right[idx] = self.cumR[p] + (self.full[p] - part)
        return left, right


def _legendre_clenshaw(anti: np.ndarray, p: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Σ_k anti[p, :, k] P_k(s) by Clenshaw's recurrence, shape (len(p), m)."""
    K = anti.shape[2] - 1
    b1 = np.zeros((p.size, anti.shape[1]))
    b2 = np.zeros_like(b1)
    sc = s[:, None]
    for k in range(K, 0, -1):
        alpha = (2 * k + 1) / (k + 1) * sc
        beta = -(k + 1) / (k + 2)
        b1, b2 = anti[p, :, k] + alpha * b1 + beta * b2, b1
    return anti[p, :, 0] + sc * b1 - 0.5 * b2


def _build_cum(weight, a, b, pts, *, scale, rtol) -> _Cum:
    """Cumulative moments ∫ x^k w_j(x) dx (k = 0, 1, 2) of weights ``weight(x, j)``."""
    def f(x, j):
        w = weight(x, j)
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.column_stack([w, w * x, w * x * x])
        return np.where(w[:, None] > 0, out, 0.0)

    n = np.asarray(a).size
    _, _, _, pan = _bquad(f, a, b, pts, rtol=rtol, atol=1e-300, tail_scale=scale, limit=4000,
                          panels=True)
    x, jac = pan.nodes()
    own = np.repeat(pan.own, 21)
    big = ~np.isfinite(x)
    G = f(np.where(big, 0.0, x).ravel(), own).reshape(x.shape + (3,))
    with np.errstate(invalid="ignore", over="ignore"):
        G = G * jac[:, :, None]
    G[big] = 0.0
    G[~np.isfinite(G)] = 0.0
    return _Cum(pan, G, n)


def _cum_phi(cum: _Cum, j: np.ndarray, g: _Geometry, drop_q: bool = False) -> np.ndarray:
    """∫ w_j(x) φ(x; g) dx for the weights of ``cum`` (moments x^0, x^1, x^2), (n, 3).

    φ = (min(x, c), X^old_0, Σ_i (X^old_i)²) is a piecewise polynomial in x, so the
    integral is a combination of cumulative moments at its kinks.
    """
    n = j.size
    out = np.zeros((n, 3))
    with np.errstate(invalid="ignore", over="ignore"):
        return _cum_phi_inner(cum, j, g, drop_q, out)


def _cum_phi_inner(cum: _Cum, j: np.ndarray, g: _Geometry, drop_q: bool,
                   out: np.ndarray) -> np.ndarray:
    n = j.size
    Lc, Rc = cum.left_right(j, g.c_new)
    out[:, 0] = Lc[:, 1] + np.where(np.isfinite(g.c_new), g.c_new * Rc[:, 0], 0.0)
    c0 = np.where(g.has0, g.c[:, 0], 0.0)
    L0, R0 = cum.left_right(j, c0)
    out[:, 1] = np.where(g.has0, L0[:, 1] + np.where(np.isfinite(c0), c0 * R0[:, 0], 0.0), 0.0)
    if drop_q:
        return out
    q = np.zeros(n)
    for i in range(g.b.shape[1]):
        b, c = g.b[:, i], g.c[:, i]
        ok = np.isfinite(b)
        if not np.any(ok):
            continue
        bb = np.where(ok, b, 0.0)
        Lb, Rb = cum.left_right(j, bb)
        Lcc, Rcc = cum.left_right(j, np.where(ok, c, 0.0))
        fin = np.isfinite(c)
        # ∫_b^c (x − b)² w: from the right-hand sums when b is in the upper part
        use_r = Rb[:, 0] < Lb[:, 0]
        D = np.where(use_r[:, None], Rb - np.where(fin[:, None], Rcc, 0.0),
                     np.where(fin[:, None], Lcc, Lb + Rb) - Lb)
        mid = D[:, 2] - 2 * bb * D[:, 1] + bb * bb * D[:, 0]
        length = np.where(fin, c - bb, 0.0)
        beyond = np.where(fin, length * length * Rcc[:, 0], 0.0)
        q += np.where(ok, np.maximum(mid, 0.0) + beyond, 0.0)
    out[:, 2] = q
    return out


# =====================================================================================
# Geometry of the SOAP theorem: exact for piecewise-linear ranks (formulas.md §4.2)
# =====================================================================================
@dataclass
class _Geometry:
    """New-job cutoff and old-job intervals of P (descriptor, rank) pairs.

    ``c_new`` (P,); ``b``, ``c`` (P, K) intervals padded with +inf; ``has0`` (P,)
    whether interval 0 (the one containing age 0) exists (then ``b[:, 0] = 0``).
    ``sig`` (P,) hashes the combinatorial structure (which segment gives each
    end point, by which formula).
    """

    c_new: np.ndarray
    b: np.ndarray
    c: np.ndarray
    has0: np.ndarray
    sig: np.ndarray
    sig_new: np.ndarray

    def take(self, idx) -> _Geometry:
        return _Geometry(self.c_new[idx], self.b[idx], self.c[idx], self.has0[idx],
                         self.sig[idx], self.sig_new[idx])

    def kinks(self) -> np.ndarray:
        """All finite ages where the per-job quantities are not smooth in the size, (P, ·)."""
        pts = np.column_stack([self.c_new, self.b, self.c])
        return np.where(np.isfinite(pts), pts, np.nan)


def _geometry(S: _Segs, L: np.ndarray, V: np.ndarray) -> _Geometry:
    """Cutoffs and intervals of the jobs with segments ``S`` against ranks (L, V).

    ``S`` has shape (P, m) (or (1, m), broadcast); L, V have shape (P,).
    Implements c[r] = inf{a >= 0 : r(d', a) >= r} and the maximal intervals of
    {a : r(d', a) <= r} of formulas.md §4.2, segment by segment.
    """
    L = np.asarray(L, float)[:, None]
    V = np.where(np.asarray(L, float)[:, 0] == _NEG_INF, 0.0, np.asarray(V, float))[:, None]
    s, e, lev, val, k = S.start, S.end, S.level, S.value, S.slope
    valid = np.isfinite(s)
    point = valid & (s == e)
    inter = valid & ~point
    eq = lev == L
    gtl = lev > L
    ltl = lev < L
    with np.errstate(divide="ignore", invalid="ignore"):
        astar = s + (V - val) / np.where(k != 0, k, 1.0)
    # --- new jobs: first age with rank >= r
    from_start = valid & (gtl | (eq & (val >= V)))
    cross = inter & eq & (k > 0) & (val < V) & (astar < e)
    cand = np.where(from_start, s, np.where(cross, astar, np.inf))
    idx_new = np.argmin(cand, axis=1)
    c_new = cand[np.arange(cand.shape[0]), idx_new]
    kind_new = np.where(np.isfinite(c_new),
                        np.where(cross[np.arange(cand.shape[0]), idx_new], 2, 1), 0)
    idx_new = np.where(np.isfinite(c_new), idx_new, -1)
    # --- old jobs: subset of each segment where rank <= r
    below = ltl | (eq & (val <= V))  # rank at the segment start is <= r
    whole = valid & below & (point | ~eq | (k <= 0))
    rising = inter & eq & (k > 0) & (val <= V)  # [s, min(e, astar)]
    falling = inter & eq & (k < 0) & (val > V) & (astar < e)  # [astar, e)
    nonempty = whole | rising | falling
    lo = np.where(falling, astar, s)
    hi = np.where(rising, np.minimum(e, astar), e)
    lo = np.where(nonempty, lo, np.inf)
    hi = np.where(nonempty, hi, np.inf)
    # formula kind of each end, for the signature
    kind_lo = np.where(falling, 2, 1) * nonempty
    kind_hi = np.where(rising & (astar < e), 2, 1) * nonempty
    # --- merge touching subsets (an excluded point breaks the chain)
    P, m = lo.shape
    prev_ne = np.zeros_like(nonempty)
    prev_ne[:, 1:] = nonempty[:, :-1]
    prev_hi = np.full_like(hi, np.nan)
    prev_hi[:, 1:] = hi[:, :-1]
    cont = nonempty & prev_ne & (prev_hi == lo)
    first = nonempty & ~cont
    nxt = np.zeros_like(cont)
    nxt[:, :-1] = cont[:, 1:]
    last = nonempty & ~nxt
    count = first.sum(axis=1)
    K = max(int(count.max()) if P else 0, 1)
    ident = np.cumsum(first, axis=1) - 1
    b = np.full((P, K), np.inf)
    c = np.full((P, K), np.inf)
    rows, cols = np.nonzero(first)
    b[rows, ident[rows, cols]] = lo[rows, cols]
    rows2, cols2 = np.nonzero(last)
    c[rows2, ident[rows2, cols2]] = hi[rows2, cols2]
    has0 = nonempty[:, 0] & (lo[:, 0] == 0.0)
    # signature: structure of the cut-off and of the intervals
    feats = [idx_new + 2, kind_new + 1, count + 1, has0 + 1, first * (1 + np.arange(m)),
             last * (1 + np.arange(m)), kind_lo * 3 + kind_hi]
    sig = _signature_hash(feats)
    return _Geometry(c_new, b, c, has0, sig, _signature_hash([idx_new + 2, kind_new + 1]))


def _phi(x: np.ndarray, g: _Geometry) -> np.ndarray:
    """Per-job contributions (min(x, c), X^old_0, Σ_i (X^old_i)²), shape (P, 3).

    ``x`` has shape (P,) (one size per pair).
    """
    x = np.asarray(x, float)
    n_new = np.minimum(x, g.c_new)
    o0 = np.where(g.has0, np.minimum(x, g.c[:, 0]), 0.0)
    valid = np.isfinite(g.b)
    length = np.where(valid, g.c - np.where(valid, g.b, 0.0), 0.0)
    with np.errstate(invalid="ignore"):
        xo = np.clip(x[:, None] - g.b, 0.0, None)
    xo = np.where(valid, np.minimum(xo, length), 0.0)
    with np.errstate(over="ignore"):  # sizes near float max (weightless tail nodes): q = inf
        q = np.sum(xo * xo, axis=1)
    return np.column_stack([n_new, o0, q])


def _phi_position(x: np.ndarray, g: _Geometry, new_only: bool = False) -> np.ndarray:
    """Which polynomial piece of _phi the size x falls in (for signatures), (P,)."""
    if new_only:
        return _signature_hash([(x < g.c_new) + 1])
    feats = [(x < g.c_new) + 1, np.where(g.has0, x < g.c[:, 0], False) + 1,
             x[:, None] > g.b, x[:, None] >= g.c]
    return _signature_hash(feats)


@dataclass
class _Worst:
    """Pieces of the worst future rank of n tagged jobs on [0, x), shape (n, J).

    A piece covers ages [a0, a1) with level ``level`` and value ``v0 + slope * (a - a0)``
    (slope 0: flat; slope < 0: the rank itself falling). ``r_level``/``r_value``:
    r = r_worst(0).
    """

    a0: np.ndarray
    a1: np.ndarray
    level: np.ndarray
    v0: np.ndarray
    slope: np.ndarray
    r_level: np.ndarray
    r_value: np.ndarray


def _worst_pieces(S: _Segs, x: np.ndarray) -> _Worst:
    """r_worst(a) = sup{r(d, t) : a <= t < x} piecewise (formulas.md §4.2), vectorized.

    Scans the segments from the right, keeping the supremum M of the ranks
    already passed: a non-decreasing segment contributes the limit of its value
    at the right end (a flat piece at max(M, that)); a decreasing segment
    contributes its own falling value where it exceeds M.
    """
    n, m = S.start.shape
    x = np.asarray(x, float)
    ML = np.full(n, _NEG_INF)
    MV = np.full(n, _NEG_INF)  # bottom: below every rank, including (-inf, 0)
    cols = []
    for j in range(m - 1, -1, -1):
        s, e = S.start[:, j], S.end[:, j]
        lev, val, k = S.level[:, j], S.value[:, j], S.slope[:, j]
        active = s < x
        point = active & (s == e)
        inter = active & (s < e)
        et = np.minimum(e, x)
        # non-decreasing interval segment: sup over [a, et) is its left limit at et
        # (padding and inactive segments have s = inf: their length is 0, not inf − inf)
        up = inter & (k >= 0)
        length = np.subtract(et, s, out=np.zeros(n), where=inter)
        sup_up = val + np.multiply(k, length, out=np.zeros(n), where=k != 0)
        new_l = np.where(up & _gt(lev, sup_up, ML, MV), lev, ML)
        new_v = np.where(up & _gt(lev, sup_up, ML, MV), sup_up, MV)
        flat_up_l, flat_up_v = new_l, new_v
        # decreasing interval segment
        dn = inter & (k < 0)
        above_level = lev > ML
        same = lev == ML
        with np.errstate(divide="ignore", invalid="ignore"):
            astar = s + (val - MV) / np.where(k < 0, -k, 1.0)
        full_slope = dn & (above_level | (same & (val > MV) & (astar >= et)))
        part = dn & same & (val > MV) & (astar < et)
        none = dn & ~full_slope & ~part
        # piece 1 (left part, ages [s, p1)), piece 2 (right part, [p1, et))
        p1 = np.where(part, astar, np.where(full_slope, et, s))
        # left (sloped) piece
        sl_a0 = np.where(full_slope | part, s, np.nan)
        sl_a1 = np.where(full_slope | part, p1, np.nan)
        sl_lev = lev
        sl_v0 = val
        sl_k = k
        # right (flat) piece for decreasing segments: [p1, et) at the old M
        fl_a0 = np.where(part | none, p1, np.nan)
        fl_a1 = np.where(part | none, et, np.nan)
        fl_lev = ML.copy()
        fl_v = MV.copy()
        # flat piece for non-decreasing segments: [s, et) at the new M
        up_a0 = np.where(up, s, np.nan)
        up_a1 = np.where(up, et, np.nan)
        cols.append((fl_a0, fl_a1, fl_lev, fl_v, np.zeros(n)))
        cols.append((sl_a0, sl_a1, sl_lev, sl_v0, sl_k))
        cols.append((up_a0, up_a1, flat_up_l, flat_up_v, np.zeros(n)))
        # update M
        ML = np.where(up, flat_up_l, ML)
        MV = np.where(up, flat_up_v, MV)
        raise_dn = full_slope | part
        ML = np.where(raise_dn, lev, ML)
        MV = np.where(raise_dn, val, MV)
        gp = point & _gt(lev, val, ML, MV)
        ML = np.where(gp, lev, ML)
        MV = np.where(gp, val, MV)
    cols.reverse()
    a0 = np.column_stack([c[0] for c in cols])
    a1 = np.column_stack([c[1] for c in cols])
    lv = np.column_stack([c[2] for c in cols])
    v0 = np.column_stack([c[3] for c in cols])
    sk = np.column_stack([c[4] for c in cols])
    keep = np.isfinite(a0) & (a1 > a0)
    a0 = np.where(keep, a0, np.nan)
    a1 = np.where(keep, a1, np.nan)
    used = keep.any(axis=0)
    if not used.all():
        a0, a1, lv, v0, sk = (arr[:, used] for arr in (a0, a1, lv, v0, sk))
    lv = np.where(np.isfinite(a0), lv, np.nan)
    v0 = np.where(np.isfinite(a0) & (lv != _NEG_INF), v0, 0.0)
    sk = np.where(np.isfinite(a0) & (lv != _NEG_INF), sk, 0.0)
    return _Worst(a0, a1, lv, v0, sk, ML, np.where(ML == _NEG_INF, 0.0, MV))


def _descriptor_signature(S: _Segs) -> np.ndarray:
    """Hash of the combinatorial shape of each job's rank: segment count, levels, points."""
    valid = np.isfinite(S.start)
    lev = np.where(valid, S.level, 0.0)
    bits = np.ascontiguousarray(lev).view(np.int64) ^ np.int64(0x5DEECE66D)
    bits = np.where(valid, bits, 0)
    feats = [valid.sum(axis=1) + 1, bits, valid & (S.start == S.end),
             np.where(valid, np.sign(S.slope) + 2, 0)]
    return _signature_hash(feats)


def _wmul(w: np.ndarray, ph: np.ndarray) -> np.ndarray:
    """w[:, None] * ph, with 0 wherever w == 0 (even if ph overflowed)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(w[:, None] > 0, w[:, None] * ph, 0.0)


def _rows_phi(x: np.ndarray, g: _Geometry, rows: np.ndarray) -> np.ndarray:
    """_phi for sizes ``x`` against geometry rows ``rows`` (same length), shape (len(x), 3)."""
    return _phi(x, g.take(rows))


def _critical_values(S: _Segs, level: float, x: np.ndarray | None = None) -> np.ndarray:
    """Rank values on ``level`` where the other-job terms may change form (flattened).

    Segment start values, right-end limits, point values and (if ``x`` is given)
    the rank at age x of each job.
    """
    valid = np.isfinite(S.start)
    on = valid & (S.level == level)
    vals = [S.value[on]]
    fin = on & np.isfinite(S.end)
    vals.append(S.value[fin] + S.slope[fin] * (S.end[fin] - S.start[fin]))
    if x is not None:
        inside = on & (S.start <= x[:, None]) & (x[:, None] <= S.end)
        xs = np.broadcast_to(x[:, None], S.start.shape)
        vals.append(S.value[inside] + S.slope[inside] * (xs[inside] - S.start[inside]))
    out = np.concatenate(vals) if vals else np.empty(0)
    return out[np.isfinite(out)]


def _bisect_jumps(sig_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], lo: np.ndarray,
                  hi: np.ndarray, owner: np.ndarray, max_passes: int = 6) -> tuple[np.ndarray,
                                                                                     np.ndarray]:
    """Locate, to machine precision, where ``sig_fn(t, owner)`` changes inside the cells.

    ``lo``, ``hi``, ``owner`` describe cells whose end signatures differ. Returns
    (points, owners) of the located changes. A cell with several changes is
    re-examined up to ``max_passes`` times.
    """
    pts: list[np.ndarray] = []
    own: list[np.ndarray] = []
    lo = lo.astype(float)
    hi = hi.astype(float)
    owner = owner.astype(np.int64)
    for _ in range(max_passes):
        if lo.size == 0:
            break
        s_lo = sig_fn(lo, owner)
        s_hi = sig_fn(hi, owner)
        keep = s_lo != s_hi
        lo, hi, owner, s_lo, s_hi = lo[keep], hi[keep], owner[keep], s_lo[keep], s_hi[keep]
        if lo.size == 0:
            break
        a, b = lo.copy(), hi.copy()
        frac = np.arange(1, 8) / 8.0
        for _it in range(40):
            w = b - a
            live = np.flatnonzero((a + w / 8 > a) & (a + w / 8 < b))
            if live.size == 0:
                break
            probe = a[live, None] + w[live, None] * frac[None, :]  # (k, 7)
            sp = sig_fn(probe.ravel(), np.repeat(owner[live], 7)).reshape(live.size, 7)
            diff = sp != s_lo[live, None]
            first = np.where(diff.any(axis=1), diff.argmax(axis=1), 7)
            new_a = np.where(first > 0, probe[np.arange(live.size), np.maximum(first - 1, 0)],
                             a[live])
            new_b = np.where(first < 7, probe[np.arange(live.size), np.minimum(first, 6)],
                             b[live])
            a[live], b[live] = new_a, new_b
        # finish with plain bisection to the last representable point
        for _it in range(8):
            mid = 0.5 * (a + b)
            active = (mid > a) & (mid < b)
            if not np.any(active):
                break
            sm = sig_fn(mid[active], owner[active])
            left = sm == s_lo[active]
            ia = np.flatnonzero(active)
            a[ia[left]] = mid[active][left]
            b[ia[~left]] = mid[active][~left]
        pts.append(b.copy())
        own.append(owner.copy())
        # the rest of the cell, [b, hi], may contain further changes
        lo, hi = b, hi
        nonempty = hi > lo
        lo, hi, owner = lo[nonempty], hi[nonempty], owner[nonempty]
    if pts:
        return np.concatenate(pts), np.concatenate(own)
    return np.empty(0), np.empty(0, dtype=np.int64)


def _scan_grid(lo: float, hi: float, scale: float, n_lin: int = 16) -> np.ndarray:
    """Probe points strictly inside (lo, hi) for jump scanning: lo + scale·2^k, and a
    uniform grid if hi is finite."""
    pts = lo + scale * 2.0 ** np.arange(-40, 61, 1.0)
    if math.isfinite(hi):
        pts = np.concatenate([pts, np.linspace(lo, hi, n_lin + 1)])
    arr = np.unique(pts)
    return arr[(arr > lo) & (arr < hi)]


def _scan_jumps(sig_fn, lo: float, hi: float, n_owner: int, scale: float) -> np.ndarray:
    """Jump points of ``sig_fn(t, owner)`` per owner, as a (n_owner, k) NaN-padded array."""
    grid = _scan_grid(lo, hi, scale)
    G = grid.size
    t = np.tile(grid, n_owner)
    ow = np.repeat(np.arange(n_owner), G)
    sig = sig_fn(t, ow).reshape(n_owner, G)
    diff = sig[:, 1:] != sig[:, :-1]
    r, c = np.nonzero(diff)
    if r.size == 0:
        return np.full((n_owner, 0), np.nan)
    p, o = _bisect_jumps(sig_fn, grid[c], grid[c + 1], r)
    return _pad_by_owner(p, o, n_owner)


def _pad_by_owner(p: np.ndarray, o: np.ndarray, n_owner: int) -> np.ndarray:
    if p.size == 0:
        return np.full((n_owner, 0), np.nan)
    order = np.lexsort((p, o))
    p, o = p[order], o[order]
    counts = np.bincount(o, minlength=n_owner)
    K = int(counts.max())
    out = np.full((n_owner, K), np.nan)
    pos = np.arange(p.size) - np.repeat(np.cumsum(counts) - counts, counts)
    out[o, pos] = p
    return out


# =====================================================================================
# A subdivision shared by many integrals
# =====================================================================================
def _concat_segs(A: _Segs, B: _Segs) -> _Segs:
    """Rows of A then rows of B (padding columns as needed)."""
    m = max(A.m, B.m)

    def pad(S: _Segs) -> list[np.ndarray]:
        k = m - S.m
        if k == 0:
            return [S.start, S.end, S.level, S.value, S.slope]
        fill = [np.inf, np.inf, np.inf, 0.0, 0.0]
        return [np.concatenate([arr, np.full((arr.shape[0], k), f)], axis=1)
                for arr, f in zip((S.start, S.end, S.level, S.value, S.slope), fill)]

    return _Segs(*(np.concatenate([x, y]) for x, y in zip(pad(A), pad(B))))


class _SharedGrid:
    """A subdivision of [a, b] shared by many integrals ∫ Ψ(τ, query) dτ.

    Built adaptively on a smooth reference integrand, then refined for everyone
    where some query needs it. Every query is integrated with the panels'
    Gauss–Kronrod rule at the shared points, where per-point data (rank
    segments, inner cumulative moments) is computed once by ``prepare``. A panel
    on which the signature of Ψ (the combinatorial structure of the SOAP
    quantities) changes is split at the change points, located by bisection to
    machine precision, and its pieces integrated adaptively with fresh points.
    """

    def __init__(self, ref: Callable[[np.ndarray], np.ndarray], a: float, b: float,
                 pts: np.ndarray | None, scale: float, rtol: float,
                 prepare: Callable[[np.ndarray], dict[str, Any]]) -> None:
        pts2 = None if pts is None or np.size(pts) == 0 else np.asarray(pts, float)[None, :]
        _, _, _, pan = _bquad(lambda x, j: ref(x), np.array([a]), np.array([b]), pts2,
                              rtol=rtol, atol=1e-300, tail_scale=scale, limit=4000,
                              panels=True)
        self.c, self.L, self.H = pan.c, pan.L, pan.H
        self.scale = scale
        self.a0 = float(a)
        self.prepare = prepare
        self.points = np.empty(0)
        self.data: dict[str, Any] = {}
        self.lo = np.empty(0)
        self.hi = np.empty(0)
        self.kind = np.empty(0, np.int8)
        self.node_ids = np.empty((0, 21), np.int64)
        self.a_ids = np.empty(0, np.int64)
        self.b_ids = np.empty(0, np.int64)
        self.jac = np.empty((0, 21))
        self.xa = np.empty(0)
        self.sa = np.empty(0)
        self.xb = np.empty(0)
        self._add(pan.lo, pan.hi, pan.kind)

    @property
    def P(self) -> int:
        return self.lo.size

    def _add(self, lo: np.ndarray, hi: np.ndarray, kind: np.ndarray) -> None:
        k = lo.size
        own = np.zeros(k, np.int64)
        half = 0.5 * (hi - lo)
        t = 0.5 * (hi + lo)[:, None] + half[:, None] * GK21_NODES[None, :]
        x, jac = _map_nodes(t, kind, own, self.c, self.L, self.H)
        # nodes that overflow (t -> 1 in a tail panel) carry no weight
        bad = ~np.isfinite(x) | ~np.isfinite(jac)
        x = np.where(bad, np.finfo(float).max / 4, x)
        jac = np.where(bad, 0.0, jac)
        ends, _ = _map_nodes(np.column_stack([lo, hi]), kind, own, self.c, self.L, self.H)
        xa = ends[:, 0]
        xb = np.where((kind == _TAIL) & (hi >= 1.0), np.inf, ends[:, 1])
        # The domain's own lower end (e.g. a prediction of exactly 0) may have a degenerate
        # signature, so panels starting there are sampled just inside it instead: a point
        # δ = min(1e-13 · scale, 1e-3 · (first node − a)) above. A structure change between
        # that point and the first node is then detected and located (a size law starting at
        # x_lo > 0 puts one there for ranks just above x_lo); one below it is missed, at a
        # cost of at most the law's mass in [a, a + δ] times the integrand.
        at_a = xa <= self.a0
        gap = np.maximum(x[:, 0] - xa, 0.0)
        delta = np.minimum(1e-13 * max(abs(self.a0), self.scale), 1e-3 * gap)
        sa = np.where(at_a, xa + delta, xa)
        base = self.points.size
        newpts = np.concatenate([x.ravel(), sa, np.where(np.isfinite(xb), xb, xa)])
        self.points = np.concatenate([self.points, newpts])
        d = self.prepare(newpts)
        for key, val in d.items():
            if key not in self.data:
                self.data[key] = val
            elif isinstance(val, _Segs):
                self.data[key] = _concat_segs(self.data[key], val)
            elif isinstance(val, list):
                self.data[key] = self.data[key] + val
            else:
                self.data[key] = np.concatenate([self.data[key], val])
        self.lo = np.concatenate([self.lo, lo])
        self.hi = np.concatenate([self.hi, hi])
        self.kind = np.concatenate([self.kind, kind.astype(np.int8)])
        self.node_ids = np.concatenate([self.node_ids,
                                        base + np.arange(k * 21).reshape(k, 21)])
        self.a_ids = np.concatenate([self.a_ids, base + k * 21 + np.arange(k)])
        self.b_ids = np.concatenate([self.b_ids, base + k * 22 + np.arange(k)])
        self.jac = np.concatenate([self.jac, jac * half[:, None]])
        self.xa = np.concatenate([self.xa, xa])
        self.sa = np.concatenate([self.sa, sa])
        self.xb = np.concatenate([self.xb, xb])

    def _split(self, pidx: np.ndarray) -> np.ndarray:
        """Bisect panels pidx for everyone; returns the indices of the new panels."""
        keep = np.ones(self.P, bool)
        keep[pidx] = False
        lo, hi, kind = self.lo[pidx], self.hi[pidx], self.kind[pidx]
        mid = 0.5 * (lo + hi)
        for name in ("lo", "hi", "kind", "node_ids", "a_ids", "b_ids", "jac", "xa", "sa", "xb"):
            setattr(self, name, getattr(self, name)[keep])
        start = self.P
        self._add(np.concatenate([lo, mid]), np.concatenate([mid, hi]),
                  np.concatenate([kind, kind]))
        return np.arange(start, self.P)

    def _eval_panels(self, pidx: np.ndarray, node_eval, q: int, m: int):
        """GK results, errors and sample signatures of panels pidx for all queries."""
        k = pidx.size
        res = np.zeros((q, k, m))
        err = np.zeros((q, k, m))
        smp = np.zeros((q, k, 23), np.uint64)
        ids_all = np.concatenate([self.node_ids[pidx].ravel(), self.a_ids[pidx],
                                  self.b_ids[pidx]])
        npt = ids_all.size
        chunk = max(1, int(1_500_000 // max(npt, 1)))
        jac = self.jac[pidx]
        finite_b = np.isfinite(self.xb[pidx])
        for i0 in range(0, q, chunk):
            i1 = min(q, i0 + chunk)
            qc = i1 - i0
            ids = np.tile(ids_all, qc)
            qi = np.repeat(np.arange(i0, i1), npt)
            val, sig = node_eval(ids, qi)
            val = val.reshape(qc, npt, m)
            sig = sig.reshape(qc, npt)
            fx = val[:, : k * 21].reshape(qc, k, 21, m) * jac[None, :, :, None]
            # jac already holds the half-widths: unit half-widths in the Kronrod reduction
            rk, ek = kronrod_estimate(fx.reshape(qc * k, 21, m), np.ones(qc * k))
            res[i0:i1] = rk.reshape(qc, k, m)
            err[i0:i1] = ek.reshape(qc, k, m)
            s_nodes = sig[:, : k * 21].reshape(qc, k, 21)
            s_a = sig[:, k * 21: k * 22]  # at the panel's start (just inside the domain's)
            s_b = np.where(finite_b[None, :], sig[:, k * 22:], s_nodes[:, :, -1])
            smp[i0:i1] = np.concatenate([s_a[:, :, None], s_nodes, s_b[:, :, None]], axis=2)
        return res, err, smp

    def integrate(self, node_eval, fresh_eval, fresh_sig, q: int, m: int, rtol: float,
                  atol: float) -> tuple[np.ndarray, np.ndarray]:
        """Integrals for queries 0..q-1: ``node_eval(ids, qi) -> (values (k, m), sig (k,))``
        at shared points, ``fresh_eval(t, qi) -> values``, ``fresh_sig(t, qi) -> sig``."""
        res, err, smp = self._eval_panels(np.arange(self.P), node_eval, q, m)
        # refine the shared panels (for everyone) where smooth parts are not resolved
        for _round in range(12):
            changed = np.any(smp != smp[:, :, :1], axis=2)
            tot = res.sum(axis=1)
            tol = np.maximum(atol, rtol * np.abs(tot))  # (q, m)
            e_ok = np.where(changed[:, :, None], 0.0, err)
            need = np.any(e_ok.sum(axis=1) > 0.5 * tol, axis=1)
            if not np.any(need):
                break
            share = 0.5 * tol[need][:, None, :] / max(self.P, 1)
            bad = np.any(e_ok[need] > share, axis=2)
            pidx = np.flatnonzero(bad.any(axis=0))
            if pidx.size == 0 or self.P + pidx.size > 4000:
                break
            keep = np.ones(self.P, bool)
            keep[pidx] = False
            new = self._split(pidx)
            r2, e2, s2 = self._eval_panels(new, node_eval, q, m)
            res = np.concatenate([res[:, keep], r2], axis=1)
            err = np.concatenate([err[:, keep], e2], axis=1)
            smp = np.concatenate([smp[:, keep], s2], axis=1)
        changed = np.any(smp != smp[:, :, :1], axis=2)
        # ------------------------------------------------- panels with a structure change
        fix_q, fix_p = np.nonzero(changed)
        if fix_q.size:
            xs = np.concatenate([self.sa[:, None], self.points[self.node_ids],
                                 self.xb[:, None]], axis=1)  # (P, 23)
            sm = smp[fix_q, fix_p]
            dif = sm[:, 1:] != sm[:, :-1]
            dif[:, -1] &= np.isfinite(self.xb[fix_p])
            r, cidx = np.nonzero(dif)
            pair = np.arange(fix_q.size)
            lo = xs[fix_p[r], cidx]
            hi = xs[fix_p[r], cidx + 1]

            def sig_pair(t, kk):
                return fresh_sig(t, fix_q[kk])

            cp, cown = _bisect_jumps(sig_pair, lo, hi, pair[r])
            pts = _pad_by_owner(cp, cown, fix_q.size)
            share = np.maximum(atol, rtol * np.abs(res.sum(axis=1)))[fix_q] / max(self.P, 1)
            val, e2, _ = _bquad(lambda t, kk: fresh_eval(t, fix_q[kk]), self.xa[fix_p],
                                self.xb[fix_p], pts, rtol=0.5 * rtol, atol=0.5 * share,
                                tail_scale=self.scale, limit=400)
            res[fix_q, fix_p] = val
            err[fix_q, fix_p] = e2
        return res.sum(axis=1), err.sum(axis=1)


# =====================================================================================
# The workload seen by the engine: the law of (size, descriptor) as components
# =====================================================================================
_DEPENDENCES = ("none", "x", "y", "xy")


def _dependence(policy: Any, workload: Any) -> str:
    """What a policy's descriptor depends on: "none", "x", "y" or "xy".

    In this order: the policy's own declaration ``policy.descriptor_dependence``
    (authoritative; OneBit, SkipPredict and LimitedPreemptionSPRPT set it);
    ``policy.uses`` for the default descriptor; otherwise an overridden
    :meth:`Policy.descriptor` is probed at random (size, prediction) pairs *and*
    at the atoms of the workload's law (sizes, predictions, joint pairs, and
    y = 0), so that a descriptor that changes only at an atom (e.g. a one-bit
    threshold 0 with predictions exactly 0) is not mistaken for a constant.
    """
    from .policies.base import Policy

    declared = getattr(policy, "descriptor_dependence", None)
    if declared is not None:
        if declared not in _DEPENDENCES:
            raise ParameterError(f"{getattr(policy, 'name', type(policy).__name__)}."
                                 f"descriptor_dependence must be one of {_DEPENDENCES} "
                                 f"(got {declared!r})")
        return str(declared)
    if type(policy).descriptor is Policy.descriptor:
        return {"nothing": "none", "size": "x", "prediction": "y"}.get(policy.uses, "xy")
    rng = np.random.default_rng(20180601)
    scale = _size_scale(workload.size)
    x1, y1 = (scale * rng.exponential(1.0, 48) for _ in range(2))
    xs, ys = _probe_atoms(workload)
    x1 = np.concatenate([x1, xs, xs])
    y1 = np.concatenate([y1, ys, np.zeros(xs.size)])
    # partners: another probe's size (resp. prediction), in a random order
    x2 = x1[rng.permutation(x1.size)]
    y2 = y1[rng.permutation(y1.size)]
    x2 = np.where(x2 == x1, np.roll(x2, 1), x2)
    y2 = np.where(y2 == y1, np.roll(y2, 1), y2)
    d = np.asarray(policy.descriptor(x1, y1), float)
    dx = np.asarray(policy.descriptor(x2, y1), float)
    dy = np.asarray(policy.descriptor(x1, y2), float)
    on_x = not np.array_equal(d, dx)
    on_y = not np.array_equal(d, dy)
    return {(False, False): "none", (True, False): "x", (False, True): "y",
            (True, True): "xy"}[(on_x, on_y)]


def _probe_atoms(workload: Any, limit: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(sizes, predictions) of the atoms of the workload's law, to probe descriptors at.

    The size atoms paired with themselves (exact predictions) and the joint atoms
    of an atomic (size, prediction) law; at most ``limit`` of each kind.
    """
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    try:
        vals, probs = workload.size.atoms
        vals = np.asarray(vals, float)[np.asarray(probs, float) > 0][:limit]
        xs.append(vals)
        ys.append(vals)
        if workload.has_prediction:
            joint = workload.joint
            if hasattr(joint, "x") and hasattr(joint, "y") \
                    and not getattr(joint, "has_density_y", True):
                xs.append(np.asarray(joint.x, float).ravel()[:limit])
                ys.append(np.asarray(joint.y, float).ravel()[:limit])
    except Exception:  # pragma: no cover - defensive: probing is best effort
        pass
    if not xs:
        return np.empty(0), np.empty(0)
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y >= 0)
    return x[ok], y[ok]


def _size_scale(size: Any) -> float:
    try:
        s = float(size._scale())
    except Exception:  # pragma: no cover - defensive
        s = 1.0
    return s if math.isfinite(s) and s > 0 else 1.0


class _Model:
    """The law of (X, Y) split into components the engine integrates, plus the policy.

    * ``atoms``: finitely many (probability, x, y) triples (exact sums);
    * ``single``: continuous sizes, one common descriptor (no descriptor or Y
      irrelevant); per-job quantities are piecewise polynomials in x with known kinks;
    * ``lines``: continuous sizes with y = r·x (exact predictions r = 1, or an
      atom r of a multiplicative error), descriptor a function of x;
    * ``plane``: a continuous prediction given the size (density p(y | x)),
      descriptor a function of y: outer integral over y, inner over x.
    """

    def __init__(self, policy: Any, workload: Any, rtol: float) -> None:
        from .predictions.multiplicative import MultiplicativePrediction

        if not getattr(policy, "is_soap", True) or getattr(policy, "processor_sharing", False) \
                or getattr(policy, "tie_break", "fcfs") != "fcfs":
            raise ParameterError(
                f"{getattr(policy, 'name', type(policy).__name__)} is not a SOAP policy (its "
                f"priority depends on the order of arrivals or on the queue, not only on a "
                f"job's descriptor and age), so the SOAP theorem does not cover it; use its "
                f"closed form or the simulator")
        workload.check_stable()
        self.policy = policy
        self.workload = workload
        self.rtol = float(rtol)
        self.lam = float(workload.arrival_rate)
        self.rho = self.lam * float(workload.mean_size)
        size = workload.size
        self.size = size
        self.scale = _size_scale(size)
        vals, probs = size.atoms
        keep = probs > 0
        self.x_atoms, self.x_probs = np.asarray(vals[keep], float), np.asarray(probs[keep], float)
        self.x_cont = bool(size._has_continuous_part()) and float(self.x_probs.sum()) < 1 - 1e-12
        lo, hi = size.support
        self.x_lo, self.x_hi = float(lo), float(hi)
        self.x_breaks = np.asarray(size.breakpoints(), float)
        pred = workload.prediction
        self.pred = pred
        dep = _dependence(policy, workload)
        perfect = bool(getattr(pred, "perfect", False))
        if perfect and dep in ("y", "xy"):
            dep = "x"
        self.dep = dep
        self.m2_infinite = math.isinf(float(size.moment(2)))
        # ---------------------------------------------------------------- components
        atoms_p: list[np.ndarray] = []
        atoms_x: list[np.ndarray] = []
        atoms_y: list[np.ndarray] = []
        self.lines: list[tuple[float, float]] = []  # (ratio, weight)
        self.single = False
        self.plane = False
        self.plane_atoms = (np.empty(0), np.empty(0))
        self.plane_cont = False
        if dep in ("none", "x"):
            atoms_p.append(self.x_probs)
            atoms_x.append(self.x_atoms)
            atoms_y.append(self.x_atoms)
            if self.x_cont:
                if dep == "none":
                    self.single = True
                else:
                    self.lines.append((1.0, 1.0))
        else:
            joint = workload.joint
            if hasattr(joint, "w") and hasattr(joint, "x") and hasattr(joint, "y") \
                    and not getattr(joint, "has_density_y", True):
                atoms_p.append(np.asarray(joint.w, float))
                atoms_x.append(np.asarray(joint.x, float))
                atoms_y.append(np.asarray(joint.y, float))
            elif isinstance(pred, MultiplicativePrediction):
                r_vals, r_w = (np.asarray(a, float) for a in pred._r_atoms())
                for r, w in zip(r_vals, r_w):
                    if w <= 0:
                        continue
                    atoms_p.append(self.x_probs * w)
                    atoms_x.append(self.x_atoms)
                    atoms_y.append(self.x_atoms * r)
                    if self.x_cont:
                        self.lines.append((float(r), float(w)))
                if pred._r_range() is not None and pred._r_mass() > 0:
                    self.plane = True
            else:
                self.plane = True
            if self.plane:
                self.plane_atoms = (self.x_atoms, self.x_probs)
                self.plane_cont = self.x_cont
            if dep == "xy" and (self.plane or self.lines):
                if self.plane:
                    raise ParameterError(
                        f"{policy.name}: descriptors that depend on both the size and a "
                        f"continuous prediction are not supported by the SOAP engine yet")
        p = np.concatenate(atoms_p) if atoms_p else np.empty(0)
        x = np.concatenate(atoms_x) if atoms_x else np.empty(0)
        y = np.concatenate(atoms_y) if atoms_y else np.empty(0)
        keep = p > 0
        self.atom_p, self.atom_x, self.atom_y = p[keep], x[keep], y[keep]
        if self.atom_p.size > MAX_ATOMS:
            raise ParameterError(
                f"the SOAP engine evaluates atomic laws exactly at a cost quadratic in the "
                f"number of atoms; this workload has {self.atom_p.size} > MAX_ATOMS = "
                f"{MAX_ATOMS} (use the policy's closed form, or the simulator)")
        self.continuous = self.single or bool(self.lines) or self.plane
        self._drop_q = False
        self._cum_size: _Cum | None = None
        self._grids: dict[tuple[str, int], _SharedGrid] = {}
        #: a typical size of the old-job term Q: λ E[min(S, 10 scale)²]
        self.q_scale = self.lam * float(size.limited_moment(2, 10 * self.scale))
        self._segs0: _Segs | None = None
        self._atom_segs: _Segs | None = None

    # ------------------------------------------------------------------ descriptors
    def segments(self, x: np.ndarray, y: np.ndarray) -> _Segs:
        """Canonical rank segments of jobs (x, y) (broadcast row for "none")."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        if self.dep == "none":
            if self._segs0 is None:
                one = np.ones(1)
                self._segs0 = self._rank(self.policy.descriptor(one * self.scale,
                                                                one * self.scale))
            return self._segs0
        if self.dep == "x":
            y = x
        d = self.policy.descriptor(x, y)
        return self._rank(d)

    def _rank(self, d: Any) -> _Segs:
        pr = self.policy.rank_segments(d)
        S = _canonical_segments(pr, who=f"{self.policy.name}.rank_segments")
        n = np.asarray(d).shape[0] if np.asarray(d).ndim else 1
        if S.n != n:
            raise ParameterError(f"{self.policy.name}.rank_segments returned {S.n} rows for "
                                 f"{n} descriptors")
        return S.compact()

    def rows(self, S: _Segs, n: int) -> _Segs:
        """``S`` expanded to ``n`` rows if it is a broadcast single row."""
        if S.n == n:
            return S
        return _Segs(*(np.broadcast_to(a, (n, a.shape[1])) for a in
                       (S.start, S.end, S.level, S.value, S.slope)))

    @property
    def atom_segs(self) -> _Segs:
        if self._atom_segs is None:
            if self.atom_p.size:
                self._atom_segs = self.rows(self.segments(self.atom_x, self.atom_y),
                                            self.atom_p.size)
            else:
                self._atom_segs = _Segs(*(np.empty((0, 1)),) * 5)
        return self._atom_segs

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.size.pdf(x), float)

    def cond_pdf(self, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Density of the continuous part of Y given X = x."""
        return np.asarray(self.pred._cond_pdf(np.asarray(y, float), np.asarray(x, float)), float)

    def x_kinks_of_y(self, y: np.ndarray) -> np.ndarray:
        """Kinks in x of the conditional density at fixed y, shape (len(y), k)."""
        try:
            k = np.asarray(self.pred._x_kinks_batch(np.asarray(y, float)), float)
            return k.reshape(y.size, -1)
        except (AttributeError, NotImplementedError):  # pragma: no cover - old models
            return np.full((y.size, 0), np.nan)

    # ------------------------------------------------------- other jobs: N, O, Q at ranks
    @property
    def inner_rtol(self) -> float:
        """Accuracy of the other-job integrals: tight enough that 1/(1 − ρ^new) keeps
        0.01 rtol relative accuracy at the load ρ."""
        rho = self.lam * float(self.workload.mean_size)
        return max(0.1 * self.rtol * (1.0 - rho), 1e-14)

    def other_terms(self, level: float, V: np.ndarray,
                    cols: tuple[int, ...] = (0, 1, 2)) -> tuple[np.ndarray, np.ndarray]:
        """(ρ^new, ρ^old_0, λ Σ E[(X^old_i)²]) at ranks (level, V), with error estimates.

        Returns two arrays of shape (len(V), 3): values and absolute errors (only the
        columns ``cols`` are computed; the others are 0).
        """
        V = np.atleast_1d(np.asarray(V, float))
        if level == _NEG_INF:
            V = np.zeros_like(V)
        q = V.size
        val = np.zeros((q, 3))
        err = np.zeros((q, 3))
        if q == 0:
            return val, err
        cols = tuple(sorted(set(cols)))
        saved, self._drop_q = self._drop_q, 2 not in cols
        try:
            return self._other_terms(level, V, cols)
        finally:
            self._drop_q = saved

    def _other_terms(self, level, V, cols):
        q = V.size
        val = np.zeros((q, 3))
        err = np.zeros((q, 3))
        L = np.full(q, float(level))
        if 2 in cols and self.m2_infinite and self.continuous:
            q_inf = self._q_infinite(L, V)
            if np.any(q_inf):
                rest = tuple(c for c in cols if c != 2)
                v1, e1 = self.other_terms(level, V, rest) if rest else (val, err)
                fin = ~q_inf
                if np.any(fin):
                    v2, e2 = self.other_terms(level, V[fin], cols)
                    v1[fin], e1[fin] = v2, e2
                v1[q_inf, 2] = np.inf
                e1[q_inf, 2] = 0.0
                return v1, e1
        if self.atom_p.size:
            v, e = self._atoms_terms(L, V)
            val += v
            err += e
        if self.single:
            v, e = self._single_terms(L, V, cols)
            val += v
            err += e
        for k, (r, w) in enumerate(self.lines):
            v, e = self._line_terms(L, V, k, r, w, cols)
            val += v
            err += e
        if self.plane:
            v, e = self._plane_terms(L, V, cols)
            val += v
            err += e
        keep = np.zeros(3, bool)
        keep[list(cols)] = True
        val[:, ~keep] = 0.0
        err[:, ~keep] = 0.0
        return self.lam * val, self.lam * err

    def _q_infinite(self, L: np.ndarray, V: np.ndarray) -> np.ndarray:
        """True where Σ E[(X^old_i)²] = ∞: E[S²] = ∞ and an old job's relevant service
        grows linearly with its size (e.g. it runs to completion), probed at huge sizes.

        Sizes (one common descriptor) or descriptors that are functions of the size
        (lines): the relevant service must be the whole size at every probe of a ladder
        from a size beyond the bulk of the law up to :data:`_Q_PROBE_MAX`; a job that is
        relevant only below some size (PSJF at rank v: sizes <= v) keeps the term finite
        however large v is. Continuous predictions: probed at two sizes with their
        median prediction.

        >>> import queuetheory as qt
        >>> w = qt.Workload(0.2, qt.Pareto(shape=1.5, scale=1.0))  # E[S²] = ∞
        >>> m = _Model(qt.PSJF(), w, 1e-6)
        >>> bool(m._q_infinite(np.zeros(1), np.array([4e9]))[0])
        False
        >>> v, _ = m.other_terms(0.0, np.array([4e9]))  # λ E[S² 1(S < v)] = 0.6 (√v − 1)
        >>> round(float(v[0, 2]) / (0.6 * (4e9 ** 0.5 - 1)), 9)
        1.0
        >>> bool(_Model(qt.SJF(), w, 1e-6)._q_infinite(np.zeros(1), np.array([4e9]))[0])
        True
        """
        q = V.size
        big = self.scale * 1e9
        try:
            qb = float(self.size.ppf(1 - 1e-12))
            if math.isfinite(qb):
                big = max(big, 10 * qb)
        except Exception:  # pragma: no cover - defensive
            pass
        out = np.zeros(q, dtype=bool)
        if not self.plane and big < _Q_PROBE_MAX:
            xs = big * _Q_PROBE_STEP ** np.arange(
                0.0, math.ceil(math.log(_Q_PROBE_MAX / big) / math.log(_Q_PROBE_STEP)) + 1)
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    S = self.segments(np.ones(1), np.ones(1)) if self.single else \
                        self.rows(self.segments(xs, self.lines[0][0] * xs), xs.size)
            except (ParameterError, FloatingPointError, OverflowError):
                S = None  # ranks not representable at huge sizes: the two-probe test
            if S is not None:
                k = xs.size
                Sq = S if S.n == 1 else S.take(np.tile(np.arange(k), q))
                g = _geometry(Sq, np.repeat(L, k), np.repeat(V, k))
                xq = np.tile(xs, q)
                ph = _phi(xq, g)[:, 2]
                return np.all((ph >= 1e-3 * xq * xq).reshape(q, k), axis=1)
        xs = np.array([big, 4 * big])
        if self.single:
            S = self.segments(np.ones(1), np.ones(1))
        else:
            ratio = 1.0
            if self.plane and hasattr(self.pred, "_r_ppf") and self.pred._r_range() is not None:
                ratio = float(self.pred._r_ppf(np.array([0.5]))[0])
            elif self.lines:
                ratio = self.lines[0][0]
            S = self.rows(self.segments(xs, ratio * xs), 2)
        for j, xb in enumerate(xs):
            Sj = S if S.n == 1 else S.take(slice(j, j + 1))
            g = _geometry(Sj, L, V)
            ph = _phi(np.full(q, xb), g)[:, 2]
            out |= ph >= 1e-3 * xb * xb
        return out

    def _atoms_terms(self, L: np.ndarray, V: np.ndarray):
        S = self.atom_segs
        p, x = self.atom_p, self.atom_x
        n = p.size
        q = V.size
        out = np.zeros((q, 3))
        mag = np.zeros((q, 3))
        chunk = max(1, int(3e6 // max(1, n * S.m)))
        for i0 in range(0, q, chunk):
            i1 = min(q, i0 + chunk)
            qc = i1 - i0
            Sp = _Segs(*(np.tile(a, (qc, 1)) for a in (S.start, S.end, S.level, S.value,
                                                         S.slope)))
            g = _geometry(Sp, np.repeat(L[i0:i1], n), np.repeat(V[i0:i1], n))
            ph = _phi(np.tile(x, qc), g).reshape(qc, n, 3) * p[None, :, None]
            out[i0:i1] = ph.sum(axis=1)
            mag[i0:i1] = np.abs(ph).sum(axis=1)
        return out, 4 * _EPS * math.log2(n + 1) * mag

    def _x_points(self, kinks: np.ndarray) -> np.ndarray:
        """Breakpoints in x: per-owner kinks plus the size law's breakpoints and atoms."""
        extra = np.concatenate([self.x_breaks, self.x_atoms])
        if extra.size:
            kinks = np.column_stack([kinks, np.broadcast_to(extra, (kinks.shape[0], extra.size))])
        return kinks

    # ---- single descriptor, continuous sizes: cumulative moments of the size density
    def _size_cum(self) -> _Cum:
        if self._cum_size is None:
            pts = np.concatenate([self.x_breaks, self.x_atoms])
            self._cum_size = _build_cum(lambda x, j: self.pdf(x), np.array([self.x_lo]),
                                        np.array([self.x_hi]), pts[None, :] if pts.size else None,
                                        scale=self.scale, rtol=0.1 * self.inner_rtol)
        return self._cum_size

    def _single_terms(self, L: np.ndarray, V: np.ndarray, cols):
        """Continuous sizes, one common descriptor: exact combination of the size law's
        cumulative moments at the kinks of the piecewise polynomials."""
        S0 = self.segments(np.ones(1), np.ones(1))
        g = _geometry(S0, L, V)
        val = _cum_phi(self._size_cum(), np.zeros(V.size, np.int64), g, drop_q=2 not in cols)
        return val, 0.1 * self.inner_rtol * np.abs(val) + 16 * _EPS * np.abs(val)

    # ---- lines: continuous sizes, y = r x, descriptor a function of x
    def _line_grid(self, k: int, r: float, w: float) -> _SharedGrid:
        key = ("line", k)
        if key not in self._grids:
            pts = np.concatenate([self.x_breaks, self.x_atoms])

            def ref(x):
                f = self.pdf(x)
                with np.errstate(over="ignore", invalid="ignore"):
                    out = np.column_stack([f, f * x, f * x * x])
                return np.where(f[:, None] > 0, out, 0.0)

            def prepare(points):
                S = self.rows(self.segments(points, r * points), points.size)
                return {"S": S, "dsig": _descriptor_signature(S), "w": w * self.pdf(points)}

            self._grids[key] = _SharedGrid(ref, self.x_lo, self.x_hi, pts, self.scale,
                                           0.1 * self.inner_rtol, prepare)
        return self._grids[key]

    def _line_terms(self, L, V, k, r, w, cols):
        grid = self._line_grid(k, r, w)
        new_only = cols == (0,)

        def node_eval(ids, qi):
            x = grid.points[ids]
            g = _geometry(grid.data["S"].take(ids), L[qi], V[qi])
            val = _wmul(grid.data["w"][ids], self._ph(x, g))
            gs = g.sig_new if new_only else g.sig
            return val, _signature_hash([gs, _phi_position(x, g, new_only),
                                         grid.data["dsig"][ids]])

        def fresh(t, qi):
            S = self.rows(self.segments(t, r * t), t.size)
            g = _geometry(S, L[qi], V[qi])
            return S, g

        def fresh_eval(t, qi):
            _, g = fresh(t, qi)
            return _wmul(w * self.pdf(t), self._ph(t, g))

        def fresh_sig(t, qi):
            S, g = fresh(t, qi)
            gs = g.sig_new if new_only else g.sig
            return _signature_hash([gs, _phi_position(t, g, new_only), _descriptor_signature(S)])

        return grid.integrate(node_eval, fresh_eval, fresh_sig, V.size, 3, self.inner_rtol,
                              1e-3 * self.inner_rtol * self.q_scale / max(self.lam, 1e-300))

    # ---- plane: continuous prediction given the size, descriptor a function of y
    def band_kinks(self, y: np.ndarray) -> np.ndarray:
        """Kinks in x of the conditional density p(y | x) at fixed y, (len(y), k)."""
        from .predictions.multiplicative import MultiplicativePrediction

        y = np.asarray(y, float)
        if isinstance(self.pred, MultiplicativePrediction):
            rng = self.pred._r_range()
            rs = [np.asarray(self.pred._r_kinks(), float).ravel()]
            if rng is not None:
                rs.append(np.asarray(rng, float))
            r = np.concatenate(rs)
            r = r[np.isfinite(r) & (r > 0)]
            with np.errstate(divide="ignore"):
                return y[:, None] / r[None, :] if r.size else np.full((y.size, 0), np.nan)
        return self.x_kinks_of_y(y)

    def _plane_grid(self) -> _SharedGrid:
        key = ("plane", 0)
        if key not in self._grids:
            joint = self.workload.joint

            def ref(y):
                cols = [np.asarray(joint.moment_density_y(k, y), float) for k in (0, 1, 2)]
                out = np.column_stack(cols)
                return np.where(np.isfinite(out), out, 0.0)

            def prepare(yp):
                S = self.rows(self.segments(yp, yp), yp.size)
                out: dict[str, Any] = {"S": S, "dsig": _descriptor_signature(S)}
                if self.plane_cont:
                    n = yp.size
                    pts = self._x_points(self.band_kinks(yp))
                    cum = _build_cum(lambda x, j: self.pdf(x) * self.cond_pdf(yp[j], x),
                                     np.full(n, self.x_lo), np.full(n, self.x_hi), pts,
                                     scale=self.scale, rtol=0.1 * self.inner_rtol)
                    out["cum_n"] = np.full(n, len(self._plane_cum_blocks))
                    self._plane_cum_blocks.append(cum)
                    out["cum_local"] = np.arange(n)
                return out

            self._plane_cum_blocks: list[_Cum] = []
            self._grids[key] = _SharedGrid(ref, 0.0, math.inf, None, self.scale,
                                           0.1 * self.inner_rtol, prepare)
        return self._grids[key]

    def _plane_cum_phi(self, grid: _SharedGrid, ids: np.ndarray, g: _Geometry,
                       drop_q: bool) -> np.ndarray:
        block = grid.data["cum_n"][ids]
        local = grid.data["cum_local"][ids]
        out = np.zeros((ids.size, 3))
        for bidx in np.unique(block):
            sel = np.flatnonzero(block == bidx)
            out[sel] = _cum_phi(self._plane_cum_blocks[bidx], local[sel], g.take(sel), drop_q)
        return out

    def _plane_atoms(self, y: np.ndarray, g: _Geometry) -> np.ndarray:
        xa, pa = self.plane_atoms
        P = y.size
        if not xa.size:
            return np.zeros((P, 3))
        rows = np.repeat(np.arange(P), xa.size)
        xs = np.tile(xa, P)
        wgt = np.tile(pa, P) * self.cond_pdf(y[rows], xs)
        return _wmul(wgt, self._ph(xs, g.take(rows))).reshape(P, xa.size, 3).sum(axis=1)

    def _plane_terms(self, L, V, cols):
        grid = self._plane_grid()
        new_only = cols == (0,)

        def node_eval(ids, qi):
            y = grid.points[ids]
            g = _geometry(grid.data["S"].take(ids), L[qi], V[qi])
            val = self._plane_atoms(y, g)
            if self.plane_cont:
                val += self._plane_cum_phi(grid, ids, g, self._drop_q or 2 not in cols)
            gs = g.sig_new if new_only else g.sig
            return val, _signature_hash([gs, grid.data["dsig"][ids]])

        def fresh(t, qi):
            S = self.rows(self.segments(t, t), t.size)
            return S, _geometry(S, L[qi], V[qi])

        def fresh_eval(t, qi):
            _, g = fresh(t, qi)
            return self._plane_inner(t, g, cols)

        def fresh_sig(t, qi):
            S, g = fresh(t, qi)
            gs = g.sig_new if new_only else g.sig
            return _signature_hash([gs, _descriptor_signature(S)])

        val, err = grid.integrate(node_eval, fresh_eval, fresh_sig, V.size, 3, self.inner_rtol,
                                  1e-3 * self.inner_rtol * self.q_scale / max(self.lam, 1e-300))
        return val, err + 0.1 * self.inner_rtol * np.abs(val)

    def _plane_inner(self, y: np.ndarray, g: _Geometry, cols=(0, 1, 2)) -> np.ndarray:
        """∫ f(x) p(y | x) φ(x; g) dx (+ Σ atoms) for every node y, shape (len(y), 3)."""
        P = y.size
        out = self._plane_atoms(y, g)
        if self.plane_cont and P:
            kinks = g.kinks() if 2 in cols else g.kinks()[:, :1]
            if self._plane_pure():
                # no kink inside (0, inf): φ is one quadratic in x, a combination of moments
                plain = np.all(np.isnan(kinks) | (kinks <= self.x_lo), axis=1)
                if np.any(plain):
                    ip = np.flatnonzero(plain)
                    totals = np.zeros((P, 3))
                    totals[ip] = self._plane_totals(y[ip])
                    gp = g.take(ip)
                    xs = np.array([1.0, 2.0, 3.0]) * self.scale
                    ph = np.stack([self._ph(np.full(ip.size, xv), gp) for xv in xs], axis=2)
                    # quadratic through the three points: a + b x + c x²
                    A = np.vander(xs, 3, increasing=True)
                    coef = np.einsum("ij,pmj->pmi", np.linalg.inv(A), ph)  # (p, 3, 3)
                    out[ip] += np.einsum("pmi,pi->pm", coef, totals[ip])
                    keep = np.flatnonzero(~plain)
                    if keep.size:
                        out[keep] += self._plane_inner_quad(y[keep], g.take(keep), kinks[keep])
                    return out
            out += self._plane_inner_quad(y, g, kinks)
        return out

    def _plane_pure(self) -> bool:
        """True if the joint law is purely continuous (its Y-moment densities are the plane's)."""
        return not (self.lines or self.atom_p.size or self.x_atoms.size)

    def _plane_totals(self, y: np.ndarray) -> np.ndarray:
        """∫ x^k f(x) p(y | x) dx for k = 0, 1, 2 (purely continuous joint law)."""
        joint = self.workload.joint
        out = np.column_stack([np.asarray(joint.moment_density_y(k, y), float).reshape(-1)
                               for k in (0, 1, 2)])
        return np.where(np.isfinite(out), out, 0.0)

    def _plane_inner_quad(self, y: np.ndarray, g: _Geometry, kinks: np.ndarray) -> np.ndarray:
        P = y.size
        out = np.zeros((P, 3))
        if P:
            # a size equal to the prediction, x = y, as a soft break below the size scale:
            # p(y | x) varies on the scale x ~ y (like 1/x on [y, scale] for an exponential
            # error), and the finite piece of one scale before the tail (``tail_piece``) is
            # then split geometrically from y at once, not bisected one level per round
            soft = np.where((y > self.x_lo) & (y < self.scale), y, np.nan)
            pts = self._x_points(np.column_stack([kinks, self.band_kinks(y), soft]))
            chunk = 4096
            for i0 in range(0, P, chunk):
                idx = np.arange(i0, min(P, i0 + chunk))
                yy = y[idx]
                gg = g.take(idx)

                def f(t, i, yy=yy, gg=gg):
                    return _wmul(self.pdf(t) * self.cond_pdf(yy[i], t), self._ph(t, gg.take(i)))

                v, _, _ = _bquad(f, np.full(idx.size, self.x_lo), np.full(idx.size, self.x_hi),
                                 pts[idx], rtol=0.1 * self.inner_rtol, atol=1e-300,
                                 tail_scale=self.scale, limit=4000, tail_piece=True)
                out[idx] += v
        return out

    def _ph(self, x: np.ndarray, g: _Geometry) -> np.ndarray:
        ph = _phi(x, g)
        if self._drop_q:
            ph[:, 2] = 0.0
        return ph


# =====================================================================================
# Rank-indexed tables of the other-job terms
# =====================================================================================
_CN = 17
_THETA = np.pi * (np.arange(_CN) + 0.5) / _CN
_CNODES = np.cos(_THETA)
_C2C = (2.0 / _CN) * np.cos(np.outer(np.arange(_CN), _THETA))
_C2C[0] *= 0.5


def _cheb_eval(coef: np.ndarray, p: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Σ_k coef[p, ..., k] T_k(t) for coef (P, c, K), rows p and t (n,): (n, c) (Clenshaw)."""
    K = coef.shape[-1]
    b1 = np.zeros((p.size,) + coef.shape[1:-1])
    b2 = np.zeros_like(b1)
    tt = (2.0 * t).reshape((-1,) + (1,) * (b1.ndim - 1))
    for k in range(K - 1, 0, -1):
        b1, b2 = coef[p, ..., k] + tt * b1 - b2, b1
    return coef[p, ..., 0] + 0.5 * tt * b1 - b2


def _cheb_antiderivative(c: np.ndarray) -> np.ndarray:
    """Coefficients of ∫_{-1}^t Σ c_k T_k for c (..., K): shape (..., K + 1)."""
    K = c.shape[-1]
    cc = np.concatenate([c, np.zeros(c.shape[:-1] + (2,))], axis=-1)
    A = np.zeros(c.shape[:-1] + (K + 1,))
    A[..., 1] = cc[..., 0] - 0.5 * cc[..., 2]
    for k in range(2, K + 1):
        A[..., k] = (cc[..., k - 1] - cc[..., k + 1]) / (2 * k)
    signs = (-1.0) ** np.arange(K + 1)
    A[..., 0] = -np.sum(A[..., 1:] * signs[1:], axis=-1)
    return A


class _Table:
    """N, O, Q and H = 1/(1 − N) on one rank level as piecewise Chebyshev interpolants.

    Cells between consecutive boundaries (known jump points of the terms, 0 and
    ±scale·2^k) are built on demand and refined by bisection until the last
    Chebyshev coefficients fall below the tolerance. Values at the known jump
    points are computed exactly (never interpolated).
    """

    def __init__(self, model: _Model, level: float, breaks: np.ndarray, scale: float,
                 tol: float, cols: tuple[int, ...] = (0, 1, 2), slack: float = 1.0,
                 soft: np.ndarray | None = None) -> None:
        self.model = model
        self.slack = slack
        self.level = level
        self.cols = cols
        self.breaks = np.unique(breaks[np.isfinite(breaks)])
        geo = scale * 4.0 ** np.arange(-23, 501, 1.0)
        geo = geo[geo < 1e300]
        soft = np.empty(0) if soft is None else np.asarray(soft, float)
        self.bounds = np.unique(np.concatenate([self.breaks, soft[np.isfinite(soft)], [0.0],
                                                geo, -geo]))
        self.scale = scale
        self.tol = tol
        self.q_scale = model.q_scale
        self.built = np.zeros(self.bounds.size - 1, dtype=bool)
        self.lo = np.empty(0)
        self.hi = np.empty(0)
        self.coef = np.empty((0, 4, _CN))
        self.anti = np.empty((0, _CN + 1))
        self.err = np.empty((0, 4))
        self.full = np.empty(0)
        self.cum = np.zeros(1)
        self.cum_err = np.zeros(1)
        self.exact: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    # ---------------------------------------------------------------- building
    def ensure(self, vmin: np.ndarray, vmax: np.ndarray) -> None:
        """Build every cell meeting one of the ranges [vmin_i, vmax_i]."""
        B = self.bounds
        if np.any(vmin < B[0]) or np.any(vmax > B[-1]):
            raise IntegrationError(f"rank value outside the tabulated range ±{B[-1]:.3g}")
        i0 = np.clip(np.searchsorted(B, vmin, side="right") - 1, 0, self.built.size - 1)
        i1 = np.clip(np.searchsorted(B, vmax, side="left") - 1, 0, self.built.size - 1)
        i1 = np.maximum(i1, i0)
        need = np.zeros(self.built.size + 1, dtype=np.int64)
        np.add.at(need, i0, 1)
        np.add.at(need, i1 + 1, -1)
        cells = np.flatnonzero((np.cumsum(need)[:-1] > 0) & ~self.built)
        if cells.size:
            self._build(cells)

    def _build(self, cells: np.ndarray) -> None:
        lo = self.bounds[cells]
        hi = self.bounds[cells + 1]
        acc_lo, acc_hi, acc_coef, acc_err = [], [], [], []
        for _round in range(60):
            if lo.size == 0:
                break
            mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
            nodes = mid[:, None] + half[:, None] * _CNODES[None, :]
            val, verr = self.model.other_terms(self.level, nodes.ravel(), self.cols)
            val = val.reshape(lo.size, _CN, 3)
            verr = verr.reshape(lo.size, _CN, 3)
            N = val[:, :, 0]
            H = 1.0 / (1.0 - N)
            f = np.concatenate([val, H[:, :, None]], axis=2)  # (P, n, 4)
            ferr = np.concatenate([verr, (verr[:, :, 0] * H * H)[:, :, None]], axis=2)
            coef = np.einsum("kj,pjc->pck", _C2C, f)
            cheb = 2.0 * np.abs(coef[:, :, -3:]).max(axis=2)
            noise = ferr.max(axis=1)
            tail = cheb + noise
            mag = np.abs(f).max(axis=1)
            ones = np.full(lo.size, self.slack)
            tol = self.tol * np.column_stack([ones, ones, np.maximum(mag[:, 2], self.q_scale),
                                              mag[:, 3]])
            # splitting cannot reduce the quadrature noise of the values: accept then
            ok = np.all((cheb <= tol) | (cheb <= 8 * noise), axis=1)
            width = hi - lo
            tiny = width <= 1e-11 * np.maximum(np.maximum(np.abs(lo), np.abs(hi)), self.scale)
            ok |= tiny
            acc_lo.append(lo[ok])
            acc_hi.append(hi[ok])
            acc_coef.append(coef[ok])
            acc_err.append(tail[ok])
            lo, hi = lo[~ok], hi[~ok]
            m = 0.5 * (lo + hi)
            lo, hi = np.concatenate([lo, m]), np.concatenate([m, hi])
        if lo.size:  # pragma: no cover - 60 bisections always reach the width floor
            raise IntegrationError("rank table did not converge")
        self.built[cells] = True
        self.lo = np.concatenate([self.lo, *acc_lo])
        self.hi = np.concatenate([self.hi, *acc_hi])
        self.coef = np.concatenate([self.coef, *acc_coef])
        self.err = np.concatenate([self.err, *acc_err])
        order = np.argsort(self.lo)
        self.lo, self.hi, self.coef, self.err = (self.lo[order], self.hi[order],
                                                 self.coef[order], self.err[order])
        half = 0.5 * (self.hi - self.lo)
        self.anti = _cheb_antiderivative(self.coef[:, 3, :]) * half[:, None]
        self.full = np.sum(self.anti, axis=1)  # value at t = 1
        self.cum = np.concatenate([[0.0], np.cumsum(self.full)])
        self.cum_err = np.concatenate([[0.0], np.cumsum(self.err[:, 3] * 2 * half)])

    # -------------------------------------------------------------- evaluation
    def _locate(self, v: np.ndarray, side: str = "right") -> tuple[np.ndarray, np.ndarray]:
        p = np.searchsorted(self.lo, v, side=side) - 1
        p = np.clip(p, 0, max(self.lo.size - 1, 0))
        if self.lo.size == 0 or np.any((v < self.lo[p]) | (v > self.hi[p])):
            raise IntegrationError("rank table queried outside the built range")
        t = (2 * v - self.lo[p] - self.hi[p]) / (self.hi[p] - self.lo[p])
        return p, np.clip(t, -1.0, 1.0)

    def values(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, O, Q, H) at v and their errors, each (len(v), 4)."""
        v = np.asarray(v, float)
        out = np.zeros((v.size, 4))
        err = np.zeros((v.size, 4))
        at_break = np.isin(v, self.breaks) if self.breaks.size else np.zeros(v.size, bool)
        if np.any(~at_break):
            vv = v[~at_break]
            self.ensure(vv, vv)
            p, t = self._locate(vv)
            out[~at_break] = _cheb_eval(self.coef, p, t)
            err[~at_break] = self.err[p]
        if np.any(at_break):
            o, e = self.exact_values(v[at_break])
            out[at_break] = o
            err[at_break] = e
        return out, err

    def exact_values(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, O, Q, H) computed directly (no interpolation) at v."""
        uniq = np.unique(v)
        missing = np.array([u for u in uniq if float(u) not in self.exact])
        if missing.size:
            val, err = self.model.other_terms(self.level, missing, self.cols)
            for u, a, e in zip(missing, val, err):
                H = 1.0 / (1.0 - a[0])
                self.exact[float(u)] = (np.append(a, H), np.append(e, e[0] * H * H))
        out = np.array([self.exact[float(u)][0] for u in v]).reshape(v.size, 4)
        err = np.array([self.exact[float(u)][1] for u in v]).reshape(v.size, 4)
        return out, err

    def h_integral(self, va: np.ndarray, vb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """∫_va^vb dv / (1 − N(v)) for va <= vb, with error estimates."""
        va = np.asarray(va, float)
        vb = np.asarray(vb, float)
        out = np.zeros(va.size)
        err = np.zeros(va.size)
        if va.size == 0:
            return out, err
        self.ensure(va, vb)
        pa, ta = self._locate(va, "right")
        pb, tb = self._locate(vb, "left")
        pb = np.maximum(pb, pa)
        tb = np.where(pb == pa, np.maximum(tb, ta), tb)
        Fa = _cheb_eval(self.anti, pa, ta)
        Fb = _cheb_eval(self.anti, pb, tb)
        same = pa == pb
        out = np.where(same, Fb - Fa,
                       (self.full[pa] - Fa) + (self.cum[pb] - self.cum[pa + 1]) + Fb)
        err = (vb - va) * np.maximum(self.err[pa, 3], self.err[pb, 3])
        err = np.where(same, err, err + (self.cum_err[pb] - self.cum_err[pa + 1]))
        return out, err


def _inv_linear_integral(n0: np.ndarray, n1: np.ndarray) -> np.ndarray:
    """∫_0^1 dt / (1 − n0 − (n1 − n0) t), stable when n1 ≈ n0."""
    a = 1.0 - n0
    u = (n1 - n0) / a
    small = np.abs(u) < 1e-5
    with np.errstate(divide="ignore", invalid="ignore"):
        big = -np.log1p(-u) / (u * a)
    series = (1.0 + u / 2 + u * u / 3 + u**3 / 4) / a
    return np.where(small, series, big)


class _AtomicLevel:
    """Exact ∫ dv / (1 − N(v)) on one level for an atomic law: N is piecewise linear in v.

    Breakpoints: the critical rank values of the atoms (segment start values,
    right-end limits, point values, ranks at age x′); N on each piece is
    reconstructed from exact values at 1/4 and 3/4 of the piece and checked at
    the midpoint.
    """

    def __init__(self, model: _Model, level: float) -> None:
        crit = _critical_values(model.atom_segs, level, model.atom_x)
        u = np.unique(crit)
        if u.size == 0:
            u = np.array([0.0])
        span = max(1.0, float(np.abs(u).max()))
        # Critical values that are equal in exact arithmetic may differ by rounding (e.g.
        # x' − z' for a bounce rank against a prediction z'' = x' − z'); a piece between
        # them is a few ulps wide and its probes would straddle a jump of N. Merge such
        # clusters: N is linear away from them, so the error is O(ulp) in the integral.
        xmax = float(np.abs(model.atom_x).max()) if model.atom_x.size else 0.0
        tol = 64 * _EPS * max(span, xmax)
        u = u[np.concatenate([[True], np.diff(u) > tol])]
        ends = np.concatenate([[u[0] - span], u, [u[-1] + span]])
        lo, hi = ends[:-1], ends[1:]
        w = hi - lo
        probes = np.concatenate([lo + 0.25 * w, lo + 0.5 * w, lo + 0.75 * w])
        val, _ = model.other_terms(level, probes)
        k = lo.size
        na, nm, nb = val[:k, 0], val[k:2 * k, 0], val[2 * k:, 0]
        if np.any(np.abs(nm - 0.5 * (na + nb)) > 1e-9 * np.maximum(1.0, np.abs(nm))):
            raise IntegrationError(  # pragma: no cover - would be an engine bug
                "internal error: rho_new is not piecewise linear between critical ranks")
        self.n0 = na - 0.5 * (nb - na)
        self.n1 = nb + 0.5 * (nb - na)
        # outside the critical values N is constant
        self.n0[0] = self.n1[0] = na[0]
        self.n0[-1] = self.n1[-1] = nb[-1]
        self.lo, self.hi = lo, hi
        self.lo[0] = -np.inf
        self.hi[-1] = np.inf
        full = np.where(np.isfinite(w), w, 0.0) * _inv_linear_integral(self.n0, self.n1)
        full[0] = full[-1] = 0.0
        self.cum = np.concatenate([[0.0], np.cumsum(full)])
        self.full = full

    def _partial(self, p: np.ndarray, v: np.ndarray) -> np.ndarray:
        """∫ from the start of piece p to v (v inside the piece)."""
        lo, hi = self.lo[p], self.hi[p]
        finite = np.isfinite(lo) & np.isfinite(hi)
        frac = np.where(finite, (v - np.where(finite, lo, 0.0))
                        / np.where(finite, hi - lo, 1.0), 0.0)
        nv = self.n0[p] + (self.n1[p] - self.n0[p]) * frac
        part = np.where(finite, (v - np.where(finite, lo, 0.0))
                        * _inv_linear_integral(self.n0[p], nv), 0.0)
        # the unbounded end pieces: constant N, measured from the finite end
        left = ~np.isfinite(lo)
        part = np.where(left, -(hi - v) / (1.0 - self.n0[p]), part)
        right = ~np.isfinite(hi)
        part = np.where(right, (v - lo) / (1.0 - self.n0[p]), part)
        return part

    def h_integral(self, va: np.ndarray, vb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pa = np.clip(np.searchsorted(self.lo, va, side="right") - 1, 0, self.lo.size - 1)
        pb = np.clip(np.searchsorted(self.lo, vb, side="right") - 1, 0, self.lo.size - 1)
        out = (self._partial(pb, vb) - self._partial(pa, va)
               + self.cum[pb] - self.cum[pa])
        return out, 8 * _EPS * np.abs(out)


class _Terms:
    """N, O, Q, H at any rank, and ∫ H dv, from exact sums (atomic laws) or tables."""

    def __init__(self, model: _Model) -> None:
        self.model = model
        self.exact_mode = not model.continuous
        self.levels: dict[float, Any] = {}
        self.cache: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}
        self._probe: _Segs | None = None
        self._breaks: dict[float, np.ndarray] = {}

    # ------------------------------------------------------------------ tables
    def _probe_segments(self) -> tuple[_Segs, np.ndarray]:
        if self._probe is None:
            m = self.model
            rng = np.random.default_rng(4242)
            _, x, y = m.workload.sample_jobs(rng, 256)
            x = np.asarray(x, float)
            y = np.asarray(y, float)
            self._probe = (m.rows(m.segments(x, y), x.size), x)
        return self._probe

    def breaks(self, level: float) -> np.ndarray:
        """Rank values on ``level`` where the terms may jump (exactly evaluated there)."""
        if level not in self._breaks:
            self._breaks[level] = self._compute_breaks(level)
        return self._breaks[level]

    def _compute_breaks(self, level: float) -> np.ndarray:
        m = self.model
        vals = []
        if m.atom_p.size:
            vals.append(_critical_values(m.atom_segs, level, m.atom_x))
        if m.continuous:
            if m.dep == "none":
                S0 = m.segments(np.ones(1), np.ones(1))
                vals.append(_critical_values(S0, level))
            else:
                S, _ = self._probe_segments()
                per_row = [np.unique(_critical_values(S.take(slice(j, j + 1)), level))
                           for j in range(S.n)]
                allv = np.concatenate(per_row) if per_row else np.empty(0)
                u, cnt = np.unique(allv, return_counts=True)
                vals.append(u[cnt >= 2])
        out = np.concatenate(vals) if vals else np.empty(0)
        return np.unique(out[np.isfinite(out)])

    def soft_breaks(self, level: float) -> np.ndarray:
        """Rank values where the terms may have a kink: the critical values of the
        descriptors at the ends of the law's support and at its breakpoints (used as
        table cell boundaries)."""
        m = self.model
        if not m.continuous or m.dep == "none":
            return np.empty(0)
        xs = [m.x_lo, *m.x_breaks.tolist()]
        if math.isfinite(m.x_hi):
            xs.append(m.x_hi)
        xs = np.asarray([v for v in xs if math.isfinite(v)], float)
        vals = []
        for r, _ in m.lines:
            S = m.rows(m.segments(xs, r * xs), xs.size)
            vals.append(_critical_values(S, level, xs))
        if m.plane:
            ys = np.array([0.0])
            S = m.rows(m.segments(ys, ys), 1)
            vals.append(_critical_values(S, level))
        out = np.concatenate(vals) if vals else np.empty(0)
        return np.unique(out[np.isfinite(out)])

    def table(self, level: float, kind: str = "R") -> Any:
        """The table of ``level``: "R" (N and H, for residence times) or "W" (N, O, Q)."""
        key = (level, kind)
        if key not in self.levels:
            if self.exact_mode:
                self.levels[key] = _AtomicLevel(self.model, level)
            else:
                cols = (0,) if kind == "R" else (0, 1, 2)
                self.levels[key] = _Table(self.model, level, self.breaks(level),
                                          self.model.scale, 0.1 * self.model.rtol, cols,
                                          1.0 - self.model.rho, self.soft_breaks(level))
        return self.levels[key]

    # -------------------------------------------------------------- evaluation
    def at(self, L: np.ndarray, V: np.ndarray, kind: str = "W") -> tuple[np.ndarray, np.ndarray]:
        """(N, O, Q, H) and errors at ranks (L, V), each (n, 4) ("R": only N and H)."""
        L = np.asarray(L, float)
        V = np.where(L == _NEG_INF, 0.0, np.asarray(V, float))
        out = np.zeros((L.size, 4))
        err = np.zeros((L.size, 4))
        for lev in np.unique(L):
            sel = L == lev
            if self.exact_mode or lev == _NEG_INF:
                o, e = self._exact(float(lev), V[sel])
            else:
                o, e = self.table(float(lev), kind).values(V[sel])
            out[sel] = o
            err[sel] = e
        return out, err

    def _exact(self, level: float, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        uniq = np.unique(V)
        missing = np.array([u for u in uniq if (level, float(u)) not in self.cache])
        if missing.size:
            val, err = self.model.other_terms(level, missing)
            for u, a, e in zip(missing, val, err):
                H = 1.0 / (1.0 - a[0])
                self.cache[(level, float(u))] = (np.append(a, H), np.append(e, e[0] * H * H))
        out = np.array([self.cache[(level, float(u))][0] for u in V]).reshape(V.size, 4)
        err = np.array([self.cache[(level, float(u))][1] for u in V]).reshape(V.size, 4)
        return out, err

    def h_integral(self, L: np.ndarray, va: np.ndarray,
                   vb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """∫_va^vb dv / (1 − N(L, v)) per entry (va <= vb)."""
        out = np.zeros(L.size)
        err = np.zeros(L.size)
        for lev in np.unique(L):
            sel = L == lev
            if lev == _NEG_INF:
                out[sel] = vb[sel] - va[sel]
                continue
            o, e = self.table(float(lev), "R").h_integral(va[sel], vb[sel])
            out[sel] = o
            err[sel] = e
        return out, err

    # ------------------------------------------------------------- tagged jobs
    def tagged(self, S: _Segs, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """Waiting W, residence R and their error bounds for tagged jobs (S rows, sizes x)."""
        x = np.asarray(x, float)
        S = self.model.rows(S, x.size)
        wp = _worst_pieces(S, x)
        m = self.model
        if m.m2_infinite and m.continuous and x.size:
            # E[S²] = ∞: an infinite old-job term at a tagged job's worst rank makes E[T]
            # infinite; detect it before tabulating the other terms over a heavy tail
            # (which is slow and pointless: the caller stops at the first infinite W)
            q_inf = m._q_infinite(wp.r_level, wp.r_value)
            if np.any(q_inf):
                W = np.where(q_inf, np.inf, 0.0)
                z = np.zeros(x.size)
                return W, z, z, z
        val, verr = self.at(wp.r_level, wp.r_value)
        N, O, Q = val[:, 0], val[:, 1], val[:, 2]
        eN, eO, eQ = verr[:, 0], verr[:, 1], verr[:, 2]
        den = 2.0 * (1.0 - O) * (1.0 - N)
        with np.errstate(invalid="ignore"):
            W = Q / den
            errW = eQ / den + np.where(np.isfinite(W), W, 0.0) * (eO / (1.0 - O) + eN / (1.0 - N))
        # residence
        ok = np.isfinite(wp.a0)
        rows, cols = np.nonzero(ok)
        a0, a1 = wp.a0[rows, cols], wp.a1[rows, cols]
        lev, v0, k = wp.level[rows, cols], wp.v0[rows, cols], wp.slope[rows, cols]
        length = a1 - a0
        contrib = np.zeros(rows.size)
        cerr = np.zeros(rows.size)
        flat = k == 0
        if np.any(flat):
            hv, he = self.at(lev[flat], v0[flat], "R")
            contrib[flat] = length[flat] * hv[:, 3]
            cerr[flat] = length[flat] * he[:, 3]
        sl = ~flat
        if np.any(sl):
            vb = v0[sl]
            va = v0[sl] + k[sl] * length[sl]
            dv = vb - va
            # nearly flat pieces: midpoint value (avoids cancellation in the antiderivative)
            tiny = dv <= 1e-7 * np.maximum(np.abs(vb), self.model.scale)
            tiny &= not self.exact_mode
            hi_, he_ = self.h_integral(lev[sl], va, vb)
            c = hi_ / np.abs(k[sl])
            ce = he_ / np.abs(k[sl])
            if np.any(tiny):
                hv, he = self.at(lev[sl][tiny], 0.5 * (va[tiny] + vb[tiny]), "R")
                c[tiny] = length[sl][tiny] * hv[:, 3]
                ce[tiny] = length[sl][tiny] * he[:, 3] + length[sl][tiny] * hv[:, 3] * 1e-13
            contrib[sl] = c
            cerr[sl] = ce
        R = np.bincount(rows, weights=contrib, minlength=x.size)
        errR = np.bincount(rows, weights=cerr, minlength=x.size)
        return W, R, errW, errR


# =====================================================================================
# The tagged job: E[T] over the law of (size, descriptor)
# =====================================================================================
class _InfiniteMean(Exception):
    """Raised inside an integrand when the waiting time is infinite."""


class _Engine:
    """SOAP evaluation of one policy on one workload."""

    def __init__(self, policy: Any, workload: Any, rtol: float) -> None:
        rtol = float(rtol)
        if not (rtol > 0 and math.isfinite(rtol)):
            raise ParameterError(f"rtol must be a finite number > 0 (got {rtol!r})")
        self.rtol = max(rtol, 1e-13)
        self.model = _Model(policy, workload, self.rtol)
        self.terms = _Terms(self.model)
        m = self.model
        rho = m.lam * float(workload.mean_size)
        self.t_scale = float(workload.mean_size) / (1.0 - rho)
        # T(x) <= x / (1 - rho) + lambda E[S^2] / (2 (1 - rho)^2) (any SOAP policy; inf if
        # E[S^2] = inf, then nothing is skipped)
        m2 = float(workload.size.moment(2))
        self.t_bound_b = 1.0 / (1.0 - rho)
        self.t_bound_a = m.lam * m2 / (2 * (1.0 - rho) ** 2) if math.isfinite(m2) else math.inf
        self.skip = 1e-6 * self.rtol * self.t_scale if math.isfinite(m2) else 0.0

    # ------------------------------------------------------------------ one job
    def conditional(self, x: float, y: float | None) -> tuple[Estimate, Estimate]:
        m = self.model
        xa = np.array([float(x)])
        ya = np.array([float(x if y is None else y)])
        S = m.rows(m.segments(xa, ya), 1)
        W, R, eW, eR = self.terms.tagged(S, xa)
        return Estimate(float(W[0]), float(eW[0])), Estimate(float(R[0]), float(eR[0]))

    # --------------------------------------------------------------------- mean
    def _integrand(self, S: _Segs, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """weight × [W, R, error] at tagged jobs (S rows, sizes x), shape (n, 3).

        Jobs of weight 0 (outside the support, far tails) are not evaluated.
        """
        out = np.zeros((x.size, 3))
        # jobs whose weight times a bound on T is negligible are not evaluated
        live = weight * (self.t_bound_a + self.t_bound_b * np.abs(x)) > self.skip
        if not np.any(live):
            return out
        S = self.model.rows(S, x.size)
        W, R, eW, eR = self.terms.tagged(S.take(live), x[live])
        if not np.all(np.isfinite(W)):
            raise _InfiniteMean
        out[live] = weight[live][:, None] * np.column_stack([W, R, eW + eR])
        return out

    def _x_points(self, S: _Segs) -> np.ndarray:
        """Ages where T(x) of a fixed descriptor may be non-smooth in x: segment ends and
        the ages where the rank crosses a jump point of the tables, (n, k)."""
        pts = [np.where(np.isfinite(S.start), S.start, np.nan),
               np.where(np.isfinite(S.end), S.end, np.nan)]
        if not self.terms.exact_mode:
            for lev in np.unique(S.level[np.isfinite(S.level)]):
                br = self.terms.breaks(float(lev))
                if br.size == 0 or br.size > 64:
                    continue
                on = (S.level == lev) & (S.slope != 0) & np.isfinite(S.start)
                for b in br:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        a = S.start + (b - S.value) / S.slope
                    pts.append(np.where(on & (a > S.start) & (a < S.end), a, np.nan))
        return np.column_stack(pts)

    def _tagged_sig(self, S: _Segs, x: np.ndarray) -> np.ndarray:
        """Signature of a tagged job's structure (descriptor shape, worst-rank pieces)."""
        wp = _worst_pieces(S, x)
        ok = np.isfinite(wp.a0)
        # left-justify the pieces so that the column of a piece does not depend on the batch
        order = np.argsort(~ok, axis=1, kind="stable")
        rows = np.arange(ok.shape[0])[:, None]
        okj = ok[rows, order]
        lev = np.where(okj, wp.level[rows, order], 0.0)
        bits = np.where(okj, np.ascontiguousarray(lev).view(np.int64) ^ np.int64(0x5DEECE66D), 0)
        feats = [_descriptor_signature(S), ok.sum(axis=1) + 1, bits,
                 np.where(okj, (wp.slope[rows, order] != 0) + 1, 0)]
        if not self.terms.exact_mode:
            pos = np.zeros(x.size, np.int64)
            for lv in np.unique(wp.r_level):
                br = self.terms.breaks(float(lv))
                sel = wp.r_level == lv
                if br.size:
                    p = np.searchsorted(br, wp.r_value[sel], side="left")
                    hit = np.isin(wp.r_value[sel], br)
                    pos[sel] = p * 2 + hit + 1
            feats.append(pos)
        return _signature_hash(feats)

    def _quad(self, f, a, b, pts, *, scale=None) -> tuple[np.ndarray, np.ndarray]:
        atol = 0.05 * self.rtol * self.t_scale
        val, err, conv = _bquad(f, a, b, pts, rtol=0.5 * self.rtol, atol=atol,
                                tail_scale=self.model.scale if scale is None else scale,
                                limit=4000)
        if not np.all(conv):
            warnings.warn(f"SOAP engine: the mean did not reach rtol={self.rtol:g} "
                          f"(error estimate {float(np.max(err[:, :2])):.3g})",
                          IntegrationWarning, stacklevel=4)
        return val, err

    def mean(self) -> tuple[Estimate, Estimate]:
        """(E[W], E[R]): mean waiting and residence times with error estimates."""
        m = self.model
        tot = np.zeros(3)
        qerr = np.zeros(3)
        try:
            if m.atom_p.size:
                v = self._integrand(m.atom_segs, m.atom_x, m.atom_p)
                tot += v.sum(axis=0)
                qerr += 4 * _EPS * np.abs(v).sum(axis=0)
            if m.single:
                S0 = m.segments(np.ones(1), np.ones(1))
                pts = self._x_points(S0)
                pts = m._x_points(pts)

                def f1(t, i):
                    return self._integrand(S0, t, m.pdf(t))

                val, err = self._quad(f1, np.array([m.x_lo]), np.array([m.x_hi]), pts)
                tot += val[0]
                qerr += err[0]
            for r, w in m.lines:
                val, err = self._line_mean(r, w)
                tot += val
                qerr += err
            if m.plane:
                val, err = self._plane_mean()
                tot += val
                qerr += err
        except _InfiniteMean:
            return Estimate(math.inf, 0.0), Estimate(math.inf, 0.0)
        W = Estimate(float(tot[0]), float(qerr[0] + 0.5 * tot[2]))
        R = Estimate(float(tot[1]), float(qerr[1] + 0.5 * tot[2]))
        return W, R

    def _line_mean(self, r: float, w: float) -> tuple[np.ndarray, np.ndarray]:
        val, err = self._lines_inner(np.array([r]), rtol=0.5 * self.rtol,
                                     atol=0.05 * self.rtol * self.t_scale / max(w, 1e-300),
                                     with_atoms=False)
        return w * val[0], w * err[0]

    def _lines_inner(self, ratios: np.ndarray, *, rtol: float, atol: float,
                     with_atoms: bool, weights: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """For each ratio r_j: E over the size of [W, R, err] with prediction y = r_j x, i.e.
        ∫ f(x) T(x, d(x, r_j x)) dx (+ Σ_i p_i T(x_i, d(x_i, r_j x_i)) with ``with_atoms``),
        split where the tagged structure changes (located by bisection)."""
        m = self.model
        n = ratios.size
        wr = np.ones(n) if weights is None else np.asarray(weights, float)
        out = np.zeros((n, 3))
        err = np.zeros((n, 3))
        if with_atoms and m.x_atoms.size:
            xa, pa = m.x_atoms, m.x_probs
            rows = np.repeat(np.arange(n), xa.size)
            xs = np.tile(xa, n)
            S = m.rows(m.segments(xs, ratios[rows] * xs), xs.size)
            v = self._integrand(S, xs, np.tile(pa, n) * wr[rows])
            out += v.reshape(n, xa.size, 3).sum(axis=1)
        if not m.x_cont:
            return out, err

        def segs(t, i):
            return m.rows(m.segments(t, ratios[i] * t), t.size)

        def sig(t, i):
            return self._tagged_sig(segs(t, i), t)

        pts = _scan_jumps(sig, m.x_lo, m.x_hi, n, m.scale)
        pts = m._x_points(pts)

        def f(t, i):
            return self._integrand(segs(t, i), t, m.pdf(t) * wr[i])

        val, e, conv = _bquad(f, np.full(n, m.x_lo), np.full(n, m.x_hi), pts, rtol=rtol,
                              atol=atol, tail_scale=m.scale, limit=4000)
        if not np.all(conv):
            warnings.warn(f"SOAP engine: a mean over the sizes did not reach rtol={rtol:g}",
                          IntegrationWarning, stacklevel=4)
        return out + val, err + e

    def _plane_mean(self) -> tuple[np.ndarray, np.ndarray]:
        from .predictions.multiplicative import MultiplicativePrediction

        m = self.model
        pred = m.pred
        if isinstance(pred, MultiplicativePrediction):
            # Y = X R with R independent of X: integrate over (R, X), a product measure
            r_lo, r_hi = (float(v) for v in pred._r_range())
            rk = np.asarray(pred._r_kinks(), float).ravel()
            rk = rk[np.isfinite(rk) & (rk > r_lo) & (rk < r_hi)]

            def outer(r, i):
                g = pred._r_pdf_safe(r)
                out = np.zeros((r.size, 3))
                live = g > 0
                if np.any(live):
                    v, _ = self._lines_inner(r[live], rtol=0.05 * self.rtol,
                                             atol=0.005 * self.rtol * self.t_scale * g[live],
                                             with_atoms=True, weights=g[live])
                    out[live] = v
                return out

            val, err = self._quad(outer, np.array([r_lo]), np.array([r_hi]),
                                  rk[None, :] if rk.size else None, scale=1.0)
            return val[0], err[0] + 0.05 * self.rtol * np.abs(val[0])

        def segs(t):
            return m.rows(m.segments(t, t), t.size)

        def sig(t, i):
            S = segs(t)
            feats = [_descriptor_signature(S)]
            return _signature_hash(feats)

        pts = _scan_jumps(sig, 0.0, math.inf, 1, m.scale)

        def outer_y(y, i):
            S = segs(y)
            return self._plane_inner(S, y)

        val, err = self._quad(outer_y, np.zeros(1), np.full(1, np.inf), pts)
        return val[0], err[0] + 0.05 * self.rtol * np.abs(val[0])

    def _plane_inner(self, S: _Segs, y: np.ndarray) -> np.ndarray:
        m = self.model
        P = y.size
        out = np.zeros((P, 3))
        xa, pa = m.plane_atoms
        if xa.size:
            rows = np.repeat(np.arange(P), xa.size)
            xs = np.tile(xa, P)
            wgt = np.tile(pa, P) * m.cond_pdf(y[rows], xs)
            v = self._integrand(S.take(rows), xs, wgt)
            out += v.reshape(P, xa.size, 3).sum(axis=1)
        if m.plane_cont:
            pts = np.column_stack([self._x_points(S), m.x_kinks_of_y(y)])
            pts = m._x_points(pts)
            chunk = 2048
            for i0 in range(0, P, chunk):
                idx = np.arange(i0, min(P, i0 + chunk))
                Sc = S.take(idx)
                yc = y[idx]

                def f(t, i, Sc=Sc, yc=yc):
                    return self._integrand(Sc.take(i), t, m.pdf(t) * m.cond_pdf(yc[i], t))

                v, _ = self._inner_quad(f, idx.size, pts[idx])
                out[idx] += v
        return out

    def _inner_quad(self, f, n, pts):
        m = self.model
        val, err, _ = _bquad(f, np.full(n, m.x_lo), np.full(n, m.x_hi), pts,
                             rtol=0.05 * self.rtol, atol=1e-300, tail_scale=m.scale, limit=4000)
        return val, err


# =====================================================================================
# Public API
# =====================================================================================
@dataclass(frozen=True)
class Decomposition:
    """Mean waiting time (until first service at the worst rank) and residence time.

    ``total`` is their sum, E[T] (or E[T | x, y] for a conditional decomposition).
    """

    waiting: Estimate
    residence: Estimate

    @property
    def total(self) -> Estimate:
        return self.waiting + self.residence


def _check_inputs(policy: Any, workload: Any) -> None:
    from .policies.base import Policy
    from .workload import Workload

    if not isinstance(policy, Policy):
        raise ParameterError(f"policy must be a queuetheory Policy (got {type(policy).__name__})")
    if not isinstance(workload, Workload):
        raise ParameterError(f"workload must be a queuetheory.Workload "
                             f"(got {type(workload).__name__})")


def decompose(policy: Any, workload: Any, x: float | None = None, y: float | None = None, *,
              rtol: float = DEFAULT_RTOL) -> Decomposition:
    r"""Waiting and residence parts of E[T] (or of E[T | x, y] if ``x`` is given).

    The waiting part is :math:`\lambda \sum_i E[(X^{old}_i[r])^2] / (2(1 - \rho^{old}_0[r])
    (1 - \rho^{new}[r]))` and the residence part :math:`\int_0^x da/(1 - \rho^{new}
    [r_{worst}(a)])` (formulas.md §4.3), averaged over the job's law when ``x`` is None.

    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.1, size=qt.Discrete(values=[2.0, 14.0], probs=[0.5, 0.5]))
    >>> d = decompose(qt.FCFS(), w, 14.0)
    >>> round(d.waiting.value, 12), d.residence.value  # lambda E[S^2] / (2 (1 - rho)), x
    (25.0, 14.0)
    """
    _check_inputs(policy, workload)
    eng = _Engine(policy, workload, rtol)
    if x is None:
        if y is not None:
            raise ParameterError("y was given without x")
        W, R = eng.mean()
    else:
        xv, yv = policy._check_job(workload, x, y)
        W, R = eng.conditional(xv, yv)
    return Decomposition(W, R)


def mean_response_time(policy: Any, workload: Any, *, rtol: float = DEFAULT_RTOL) -> Estimate:
    r"""E[T] of a SOAP policy by the SOAP theorem (formulas.md §4.3), with an error estimate.

    Parameters
    ----------
    policy : Policy
        Any policy with ``is_soap`` true (rank segments via ``rank_segments``).
    workload : Workload
        ρ < 1 (:class:`~queuetheory.errors.UnstableError` otherwise).
    rtol : float
        Requested relative accuracy.

    Returns
    -------
    Estimate
        ``inf`` when the waiting time diverges (e.g. FCFS-like ranks with E[S²] = ∞).

    Raises
    ------
    ParameterError
        For policies the theorem does not cover (PS, LCFS-PR, ...), bad rank segments.
    """
    d = decompose(policy, workload, rtol=rtol)
    if math.isinf(d.waiting.value) or math.isinf(d.residence.value):
        return Estimate(math.inf, 0.0)
    return d.total


def response_time(policy: Any, workload: Any, x: float, y: float | None = None, *,
                  rtol: float = DEFAULT_RTOL) -> Estimate:
    """E[T | X = x (, Y = y)] by the SOAP theorem, with an error estimate (see :func:`decompose`).

    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.1, size=qt.Discrete(values=[2.0, 14.0], probs=[0.5, 0.5]))
    >>> round(response_time(qt.SRPT(), w, 2.0).value, 12)  # 0.1 * 4 / (2 * 0.9 * 1) + 2
    2.222222222222
    """
    d = decompose(policy, workload, x, y, rtol=rtol)
    if math.isinf(d.waiting.value) or math.isinf(d.residence.value):
        return Estimate(math.inf, 0.0)
    return d.total


def rank_terms(policy: Any, workload: Any, rank: Any, *,
               rtol: float = DEFAULT_RTOL) -> dict[str, Estimate]:
    r"""The other-job terms of the SOAP theorem at a rank r (formulas.md §4.2).

    ``rank`` is a number or a ``(level, value)`` pair. Returns ``rho_new``
    (:math:`\rho^{new}[r]`), ``rho_old0`` (:math:`\rho^{old}_0[r]`) and
    ``old_second`` (:math:`\lambda \sum_i E[(X^{old}_i[r])^2]`).

    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.1, size=qt.Discrete(values=[2.0, 14.0], probs=[0.5, 0.5]))
    >>> t = rank_terms(qt.SRPT(), w, 14.0)
    >>> round(t["rho_new"].value, 12), round(t["old_second"].value, 12)  # rho(14-), lambda E[S^2]
    (0.1, 10.0)
    """
    _check_inputs(policy, workload)
    if isinstance(rank, tuple):
        if len(rank) != 2:
            raise ParameterError(f"rank must be a number or a (level, value) pair (got {rank!r})")
        level, value = (float(r) for r in rank)
    else:
        level, value = 0.0, float(rank)
    if math.isnan(level) or math.isnan(value):
        raise ParameterError("rank must not be NaN")
    model = _Model(policy, workload, rtol)
    val, err = model.other_terms(level, np.array([value]))
    names = ("rho_new", "rho_old0", "old_second")
    return {n: Estimate(float(val[0, j]), float(err[0, j])) for j, n in enumerate(names)}
