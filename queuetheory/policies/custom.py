r"""User-defined SOAP policies from a Python rank function.

:class:`RankPolicy` turns a callable ``rank(d, a)`` of a job's descriptor d (its size, its
prediction, or nothing) and its age a into the package's piecewise-linear rank representation
(:class:`~queuetheory.policies.rank.PiecewiseRank`), which the SOAP engine and the simulator
consume.

Conversion. For each descriptor the callable is evaluated on an age grid (0 and 96 points from
1e-6·s to 1e3·s, s = max(d, 1)). Consecutive grid intervals with the same level and slope are
merged into linear pieces. A slope change inside an interval is located exactly, at the
intersection of the neighbouring pieces' lines, when the rank is continuous there; otherwise the
jump is located by bisection to machine precision. A value at age 0 that differs from the
limit from the right becomes a point segment (this is how "rank y at a = 0, −∞ afterwards"
expresses a non-preemptive policy). The last piece is extended to infinite age. The result is
exact for piecewise-linear rank functions whose pieces the grid resolves (at most one breakpoint
per grid interval); other functions get a documented piecewise-linear approximation.

>>> import queuetheory as qt
>>> w = qt.Workload(arrival_rate=0.5, size=qt.Exponential(mean=1.0))
>>> srpt_like = qt.RankPolicy(lambda d, a: d - a, uses="size")
>>> srpt_like.rank(2.0, 0.5)
(0.0, 1.5)
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
_GRID = np.concatenate([[0.0], np.geomspace(1e-6, 1e3, 96)])
_RTOL = 1e-9


class RankPolicy(Policy):
    """A SOAP policy from a user rank function ``rank(d, a)``: lower rank is served first.

    Parameters
    ----------
    rank : callable
        ``rank(d, a)`` for descriptor ``d`` (a float) and age ``a >= 0``. It returns a real number,
        a pair ``(level, value)`` compared lexicographically, or ``-inf`` for a job that can no
        longer be preempted. It is called with floats; it must not return NaN.
    uses : {"size", "prediction", "nothing"}
        What the scheduler knows (the descriptor ``d``): the true size, the prediction, or
        nothing (then ``d = 0``).
    name : str, optional
        Name used in tables.
    preemptive_ties : str
        ``"fcfs"`` (default, the SOAP convention) for ties.

    Notes
    -----
    The policy has no closed form; its mean response time comes from the SOAP engine
    (Scully, Harchol-Balter, Scheller-Wolf 2018) and it can be simulated like any other policy.
    See the module docstring for how the callable is converted to piecewise-linear segments.
    """

    def __init__(self, rank: Callable[[float, float], Any], uses: str = "prediction",
                 name: str | None = None) -> None:
        if not callable(rank):
            raise ParameterError(f"rank must be a callable rank(d, a) (got {type(rank).__name__})")
        if uses not in _USES:
            raise ParameterError(f"uses must be one of {_USES} (got {uses!r})")
        self._rank_fn = rank
        self.uses = uses
        self.name = name or "rank policy"

    def _params(self) -> dict:
        return {"uses": self.uses, "name": self.name}

    # ----------------------------------------------------------- evaluation
    def _call(self, d: float, a: float) -> tuple[float, float]:
        try:
            r = self._rank_fn(d, a)
        except Exception as exc:  # noqa: BLE001 - report any failure of user code
            raise RankFunctionError(
                f"rank function raised {type(exc).__name__}: {exc} at d = {d!r}, a = {a!r}"
            ) from exc
        if isinstance(r, (tuple, list)):
            if len(r) != 2:
                raise RankFunctionError(f"rank function returned a tuple of length {len(r)} at "
                                        f"d = {d!r}, a = {a!r}; expected (level, value)")
            level, value = r
        else:
            level, value = 0.0, r
        try:
            level, value = float(level), float(value)
        except (TypeError, ValueError):
            raise RankFunctionError(f"rank function returned {r!r} at d = {d!r}, a = {a!r}; "
                                    "expected a number or (level, value)") from None
        if math.isnan(level) or math.isnan(value):
            raise RankFunctionError(f"rank function returned NaN at d = {d!r}, a = {a!r}")
        if value == -math.inf or level == -math.inf:
            return NONPREEMPTIBLE, 0.0
        if math.isinf(value) or math.isinf(level):
            raise RankFunctionError(f"rank function returned +inf at d = {d!r}, a = {a!r}; "
                                    "use a large finite level instead")
        return level, value

    def _segments_for(self, d: float) -> list[tuple[float, float, float, float, float]]:
        scale = max(abs(d), 1.0)
        ages = _GRID * scale
        segs: list[tuple[float, float, float, float, float]] = []
        l0, v0 = self._call(d, 0.0)
        # Right limit at 0: extrapolate from two small ages.
        e1, e2 = ages[1] * 1e-3, ages[1]
        l1, v1 = self._call(d, e1)
        l2, v2 = self._call(d, e2)
        slope = 0.0 if (l1 == NONPREEMPTIBLE or l1 != l2) else (v2 - v1) / (e2 - e1)
        right = v1 - slope * e1
        if l1 != l0 or (l0 != NONPREEMPTIBLE and not _close(right, v0)):
            segs.append((0.0, 0.0, l0, v0, 0.0))
            l0, v0 = l1, right
        pieces = [[0.0, l0, v0, slope]]  # [start age, level, value at start, slope]
        for i in range(1, ages.size):
            a = float(ages[i])
            lv, v = self._call(d, a)
            if _on_piece(pieces[-1], a, lv, v):
                continue
            # A breakpoint in (ages[i-1], a]: bisect for where the current piece stops.
            lo, hi = float(ages[i - 1]), a
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                if not lo < mid < hi:
                    break
                lm, vm = self._call(d, mid)
                if _on_piece(pieces[-1], mid, lm, vm):
                    lo = mid
                else:
                    hi = mid
            lh, vh = self._call(d, hi)
            if lh == NONPREEMPTIBLE or lh != lv or hi >= a:
                new_slope = 0.0
                if lh == lv and lh != NONPREEMPTIBLE and a > hi:
                    new_slope = (v - vh) / (a - hi)
                pieces.append([hi, lh, vh, new_slope])
                continue
            new_slope = (v - vh) / (a - hi)
            cur = pieces[-1]
            if cur[1] == lh and not _close(cur[3], new_slope):
                # Continuous kink: the exact intersection of the two lines.
                kink = (vh - new_slope * hi - (cur[2] - cur[3] * cur[0])) / (cur[3] - new_slope)
                if lo - 1e-9 * scale <= kink <= hi + 1e-9 * scale and _close(
                        cur[2] + cur[3] * (kink - cur[0]), vh + new_slope * (kink - hi)):
                    pieces.append([kink, lh, cur[2] + cur[3] * (kink - cur[0]), new_slope])
                    continue
            pieces.append([hi, lh, vh, new_slope])
        self._refine(d, pieces, scale)
        for k, (a0, lv, v_start, sl) in enumerate(pieces):
            a1 = pieces[k + 1][0] if k + 1 < len(pieces) else math.inf
            if a1 > a0:
                segs.append((a0, a1, lv, v_start, 0.0 if lv == NONPREEMPTIBLE else sl))
        return segs

    def _refine(self, d: float, pieces: list[list[float]], scale: float) -> None:
        """Refit each linear piece from two well-separated ages; re-intersect continuous kinks."""
        for k, piece in enumerate(pieces):
            a0, lv = piece[0], piece[1]
            if lv == NONPREEMPTIBLE:
                continue
            a1 = pieces[k + 1][0] if k + 1 < len(pieces) else a0 + 1e3 * scale
            if not a1 > a0:
                continue
            p, q = a0 + 0.25 * (a1 - a0), a0 + 0.75 * (a1 - a0)
            (lp, vp), (lq, vq) = self._call(d, p), self._call(d, q)
            if lp != lv or lq != lv:
                continue
            slope = (vq - vp) / (q - p)
            if _close(slope, round(slope)):
                slope = float(round(slope))
            piece[3] = slope
            piece[2] = vp - slope * (p - a0)
        for k in range(1, len(pieces)):
            prev, cur = pieces[k - 1], pieces[k]
            if prev[1] != cur[1] or cur[1] == NONPREEMPTIBLE or _close(prev[3], cur[3]):
                continue
            c_prev = prev[2] - prev[3] * prev[0]
            c_cur = cur[2] - cur[3] * cur[0]
            kink = (c_cur - c_prev) / (prev[3] - cur[3])
            if abs(kink - cur[0]) <= 1e-6 * scale and _close(prev[3] * kink + c_prev,
                                                              cur[3] * kink + c_cur):
                cur[0] = kink
                cur[2] = cur[3] * kink + c_cur

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        d = np.asarray(d, dtype=float)
        flat = d.reshape(d.shape[0], -1)[:, 0] if d.ndim > 1 else d
        uniq, inverse = np.unique(flat, return_inverse=True)
        per_value = [self._segments_for(float(v)) for v in uniq]
        return PiecewiseRank.from_segments([per_value[k] for k in inverse])


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _on_piece(piece: list[float], a: float, level: float, value: float) -> bool:
    a0, lv, v0, sl = piece
    if lv != level:
        return False
    if lv == NONPREEMPTIBLE:
        return True
    return _close(v0 + sl * (a - a0), value)
