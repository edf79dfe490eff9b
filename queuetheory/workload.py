r"""The M/G/1 workload: Poisson arrivals, a size law and an optional prediction model.

>>> import queuetheory as qt
>>> w = qt.Workload(arrival_rate=0.9, size=qt.Exponential(mean=1.0))
>>> w.load
0.9
>>> round(w.load_below(1.0), 12)  # rho(x) = lam (1 - (1 + x) e^{-x})
0.237817005891
>>> qt.Workload(arrival_rate=1.5, size=qt.Exponential(mean=1.0)).check_stable()
Traceback (most recent call last):
...
queuetheory.errors.UnstableError: the load rho = lambda * E[S] = 1.5 * 1 = 1.5 must be < 1 ...
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from .distributions.base import SizeDistribution
from .errors import ParameterError, UnstableError, check_positive
from .predictions.base import JointLaw, PredictionModel

__all__ = ["Workload", "as_size_distribution"]


def _is_symbolic(value: Any) -> bool:
    try:
        import sympy
    except ImportError:  # pragma: no cover
        return False
    return isinstance(value, sympy.Basic) and not value.is_number


def as_size_distribution(size: Any) -> SizeDistribution:
    """Return ``size`` as a :class:`SizeDistribution`.

    Accepts a queuetheory distribution or a frozen ``scipy.stats`` continuous
    distribution (wrapped by :class:`queuetheory.ScipyDistribution`).
    """
    if isinstance(size, SizeDistribution):
        return size
    if hasattr(size, "dist") and hasattr(size, "rvs") and hasattr(size, "cdf"):
        from .distributions import ScipyDistribution

        return ScipyDistribution(size)
    raise ParameterError(
        f"size must be a queuetheory size distribution or a frozen scipy.stats distribution "
        f"(got {type(size).__name__})"
    )


class Workload:
    r"""An M/G/1 queue: Poisson(``arrival_rate``) arrivals of i.i.d. jobs.

    Parameters
    ----------
    arrival_rate : float or sympy expression
        λ > 0. A sympy symbol is accepted for symbolic derivations
        (:mod:`queuetheory.symbolic`); numeric methods then raise.
    size : SizeDistribution or frozen scipy.stats distribution
        The job-size law S.
    prediction : PredictionModel, optional
        The law of the predicted size Y given S. ``None`` means predictions
        are exact (Y = S, :class:`~queuetheory.PerfectPrediction`), so that a
        prediction-based policy reduces to its size-based counterpart.

    Notes
    -----
    The load is ρ = λ E[S]. Quantities that need a steady state raise
    :class:`~queuetheory.errors.UnstableError` (a ``ValueError``) when ρ >= 1.
    """

    def __init__(self, arrival_rate: Any, size: Any, prediction: PredictionModel | None = None):
        if _is_symbolic(arrival_rate):
            self.arrival_rate = arrival_rate
        else:
            self.arrival_rate = check_positive("arrival_rate", arrival_rate)
        self.size = as_size_distribution(size)
        if prediction is not None and not isinstance(prediction, PredictionModel):
            raise ParameterError(
                f"prediction must be a queuetheory PredictionModel or None "
                f"(got {type(prediction).__name__})"
            )
        if prediction is None:
            from .predictions import PerfectPrediction

            self._prediction_given = False
            prediction = PerfectPrediction()
        else:
            self._prediction_given = True
        prediction.check_size(self.size)
        self.prediction = prediction

    # ------------------------------------------------------------------ basics
    @property
    def is_symbolic(self) -> bool:
        """True if the arrival rate is a sympy expression."""
        return _is_symbolic(self.arrival_rate)

    def _numeric_rate(self) -> float:
        if self.is_symbolic:
            raise ParameterError(
                "arrival_rate is symbolic; substitute a number or use queuetheory.symbolic"
            )
        return float(self.arrival_rate)

    @cached_property
    def mean_size(self) -> float:
        """E[S]."""
        return self.size.mean()

    @property
    def load(self) -> Any:
        """ρ = λ E[S] (a sympy expression if λ is symbolic)."""
        if self.is_symbolic:
            return self.arrival_rate * self.mean_size
        return self.arrival_rate * self.mean_size

    def check_stable(self) -> None:
        """Raise :class:`UnstableError` unless ρ < 1."""
        rate = self._numeric_rate()
        rho = rate * self.mean_size
        if not rho < 1:
            raise UnstableError(
                f"the load rho = lambda * E[S] = {rate:g} * {self.mean_size:g} = {rho:g} "
                f"must be < 1 for a steady state"
            )

    @cached_property
    def joint(self) -> JointLaw:
        """The joint law of (S, Y)."""
        return self.prediction.joint(self.size)

    @property
    def has_prediction(self) -> bool:
        """True if a prediction model was given (otherwise predictions are exact)."""
        return self._prediction_given

    # ---------------------------------------------------------- load functions
    def load_below(self, x: Any, *, strict: bool = False) -> Any:
        """ρ(x) = λ E[S 1(S <= x)] (ρ(x⁻) = λ E[S 1(S < x)] with ``strict``)."""
        return self._numeric_rate() * self.size.partial_moment(1, x, strict=strict)

    def truncated_load(self, x: Any) -> Any:
        """ρ̄(x) = λ E[min(S, x)], the load of work truncated at x (used by FB)."""
        return self._numeric_rate() * self.size.limited_moment(1, x)

    def load_predicted_below(self, y: Any, *, strict: bool = False) -> Any:
        """ρ′(y) = λ E[S 1(Y <= y)], the load of jobs predicted at most y."""
        return self._numeric_rate() * self.joint.partial_moment_y(1, y, strict=strict)

    def sample_jobs(self, rng: np.random.Generator | int | None, n: int):
        """Draw ``n`` jobs: (interarrival times, sizes, predictions)."""
        rng = np.random.default_rng(rng)
        gaps = rng.exponential(1.0 / self._numeric_rate(), n)
        x, y = self.joint.sample(rng, n)
        return gaps, x, y

    def __repr__(self) -> str:
        pred = f", prediction={self.prediction!r}" if self._prediction_given else ""
        return f"Workload(arrival_rate={self.arrival_rate!r}, size={self.size!r}{pred})"
