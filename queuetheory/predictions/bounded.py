r"""Bounded multiplicative errors: Y ∈ [βx, αx] (Scully, Grosof & Mitzenmacher, ITCS 2022)."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ParameterError, check_in_interval, check_positive
from .multiplicative import MultiplicativeJoint, MultiplicativePrediction
from .perfect import PerfectJoint

__all__ = ["BoundedMultiplicativePrediction"]

_LAWS = ("uniform", "loguniform", "endpoints")


class BoundedMultiplicativePrediction(MultiplicativePrediction):
    r"""Predictions within a multiplicative band: Y = X·R with R ∈ [β, α], 0 < β <= α.

    In the paper's model (formulas.md §3.5, §6) the prediction may be *anywhere*
    in :math:`[\beta x, \alpha x]`, chosen adversarially: it is a worst case, not
    a distribution. An analysis needs a concrete law inside the band, which is a
    modelling choice made with ``law`` (R is independent of X):

    * ``"uniform"``: R ~ U[β, α] (Y/X uniform);
    * ``"loguniform"``: log R ~ U[log β, log α] (scale-free errors, density
      1/(r log(α/β)));
    * ``"endpoints"``: the two-point law P(R = α) = p, P(R = β) = 1 − p — the
      extreme errors only (often closest to the adversarial worst case).

    β = α makes R = α deterministic (any ``law``); β = α = 1 is
    :class:`~queuetheory.PerfectPrediction`.

    Parameters
    ----------
    beta, alpha : float
        Band limits, 0 < beta <= alpha < inf.
    law : {"uniform", "loguniform", "endpoints"}
    p : float, optional
        For ``law="endpoints"`` only: the probability of over-prediction R = α
        (default 0.5).

    Examples
    --------
    >>> import queuetheory as qt
    >>> m = qt.BoundedMultiplicativePrediction(0.5, 2.0, law="endpoints", p=0.25)
    >>> sorted(set(m.sample(0, [1.0] * 1000).tolist()))
    [0.5, 2.0]
    """

    name = "bounded"

    def __init__(self, beta: float, alpha: float, law: str = "uniform",
                 p: float | None = None) -> None:
        self.beta = check_positive("beta", beta)
        self.alpha = check_positive("alpha", alpha)
        if self.beta > self.alpha:
            raise ParameterError(
                f"beta must be <= alpha (got beta={self.beta!r}, alpha={self.alpha!r})")
        if law not in _LAWS:
            raise ParameterError(f"law must be one of {_LAWS} (got {law!r})")
        self.law = law
        if p is not None and law != "endpoints":
            raise ParameterError(f"p is only used with law='endpoints' (got law={law!r})")
        self.p = check_in_interval("p", 0.5 if p is None else p, 0.0, 1.0)
        self._degenerate = self.beta == self.alpha
        self.perfect = self._degenerate and self.alpha == 1.0

    def _params(self):
        out = {"beta": self.beta, "alpha": self.alpha, "law": self.law}
        if self.law == "endpoints":
            out["p"] = self.p
        return out

    def _r_atoms(self):
        if self._degenerate:
            return np.array([self.alpha]), np.array([1.0])
        if self.law == "endpoints":
            vals = np.array([self.beta, self.alpha])
            probs = np.array([1.0 - self.p, self.p])
            keep = probs > 0
            return vals[keep], probs[keep]
        return np.empty(0), np.empty(0)

    def _r_range(self):
        if self._degenerate or self.law == "endpoints":
            return None
        return (self.beta, self.alpha)

    def _r_cdf(self, r):
        if self.law == "uniform":
            return (r - self.beta) / (self.alpha - self.beta)
        return np.log(r / self.beta) / math.log(self.alpha / self.beta)

    def _r_sf(self, r):
        if self.law == "uniform":
            return (self.alpha - r) / (self.alpha - self.beta)
        return np.log(self.alpha / r) / math.log(self.alpha / self.beta)

    def _r_pdf(self, r):
        if self.law == "uniform":
            return np.full(np.shape(r), 1.0 / (self.alpha - self.beta))
        return 1.0 / (r * math.log(self.alpha / self.beta))

    def _r_ppf(self, q):
        q = np.asarray(q, dtype=float)
        if self.law == "uniform":
            return self.beta + (self.alpha - self.beta) * q
        return self.beta * (self.alpha / self.beta) ** q

    def _r_affine(self):
        if self.law == "uniform":
            width = self.alpha - self.beta
            return ("r", -self.beta / width, 1.0 / width)
        width = math.log(self.alpha / self.beta)
        return ("log", -math.log(self.beta) / width, 1.0 / width)

    def _r_pdf0(self):
        return 0.0

    def joint(self, size):
        if self.perfect:
            return PerfectJoint(size, self)
        return MultiplicativeJoint(size, self)
