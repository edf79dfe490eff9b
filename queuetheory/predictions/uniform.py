r"""Uniform relative errors: Y | X = x ~ U[(1 − α)x, (1 + α)x] (formulas.md §3.5)."""

from __future__ import annotations

import numpy as np

from ..errors import check_in_interval
from .multiplicative import MultiplicativeJoint, MultiplicativePrediction
from .perfect import PerfectJoint

__all__ = ["UniformPrediction"]


class UniformPrediction(MultiplicativePrediction):
    r"""Y given X = x is uniform on :math:`[(1-\alpha)x, (1+\alpha)x]`, 0 <= α <= 1.

    Equivalently Y = X·R with R ~ U[1 − α, 1 + α] independent of X, so

    .. math::

        P(Y \le y \mid X = x) = \mathrm{clip}\Big(\frac{y/x - (1-\alpha)}{2\alpha}, 0, 1\Big),
        \qquad g(y \mid x) = \frac{1}{2\alpha x} \text{ on the interval}.

    Joint quantities are the size law's partial moment below y/(1 + α) plus a
    1-D integral over the band x ∈ (y/(1 + α), y/(1 − α)) whose ends are the
    only kinks (:mod:`.multiplicative`). α = 0 means exact predictions: the model
    then behaves exactly as :class:`~queuetheory.PerfectPrediction`.

    Parameters
    ----------
    alpha : float
        Maximum relative error, in [0, 1].

    Examples
    --------
    >>> import queuetheory as qt
    >>> j = qt.UniformPrediction(0.5).joint(qt.Exponential(1.0))
    >>> round(j.cdf_y(1.0) + j.sf_y(1.0), 12)
    1.0
    >>> qt.UniformPrediction(0.0).perfect
    True
    """

    name = "uniform"

    def __init__(self, alpha: float) -> None:
        self.alpha = check_in_interval("alpha", alpha, 0.0, 1.0)
        self.perfect = self.alpha == 0.0

    def _params(self):
        return {"alpha": self.alpha}

    def _r_atoms(self):
        if self.perfect:
            return np.array([1.0]), np.array([1.0])
        return np.empty(0), np.empty(0)

    def _r_range(self):
        return None if self.perfect else (1.0 - self.alpha, 1.0 + self.alpha)

    def _r_cdf(self, r):
        return (r - (1.0 - self.alpha)) / (2.0 * self.alpha)

    def _r_sf(self, r):
        return ((1.0 + self.alpha) - r) / (2.0 * self.alpha)

    def _r_pdf(self, r):
        return np.full(np.shape(r), 0.5 / self.alpha)

    def _r_ppf(self, q):
        return (1.0 - self.alpha) + 2.0 * self.alpha * np.asarray(q, dtype=float)

    def _r_affine(self):
        return ("r", -(1.0 - self.alpha) / (2.0 * self.alpha), 0.5 / self.alpha)

    def _r_pdf0(self):
        return 0.5 if self.alpha == 1.0 else 0.0

    def _sample(self, rng, x):
        if self.perfect:
            return x.copy()
        return x * rng.uniform(1.0 - self.alpha, 1.0 + self.alpha, x.shape)

    def joint(self, size):
        if self.perfect:
            return PerfectJoint(size, self)
        return MultiplicativeJoint(size, self)
