r"""User-defined SOAP policies: :class:`RankPolicy` from a Python rank function r(d, a).

A SOAP policy (formulas.md §4) is any rule "serve the job of lowest rank r(d, a),
preemptively, FCFS among ties", where d is what the scheduler knows about a job
(its size, its prediction, or nothing) and a is its age. :class:`RankPolicy`
turns a plain Python callable into such a policy, usable by the SOAP engine
(:mod:`queuetheory.soap`), which gives its exact mean response time, and by the
simulator.

The callable ``rank(d, a)`` returns

* a real number (lower is served first);
* a pair ``(level, value)``, compared lexicographically (a lower level always
  wins); or
* ``-inf`` (or a level of ``-inf``): the job can no longer be preempted.

Conversion to piecewise-linear segments
---------------------------------------
The engine and the simulator consume ranks as
:class:`~queuetheory.policies.rank.PiecewiseRank` segments. For every descriptor
the callable is evaluated on the age grid {0} ∪ {4^k : k = −12, …, 30} plus
multiples d·{1/8, …, 8} of each descriptor component; each grid cell is accepted
as linear when the rank at its quarter points lies on the chord (to
``64 ε`` relative for exactly linear pieces), and otherwise bisected. Kinks and
jumps are thereby located to machine precision (a kink is then placed at the
intersection of the two lines), so **a piecewise-linear rank function is
represented exactly** provided each of its pieces is wider than the grid
spacing around it (features narrower than about 1/4 of a grid cell, e.g. a
spike between two grid ages, can be missed). A non-linear rank function is
approximated by its piecewise-linear interpolant, refined until the
interpolation error is below ``tol`` times the rank scale (documented
approximation: the engine's result is then exact for that interpolant).
A different rank at age 0 only (e.g. ``d if a == 0 else -inf``, non-preemptive
SJF) becomes a point segment at age 0. Beyond age 2^60 the last piece is
extended linearly. Ranks are taken as right-continuous at jumps.

Validation: if the callable raises, or returns NaN, +inf, or anything that is
not a number or a (level, value) pair, :class:`~queuetheory.errors.RankFunctionError`
names the descriptor and age at which it failed. Strings are never evaluated.

>>> import queuetheory as qt
>>> w = qt.Workload(arrival_rate=0.3, size=qt.Discrete(values=[1.0, 3.0], probs=[0.5, 0.5]))
>>> srpt = qt.RankPolicy(lambda d, a: d - a, uses="size")
>>> round(srpt.mean_response_time(w), 12) == round(qt.SRPT().mean_response_time(w), 12)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ParameterError, RankFunctionError
from .base import Policy
from .rank import NONPREEMPTIBLE, PiecewiseRank

__all__ = ["RankPolicy"]

_USES = ("size", "prediction", "nothing")
_EPS = float(np.finfo(float).eps)
#: Age grid: 0 and powers of four from 2^-24 to 2^60.
_GRID = np.concatenate([[0.0], 2.0 ** np.arange(-24, 61, 2.0)])
_MULTS = np.array([0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0])
_MAX_ROUNDS = 200


class RankPolicy(Policy):
    r"""A SOAP policy defined by a rank function ``rank(d, a)``: lowest rank served first.

    Parameters
    ----------
    rank : callable
        ``rank(d, a)`` of the descriptor d and the age a >= 0, returning a real
        number, a ``(level, value)`` pair (lexicographic) or ``-inf``
        (non-preemptible). It is tried first on numpy arrays (d and a broadcast
        against each other) and, if that fails, called with Python floats.
    uses : {"size", "prediction", "nothing"}
        What the descriptor d is: the job's size, its predicted size, or nothing
        (d = 0, an age-based policy such as FB).
    name : str, optional
        Name used in tables (default ``"RankPolicy"``).
    tol : float
        Relative accuracy of the piecewise-linear approximation of a rank
        function that is not piecewise linear (default 1e-9).

    Notes
    -----
    The conversion to segments is described in the module docstring; it is
    exact for piecewise-linear rank functions. E[T] comes from the SOAP engine
    (:func:`queuetheory.soap.mean_response_time`, formulas.md §4.3).

    Examples
    --------
    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.8, size=qt.Exponential(mean=1.0))
    >>> fb = qt.RankPolicy(lambda d, a: a, uses="nothing", name="FB")
    >>> round(fb.mean_response_time(w), 9)  # FB = PS for exponential sizes: 1 / (1 - 0.8)
    5.0
    >>> sjf = qt.RankPolicy(lambda d, a: d if a == 0 else float("-inf"), uses="size")
    >>> sjf.rank_segments([2.0]).evaluate(0, 0.0), sjf.rank_segments([2.0]).evaluate(0, 1.0)
    ((0.0, 2.0), (-inf, -inf))
    """

    def __init__(self, rank: Callable[[Any, Any], Any], uses: str = "size",
                 name: str | None = None, *, tol: float = 1e-9) -> None:
        if isinstance(rank, str) or not callable(rank):
            raise ParameterError(f"rank must be a callable rank(d, a) (got {type(rank).__name__})")
        if uses not in _USES:
            raise ParameterError(f"uses must be one of {_USES} (got {uses!r})")
        try:
            tol = float(tol)
        except (TypeError, ValueError):
            raise ParameterError(f"tol must be a number > 0 (got {tol!r})") from None
        if not (tol > 0 and math.isfinite(tol)):
            raise ParameterError(f"tol must be a finite number > 0 (got {tol!r})")
        self._fn = rank
        self.uses = uses
        self.name = "RankPolicy" if name is None else str(name)
        self.tol = tol
        self._vectorized: bool | None = None
        self._cache: dict[bytes, list] = {}

    def _params(self) -> dict:
        return {"rank": getattr(self._fn, "__name__", "<callable>"), "uses": self.uses}

    # ----------------------------------------------------------- evaluation
    def _call(self, d: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Levels and values of the rank at descriptor rows d (n, k) and ages a (n,)."""
        n = a.size
        dd = d[:, 0] if d.shape[1] == 1 else d
        if self._vectorized is not False:
            try:
                with np.errstate(all="ignore"):
                    out = self._fn(dd, a)
                lev, val = self._parse_array(out, n)
                if lev is not None:
                    self._vectorized = True
                    bad = np.isnan(lev) | np.isnan(val) | (lev == np.inf) | (val == np.inf)
                    bad |= np.isneginf(val) & np.isfinite(lev)
                    if np.any(bad):
                        i = int(np.flatnonzero(bad)[0])
                        self._scalar(d[i], float(a[i]))  # raises with the details
                    return lev, val
            except RankFunctionError:
                raise
            except Exception:  # noqa: BLE001 - the callable may not accept arrays
                pass
            # not vectorizable (or it failed): scalar calls report any failing point
            self._vectorized = False
        lev = np.empty(n)
        val = np.empty(n)
        for i in range(n):
            lev[i], val[i] = self._scalar(d[i], float(a[i]))
        return lev, val

    @staticmethod
    def _parse_array(out: Any, n: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        parts = out if isinstance(out, tuple) else (out,)
        for part in parts:
            kind = np.asarray(part).dtype.kind
            if isinstance(part, (str, bytes)) or kind not in "biuf":
                return None, None
        try:
            if isinstance(out, tuple) and len(out) == 2:
                lev = np.broadcast_to(np.asarray(out[0], dtype=float), (n,)).copy()
                val = np.broadcast_to(np.asarray(out[1], dtype=float), (n,)).copy()
            else:
                arr = np.asarray(out, dtype=float)
                if arr.ndim == 2 and arr.shape == (n, 2):
                    lev, val = arr[:, 0].copy(), arr[:, 1].copy()
                else:
                    val = np.broadcast_to(arr, (n,)).copy()
                    lev = np.zeros(n)
        except (TypeError, ValueError):
            return None, None
        neg = np.isneginf(val) & (lev == 0)
        lev[neg] = NONPREEMPTIBLE
        nonpre = lev == NONPREEMPTIBLE
        val[nonpre] = 0.0
        return lev, val

    def _scalar(self, d: np.ndarray, a: float) -> tuple[float, float]:
        dv: Any = float(d[0]) if d.size == 1 else tuple(float(v) for v in d)
        where = f"descriptor d={dv!r}, age a={a!r}"
        try:
            out = self._fn(dv, a)
        except Exception as exc:  # noqa: BLE001 - report any failure of user code
            raise RankFunctionError(
                f"rank function of {self.name} raised {type(exc).__name__}: {exc} "
                f"(at {where})") from exc
        if isinstance(out, (tuple, list)):
            if len(out) != 2:
                raise RankFunctionError(
                    f"rank function of {self.name} returned a tuple of length {len(out)}; "
                    f"expected a number or a (level, value) pair (at {where})")
            lev, val = self._number(out[0], where), self._number(out[1], where)
        else:
            lev, val = 0.0, self._number(out, where)
            if val == -math.inf:
                lev = NONPREEMPTIBLE
        if math.isnan(lev) or math.isnan(val):
            raise RankFunctionError(f"rank function of {self.name} returned NaN (at {where})")
        if lev == math.inf or val == math.inf:
            raise RankFunctionError(
                f"rank function of {self.name} returned +inf; ranks must be finite, or -inf "
                f"for a non-preemptible job (at {where})")
        if lev == NONPREEMPTIBLE:
            return NONPREEMPTIBLE, 0.0
        if val == -math.inf:
            raise RankFunctionError(
                f"rank function of {self.name} returned a value of -inf at a finite level; "
                f"use a level of -inf for a non-preemptible job (at {where})")
        return lev, val

    def _number(self, v: Any, where: str) -> float:
        if isinstance(v, (bool, str, bytes)) or v is None:
            raise RankFunctionError(
                f"rank function of {self.name} returned {v!r}, which is not a number "
                f"(at {where})")
        try:
            return float(v)
        except (TypeError, ValueError):
            raise RankFunctionError(
                f"rank function of {self.name} returned {v!r}, which is not a number "
                f"(at {where})") from None

    # ------------------------------------------------------------- segments
    def rank_segments(self, d: Any) -> PiecewiseRank:
        d = np.asarray(d, dtype=float)
        if d.ndim == 0:
            d = d.reshape(1)
        return self._rank_segments(d)

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        d2 = np.ascontiguousarray(d.reshape(d.shape[0], -1))
        if np.any(np.isnan(d2)):
            raise ParameterError("descriptors must not be NaN")
        key = d2.tobytes() + bytes(str(d2.shape), "ascii")
        if key in self._cache:
            return self._cache[key]
        # identical descriptors are fitted once
        uniq, inverse = np.unique(d2, axis=0, return_inverse=True)
        pr = _fit_segments(self, uniq).take(np.asarray(inverse).ravel())
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[key] = pr
        return pr


# =====================================================================================
# Piecewise-linear recovery of a rank function, vectorized over descriptors
# =====================================================================================
def _fit_segments(policy: RankPolicy, d: np.ndarray) -> PiecewiseRank:
    """Piecewise-linear segments of the ranks of the descriptor rows d (n, k)."""
    n = d.shape[0]
    comps = np.abs(d[:, :, None] * _MULTS[None, None, :]).reshape(n, -1)
    grid = np.concatenate([np.broadcast_to(_GRID, (n, _GRID.size)), comps], axis=1)
    grid = np.where(np.isfinite(grid) & (grid >= 0) & (grid <= _GRID[-1]), grid, 0.0)
    grid = np.sort(grid, axis=1)
    a0 = grid[:, :-1].ravel()
    a1 = grid[:, 1:].ravel()
    row = np.repeat(np.arange(n), grid.shape[1] - 1)
    keep = a1 > a0
    a0, a1, row = a0[keep], a1[keep], row[keep]
    # rank at age 0 and just after it: a different rank at 0 only becomes a point
    l0, v0 = policy._call(d, np.zeros(n))
    l0p, v0p = policy._call(d, np.full(n, 1e-300))
    la, va = policy._call(d[row], a0)
    lb, vb = policy._call(d[row], a1)
    # a typical magnitude of each job's rank: at age 0 and at age max(1, |d|)
    _, vt = policy._call(d, np.maximum(1.0, np.abs(d).max(axis=1)))
    typ = np.maximum(np.abs(v0), np.abs(vt))
    typ = np.where(np.isfinite(typ) & (typ > 0), typ, 1.0)
    point = (l0 != l0p) | (np.abs(v0 - v0p) > 1e-12 * np.maximum(
        np.maximum(np.abs(v0), np.abs(v0p)), typ))
    at0 = a0 == 0
    use_p = at0 & point[row]
    la[use_p], va[use_p] = l0p[row[use_p]], v0p[row[use_p]]
    use_0 = at0 & ~point[row]
    la[use_0], va[use_0] = l0[row[use_0]], v0[row[use_0]]
    done: list[np.ndarray] = []
    fr = np.array([0.25, 0.5, 0.75])
    for _ in range(_MAX_ROUNDS):
        if a0.size == 0:
            break
        w = a1 - a0
        q = a0[:, None] + w[:, None] * fr[None, :]
        lq, vq = policy._call(d[np.repeat(row, 3)], q.ravel())
        lq, vq = lq.reshape(-1, 3), vq.reshape(-1, 3)
        same_level = (lq == la[:, None]).all(axis=1) & (lb == la)
        nonpre = la == NONPREEMPTIBLE
        chord = va[:, None] + (vb - va)[:, None] * fr[None, :]
        with np.errstate(invalid="ignore"):
            dev = np.abs(vq - chord).max(axis=1)
        local = np.maximum(np.maximum(np.abs(va), np.abs(vb)), np.abs(vq).max(axis=1))
        exact = dev <= 64 * _EPS * local
        # a single kink inside the cell: the lines through (a, q1) and (q3, b) meet at k;
        # if the rank is exactly linear on both sides of k the cell is split there
        kink = same_level & ~nonpre & ~exact
        kpos = np.full(w.size, np.nan)
        if np.any(kink):
            ik = np.flatnonzero(kink)
            s1 = (vq[ik, 0] - va[ik]) / (q[ik, 0] - a0[ik])
            s2 = (vb[ik] - vq[ik, 2]) / (a1[ik] - q[ik, 2])
            with np.errstate(divide="ignore", invalid="ignore"):
                kp = (vq[ik, 2] - s2 * q[ik, 2] - va[ik] + s1 * a0[ik]) / (s1 - s2)
            inside = (kp > q[ik, 0]) & (kp < q[ik, 2]) & np.isfinite(kp)
            ik, kp, s1, s2 = ik[inside], kp[inside], s1[inside], s2[inside]
            if ik.size:
                probe = np.concatenate([0.5 * (a0[ik] + kp), 0.5 * (kp + a1[ik]), kp])
                lp, vp = policy._call(d[np.tile(row[ik], 3)], probe)
                m = ik.size
                pred = np.concatenate([va[ik] + s1 * (probe[:m] - a0[ik]),
                                       vb[ik] + s2 * (probe[m:2 * m] - a1[ik]),
                                       va[ik] + s1 * (kp - a0[ik])])
                loc = np.maximum(np.abs(pred), np.tile(local[ik], 3))
                good = (np.abs(vp - pred) <= 64 * _EPS * loc) & (lp == np.tile(la[ik], 3))
                good = good[:m] & good[m:2 * m] & good[2 * m:]
                kpos[ik[good]] = kp[good]
        approx = dev <= policy.tol * np.maximum(local, typ[row])
        has_kink = np.isfinite(kpos)
        linear = same_level & (nonpre | exact | (approx & ~has_kink))
        tiny_cell = w <= 8 * _EPS * np.maximum(np.abs(a1), 1e-300)
        accept = linear | tiny_cell
        slope = np.where(nonpre | ~linear, 0.0, (vb - va) / np.where(w > 0, w, 1.0))
        done.append(np.column_stack([row[accept], a0[accept], a1[accept], la[accept],
                                     va[accept], slope[accept], vb[accept],
                                     tiny_cell[accept] & ~linear[accept]]))
        split = ~accept
        if not np.any(split):
            a0 = a0[:0]
            break
        # cells with a located kink are split at the kink, others at the midpoint
        am = np.where(has_kink[split], kpos[split], q[split, 1])
        lm, vm = lq[split, 1], vq[split, 1]
        ks = has_kink[split]
        if np.any(ks):
            lk, vk = policy._call(d[row[split][ks]], am[ks])
            lm = lm.copy()
            vm = vm.copy()
            lm[ks], vm[ks] = lk, vk
        a0 = np.concatenate([a0[split], am])
        a1 = np.concatenate([am, a1[split]])
        row = np.concatenate([row[split], row[split]])
        la, va, lb, vb = (np.concatenate([la[split], lm]), np.concatenate([va[split], vm]),
                          np.concatenate([lm, lb[split]]), np.concatenate([vm, vb[split]]))
    if a0.size:  # pragma: no cover - _MAX_ROUNDS bisections reach machine precision first
        z = np.zeros(a0.size)
        done.append(np.column_stack([row, a0, a1, la, va, z, va, z + 1]))
    cells = np.concatenate(done)
    cells = cells[np.lexsort((cells[:, 1], cells[:, 0]))]
    return _merge_cells(cells, n, point, l0, v0)


def _merge_cells(cells: np.ndarray, n: int, point: np.ndarray, l0: np.ndarray,
                 v0: np.ndarray) -> PiecewiseRank:
    """Merge consecutive collinear cells into segments (vectorized) and place kinks at
    the intersection of the neighbouring lines."""
    row, s, e, lv, v, k, vend, junk = (cells[:, j] for j in range(8))
    row = row.astype(np.int64)
    junk = junk.astype(bool)
    N = row.size
    same_row = np.zeros(N, bool)
    same_row[1:] = row[1:] == row[:-1]
    pv, pk, ps, pvend, plv = (np.roll(arr, 1) for arr in (v, k, s, vend, lv))
    scale = np.maximum.reduce([np.abs(v), np.abs(vend), np.abs(pv), np.abs(pvend)])
    tol = 256 * _EPS * np.maximum(scale, 1e-300)
    # slope uncertainty of a chord over a cell of width w: a few ulps of the values / w
    w = np.maximum(e - s, 1e-300)
    pw = np.roll(w, 1)
    sig_k = 8 * _EPS * np.maximum(np.abs(v), np.abs(vend)) / w
    sig_pk = 8 * _EPS * np.maximum(np.abs(pv), np.abs(pvend)) / pw
    with np.errstate(invalid="ignore", over="ignore"):
        cont = np.abs(pvend - v) <= tol
        slope_ok = np.abs(pk - k) <= 4 * (sig_k + sig_pk) + 64 * _EPS * np.abs(k)
    nonpre = lv == NONPREEMPTIBLE
    merge = same_row & (plv == lv) & (nonpre | junk | (cont & slope_ok))
    # a junk (sub-ulp) cell is also absorbed by its successor
    nxt_junk = np.zeros(N, bool)
    nxt_junk[:-1] = junk[:-1] & same_row[1:] & ~merge[:-1]
    grp = np.cumsum(~merge) - 1
    G = int(grp[-1]) + 1
    first = np.flatnonzero(~merge)
    last = np.concatenate([first[1:] - 1, [N - 1]])
    g_row = row[first]
    g_s = s[first]
    g_e = e[last]
    g_lv = lv[first]
    g_v = v[first]
    # slope: chord from the group's start to the end of its last linear (non-junk) cell
    idx = np.arange(N)
    lin_idx = np.where(junk, -1, idx)
    last_lin = np.maximum.accumulate(lin_idx)[last]
    has_lin = last_lin >= first
    ll = np.where(has_lin, last_lin, first)
    with np.errstate(invalid="ignore", divide="ignore"):
        g_k = np.where(has_lin & (e[ll] > g_s), (vend[ll] - g_v) / (e[ll] - g_s), 0.0)
    g_k = np.where(nonpre[first], 0.0, g_k)
    g_v = np.where(nonpre[first], 0.0, g_v)
    del nxt_junk, G
    segs = np.column_stack([g_row, g_s, g_e, g_lv, g_v, g_k])
    segs = _snap_kinks(segs)
    # the last piece of every job extends to infinity
    rowv = segs[:, 0].astype(np.int64)
    is_last = np.ones(rowv.size, bool)
    is_last[:-1] = rowv[1:] != rowv[:-1]
    segs[is_last, 2] = np.inf
    # points at age 0
    pts = np.flatnonzero(point)
    if pts.size:
        extra = np.column_stack([pts, np.zeros(pts.size), np.zeros(pts.size), l0[pts],
                                 np.where(l0[pts] == NONPREEMPTIBLE, 0.0, v0[pts]),
                                 np.zeros(pts.size)])
        segs = np.concatenate([extra, segs])
        segs = segs[np.lexsort((segs[:, 2] > segs[:, 1], segs[:, 1], segs[:, 0]))]
    rowv = segs[:, 0].astype(np.int64)
    counts = np.bincount(rowv, minlength=n)
    m = int(counts.max())
    pos = np.arange(rowv.size) - np.repeat(np.cumsum(counts) - counts, counts)
    arr = np.full((5, n, m), np.inf)
    arr[2:, :, :] = 0.0
    arr[2] = np.inf
    for j in range(5):
        arr[j, rowv, pos] = segs[:, 1 + j]
    return PiecewiseRank(arr[0], arr[1], arr[2], arr[3], arr[4])


def _snap_kinks(segs: np.ndarray) -> np.ndarray:
    """Remove a tiny segment between two lines of one level that cross inside it."""
    row, s, e, lv, v, k = (segs[:, j] for j in range(6))
    N = row.size
    if N < 3:
        return segs
    tiny = (e - s) <= 1e-9 * np.maximum(np.abs(e), 1e-300)
    cand = np.flatnonzero(tiny[1:-1]) + 1
    drop = np.zeros(N, bool)
    for i in cand:
        if drop[i - 1] or not (row[i - 1] == row[i] == row[i + 1]):
            continue
        if not (lv[i - 1] == lv[i] == lv[i + 1]) or lv[i] == NONPREEMPTIBLE or k[i - 1] == k[i + 1]:
            continue
        x = ((v[i + 1] - k[i + 1] * s[i + 1] - v[i - 1] + k[i - 1] * s[i - 1])
             / (k[i - 1] - k[i + 1]))
        if s[i - 1] < x < e[i + 1] and abs(x - s[i]) <= 2 * (e[i] - s[i]) + 1e-300:
            segs[i - 1, 2] = x
            segs[i + 1, 4] = v[i + 1] + k[i + 1] * (x - s[i + 1])
            segs[i + 1, 1] = x
            drop[i] = True
    return segs[~drop]
