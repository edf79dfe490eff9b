"""Perfect predictions: Y = X."""

from __future__ import annotations

import numpy as np

from ..integrate import DEFAULT_RTOL
from .base import JointLaw, PredictionModel

__all__ = ["PerfectPrediction"]


class PerfectPrediction(PredictionModel):
    """Y = X exactly. Every prediction policy reduces to its size-based counterpart.

    >>> import queuetheory as qt
    >>> qt.PerfectPrediction().sample(0, [1.0, 2.5])
    array([1. , 2.5])
    """

    name = "perfect"
    perfect = True

    def _sample(self, rng, x):
        return x.copy()

    def _cond_cdf(self, y, x):
        return (x <= y).astype(float)

    def joint(self, size):
        return _PerfectJoint(size, self)


class _PerfectJoint(JointLaw):
    """Joint law of (X, X): every Y-quantity is the corresponding X-quantity."""

    def pdf_y(self, y):
        return self.size.pdf(y)

    def partial_moment_y(self, k, y, *, strict=False):
        return self.size.partial_moment(k, y, strict=strict)

    def moment_density_y(self, k, y):
        y = np.asarray(y, float)
        out = y**k * self.size.pdf(y)
        return float(out) if out.ndim == 0 else out

    def expect(self, h, *, rtol=DEFAULT_RTOL, y_points=None):
        return self.size.expect(lambda x: h(x, x), rtol=rtol)

    def sample(self, rng, n):
        x = self.size.sample(np.random.default_rng(rng), n)
        return x, x.copy()
