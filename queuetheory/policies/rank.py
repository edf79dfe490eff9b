r"""Piecewise-linear rank functions: the one representation of a scheduling policy.

A SOAP policy (Scully, Harchol-Balter, Scheller-Wolf 2018) serves the job of
minimum rank r(d, a), where d is the job's descriptor and a its age; ties go
to the earlier arrival. queuetheory represents the rank of each job as a
lexicographic pair ``(level, value)`` that is piecewise linear in age:

* ``level`` is a piecewise-constant float. A lower level always wins.
  ``level = -inf`` (:data:`NONPREEMPTIBLE`) marks a job that can no longer
  be preempted (rank −∞ in formulas.md §4);
* ``value`` is linear inside each segment, with a given slope.

Each segment covers ages ``[start, end)``; a segment with ``start == end`` is
a single point and takes precedence at that age (this is how
"rank y at a = 0 and −∞ afterwards" expresses non-preemptive policies).

The same :class:`PiecewiseRank` object feeds the SOAP engine
(:mod:`queuetheory.soap`), which needs exact crossing ages, and the simulator,
which needs exact preemption times.

>>> import numpy as np
>>> from queuetheory.policies.rank import PiecewiseRank
>>> r = PiecewiseRank.linear(value=np.array([3.0]), slope=-1.0)  # SRPT for size 3
>>> r.evaluate(0, 1.0)
(0.0, 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PiecewiseRank", "NONPREEMPTIBLE"]

#: Level of a job that can no longer be preempted (rank −∞).
NONPREEMPTIBLE = -np.inf


@dataclass
class PiecewiseRank:
    """Ranks of ``n`` jobs as piecewise-linear functions of age.

    Attributes
    ----------
    start, end : ndarray, shape (n, m)
        Segment ``k`` of job ``j`` covers ages ``[start[j, k], end[j, k])``;
        ``start == end`` denotes a single point. Segments are sorted and
        contiguous; padding segments have ``start = end = inf``.
    level : ndarray, shape (n, m)
        Lexicographic first component (piecewise constant; ``-inf`` =
        non-preemptible).
    value : ndarray, shape (n, m)
        Rank value at ``start``.
    slope : ndarray, shape (n, m)
        d value / d age inside the segment.
    """

    start: np.ndarray
    end: np.ndarray
    level: np.ndarray
    value: np.ndarray
    slope: np.ndarray

    @classmethod
    def linear(cls, value, slope=0.0, level=0.0) -> PiecewiseRank:
        """One segment ``[0, inf)`` per job with ``rank = (level, value + slope * a)``."""
        value = np.atleast_1d(np.asarray(value, dtype=float))
        n = value.size
        return cls(
            start=np.zeros((n, 1)),
            end=np.full((n, 1), np.inf),
            level=np.broadcast_to(np.asarray(level, float), (n,)).reshape(n, 1).copy(),
            value=value.reshape(n, 1).copy(),
            slope=np.broadcast_to(np.asarray(slope, float), (n,)).reshape(n, 1).copy(),
        )

    @classmethod
    def from_segments(cls, segments: list[list[tuple[float, float, float, float, float]]]):
        """Build from per-job lists of ``(start, end, level, value, slope)`` tuples."""
        n = len(segments)
        m = max(len(s) for s in segments)
        arr = np.full((n, m, 5), np.inf)
        arr[:, :, 3] = 0.0
        arr[:, :, 4] = 0.0
        arr[:, :, 2] = np.inf
        for j, segs in enumerate(segments):
            for k, seg in enumerate(segs):
                arr[j, k] = seg
        return cls(arr[:, :, 0], arr[:, :, 1], arr[:, :, 2], arr[:, :, 3], arr[:, :, 4])

    @property
    def n_jobs(self) -> int:
        return self.start.shape[0]

    def segment_at(self, j: int, age: float) -> int:
        """Index of the segment of job ``j`` in force at ``age`` (points take precedence)."""
        s, e = self.start[j], self.end[j]
        point = np.nonzero((s == e) & (s == age))[0]
        if point.size:
            return int(point[0])
        inside = np.nonzero((s <= age) & (age < e))[0]
        if inside.size == 0:
            raise ValueError(f"age {age} is not covered by the rank of job {j}")
        return int(inside[0])

    def evaluate(self, j: int, age: float) -> tuple[float, float]:
        """The rank ``(level, value)`` of job ``j`` at ``age``."""
        k = self.segment_at(j, age)
        lev = float(self.level[j, k])
        if lev == NONPREEMPTIBLE:
            return (lev, -np.inf)
        return (lev, float(self.value[j, k] + self.slope[j, k] * (age - self.start[j, k])))

    def take(self, idx) -> PiecewiseRank:
        """The ranks of a subset of jobs."""
        return PiecewiseRank(self.start[idx], self.end[idx], self.level[idx],
                             self.value[idx], self.slope[idx])
