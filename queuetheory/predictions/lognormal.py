r"""Lognormal multiplicative errors: Y = X·exp(σZ − shift), Z ~ N(0, 1)."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..errors import ParameterError, check_positive
from .multiplicative import MultiplicativePrediction

__all__ = ["LognormalPrediction"]

_CONVENTIONS = ("median", "mean")


class LognormalPrediction(MultiplicativePrediction):
    r"""Lognormal multiplicative noise: :math:`Y = X e^{\sigma Z - s}`, Z ~ N(0, 1).

    Two conventions fix the shift s:

    * ``convention="median"`` (default): s = 0, so the *median* of Y/X is 1
      (log Y is unbiased for log X; E[Y | X] = X e^{σ²/2} over-predicts on average);
    * ``convention="mean"``: s = σ²/2, so E[Y | X] = X (unbiased in the mean; the
      median of Y/X is e^{-σ²/2} < 1).

    The conditional law is
    :math:`P(Y \le y \mid X = x) = \Phi\big((\ln(y/x) + s)/\sigma\big)`.
    Joint quantities use the multiplicative quadrature (:mod:`.multiplicative`).

    Parameters
    ----------
    sigma : float
        Standard deviation of log(Y/X), > 0 (for σ = 0 use PerfectPrediction).
    convention : {"median", "mean"}

    Examples
    --------
    >>> import queuetheory as qt
    >>> y = qt.LognormalPrediction(0.5, convention="mean").sample(0, [2.0] * 200000)
    >>> bool(abs(y.mean() / 2.0 - 1.0) < 0.01)
    True
    """

    name = "lognormal"

    def __init__(self, sigma: float, convention: str = "median") -> None:
        self.sigma = check_positive("sigma", sigma)
        if convention not in _CONVENTIONS:
            raise ParameterError(
                f"convention must be one of {_CONVENTIONS} (got {convention!r})")
        self.convention = convention
        self.shift = 0.0 if convention == "median" else 0.5 * self.sigma**2

    def _params(self):
        return {"sigma": self.sigma, "convention": self.convention}

    def _u(self, r):
        with np.errstate(divide="ignore"):
            return (np.log(r) + self.shift) / self.sigma

    def _r_range(self):
        return (0.0, math.inf)

    def _r_cdf(self, r):
        return special.ndtr(self._u(r))

    def _r_sf(self, r):
        return special.ndtr(-self._u(r))

    def _r_pdf(self, r):
        u = self._u(r)
        return np.exp(-0.5 * u * u) / (math.sqrt(2.0 * math.pi) * self.sigma * r)

    def _r_ppf(self, q):
        return np.exp(self.sigma * special.ndtri(np.asarray(q, dtype=float)) - self.shift)

    def _r_pdf0(self):
        return 0.0

    def _r_sample(self, rng, shape):
        return np.exp(self.sigma * rng.standard_normal(shape) - self.shift)
