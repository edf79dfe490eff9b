r"""SERPT and the Gittins index policy: the best use of the information a scheduler has.

Both rank a job by a functional of the **conditional law of its size given what
the scheduler knows** (its descriptor): with ``uses="nothing"`` the size law S
itself; with ``uses="prediction"`` the law of X given Y = y, from the joint law
of the workload; with ``uses="size"`` a point mass (both reduce to SRPT).
For a job of age a (formulas.md §4.1, table):

.. math::

    r_{SERPT}(a) = E[X - a \mid X > a], \qquad
    r_{Gittins}(a) = \inf_{\Delta > 0}
        \frac{E[\min(X - a, \Delta) \mid X > a]}{P(X - a \le \Delta \mid X > a)}.

The Gittins policy minimises the mean response time among all policies that
know only the descriptor and the age (Gittins; Scully, Harchol-Balter and
Scheller-Wolf 2018), so it is the natural yardstick for how well a predictor is
used. E[T] is computed by the SOAP engine (:mod:`queuetheory.soap`).

Rank computation
----------------
* **Atomic laws** (values :math:`x_1 < \dots < x_K`, e.g. Discrete sizes, or
  the conditional law of a Discrete size given a continuous prediction): both
  ranks are exactly piecewise linear in the age. On :math:`[x_{k-1}, x_k)`,
  SERPT is :math:`m_k - a` with :math:`m_k = E[X \mid X \ge x_k]`, and the
  Gittins rank is the lower envelope of the lines
  :math:`(E[\min(X, x_j) \mid X \ge x_k] - a)/P(X \le x_j \mid X \ge x_k)`,
  j >= k (the infimum over Δ is attained at Δ = x_j − a), computed exactly.
  Example (formulas.md §4.5): X ∈ {2, 14} gives SERPT 8 − a then 14 − a, and
  Gittins 4 − 2a then 14 − a.
* **Continuous laws**: the ranks are evaluated on an age grid of
  ``grid_points`` ages (geometric in units of the law's scale, from 10⁻⁸ to
  10⁸ scales), with :math:`\bar F(a)` and :math:`\int_a^\infty \bar F` from
  10-point Gauss–Legendre cell integrals of the density accumulated from the
  right (no cancellation); the Gittins infimum is taken over the grid ages b
  and the limit b → a⁺ (:math:`\bar F(a)/f(a)`), and the policy uses the
  piecewise-linear interpolant of the grid values (accuracy: relative
  :math:`O(h^2)` in the rank with grid ratio h, about 1e-4 for the default;
  the SOAP engine is then exact for that interpolant). Values equal to
  relative 1e-10 are snapped to equal, so that the exponential law gives a
  constant Gittins rank (every job ties: FCFS) and a constant SERPT rank.

Binding to a workload
---------------------
The ranks depend on the size law, so an unbound ``Gittins()`` is bound to the
workload when evaluated (``Gittins().mean_response_time(w)``); for other uses
(e.g. a simulator) bind it first with :meth:`for_workload` or pass ``size=``
(and ``prediction=``) to the constructor.

>>> import queuetheory as qt
>>> w = qt.Workload(arrival_rate=0.1, size=qt.Discrete(values=[2.0, 14.0], probs=[0.5, 0.5]))
>>> qt.Gittins().mean_response_time(w)  # formulas.md §4.5
25.25
>>> qt.SERPT().mean_response_time(w)
25.5
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..distributions.base import SizeDistribution
from ..errors import ParameterError, check_positive_integer
from ..integrate import DEFAULT_RTOL, Estimate
from ..workload import Workload
from .base import Policy
from .rank import PiecewiseRank

__all__ = ["SERPT", "Gittins"]

_USES = ("nothing", "prediction", "size")
_GL_X, _GL_W = np.polynomial.legendre.leggauss(10)


class _IndexPolicy(Policy):
    """Shared machinery of SERPT and Gittins (see the module docstring)."""

    kind = "serpt"

    def __init__(self, uses: str = "nothing", size: SizeDistribution | None = None,
                 prediction: Any = None, *, grid_points: int = 600) -> None:
        if uses not in _USES:
            raise ParameterError(f"uses must be one of {_USES} (got {uses!r})")
        if size is not None and not isinstance(size, SizeDistribution):
            raise ParameterError(f"size must be a queuetheory size distribution "
                                 f"(got {type(size).__name__})")
        self.uses = uses
        self.grid_points = check_positive_integer("grid_points", grid_points)
        if self.grid_points < 50:
            raise ParameterError(f"grid_points must be >= 50 (got {grid_points!r})")
        self._size = size
        self._prediction = prediction
        self._joint = None
        self._cache: dict[bytes, PiecewiseRank] = {}
        self._nothing: PiecewiseRank | None = None

    def _params(self) -> dict:
        out: dict = {"uses": self.uses}
        if self._size is not None:
            out["size"] = self._size
        return out

    # ---------------------------------------------------------------- binding
    @property
    def is_bound(self) -> bool:
        """True once a size law is attached."""
        return self._size is not None

    def for_workload(self, workload: Workload) -> _IndexPolicy:
        """This policy with the size (and prediction) law of ``workload`` attached."""
        if not isinstance(workload, Workload):
            raise ParameterError(f"workload must be a queuetheory.Workload "
                                 f"(got {type(workload).__name__})")
        if (self._size is not None and self._size == workload.size
                and self._joint is workload.joint):
            return self
        out = type(self)(self.uses, workload.size, workload.prediction,
                         grid_points=self.grid_points)
        out._joint = workload.joint
        return out

    def evaluate(self, workload: Workload, *, method: str = "auto",
                 rtol: float = DEFAULT_RTOL) -> Estimate:
        self._check_method(method)
        self._check_workload(workload)
        return Policy.evaluate(self.for_workload(workload), workload, method=method, rtol=rtol)

    def evaluate_conditional(self, workload: Workload, x: float, y: float | None = None, *,
                             method: str = "auto", rtol: float = DEFAULT_RTOL) -> Estimate:
        self._check_method(method)
        self._check_workload(workload)
        return Policy.evaluate_conditional(self.for_workload(workload), workload, x, y,
                                           method=method, rtol=rtol)

    # ------------------------------------------------------------------ ranks
    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        if self._size is None:
            raise ParameterError(
                f"{self.name} ranks depend on the size law: bind the policy with "
                f".for_workload(workload) or pass size= to the constructor")
        d = np.asarray(d, dtype=float).reshape(-1)
        n = d.size
        if self.uses == "size":
            return PiecewiseRank.linear(d, slope=-1.0)
        if self.uses == "nothing" or getattr(self._prediction, "perfect", False) \
                and self.uses != "prediction":
            if self._nothing is None:
                vals, probs = self._size.atoms
                if not self._size.has_continuous_part:
                    self._nothing = _atomic_index(vals, probs[None, :], self.kind)
                else:
                    self._nothing = _grid_index_size(self._size, self.kind, self.grid_points)
            return self._nothing.take(np.zeros(n, dtype=int))
        if getattr(self._prediction, "perfect", False) or self._prediction is None:
            return PiecewiseRank.linear(d, slope=-1.0)
        key = d.tobytes()
        if key in self._cache:
            return self._cache[key]
        out = self._conditional(d)
        if len(self._cache) > 32:
            self._cache.clear()
        self._cache[key] = out
        return out

    def _conditional(self, y: np.ndarray) -> PiecewiseRank:
        """Ranks from the law of X given Y = y, for every descriptor y."""
        joint = self._joint if self._joint is not None else self._prediction.joint(self._size)
        self._joint = joint
        if hasattr(joint, "w") and hasattr(joint, "x") and not getattr(joint, "has_density_y",
                                                                        True):
            # empirical pairs: X given Y = y is the empirical law of the pairs with that y
            xs = np.unique(joint.x)
            W = np.zeros((y.size, xs.size))
            for j, yj in enumerate(y):
                sel = joint.y == yj
                if np.any(sel):
                    np.add.at(W[j], np.searchsorted(xs, joint.x[sel]), joint.w[sel])
                else:
                    W[j] = np.bincount(np.searchsorted(xs, joint.x), joint.w, xs.size)
            return _atomic_index(xs, W, self.kind)
        size = self._size
        pred = self._prediction
        vals, probs = size.atoms
        if not size.has_continuous_part:
            # discrete sizes: X given Y = y has atoms x_i with weights p_i p(y | x_i)
            W = probs[None, :] * np.asarray(pred._cond_pdf(y[:, None], vals[None, :]), float)
            return _atomic_index(vals, W, self.kind)
        if vals.size:
            raise ParameterError(f"{self.name}(uses='prediction') does not support size laws "
                                 f"with both atoms and a density")

        def density(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
            return np.asarray(size.pdf(x), float) * np.asarray(
                pred._cond_pdf(y[rows], x), float)

        scale = np.maximum(np.where(y > 0, y, float(size.scale)), 1e-300)
        return _grid_index(density, scale, self.kind, self.grid_points, y.size)


class SERPT(_IndexPolicy):
    r"""Shortest expected remaining processing time: rank E[X − a | X > a, descriptor].

    Parameters
    ----------
    uses : {"nothing", "prediction", "size"}
        The descriptor the conditional law is taken on (module docstring).
    size, prediction : optional
        Bind the policy to a size law (and prediction model) up front.
    grid_points : int
        Number of ages of the grid for continuous laws (default 600).

    Examples
    --------
    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.1, size=qt.Discrete(values=[2.0, 14.0], probs=[0.5, 0.5]))
    >>> r = qt.SERPT().for_workload(w).rank_segments([0.0])
    >>> r.evaluate(0, 1.0), r.evaluate(0, 2.0)  # 8 - a, then 14 - a
    ((0.0, 7.0), (0.0, 12.0))
    """

    name = "SERPT"
    kind = "serpt"


class Gittins(_IndexPolicy):
    r"""The Gittins index policy: rank inf_Δ E[min(X − a, Δ) | X > a] / P(X − a <= Δ | X > a).

    Optimal for the mean response time among policies that know only the
    descriptor (nothing, or the prediction) and the age. See the module
    docstring for the exact (atomic) and grid (continuous) computations.

    Parameters
    ----------
    uses : {"nothing", "prediction", "size"}
    size, prediction : optional
    grid_points : int

    Examples
    --------
    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.1, size=qt.Discrete(values=[2.0, 14.0], probs=[0.5, 0.5]))
    >>> r = qt.Gittins().for_workload(w).rank_segments([0.0])
    >>> r.evaluate(0, 1.0), r.evaluate(0, 2.0)  # 4 - 2a, then 14 - a
    ((0.0, 2.0), (0.0, 12.0))
    """

    name = "Gittins"
    kind = "gittins"


# =====================================================================================
# Exact ranks of atomic laws
# =====================================================================================
def _atomic_index(vals: np.ndarray, W: np.ndarray, kind: str) -> PiecewiseRank:
    """SERPT/Gittins ranks of n atomic laws on the common atoms ``vals`` (weights W (n, K))."""
    vals = np.asarray(vals, float)
    W = np.asarray(W, float)
    order = np.argsort(vals)
    vals, W = vals[order], W[:, order]
    pos = vals > 0
    vals, W = vals[pos], W[:, pos]
    n, K = W.shape
    if K == 0:
        return PiecewiseRank.linear(np.zeros(n))
    starts = np.concatenate([[0.0], vals[:-1]])
    ends = np.concatenate([vals[:-1], [np.inf]])
    tailW = np.cumsum(W[:, ::-1], axis=1)[:, ::-1]  # W_k = Σ_{i>=k} w_i
    tailWX = np.cumsum((W * vals)[:, ::-1], axis=1)[:, ::-1]
    segs: list[tuple[np.ndarray, ...]] = []  # per interval: (start, end, value, slope) (n, p)
    for k in range(K):
        Wk = tailW[:, k]
        live = Wk > 0
        safeW = np.where(live, Wk, 1.0)
        if kind == "serpt":
            value = np.where(live, tailWX[:, k] / safeW - starts[k], np.nan)
            segs.append((np.full((n, 1), starts[k]), np.full((n, 1), ends[k]),
                         value[:, None], np.full((n, 1), -1.0)))
            continue
        # Gittins: lines j >= k, value at a: (A_kj - a W_k) / B_kj
        js = np.arange(k, K)
        B = np.cumsum(W[:, k:], axis=1)  # Σ_{k<=i<=j} w_i
        partial = np.cumsum(W[:, k:] * vals[k:], axis=1)
        above = Wk[:, None] - B  # Σ_{i>j} w_i
        A = partial + vals[js][None, :] * above
        okB = B > 0
        safeB = np.where(okB, B, 1.0)
        alpha = np.where(okB, (A - starts[k] * Wk[:, None]) / safeB, np.inf)  # value at start
        beta = np.where(okB, -Wk[:, None] / safeB, 0.0)
        segs.append(_lower_envelope(alpha, beta, starts[k], ends[k]))
    # assemble rows
    st = np.concatenate([s[0] for s in segs], axis=1)
    en = np.concatenate([s[1] for s in segs], axis=1)
    va = np.concatenate([s[2] for s in segs], axis=1)
    sl = np.concatenate([s[3] for s in segs], axis=1)
    # intervals that no job reaches (zero remaining weight) continue the previous piece
    bad = ~np.isfinite(va)
    for j in range(1, va.shape[1]):
        b = bad[:, j] & np.isfinite(st[:, j])
        if np.any(b):
            prev_v = va[:, j - 1] + sl[:, j - 1] * (st[:, j] - st[:, j - 1])
            va[b, j] = prev_v[b]
            sl[b, j] = sl[b, j - 1]
            bad[b, j] = ~np.isfinite(va[b, j])
    va = np.where(np.isfinite(va), va, 0.0)
    # drop empty pieces, left-justify
    ok = np.isfinite(st) & (en > st)
    order = np.argsort(~ok, axis=1, kind="stable")
    rows = np.arange(n)[:, None]
    st, en, va, sl, ok = st[rows, order], en[rows, order], va[rows, order], sl[rows, order], \
        ok[rows, order]
    m = int(ok.sum(axis=1).max())
    st, en, va, sl, ok = st[:, :m], en[:, :m], va[:, :m], sl[:, :m], ok[:, :m]
    lev = np.where(ok, 0.0, np.inf)
    return PiecewiseRank(np.where(ok, st, np.inf), np.where(ok, en, np.inf), lev,
                         np.where(ok, va, 0.0), np.where(ok, sl, 0.0))


def _lower_envelope(alpha: np.ndarray, beta: np.ndarray, a0: float,
                    a1: float) -> tuple[np.ndarray, ...]:
    """Lower envelope on [a0, a1) of lines alpha + beta (a − a0), per row (n, J).

    Returns (start, end, value at start, slope), each (n, P), padded with NaN starts.
    """
    n, J = alpha.shape
    span = (a1 - a0) if math.isfinite(a1) else np.inf
    # candidate breakpoints: pairwise intersections inside (0, span)
    cands = [np.zeros((n, 1))]
    for i in range(J):
        for j in range(i + 1, J):
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (alpha[:, j] - alpha[:, i]) / (beta[:, i] - beta[:, j])
            ok = np.isfinite(t) & (t > 0) & (t < span)
            cands.append(np.where(ok, t, np.nan)[:, None])
    T = np.sort(np.concatenate(cands, axis=1), axis=1)  # NaN last
    P = T.shape[1]
    nxt = np.concatenate([T[:, 1:], np.full((n, 1), np.nan)], axis=1)
    nxt = np.where(np.isnan(nxt), span, nxt)
    valid = ~np.isnan(T) & (nxt > T)
    mid = np.where(np.isfinite(nxt), 0.5 * (T + nxt), T + 1.0)
    vals = alpha[:, None, :] + beta[:, None, :] * mid[:, :, None]  # (n, P, J)
    best = np.argmin(np.where(np.isfinite(vals), vals, np.inf), axis=2)
    rows = np.arange(n)[:, None]
    a_at = alpha[rows, best] + beta[rows, best] * np.where(valid, T, 0.0)
    # merge consecutive pieces on the same line
    same = np.zeros((n, P), bool)
    same[:, 1:] = (best[:, 1:] == best[:, :-1]) & valid[:, 1:] & valid[:, :-1]
    keep = valid & ~same
    start = np.where(keep, a0 + T, np.nan)
    # end: the start of the next kept piece
    out_end = np.full((n, P), np.nan)
    for r in range(n):
        idx = np.flatnonzero(keep[r])
        e = np.append(start[r, idx[1:]], a1)
        out_end[r, idx] = e
    return (start, out_end, np.where(keep, a_at, np.nan), np.where(keep, beta[rows, best], 0.0))


# =====================================================================================
# Grid ranks of continuous laws
# =====================================================================================
def _grid_core(G0: np.ndarray, C: np.ndarray, dens: np.ndarray, ages: np.ndarray,
               kind: str) -> np.ndarray:
    """Rank values at the grid ages from cell masses G0 (n, g−1), cell integrals of the
    survival function C (n, g−1) and the density at the ages (n, g)."""
    n, g = ages.shape
    zero = np.zeros((n, 1))
    Fbar = np.concatenate([np.cumsum(G0[:, ::-1], axis=1)[:, ::-1], zero], axis=1)
    Iint = np.concatenate([np.cumsum(C[:, ::-1], axis=1)[:, ::-1], zero], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        serpt = Iint / Fbar
    if kind == "serpt":
        out = serpt
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            best = np.where(dens > 0, Fbar / dens, np.inf)
            best = np.minimum(best, serpt)
            for j in range(g - 1):
                dF = Fbar[:, j:j + 1] - Fbar[:, j + 1:]
                dI = Iint[:, j:j + 1] - Iint[:, j + 1:]
                r = np.where(dF > 0, dI / dF, np.inf)
                best[:, j] = np.minimum(best[:, j], np.nanmin(r, axis=1))
        out = best
    # the last ages carry no mass: continue the last finite value
    for j in range(1, g):
        bad = ~np.isfinite(out[:, j])
        out[bad, j] = out[bad, j - 1]
    out = np.where(np.isfinite(out), out, 0.0)
    return _snap(out)


def _snap(v: np.ndarray) -> np.ndarray:
    """Make runs of values equal to relative 1e-10 exactly equal (exact ties stay ties)."""
    out = v.copy()
    for j in range(1, v.shape[1]):
        close = np.abs(v[:, j] - out[:, j - 1]) <= 1e-10 * np.maximum(np.abs(out[:, j - 1]),
                                                                     1e-300)
        out[close, j] = out[close, j - 1]
    return out


def _segments_from_grid(ages: np.ndarray, vals: np.ndarray) -> PiecewiseRank:
    """Piecewise-linear interpolant of the grid values, constant after the last age."""
    n, g = ages.shape
    start = np.concatenate([ages[:, :-1], ages[:, -1:]], axis=1)
    end = np.concatenate([ages[:, 1:], np.full((n, 1), np.inf)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.concatenate([(vals[:, 1:] - vals[:, :-1]) / (ages[:, 1:] - ages[:, :-1]),
                                np.zeros((n, 1))], axis=1)
    slope = np.where(np.isfinite(slope), slope, 0.0)
    # merge runs of equal slope (e.g. a constant rank becomes one segment)
    same = np.zeros((n, g), bool)
    same[:, 1:] = np.abs(slope[:, 1:] - slope[:, :-1]) <= 1e-13 * np.maximum(
        np.abs(slope[:, 1:]), 1e-300)
    if n == 1:
        keep = ~same[0]
        keep[0] = True
        idx = np.flatnonzero(keep)
        st = start[0, idx]
        en = np.append(st[1:], np.inf)
        return PiecewiseRank(st[None, :], en[None, :], np.zeros((1, idx.size)),
                             vals[0, idx][None, :], slope[0, idx][None, :])
    return PiecewiseRank(start, end, np.zeros((n, g)), vals, slope)


def _cell_integrals(density, a: np.ndarray, rows: np.ndarray):
    """Cell masses ∫ g and ∫_{cell} (x − a_lo) g dx by 10-point Gauss–Legendre, (n, g−1)."""
    lo, hi = a[:, :-1], a[:, 1:]
    half = 0.5 * (hi - lo)
    mid = 0.5 * (hi + lo)
    x = mid[:, :, None] + half[:, :, None] * _GL_X[None, None, :]
    r = np.broadcast_to(rows[:, None, None], x.shape)
    f = np.asarray(density(x.ravel(), r.ravel()), float).reshape(x.shape)
    f = np.where(np.isfinite(f), f, 0.0)
    G0 = np.einsum("ncj,j->nc", f, _GL_W) * half
    G1 = np.einsum("ncj,j->nc", f * (x - lo[:, :, None]), _GL_W) * half
    # ∫_cell F̄(t) dt = F̄(hi) w + ∫_cell (x − lo) g(x) dx
    return G0, G1, half * 2


def _relative_grid(npts: int) -> np.ndarray:
    """Ages in units of the law's scale: 0, then geometric 1e-8 .. 1e8, denser in [0.01, 100]."""
    core = np.geomspace(1e-2, 1e2, npts // 2)
    lo = np.geomspace(1e-8, 1e-2, npts // 6, endpoint=False)
    hi = np.geomspace(1e2, 1e8, npts - npts // 2 - npts // 6 - 1 + 1)[1:]
    return np.concatenate([[0.0], lo, core, hi])


def _grid_index(density, scale: np.ndarray, kind: str, npts: int, n: int) -> PiecewiseRank:
    u = _relative_grid(npts)
    ages = scale[:, None] * u[None, :]
    rows = np.arange(n)
    G0, G1, w = _cell_integrals(density, ages, rows)
    Fbar_hi = np.concatenate([np.cumsum(G0[:, ::-1], axis=1)[:, ::-1][:, 1:],
                              np.zeros((n, 1))], axis=1)
    C = Fbar_hi * w + G1
    dens = np.asarray(density(ages.ravel(), np.repeat(rows, ages.shape[1])),
                      float).reshape(ages.shape)
    vals = _grid_core(G0, C, dens, ages, kind)
    return _segments_from_grid(ages, vals)


def _grid_index_size(size: SizeDistribution, kind: str, npts: int) -> PiecewiseRank:
    """Ranks of a continuous size law (uses="nothing") on the age grid."""
    scale = float(size.scale)
    lo, hi = (float(v) for v in size.support)
    u = _relative_grid(npts)
    ages = scale * u
    ages = np.unique(np.concatenate([ages[(ages > lo) & (ages < hi)], [0.0, lo],
                                     [hi] if math.isfinite(hi) else [],
                                     np.asarray(size.breakpoints(), float)]))
    ages = ages[np.isfinite(ages) & (ages >= 0)][None, :]

    def density(x, rows):
        return np.asarray(size.pdf(x), float)

    G0, G1, w = _cell_integrals(density, ages, np.zeros(1, dtype=int))
    # the mass beyond the last age, from the survival function
    tail = float(size.sf(ages[0, -1]))
    Fbar_hi = np.concatenate([np.cumsum(G0[:, ::-1], axis=1)[:, ::-1][:, 1:],
                              np.zeros((1, 1))], axis=1) + tail
    C = Fbar_hi * w + G1
    G0 = G0.copy()
    G0[:, -1] += tail
    dens = np.asarray(size.pdf(ages[0]), float)[None, :]
    vals = _grid_core(G0, C, dens, ages, kind)
    return _segments_from_grid(ages, vals)
