"""Size laws written independently of the package, for tests that check the package's
generic machinery (quadrature fallbacks, joint laws) against hand-written closed forms."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from queuetheory.distributions.base import SizeDistribution

__all__ = ["LocalWeibull"]


class LocalWeibull(SizeDistribution):
    """A minimal Weibull(shape, scale=1) written for these tests (independent of the package's)."""

    def __init__(self, shape: float) -> None:
        self.c = float(shape)

    def _params(self):
        return {"shape": self.c}

    def _pdf(self, x):
        with np.errstate(divide="ignore"):
            return self.c * x ** (self.c - 1) * np.exp(-(x**self.c))

    def _cdf(self, x):
        return -np.expm1(-np.maximum(x, 0.0) ** self.c)

    def _sf(self, x):
        return np.exp(-np.maximum(x, 0.0) ** self.c)

    def _ppf(self, q):
        return (-np.log1p(-q)) ** (1 / self.c)

    def _moment(self, k):
        return math.gamma(1 + k / self.c)

    def _partial_moment(self, k, x, strict):
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        a = 1 + k / self.c
        return special.gamma(a) * special.gammainc(a, x**self.c)

    def _sample(self, rng, size):
        return rng.weibull(self.c, size)
