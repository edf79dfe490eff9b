r"""Exact symbolic SOAP for atomic size laws (formulas.md §4.2–§4.3).

For a size law with finitely many atoms and a policy whose rank function is
given by :meth:`Policy.rank_segments` (piecewise linear in age, lexicographic
``(level, value)``), the SOAP theorem

.. math::

    E[T_{d,x}] = \frac{\lambda \sum_i E[(X^{old}_i[r])^2]}
                      {2(1-\rho^{old}_0[r])(1-\rho^{new}[r])}
               + \int_0^x \frac{da}{1-\rho^{new}[r_{worst}(a)]}

is evaluated exactly: every quantity is a finite sum over atoms of piecewise
linear expressions, so the result is a rational function of λ (plus
logarithms when ρ^new varies linearly along the tagged job's residence).
Rank values are converted to exact rationals (floats such as 8.0 or 0.5 are
exact binary numbers).

The descriptor of an atom v is ``policy.descriptor(v, v)`` (sizes are known
exactly for atomic laws; prediction policies then see perfect predictions).

>>> import sympy as sp, queuetheory as qt
>>> lam = sp.Symbol("lambda", positive=True)
>>> w = qt.Workload(lam, qt.Discrete([2.0, 14.0], [0.5, 0.5]))
>>> sp.factor(soap_mean_response_time(qt.FCFS(), w) - (8 + 50 * lam / (1 - 8 * lam)))
0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from ..errors import ParameterError
from .laws import as_symbolic_workload, exact

__all__ = ["soap_mean_response_time", "soap_response_time"]

oo = sp.oo
NEG = -sp.oo


class _Rank:
    """Exact piecewise-linear rank of one job: segments (start, end, level, value, slope)."""

    def __init__(self, segments: list[tuple]) -> None:
        self.segs = segments

    @classmethod
    def from_policy(cls, policy: Any, size: sp.Expr) -> _Rank:
        v = float(size)
        d = policy.descriptor(np.array([v]), np.array([v]))
        pr = policy.rank_segments(d)
        segs = []
        for k in range(pr.start.shape[1]):
            s, e = pr.start[0, k], pr.end[0, k]
            if np.isinf(s):
                continue
            lev = pr.level[0, k]
            level = NEG if lev == -np.inf else (oo if lev == np.inf else exact(lev))
            segs.append((exact(s), oo if np.isinf(e) else exact(e), level,
                         exact(pr.value[0, k]) if np.isfinite(pr.value[0, k]) else sp.Integer(0),
                         exact(pr.slope[0, k])))
        return cls(segs)

    def at(self, a: sp.Expr) -> tuple:
        """Rank (level, value) at age a (point segments first)."""
        for s, e, lev, val, _slope in self.segs:
            if s == e == a:
                return (lev, val if lev != NEG else NEG)
        for s, e, lev, val, slope in self.segs:
            if s <= a < e:
                return (lev, val + slope * (a - s)) if lev != NEG else (NEG, NEG)
        raise ValueError(f"age {a} not covered by the rank function")

    def pieces(self, lo: sp.Expr, hi: sp.Expr) -> list[tuple]:
        """Segments clipped to [lo, hi): (s, e, level, value at s, slope, is_point)."""
        out = []
        for s, e, lev, val, slope in self.segs:
            if s == e:
                if lo <= s < hi:
                    out.append((s, s, lev, val, sp.Integer(0), True))
                continue
            a, b = max(s, lo), min(e, hi)
            if a < b:
                out.append((a, b, lev, val + slope * (a - s), slope, False))
        return out


def _lt(r1: tuple, r2: tuple) -> bool:
    return (r1[0], r1[1]) < (r2[0], r2[1]) if r1[0] == r2[0] else r1[0] < r2[0]


def _ge(r1: tuple, r2: tuple) -> bool:
    return not _lt(r1, r2)


def _worst(rank: _Rank, a: sp.Expr, x: sp.Expr) -> tuple:
    """r_worst(a) = sup{r(t) : a <= t < x} (a supremum; it may not be attained)."""
    best: tuple | None = None
    for s, e, lev, val, slope, point in rank.pieces(a, x):
        cand = (lev, val) if (point or slope <= 0) else (lev, val + slope * (e - s))
        if lev == NEG:
            cand = (NEG, NEG)
        if best is None or _lt(best, cand):
            best = cand
    return best if best is not None else (NEG, NEG)


def _c_new(rank: _Rank, r: tuple) -> sp.Expr:
    """c[r] = inf{t >= 0 : r(t) >= r} for a new job (oo if never)."""
    for s, e, lev, val, slope, point in rank.pieces(sp.Integer(0), oo):
        if lev != r[0]:
            if lev > r[0]:
                return s
            continue
        if val >= r[1]:
            return s
        if not point and slope > 0:
            t = s + (r[1] - val) / slope
            if t < e:
                return t
    return oo


def _old_intervals(rank: _Rank, r: tuple, v: sp.Expr) -> list[tuple]:
    """Maximal intervals of {0 <= a < v : r(a) <= r} as (b, c, is_interval_0)."""
    parts: list[tuple] = []
    for s, e, lev, val, slope, point in rank.pieces(sp.Integer(0), v):
        if point:
            if not _lt(r, (lev, val)):
                parts.append((s, s))
            continue
        if lev != r[0]:
            if lev < r[0]:
                parts.append((s, e))
            continue
        # same level: val + slope (t - s) <= r[1]
        if slope == 0:
            if val <= r[1]:
                parts.append((s, e))
        else:
            t = s + (r[1] - val) / slope
            if slope > 0:
                if val <= r[1]:
                    parts.append((s, min(e, t)))
            else:
                lo = max(s, t)
                if lo < e:
                    parts.append((lo, e))
    merged: list[list] = []
    for b, c in parts:
        if merged and merged[-1][1] >= b:
            merged[-1][1] = max(merged[-1][1], c)
        else:
            merged.append([b, c])
    zero_in = bool(parts) and parts[0][0] == 0 and not _lt(r, rank.at(sp.Integer(0)))
    return [(b, c, i == 0 and zero_in) for i, (b, c) in enumerate(merged)]


def _atoms_and_rate(workload: Any) -> tuple[list[tuple], sp.Expr]:
    sw = as_symbolic_workload(workload)
    if not sw.size.is_atomic:
        raise NotImplementedError("symbolic SOAP is implemented for purely atomic size laws")
    return sw.size.atoms, sw.arrival_rate


def soap_response_time(policy: Any, workload: Any, x: Any) -> sp.Expr:
    """E[T | X = x] by the SOAP theorem, exactly, for an atom x of an atomic size law."""
    atoms, lam = _atoms_and_rate(workload)
    x = exact(x, "x")
    if x not in [v for v, _ in atoms]:
        raise ParameterError(f"x must be an atom of the size law (got {x})")
    ranks = {v: _Rank.from_policy(policy, v) for v, _ in atoms}
    tag = ranks[x]
    r = _worst(tag, sp.Integer(0), x)

    def rho_new(rr: tuple) -> sp.Expr:
        return lam * sum((p * sp.Min(v, _c_new(ranks[v], rr)) for v, p in atoms), sp.Integer(0))

    second = sp.Integer(0)
    rho_old0 = sp.Integer(0)
    for v, p in atoms:
        for b, c, first in _old_intervals(ranks[v], r, v):
            served = sp.Min(v, c) - b
            second += p * served**2
            if first:
                rho_old0 += lam * p * served
    waiting = lam * second / (2 * (1 - rho_old0) * (1 - rho_new(r)))
    return waiting + _residence(tag, x, rho_new, ranks, atoms)


def _residence(tag: _Rank, x: sp.Expr, rho_new: Any, ranks: dict, atoms: list) -> sp.Expr:
    """∫_0^x da / (1 − ρ^new[r_worst(a)]), split where ρ^new changes; exact on each piece."""
    cuts = {sp.Integer(0), x}
    for s, e, *_ in tag.pieces(sp.Integer(0), x):
        cuts |= {s, e}
    # ages where r_worst(a) meets a rank value at a segment end of some atom
    values = set()
    for v, _ in atoms:
        for s, e, lev, val, slope, point in ranks[v].pieces(sp.Integer(0), oo):
            values.add((lev, val))
            if not point and e != oo:
                values.add((lev, val + slope * (e - s)))
    for s, e, lev, val, slope, point in tag.pieces(sp.Integer(0), x):
        if point or slope == 0 or lev == NEG:
            continue
        for lv, vv in values:
            if lv == lev and vv not in (oo, NEG):
                t = s + (vv - val) / slope
                if s < t < e:
                    cuts.add(t)
    pts = sorted(c for c in cuts if 0 <= c <= x)
    total = sp.Integer(0)
    for a, b in zip(pts[:-1], pts[1:]):
        samples = [a + (b - a) * k / 4 for k in (1, 2, 3)]
        rhos = [rho_new(_worst(tag, s, x)) for s in samples]
        if sp.simplify(rhos[0] - rhos[1]) == 0 and sp.simplify(rhos[1] - rhos[2]) == 0:
            total += (b - a) / (1 - rhos[0])
            continue
        beta = sp.simplify((rhos[2] - rhos[0]) / (samples[2] - samples[0]))
        alpha = sp.simplify(rhos[0] - beta * samples[0])
        if sp.simplify(alpha + beta * samples[1] - rhos[1]) != 0:
            raise NotImplementedError("rho_new varies non-linearly along the residence")
        total += -sp.log((1 - alpha - beta * b) / (1 - alpha - beta * a)) / beta
    return total


def soap_mean_response_time(policy: Any, workload: Any) -> sp.Expr:
    """E[T] = Σ_atoms p · E[T | X = atom] by the exact SOAP theorem (atomic size laws)."""
    if not getattr(policy, "is_soap", True):
        raise NotImplementedError(f"{getattr(policy, 'name', policy)} is not a SOAP policy")
    atoms, _ = _atoms_and_rate(workload)
    total = sum((p * soap_response_time(policy, workload, v) for v, p in atoms), sp.Integer(0))
    return sp.factor(sp.cancel(total)) if total.is_rational_function() else total
