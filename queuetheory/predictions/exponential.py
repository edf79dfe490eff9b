"""Exponential predictions: Y | X = x ~ Exp(mean x) (Mitzenmacher, ITCS 2020)."""

from __future__ import annotations

import numpy as np

from .base import PredictionModel

__all__ = ["ExponentialPrediction"]


class ExponentialPrediction(PredictionModel):
    r"""Y given X = x is exponential with mean x: :math:`g(y \mid x) = e^{-y/x}/x`.

    The model of the published Table 1 (formulas.md §3.5, §9).

    >>> import queuetheory as qt
    >>> y = qt.ExponentialPrediction().sample(1, [1.0] * 100000)
    >>> bool(abs(y.mean() - 1.0) < 0.01)
    True
    """

    name = "exponential"

    def _sample(self, rng, x):
        return rng.exponential(1.0, x.shape) * x

    def _cond_cdf(self, y, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y > 0, -np.expm1(-np.maximum(y, 0.0) / x), 0.0)

    def _cond_pdf(self, y, x):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.where(y >= 0, np.exp(-np.maximum(y, 0.0) / x) / x, 0.0)
