"""Size laws and workloads shared by several test files.

``LocalWeibull`` is written independently of the package, for tests that check its generic
machinery (quadrature fallbacks, joint laws) against hand-written closed forms.
``empirical_joint_workload`` is the atomic (size, prediction) workload of the cross-checks."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

import queuetheory as qt
from queuetheory.distributions.base import SizeDistribution

__all__ = ["LocalWeibull", "empirical_joint_workload"]


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


def empirical_joint_workload(rho: float) -> qt.Workload:
    """12 (size, prediction) pairs rounded to 0.01, at load ``rho``: atoms, so equal sizes,
    predictions and ranks occur and the FCFS tie-breaking of SOAP is exercised; the SOAP
    sums are exact (the "Empirical-joint" workload of tests/test_crosscheck.py)."""
    rng = np.random.default_rng(5)
    actual = np.round(rng.exponential(1.0, 12), 2) + 0.05
    predicted = np.round(actual * rng.lognormal(0.0, 0.6, 12), 2)
    pairs = qt.EmpiricalPredictions(actual, predicted, mode="joint")
    size = pairs.size_distribution
    return qt.Workload(rho / size.mean(), size, pairs)
