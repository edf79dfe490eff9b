r"""SERPT and the Gittins index policy for unknown sizes (rank from the size law).

With no size information the scheduler knows only the job's age a and the size law. Two
classic ranks:

* SERPT, shortest expected remaining processing time: r(a) = E[X − a | X > a].
* Gittins: r(a) = inf_{Δ>0} E[min(X − a, Δ) | X > a] / P(X − a ≤ Δ | X > a), the reciprocal of
  the Gittins index. Gittins minimises the mean response time among all policies that do not
  know sizes (Gittins 1989; Scully, Harchol-Balter, Scheller-Wolf 2018, SOAP §4.5), so it is
  the natural yardstick for how well a predictor is used.

For **atomic** size laws both ranks are exactly piecewise linear in age: between consecutive
atoms, SERPT is (E[X 1(X > a)] / P(X > a)) − a, and Gittins is the lower envelope of the lines
obtained with Δ ending at each larger atom. Both are computed exactly here, so the SOAP engine
reproduces the two-point example of formulas.md §4.5 exactly:

>>> import queuetheory as qt
>>> w = qt.Workload(arrival_rate=0.1, size=qt.Discrete(values=[2.0, 14.0], probs=[0.5, 0.5]))
>>> qt.Gittins().bind(w.size).rank(0.0, 0.5), qt.SERPT().bind(w.size).rank(0.0, 0.5)
((0.0, 3.0), (0.0, 7.5))
>>> qt.Gittins().mean_response_time(w)  # 25.25, exactly as in formulas.md §4.5
25.25...

For atomic laws with more than 300 atoms and for **continuous** size laws the ranks are
tabulated on an age grid (the atoms; or quantiles 1e-9 ... 1 − 1e-9 of the law, 400 points) and
interpolated linearly; the resulting policy is the SOAP policy with that piecewise-linear rank,
which approximates the exact index with an error that shrinks with
the grid. Both classes have no closed form: their mean response time comes from the SOAP engine.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .base import Policy
from .rank import PiecewiseRank

__all__ = ["SERPT", "Gittins"]

_GRID_POINTS = 400
#: Atomic laws with at most this many atoms get the exact piecewise-linear rank; larger ones
#: (e.g. an Empirical law of many samples) are tabulated at the atoms, O(n^2) work.
_EXACT_MAX_ATOMS = 300


class _SizeLawRank(Policy):
    """A rank computed from the size law alone (descriptor: nothing)."""

    uses = "nothing"

    def __init__(self) -> None:
        self._size = None
        self._table: list[tuple[float, float, float, float, float]] | None = None

    def bind(self, size) -> _SizeLawRank:
        """Compute the rank function for the size law ``size``; returns ``self``."""
        self._size = size
        self._table = self._build(size)
        self._table_rank = PiecewiseRank.from_segments([self._table])
        return self

    def _check_workload(self, workload) -> None:
        super()._check_workload(workload)
        if self._size is not workload.size:
            self.bind(workload.size)

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        if self._table is None:
            raise ParameterError(f"{self.name} computes its rank from the size law: evaluate it "
                                 "on a workload first, or call .bind(size)")
        one = self._table_rank
        n = np.atleast_1d(d).shape[0]
        m = one.start.shape[1]
        return PiecewiseRank(*(np.broadcast_to(arr, (n, m)) for arr in
                               (one.start, one.end, one.level, one.value, one.slope)))

    def rank(self, d, a):
        if self._table is None:
            raise ParameterError(f"{self.name} computes its rank from the size law: call "
                                 ".bind(size) or evaluate it on a workload first")
        return super().rank(d, a)

    def _build(self, size):
        values, probs = size.atoms
        if values.size and not size._has_continuous_part():
            if values.size <= _EXACT_MAX_ATOMS:
                return self._atomic(values, probs)
            return self._tabulated(size, ages=np.concatenate([[0.0], values[:-1]]))
        return self._tabulated(size)

    # Exact piecewise-linear ranks for atomic laws ---------------------------------------
    def _atomic(self, x: np.ndarray, p: np.ndarray):
        segs = []
        starts = np.concatenate([[0.0], x[:-1]])
        for k in range(x.size):
            a0, a1 = starts[k], x[k]
            alive = p[k:]  # atoms > a for a in [a0, a1)
            lines = self._lines(x[k:], alive)  # (value at age 0, slope) candidates
            segs += _envelope(lines, a0, a1)
        # After the largest atom no job is present; extend the last value (never used).
        last = segs[-1]
        segs.append((x[-1], np.inf, 0.0, last[3] + last[4] * (last[1] - last[0]), 0.0))
        return segs

    def _tabulated(self, size, ages=None):
        if ages is None:
            q = np.concatenate([np.geomspace(1e-9, 0.5, _GRID_POINTS // 2),
                                1 - np.geomspace(0.5, 1e-9, _GRID_POINTS // 2)[1:]])
            ages = size.ppf(q)
        ages = np.unique(np.concatenate([[0.0], ages]))
        ages = ages[np.isfinite(ages)]
        r = self._continuous_rank(size, ages)
        segs = []
        for i in range(ages.size - 1):
            slope = (r[i + 1] - r[i]) / (ages[i + 1] - ages[i])
            segs.append((ages[i], ages[i + 1], 0.0, r[i], slope))
        segs.append((ages[-1], np.inf, 0.0, r[-1], 0.0))
        return segs


class SERPT(_SizeLawRank):
    """Shortest expected remaining processing time: rank E[X − a | X > a] (no size information).

    Exact for atomic size laws; tabulated on a quantile grid for continuous ones (module docs).
    """

    name = "SERPT"

    @staticmethod
    def _lines(x, p):
        tail = p.sum()
        return [(float(np.dot(p, x) / tail), -1.0)]

    @staticmethod
    def _continuous_rank(size, ages):
        sf = size.sf(ages)
        above = size.moment(1) - size.partial_moment(1, ages)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(sf > 0, above / sf - ages, 0.0)
        return r


class Gittins(_SizeLawRank):
    """The Gittins index policy (rank = inverse index), optimal without size information.

    r(a) = inf_{Δ>0} E[min(X − a, Δ) | X > a] / P(X − a ≤ Δ | X > a) (Gittins 1989; SOAP
    §4.5 of formulas.md). Exact for atomic size laws; tabulated on a quantile grid for
    continuous ones, where the infimum is taken over Δ ending at the grid points.
    """

    name = "Gittins"

    @staticmethod
    def _lines(x, p):
        lines = []
        tail = p.sum()
        for m in range(x.size):
            # Delta ends at atom x[m]: numerator sum_i p_i min(x_i, x_m) - a * tail,
            # denominator sum_{i <= m} p_i.
            num0 = float(np.dot(p, np.minimum(x, x[m])))
            den = float(p[: m + 1].sum())
            lines.append((num0 / den, -tail / den))
        return lines

    @staticmethod
    def _continuous_rank(size, ages):
        sf = size.sf(ages)
        lim = size.moment(1) - size.partial_moment(1, ages) + ages * sf  # E[max(X, a)] tail part
        # E[min(X, b) 1(X > a)] = E[X 1(a < X <= b)] + b P(X > b)
        pm = size.partial_moment(1, ages)
        r = np.empty(ages.size)
        for i, a in enumerate(ages):
            if sf[i] <= 0:
                r[i] = 0.0
                continue
            b = ages[i + 1:]
            if b.size == 0:
                r[i] = (lim[i] - a * sf[i]) / sf[i]
                continue
            num = pm[i + 1:] - pm[i] + b * sf[i + 1:] - a * sf[i]
            den = sf[i] - sf[i + 1:]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(den > 0, num / den, np.inf)
            r[i] = min(float(ratio.min()), (lim[i] - a * sf[i]) / sf[i])
        return r


def _envelope(lines, a0, a1):
    """Segments of the lower envelope of lines v0 + s*a on [a0, a1)."""
    segs = []
    a = a0
    while a < a1:
        vals = [v + s * a for v, s in lines]
        best = min(range(len(lines)), key=lambda j: (vals[j], lines[j][1]))
        v_b, s_b = lines[best]
        nxt = a1
        for v, s in lines:
            if s < s_b:  # a steeper-falling line overtakes later
                cross = (v - v_b) / (s_b - s)
                if a < cross < nxt:
                    nxt = cross
        segs.append((a, nxt, 0.0, v_b + s_b * a, s_b))
        a = nxt
    return segs
