"""Perfect predictions: Y = X."""

from __future__ import annotations

import numpy as np

from ..integrate import DEFAULT_RTOL
from .base import size_partial_moment
from .multiplicative import MultiplicativeJoint, MultiplicativePrediction

__all__ = ["PerfectPrediction", "PerfectJoint"]


class PerfectPrediction(MultiplicativePrediction):
    """Y = X exactly (the ratio R = Y/X is 1). Every prediction policy reduces to its
    size-based counterpart (formulas.md §2.7, §3.5).

    >>> import queuetheory as qt
    >>> qt.PerfectPrediction().sample(0, [1.0, 2.5])
    array([1. , 2.5])
    >>> j = qt.PerfectPrediction().joint(qt.Exponential(1.0))
    >>> j.partial_moment_y(1, 2.0) == qt.Exponential(1.0).partial_moment(1, 2.0)
    True
    """

    name = "perfect"
    perfect = True

    def _r_atoms(self):
        return np.array([1.0]), np.array([1.0])

    def _sample(self, rng, x):
        return x.copy()

    def joint(self, size):
        return PerfectJoint(size, self)


class PerfectJoint(MultiplicativeJoint):
    """Joint law of (X, X): every Y-quantity is the corresponding X-quantity."""

    def _lower(self, ks, y, strict):
        return np.stack([size_partial_moment(self._info, k, y, strict) for k in ks])

    def _upper(self, ks, y, strict):
        return np.stack([self._atoms_tail(k, y, strict) for k in ks])

    def _density(self, ks, y):
        pdf = np.asarray(self.size.pdf(y), dtype=float)
        with np.errstate(invalid="ignore"):
            return np.stack([np.where(pdf > 0, y**k * pdf, 0.0) for k in ks])

    @property
    def atoms_y(self):
        return self._info.atom_values, self._info.atom_probs

    @property
    def has_density_y(self):
        return self._info.continuous

    def expect(self, h, *, rtol=DEFAULT_RTOL, y_points=None):
        return self.size.expect(lambda x: h(x, x), rtol=rtol)

    def sample(self, rng, n):
        x = self.size.sample(np.random.default_rng(rng), n)
        return x, x.copy()


# Keep the historical private name importable.
_PerfectJoint = PerfectJoint
