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
multiples d·{1/8, …, 8} of each descriptor component, and at the quarter points
of every grid cell (one vectorized call per chunk of descriptors). A descriptor
whose ranks at all these ages lie on one line (to ``16 ε`` of the rounding scale
|r(0)| + |slope·a|) at one level is one segment: the common case (SRPT, FB,
PSJF, ...), with no further work. Otherwise each grid cell is accepted as linear
when the rank at its quarter points lies on the chord (to ``64 ε`` relative for
exactly linear pieces), split at a kink located as the intersection of the two
lines through its ends, or bisected. Kinks are thereby located to a few ulps and
jumps to the last bit (the segment ends at the first float of the new piece),
so **a piecewise-linear rank function is represented exactly** provided each
of its pieces is wider than the grid spacing around it (features narrower than
about 1/4 of a grid cell, e.g. a spike between two grid ages, can be missed). A
non-linear rank function is approximated by its piecewise-linear interpolant,
refined until the interpolation error is below ``tol`` times the rank scale
(documented approximation: the engine's result is then exact for that
interpolant); more than 4,000,000 pieces in one fit raise
:class:`~queuetheory.errors.RankFunctionError` instead of exhausting the memory.
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
#: At most this many linear pieces (cells) per fit: beyond, RankFunctionError (a rank with
#: unboundedly many jumps, e.g. ``a % 1``, would otherwise exhaust the memory).
_MAX_CELLS = 4_000_000


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
    def _call(self, d: np.ndarray, a: np.ndarray,
              lazy_levels: bool = False) -> tuple[np.ndarray | None, np.ndarray]:
        """Levels and values of the rank at descriptor rows d (n, k) and ages a (n,).

        The returned arrays must be treated as read-only (they may be the callable's
        own output). With ``lazy_levels`` the levels are None when they are all 0.
        """
        n = a.size
        dd = d[:, 0] if d.shape[1] == 1 else d
        if self._vectorized is not False:
            try:
                with np.errstate(all="ignore"):
                    out = self._fn(dd, a)
                lev, val, checked = self._parse_array(out, n)
            except Exception:  # noqa: BLE001 - the callable may not accept arrays
                lev = val = None
                checked = True
            if val is not None:
                self._vectorized = True
                if lev is None:  # plain finite values: every level is 0
                    return (None if lazy_levels else np.zeros(n)), val
                if not checked:
                    bad = np.isnan(lev) | np.isnan(val) | (lev == np.inf) | (val == np.inf)
                    bad |= np.isneginf(val) & np.isfinite(lev)
                    if np.any(bad):
                        # the scalar call raises with the details; if it does not (the
                        # callable behaves differently on arrays) its answer is used
                        for i in np.flatnonzero(bad):
                            lev[i], val[i] = self._scalar(d[i], float(a[i]))
                return lev, val
            # not vectorizable (or it failed): scalar calls report any failing point
            self._vectorized = False
        lev = np.empty(n)
        val = np.empty(n)
        for i in range(n):
            lev[i], val[i] = self._scalar(d[i], float(a[i]))
        return lev, val

    @staticmethod
    def _parse_array(out: Any, n: int) -> tuple[np.ndarray | None, np.ndarray | None, bool]:
        """``(levels, values, checked)`` of an array answer, or ``(None, None, True)``.

        ``checked`` is True when the answer is known to be free of NaN and +inf. The
        fast path, plain finite values, gives ``(None, values, True)`` (levels all 0,
        values not copied).
        """
        parts = out if isinstance(out, tuple) else (out,)
        arrs = []
        for part in parts:
            if isinstance(part, (str, bytes)):
                return None, None, True
            arr = np.asarray(part)
            if arr.dtype.kind not in "biuf":
                return None, None, True
            arrs.append(arr)
        try:
            if isinstance(out, tuple):
                if len(out) != 2:
                    return None, None, True
                lev = np.broadcast_to(np.asarray(arrs[0], dtype=float), (n,))
                val = np.broadcast_to(np.asarray(arrs[1], dtype=float), (n,))
            else:
                arr = np.asarray(arrs[0], dtype=float)
                if arr.ndim == 2 and arr.shape == (n, 2):
                    lev, val = arr[:, 0], arr[:, 1]
                else:
                    val = arr if arr.shape == (n,) else np.broadcast_to(arr, (n,))
                    if np.isfinite(val).all():  # the common case: finite plain values
                        return None, val, True
                    lev = np.zeros(n)
        except (TypeError, ValueError):
            return None, None, True
        lev = np.array(lev, dtype=float)  # own copies: modified below
        val = np.array(val, dtype=float)
        neg = np.isneginf(val) & (lev == 0)
        lev[neg] = NONPREEMPTIBLE
        nonpre = lev == NONPREEMPTIBLE
        val[nonpre] = 0.0
        return lev, val, False

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
        d2 = np.ascontiguousarray(d.reshape(d.shape[0], -1), dtype=float)
        if np.any(np.isnan(d2)):
            raise ParameterError("descriptors must not be NaN")
        key = d2.tobytes() + bytes(str(d2.shape), "ascii")
        if key in self._cache:
            return self._cache[key]
        # identical descriptors are fitted once
        if d2.shape[1] == 1:
            flat = d2[:, 0]
            if flat.size < 2 or np.all(flat[1:] > flat[:-1]):  # sorted, distinct: as is
                pr = _fit_segments(self, d2)
            else:
                uniq, inverse = np.unique(flat, return_inverse=True)
                pr = _fit_segments(self, uniq[:, None]).take(np.asarray(inverse).ravel())
        else:
            uniq, inverse = np.unique(d2, axis=0, return_inverse=True)
            pr = _fit_segments(self, uniq).take(np.asarray(inverse).ravel())
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[key] = pr
        return pr


# =====================================================================================
# Piecewise-linear recovery of a rank function, vectorized over descriptors
# =====================================================================================
_FR = np.array([0.25, 0.5, 0.75])
#: One-line rows skip the cell-by-cell fit (False: every row takes the general path).
_LINE_FAST_PATH = True
#: Rank evaluations per chunk of descriptors (4 per grid cell and row): < 128 KiB arrays.
_CHUNK = 16000


def _fit_segments(policy: RankPolicy, d: np.ndarray) -> PiecewiseRank:
    """Piecewise-linear segments of the ranks of the descriptor rows d (n, k).

    For every chunk of rows the rank is evaluated in ONE vectorized call at every grid
    age, at the quarter points of every grid cell, just after 0 (point detection) and
    at a typical age (rank scale); see :func:`_probe`. A row whose values at all these
    ages lie on one line and whose level never changes is one segment (the common case:
    SRPT, FB, PSJF, ...), found without any per-cell work. The other rows go through
    the general cell-by-cell fit :func:`_fit_rows`, which would give the same segment
    for a one-line row (its merged cells have the same start value and the same chord).

    Chunks keep the working arrays below 128 KiB: larger arrays are mmap-ed afresh by
    malloc and their page faults cost more than the arithmetic.
    """
    n, kdim = d.shape
    W = 4 * (_GRID.size + kdim * _MULTS.size) - 1      # ages per row
    rows = max(1, _CHUNK // W)
    line = np.empty(n, bool)
    point = np.empty(n, bool)
    ls, vs, slope, l0, v0 = (np.empty(n) for _ in range(5))
    general: list[tuple[np.ndarray, PiecewiseRank]] = []
    pieces = 0
    for i in range(0, n, rows):
        j = min(n, i + rows)
        rest, pr = _probe(policy, d[i:j], line[i:j], point[i:j], ls[i:j], vs[i:j],
                          slope[i:j], l0[i:j], v0[i:j])
        if pr is not None:
            general.append((rest + i, pr))
            pieces += pr.start.size
            if pieces > _MAX_CELLS:
                _too_many_pieces(policy, d[i:j], rest)
    # assemble: line rows are [point,] (0, inf, level, value, slope)
    li = np.flatnonzero(line)
    lpt = point[li]
    m = max([1 + int(lpt.any())] + [pr.start.shape[1] for _, pr in general])
    if m == 1 and li.size == n:          # the common case: one segment per job
        return PiecewiseRank(np.zeros((n, 1)), np.full((n, 1), np.inf), ls.reshape(n, 1),
                             vs.reshape(n, 1), slope.reshape(n, 1))
    out = np.full((5, n, m), np.inf)
    out[3:] = 0.0
    col = lpt.astype(np.int64)
    out[0, li, col] = 0.0
    out[2, li, col] = ls[li]
    out[3, li, col] = vs[li]
    out[4, li, col] = slope[li]
    pl = li[lpt]
    if pl.size:
        out[0:2, pl, 0] = 0.0
        out[2, pl, 0] = l0[pl]
        out[3, pl, 0] = np.where(l0[pl] == NONPREEMPTIBLE, 0.0, v0[pl])
        out[4, pl, 0] = 0.0
    for rest, pr in general:
        mg = pr.start.shape[1]
        for k, arr in enumerate((pr.start, pr.end, pr.level, pr.value, pr.slope)):
            out[k, rest, :mg] = arr
    return PiecewiseRank(out[0], out[1], out[2], out[3], out[4])


def _probe(policy: RankPolicy, d: np.ndarray, line: np.ndarray, point: np.ndarray,
           ls: np.ndarray, vs: np.ndarray, slope: np.ndarray, l0: np.ndarray,
           v0: np.ndarray) -> tuple[np.ndarray, PiecewiseRank | None]:
    """Evaluate the rank of the rows d (r, k) on their age grids and fill, per row: whether
    it is one line, whether age 0 is a point, the line's level, value at 0 and slope, and
    the rank at 0. Returns the rows that are not one line and their general fit."""
    r, kdim = d.shape
    ng = _GRID.size
    G = ng + kdim * _MULTS.size          # grid ages per row
    C = G - 1                            # grid cells per row
    W = G + 3 * C + 2
    # ages of the single call, row by row: grid, quarter points, 1e-300, typical age
    ages = np.empty((r, W))
    grid = ages[:, :G]
    grid[:, :ng] = _GRID
    comps = grid[:, ng:]
    np.multiply(np.abs(d)[:, :, None], _MULTS[None, None, :], out=comps.reshape(r, kdim, -1))
    np.copyto(comps, 0.0, where=~(comps <= _GRID[-1]))  # also inf
    grid.sort(axis=1)
    a0 = grid[:, None, :-1]
    # quarter points, by fraction: ages[:, G + j*C + i] = a0 + w * _FR[j] in cell i
    q = ages[:, G:G + 3 * C].reshape(r, 3, C)
    np.multiply(grid[:, None, 1:] - a0, _FR[None, :, None], out=q)
    q += a0
    ages[:, -2] = 1e-300
    ages[:, -1] = np.maximum(1.0, np.abs(d).max(axis=1))
    L, V = policy._call(np.repeat(d, W, axis=0), ages.reshape(-1), lazy_levels=True)
    V = V.reshape(r, W)
    v0[:] = V[:, 0]                      # grid[:, 0] == 0
    v0p, vt = V[:, -2], V[:, -1]
    if L is None:
        l0[:] = 0.0
        l0p = l0
    else:
        L = L.reshape(r, W)
        l0[:] = L[:, 0]
        l0p = L[:, -2]
    with np.errstate(invalid="ignore", over="ignore"):
        # a typical magnitude of each job's rank: at age 0 and at age max(1, |d|)
        typ = np.maximum(np.abs(v0), np.abs(vt))
        typ[~(np.isfinite(typ) & (typ > 0))] = 1.0
        # a different rank at 0 than just after it becomes a point segment
        point[:] = (l0 != l0p) | (np.abs(v0 - v0p) > 1e-12 * np.maximum(
            np.maximum(np.abs(v0), np.abs(v0p)), typ))
        # one line from 0 (or just after 0 for a point) to the last grid age 2^60:
        # |r(a) - r(0) - slope a| <= 16 ε (|r(0)| + |slope| a) at every probed age
        np.copyto(ls, np.where(point, l0p, l0))
        np.copyto(vs, np.where(point, v0p, v0))
        nonpre = ls == NONPREEMPTIBLE
        vs[nonpre] = 0.0
        np.divide(V[:, G - 1] - vs, grid[:, G - 1], out=slope)  # grid[:, -1] == 2^60
        slope[nonpre] = 0.0
        if _LINE_FAST_PATH:
            dev = ages[:, 1:] * slope[:, None]
            np.subtract(V[:, 1:], dev, out=dev)
            dev -= vs[:, None]
            np.abs(dev, out=dev)
            dev -= ages[:, 1:] * (16 * _EPS * np.abs(slope))[:, None]
            np.less_equal(dev.max(axis=1), 16 * _EPS * np.abs(vs), out=line)
            if L is not None:
                line &= (L[:, 1:] == ls[:, None]).all(axis=1)
        else:
            line[:] = False
    if line.all():
        return np.zeros(0, np.int64), None
    rest = np.flatnonzero(~line)
    Lr = np.zeros((rest.size, W)) if L is None else L[rest]
    pr = _fit_rows(policy, d[rest], grid[rest], ages[rest], Lr, V[rest], typ[rest],
                   point[rest], l0[rest], v0[rest], l0p[rest], v0p[rest])
    return rest, pr


def _fit_rows(policy: RankPolicy, d: np.ndarray, grid: np.ndarray, ages: np.ndarray,
              L: np.ndarray, V: np.ndarray, typ: np.ndarray, point: np.ndarray,
              l0: np.ndarray, v0: np.ndarray, l0p: np.ndarray,
              v0p: np.ndarray) -> PiecewiseRank:
    """The general fit of rows d (n, k), given their evaluations by :func:`_probe`.

    Round one works on (n, cells) arrays: each grid cell is accepted as linear when the
    rank at its quarter points lies on the chord, or split at a located kink, or
    bisected; the split cells are refined on flat arrays (:func:`_refine`). Cells of
    round one are already in (row, age) order.
    """
    n = d.shape[0]
    G = grid.shape[1]
    C = G - 1
    a0, a1 = grid[:, :-1], grid[:, 1:]
    w = a1 - a0
    q = _quarters(ages, G, C)
    LG, VG = L[:, :G], V[:, :G]
    if np.any(point):  # cells starting at 0 of point rows use the rank just after 0
        at0 = (grid == 0) & point[:, None]
        LG, VG = LG.copy(), VG.copy()
        np.copyto(LG, l0p[:, None], where=at0)
        np.copyto(VG, v0p[:, None], where=at0)
    la, lb, va, vb = LG[:, :-1], LG[:, 1:], VG[:, :-1], VG[:, 1:]
    lq, vq = _quarters(L, G, C), _quarters(V, G, C)
    rows = np.broadcast_to(np.arange(n)[:, None], (n, C))
    linear, tiny, accept, slope, kpos = _classify(policy, d, rows, typ[:, None], a0, a1, w, q,
                                                  la, va, lb, vb, lq, vq)
    take = accept & (w > 0)              # zero-width cells (repeated grid ages) are dropped
    parent = np.flatnonzero(take)
    first = (parent // C, a0[take], a1[take], la[take], va[take], slope[take], vb[take],
             (tiny & ~linear)[take], parent)
    split = ~accept
    if not np.any(split):
        cells = first[:8]
    else:
        later = _refine(policy, d, typ, split, np.flatnonzero(split), a0, a1, rows, la, va,
                        lb, vb, q, lq, vq, kpos)
        cells = _interleave(first, later)
    return _merge_cells(*cells, n, point, l0, v0)


def _quarters(x: np.ndarray, G: int, C: int) -> np.ndarray:
    """The quarter-point columns of a row-by-row array as an (n, C, 3) view."""
    return x[:, G:G + 3 * C].reshape(x.shape[0], 3, C).transpose(0, 2, 1)


def _classify(policy: RankPolicy, d: np.ndarray, rows: np.ndarray, typ: np.ndarray,
              a0: np.ndarray, a1: np.ndarray, w: np.ndarray, q: np.ndarray, la: np.ndarray,
              va: np.ndarray, lb: np.ndarray, vb: np.ndarray, lq: np.ndarray,
              vq: np.ndarray) -> tuple:
    """Linearity test of cells [a0, a1) (any shape; quarter-point arrays have a trailing 3).

    Returns ``(linear, tiny, accept, slope, kpos)``; ``kpos`` (the located kink of a
    cell, NaN if none) is None when no cell has a kink.
    """
    same_level = (lb == la) & (lq[..., 0] == la) & (lq[..., 1] == la) & (lq[..., 2] == la)
    nonpre = la == NONPREEMPTIBLE
    dv = vb - va
    with np.errstate(invalid="ignore", over="ignore"):
        dev = np.abs(vq[..., 0] - (va + dv * _FR[0]))
        np.maximum(dev, np.abs(vq[..., 1] - (va + dv * _FR[1])), out=dev)
        np.maximum(dev, np.abs(vq[..., 2] - (va + dv * _FR[2])), out=dev)
    aq = np.abs(vq)
    local = np.maximum(np.maximum(np.abs(va), np.abs(vb)),
                       np.maximum(np.maximum(aq[..., 0], aq[..., 1]), aq[..., 2]))
    exact = dev <= 64 * _EPS * local
    # a single kink inside the cell: the lines through (a, q1) and (q3, b) meet at k;
    # if the rank is exactly linear on both sides of k the cell is split there
    kink = same_level & ~nonpre & ~exact
    kpos = None
    if np.any(kink):
        kpos = np.full(w.shape, np.nan)
        ik = np.nonzero(kink)
        qk, vqk = q[ik], vq[ik]
        a0k, a1k, vak, vbk = a0[ik], a1[ik], va[ik], vb[ik]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            s1 = (vqk[:, 0] - vak) / (qk[:, 0] - a0k)
            s2 = (vbk - vqk[:, 2]) / (a1k - qk[:, 2])
            kp = (vqk[:, 2] - s2 * qk[:, 2] - vak + s1 * a0k) / (s1 - s2)
        inside = (kp > qk[:, 0]) & (kp < qk[:, 2]) & np.isfinite(kp)
        if np.any(inside):
            ik = tuple(x[inside] for x in ik)
            kp, s1, s2 = kp[inside], s1[inside], s2[inside]
            a0k, a1k, vak, vbk = a0k[inside], a1k[inside], vak[inside], vbk[inside]
            m = kp.size
            probe = np.concatenate([0.5 * (a0k + kp), 0.5 * (kp + a1k), kp])
            lp, vp = policy._call(d[np.tile(rows[ik], 3)], probe)
            with np.errstate(invalid="ignore", over="ignore"):
                pred = np.concatenate([vak + s1 * (probe[:m] - a0k),
                                       vbk + s2 * (probe[m:2 * m] - a1k),
                                       vak + s1 * (kp - a0k)])
                loc = np.maximum(np.abs(pred), np.tile(local[ik], 3))
                good = (np.abs(vp - pred) <= 64 * _EPS * loc) & (lp == np.tile(la[ik], 3))
            good = good[:m] & good[m:2 * m] & good[2 * m:]
            kpos[tuple(x[good] for x in ik)] = kp[good]
    with np.errstate(invalid="ignore", over="ignore"):
        approx = dev <= policy.tol * np.maximum(local, typ)
    if kpos is not None:
        approx &= np.isnan(kpos)
    linear = same_level & (nonpre | exact | approx)
    # a cell that can no longer be bisected: a1 is the next float after a0 (or beyond
    # _MAX_ROUNDS near 0); a jump inside it is located to the last bit
    mid = a0 + 0.5 * w
    tiny = (mid <= a0) | (mid >= a1)
    accept = linear | tiny
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        slope = np.where(nonpre | ~linear, 0.0, dv / np.where(w > 0, w, 1.0))
    return linear, tiny, accept, slope, kpos


def _refine(policy: RankPolicy, d: np.ndarray, typ: np.ndarray, split: np.ndarray,
            par: np.ndarray, a0: np.ndarray, a1: np.ndarray, rows: np.ndarray,
            la: np.ndarray, va: np.ndarray, lb: np.ndarray, vb: np.ndarray, q: np.ndarray,
            lq: np.ndarray, vq: np.ndarray, kpos: np.ndarray | None) -> tuple:
    """Bisect (or split at their kink) the round-one cells ``split`` until every piece
    is accepted; returns the accepted pieces as flat arrays (row, start, end, level,
    value, slope, value at end, junk, parent cell)."""
    out: list[tuple] = []
    done = 0
    for _ in range(_MAX_ROUNDS):
        # children of the split cells: at the located kink, or at the midpoint
        b0, b1, row = a0[split], a1[split], rows[split]
        if done + 2 * row.size > _MAX_CELLS:
            _too_many_pieces(policy, d, row)
        qm = q[split][:, 1]
        lm, vm = lq[split][:, 1], vq[split][:, 1]
        if kpos is not None:
            kp = kpos[split]
            ks = ~np.isnan(kp)
            am = np.where(ks, kp, qm)
            if np.any(ks):
                lk, vk = policy._call(d[row[ks]], am[ks])
                lm, vm = lm.copy(), vm.copy()
                lm[ks], vm[ks] = lk, vk
        else:
            am = qm
        a0 = np.concatenate([b0, am])
        a1 = np.concatenate([am, b1])
        rows = np.concatenate([row, row])
        par = np.concatenate([par, par])
        la, va = np.concatenate([la[split], lm]), np.concatenate([va[split], vm])
        lb, vb = np.concatenate([lm, lb[split]]), np.concatenate([vm, vb[split]])
        w = a1 - a0
        q = a0[:, None] + w[:, None] * _FR[None, :]
        lq, vq = policy._call(d[np.repeat(rows, 3)], q.ravel())
        lq, vq = lq.reshape(-1, 3), vq.reshape(-1, 3)
        linear, tiny, accept, slope, kpos = _classify(policy, d, rows, typ[rows], a0, a1, w,
                                                      q, la, va, lb, vb, lq, vq)
        out.append(tuple(arr[accept] for arr in (rows, a0, a1, la, va, slope, vb,
                                                  tiny & ~linear, par)))
        done += out[-1][0].size
        split = ~accept
        if not np.any(split):
            break
        par = par[split]
    else:  # pragma: no cover - _MAX_ROUNDS bisections reach machine precision first
        z = np.zeros(int(split.sum()))
        out.append((rows[split], a0[split], a1[split], la[split], va[split], z, va[split],
                    z == 0, par))
    cells = tuple(np.concatenate(col) for col in zip(*out))
    order = np.lexsort((cells[1], cells[8]))
    return tuple(arr[order] for arr in cells)


def _too_many_pieces(policy: RankPolicy, d: np.ndarray, row: np.ndarray) -> None:
    """Raise: the rank needs more than ``_MAX_CELLS`` pieces (memory would run out)."""
    j = int(np.bincount(row).argmax()) if row.size else 0
    dv: Any = float(d[j, 0]) if d.shape[1] == 1 else tuple(float(v) for v in d[j])
    raise RankFunctionError(
        f"rank function of {policy.name} needs more than {_MAX_CELLS:,} linear pieces for "
        f"{d.shape[0]} descriptor(s) (most at descriptor d={dv!r}): it is far from piecewise "
        f"linear, or has more jumps or kinks than can be resolved; use a larger tol (now "
        f"{policy.tol:g}) or a piecewise-linear rank function")


def _interleave(first: tuple, later: tuple) -> tuple:
    """The cells of ``first`` and ``later`` (each sorted by parent cell, then age) in
    (row, age) order: the parents of the two sets are disjoint."""
    pa, pb = first[8], later[8]
    na, nb = pa.size, pb.size
    pos_a = np.arange(na) + np.searchsorted(pb, pa)
    pos_b = np.arange(nb) + np.searchsorted(pa, pb)
    cells = []
    for x, y in zip(first[:8], later[:8]):
        z = np.empty(na + nb, dtype=np.result_type(x, y))
        z[pos_a] = x
        z[pos_b] = y
        cells.append(z)
    return tuple(cells)


def _merge_cells(row: np.ndarray, s: np.ndarray, e: np.ndarray, lv: np.ndarray, v: np.ndarray,
                 k: np.ndarray, vend: np.ndarray, junk: np.ndarray, n: int, point: np.ndarray,
                 l0: np.ndarray, v0: np.ndarray) -> PiecewiseRank:
    """Merge consecutive collinear cells (sorted by row, then age) into segments
    (vectorized) and place kinks at the intersection of the neighbouring lines."""
    N = row.size
    # merge[i]: cell i continues the segment of cell i - 1 (pairs are (i - 1, i))
    av, ave = np.abs(v), np.abs(vend)
    sc = np.maximum(av, ave)
    wd = np.maximum(e - s, 1e-300)
    sig = 8 * _EPS * sc / wd             # slope uncertainty of a chord over a cell
    nonpre = lv == NONPREEMPTIBLE
    merge = np.zeros(N, bool)
    with np.errstate(invalid="ignore", over="ignore"):
        tol = 256 * _EPS * np.maximum(np.maximum(sc[1:], sc[:-1]), 1e-300)
        cont = np.abs(vend[:-1] - v[1:]) <= tol
        slope_ok = (np.abs(k[:-1] - k[1:])
                    <= 4 * (sig[1:] + sig[:-1]) + 64 * _EPS * np.abs(k[1:]))
    np.logical_and(cont, slope_ok, out=cont)
    cont |= nonpre[1:]
    cont |= junk[1:]
    cont &= lv[:-1] == lv[1:]
    cont &= row[1:] == row[:-1]
    merge[1:] = cont
    if np.any(junk[:-1]):
        # A junk cell (a sub-ulp cell around a jump or an unlocated kink) is absorbed by
        # its predecessor. Its successor continues the segment only if it continues the
        # last linear cell before the junk: same line (no jump) and same slope (no kink).
        lin_idx = np.where(junk, -1, np.arange(N))
        plin = np.maximum.accumulate(lin_idx)  # last non-junk cell at or before i
        after = np.flatnonzero(junk[:-1] & ~junk[1:]) + 1
        p = plin[after - 1]
        ok = merge[after] & (p >= 0)
        p = np.where(ok, p, 0)
        ok &= (row[p] == row[after]) & (lv[p] == lv[after])
        with np.errstate(invalid="ignore", over="ignore"):
            pred = vend[p] + k[p] * (s[after] - e[p])
            cont2 = (np.abs(pred - v[after])
                     <= 256 * _EPS * np.maximum(np.maximum(sc[p], sc[after]), 1e-300))
            slope2 = (np.abs(k[p] - k[after])
                      <= 4 * (sig[p] + sig[after]) + 64 * _EPS * np.abs(k[after]))
        merge[after] = ok & (nonpre[after] | (cont2 & slope2))
    first = np.flatnonzero(~merge)
    last = np.empty_like(first)
    last[:-1] = first[1:] - 1
    last[-1] = N - 1
    g_row = row[first]
    g_s = s[first]
    g_e = e[last]
    g_lv = lv[first]
    g_v = v[first]
    # slope: chord from the group's start to the end of its last linear (non-junk) cell
    if np.any(junk):
        lin_idx = np.where(junk, -1, np.arange(N))
        last_lin = np.maximum.accumulate(lin_idx)[last]
        has_lin = last_lin >= first
        ll = np.where(has_lin, last_lin, first)
    else:
        has_lin = True
        ll = last
    el = e[ll]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        g_k = np.where(has_lin & (el > g_s), (vend[ll] - g_v) / (el - g_s), 0.0)
    g_nonpre = nonpre[first]
    g_k[g_nonpre] = 0.0
    g_v[g_nonpre] = 0.0
    g_row, g_s, g_e, g_lv, g_v, g_k = _snap_kinks(g_row, g_s, g_e, g_lv, g_v, g_k)
    # the last piece of every job extends to infinity
    is_last = np.ones(g_row.size, bool)
    is_last[:-1] = g_row[1:] != g_row[:-1]
    g_e[is_last] = np.inf
    cols = [g_s, g_e, g_lv, g_v, g_k]
    # points at age 0, placed before the first segment of their row
    pts = np.flatnonzero(point)
    if pts.size:
        lp = l0[pts]
        pcols = [np.zeros(pts.size), np.zeros(pts.size), lp,
                 np.where(lp == NONPREEMPTIBLE, 0.0, v0[pts]), np.zeros(pts.size)]
        pos_p = np.arange(pts.size) + np.searchsorted(g_row, pts, side="left")
        pos_g = np.arange(g_row.size) + np.searchsorted(pts, g_row, side="right")
        tot = pts.size + g_row.size
        rowv = np.empty(tot, np.int64)
        rowv[pos_p] = pts
        rowv[pos_g] = g_row
        merged = []
        for pc, gc in zip(pcols, cols):
            z = np.empty(tot)
            z[pos_p] = pc
            z[pos_g] = gc
            merged.append(z)
        cols = merged
    else:
        rowv = g_row
    counts = np.bincount(rowv, minlength=n)
    m = int(counts.max())
    if m == 1 and rowv.size == n:        # one segment per job
        return PiecewiseRank(*(c.reshape(n, 1) for c in cols))
    pos = np.arange(rowv.size) - np.repeat(np.cumsum(counts) - counts, counts)
    arr = np.full((5, n, m), np.inf)
    arr[3:] = 0.0
    for j in range(5):
        arr[j, rowv, pos] = cols[j]
    return PiecewiseRank(arr[0], arr[1], arr[2], arr[3], arr[4])


def _snap_kinks(row: np.ndarray, s: np.ndarray, e: np.ndarray, lv: np.ndarray, v: np.ndarray,
                k: np.ndarray) -> tuple:
    """Remove a tiny segment between two lines of one level that cross inside it."""
    N = row.size
    if N < 3:
        return row, s, e, lv, v, k
    tiny = (e - s) <= 1e-9 * np.maximum(np.abs(e), 1e-300)
    cand = np.flatnonzero(tiny[1:-1]) + 1
    if cand.size == 0:
        return row, s, e, lv, v, k
    drop = np.zeros(N, bool)
    for i in cand:
        if drop[i - 1] or not (row[i - 1] == row[i] == row[i + 1]):
            continue
        if not (lv[i - 1] == lv[i] == lv[i + 1]) or lv[i] == NONPREEMPTIBLE or k[i - 1] == k[i + 1]:
            continue
        x = ((v[i + 1] - k[i + 1] * s[i + 1] - v[i - 1] + k[i - 1] * s[i - 1])
             / (k[i - 1] - k[i + 1]))
        if s[i - 1] < x < e[i + 1] and abs(x - s[i]) <= 2 * (e[i] - s[i]) + 1e-300:
            e[i - 1] = x
            v[i + 1] = v[i + 1] + k[i + 1] * (x - s[i + 1])
            s[i + 1] = x
            drop[i] = True
    keep = ~drop
    return row[keep], s[keep], e[keep], lv[keep], v[keep], k[keep]
