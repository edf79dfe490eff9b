r"""The :class:`Policy` base class: one object for the analysis, the SOAP engine and the simulator.

A policy is defined once, by

* its **descriptor** — what the scheduler knows about a job, a function of the
  job's true size x and prediction y (``uses`` = ``"nothing"``, ``"size"`` or
  ``"prediction"``, or an override of :meth:`Policy.descriptor`);
* its **rank function** r(d, a) of descriptor and age, given as vectorized
  piecewise-linear segments by :meth:`Policy.rank_segments` (see
  :mod:`queuetheory.policies.rank`); lower rank is served first, preemptively,
  FCFS among ties;
* optionally a **closed form** for the conditional and overall mean response
  time (``_conditional_closed_form`` / ``_mean_closed_form``), the fast path.

:meth:`Policy.evaluate` uses the closed form when there is one and the generic
SOAP engine (:mod:`queuetheory.soap`) otherwise; ``method="soap"`` forces the
engine, which is how the closed forms are cross-checked.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..integrate import DEFAULT_RTOL, Estimate
from ..workload import Workload
from .rank import NONPREEMPTIBLE, PiecewiseRank

__all__ = ["Policy"]

_METHODS = ("auto", "closed_form", "soap")


class Policy:
    """Base class of scheduling policies.

    Subclasses set :attr:`name` and :attr:`uses`, implement
    :meth:`_rank_segments`, and may implement ``_conditional_closed_form`` and
    ``_mean_closed_form``.
    """

    #: Short name used in tables, the CLI and reprs.
    name: str = "policy"
    #: What the scheduler knows: "nothing", "size" or "prediction".
    uses: str = "nothing"
    #: Ties broken in favour of the earlier ("fcfs") or later ("lcfs") arrival.
    tie_break: str = "fcfs"
    #: True for processor sharing, which is not a rank policy.
    processor_sharing: bool = False
    #: False for policies the SOAP theorem does not cover (LCFS-PR, PS).
    is_soap: bool = True

    # ------------------------------------------------------------- descriptor
    def descriptor(self, x: Any, y: Any) -> np.ndarray:
        """What the scheduler knows about jobs of sizes ``x`` and predictions ``y``."""
        x = np.asarray(x, dtype=float)
        if self.uses == "size":
            return x
        if self.uses == "prediction":
            return np.broadcast_to(np.asarray(y, dtype=float), x.shape).copy()
        return np.zeros(x.shape)

    def tie_break_for_level(self, level: float) -> str:
        """Tie breaking among jobs of equal rank at ``level``: "fcfs" or "lcfs".

        The default is :attr:`tie_break` at every level; one-bit advice with LCFS shorts
        overrides it (shorts LCFS-PR among themselves, longs FCFS).
        """
        return self.tie_break

    # ------------------------------------------------------------------ ranks
    def rank_segments(self, d: Any) -> PiecewiseRank:
        """Ranks of jobs with descriptors ``d`` as piecewise-linear functions of age."""
        d = np.asarray(d, dtype=float)
        return self._rank_segments(np.atleast_1d(d))

    def rank(self, d: Any, a: float) -> tuple[float, float]:
        """The rank ``(level, value)`` of a job with descriptor ``d`` at age ``a``."""
        if a < 0:
            raise ParameterError(f"age a must be >= 0 (got {a!r})")
        return self.rank_segments(np.asarray([d], dtype=float)).evaluate(0, float(a))

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} defines no rank function")

    # --------------------------------------------------------------- analysis
    @property
    def has_closed_form(self) -> bool:
        """True if the policy has a closed-form fast path for the overall mean."""
        return type(self)._mean_closed_form is not Policy._mean_closed_form

    def evaluate(self, workload: Workload, *, method: str = "auto",
                 rtol: float = DEFAULT_RTOL) -> Estimate:
        """Mean response time E[T] with its numerical error estimate.

        Parameters
        ----------
        workload : Workload
        method : {"auto", "closed_form", "soap"}
            ``"auto"`` uses the closed form if there is one, else the SOAP engine.
        rtol : float
            Requested relative accuracy of the quadrature.

        Returns
        -------
        Estimate
            ``value`` may be ``inf`` (e.g. FCFS when E[S²] = ∞).
        """
        method = self._check_method(method)
        self._check_workload(workload)
        if method == "closed_form" or (method == "auto" and self.has_closed_form):
            return self._mean_closed_form(workload, rtol)
        from .. import soap

        return soap.mean_response_time(self, workload, rtol=rtol)

    def evaluate_conditional(self, workload: Workload, x: float, y: float | None = None, *,
                             method: str = "auto", rtol: float = DEFAULT_RTOL) -> Estimate:
        """E[T | size x (and prediction y)] with its numerical error estimate."""
        method = self._check_method(method)
        self._check_workload(workload)
        x, y = self._check_job(workload, x, y)
        has_cf = type(self)._conditional_closed_form is not Policy._conditional_closed_form
        if method == "closed_form" or (method == "auto" and has_cf):
            return self._conditional_closed_form(workload, x, y, rtol)
        from .. import soap

        return soap.response_time(self, workload, x, y, rtol=rtol)

    def mean_response_time(self, workload: Workload, **kwargs: Any) -> float:
        """E[T], the mean response time (``inf`` where it diverges). See :meth:`evaluate`."""
        return self.evaluate(workload, **kwargs).value

    def response_time(self, workload: Workload, x: float, y: float | None = None,
                      **kwargs: Any) -> float:
        """E[T | X = x (, Y = y)], the conditional mean response time."""
        return self.evaluate_conditional(workload, x, y, **kwargs).value

    # ---------------------------------------------------------------- hooks
    def _mean_closed_form(self, workload: Workload, rtol: float) -> Estimate:
        raise NotImplementedError(f"{self.name} has no closed form for E[T]")

    def _conditional_closed_form(self, workload: Workload, x: float, y: float | None,
                                 rtol: float) -> Estimate:
        raise NotImplementedError(f"{self.name} has no closed form for E[T | x]")

    # ------------------------------------------------------------ validation
    @staticmethod
    def _check_method(method: str) -> str:
        if method not in _METHODS:
            raise ParameterError(f"method must be one of {_METHODS} (got {method!r})")
        return method

    def _check_workload(self, workload: Workload) -> None:
        if not isinstance(workload, Workload):
            raise ParameterError(f"workload must be a queuetheory.Workload "
                                 f"(got {type(workload).__name__})")
        workload.check_stable()

    def _check_job(self, workload: Workload, x: Any, y: Any) -> tuple[float, float | None]:
        try:
            x = float(x)
        except (TypeError, ValueError):
            raise ParameterError(f"x must be a job size > 0 (got {x!r})") from None
        if not (x > 0 and math.isfinite(x)):
            raise ParameterError(f"x must be a finite job size > 0 (got {x!r})")
        if y is not None:
            try:
                y = float(y)
            except (TypeError, ValueError):
                raise ParameterError(f"y must be a prediction >= 0 (got {y!r})") from None
            if not (y >= 0 and math.isfinite(y)):
                raise ParameterError(f"y must be a finite prediction >= 0 (got {y!r})")
        elif self.uses == "prediction" and workload.has_prediction:
            raise ParameterError(
                f"{self.name} schedules by predicted size: give the prediction y of the job"
            )
        elif self.uses == "prediction":
            y = x  # perfect predictions
        return x, y

    # ---------------------------------------------------------------- dunder
    def _params(self) -> dict:
        return {}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({params})"


# Re-exported for subclasses.
_ = (NONPREEMPTIBLE,)
