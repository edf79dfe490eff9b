"""Continuous size distributions with closed-form building blocks."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..errors import check_positive
from .base import SizeDistribution

__all__ = ["Exponential"]


class Exponential(SizeDistribution):
    r"""Exponential sizes with the given mean.

    Density :math:`f(x) = e^{-x/m}/m`. Closed forms:
    :math:`E[S^k 1(S \le x)] = m^k\,\gamma(k + 1, x/m)` (lower incomplete gamma),
    :math:`E[S^k] = k!\,m^k`.

    >>> from queuetheory import Exponential
    >>> d = Exponential(mean=2.0)
    >>> d.mean(), d.moment(2)
    (2.0, 8.0)
    >>> round(d.partial_moment(1, 2.0), 12)  # 2 (1 - 2/e)
    0.528482235314
    """

    name = "exponential"

    def __init__(self, mean: float = 1.0) -> None:
        self._mean = check_positive("mean", mean)

    def _params(self) -> dict:
        return {"mean": self._mean}

    def _pdf(self, x):
        return np.exp(-x / self._mean) / self._mean

    def _cdf(self, x):
        return -np.expm1(-np.maximum(x, 0.0) / self._mean)

    def _sf(self, x):
        return np.exp(-np.maximum(x, 0.0) / self._mean)

    def _ppf(self, q):
        return -self._mean * np.log1p(-q)

    def _moment(self, k):
        return math.factorial(k) * self._mean**k

    def _partial_moment(self, k, x, strict):
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return self._mean**k * math.factorial(k) * special.gammainc(k + 1, x / self._mean)

    def _sample(self, rng, size):
        return rng.exponential(self._mean, size)

    def _scale(self):
        return self._mean

    def _symbolic_pdf(self, x):
        import sympy

        m = sympy.nsimplify(self._mean)
        return sympy.exp(-x / m) / m
