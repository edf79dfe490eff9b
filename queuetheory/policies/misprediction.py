r"""How much do imperfect predictions cost? Two explicitly named ratios (formulas.md §3.4).

ITCS 2020 introduces a "price of misprediction", but its exact definition is
not confirmed from the primary source, and secondary accounts disagree between
two ratios. The toolkit therefore exposes both, under names that say what they
are, and calls neither "the price of misprediction":

* :func:`prediction_ratio` — E[T] of a prediction-based policy divided by E[T]
  of its exact-size counterpart: the same policy family run on true sizes
  (SPRPT : SRPT, SPJF : SJF, PSPJF : PSJF, TRAIL(c) : TRAIL(c) with exact
  predictions, one-bit on the prediction : one-bit on the size, ...);
* :func:`srpt_ratio` — E[T] of a policy divided by E[T] of SRPT with true sizes
  (the optimal policy; the metric of Scully, Grosof, Mitzenmacher 2022).

>>> import queuetheory as qt
>>> w = qt.Workload(0.8, qt.Exponential(1.0), qt.ExponentialPrediction())
>>> round(qt.prediction_ratio(qt.SPRPT(), w), 6)  # 3.137524 / 2.352773 (SRPT)
1.333543
>>> round(qt.srpt_ratio(qt.SPJF(), w), 6)
1.434812
"""

from __future__ import annotations

from typing import Any

from ..errors import ParameterError
from ..workload import Workload
from .base import Policy

__all__ = ["prediction_ratio", "srpt_ratio", "exact_counterpart"]


def _exact_workload(workload: Workload) -> Workload:
    """The same queue with exact predictions (Y = S)."""
    return Workload(workload.arrival_rate, workload.size)


def exact_counterpart(policy: Policy) -> Policy:
    """The size-based policy a prediction policy becomes with exact predictions.

    SPRPT → SRPT, SPJF → SJF, PSPJF → PSJF (:mod:`queuetheory.policies.classic`);
    any other policy is its own counterpart, evaluated on the workload with
    exact predictions (``prediction=None``), where it uses true sizes.
    """
    from . import classic
    from .prediction import PSPJF, SPJF, SPRPT

    mapping = {SPRPT: "SRPT", SPJF: "SJF", PSPJF: "PSJF"}
    name = mapping.get(type(policy))
    if name is not None and hasattr(classic, name):
        return getattr(classic, name)()
    return policy


def _check(policy: Any, workload: Any) -> None:
    if not isinstance(policy, Policy):
        raise ParameterError(f"policy must be a queuetheory Policy (got {type(policy).__name__})")
    if not isinstance(workload, Workload):
        raise ParameterError(f"workload must be a queuetheory.Workload "
                             f"(got {type(workload).__name__})")


def prediction_ratio(policy: Policy, workload: Workload, **kwargs: Any) -> float:
    r"""E[T_policy] / E[T_counterpart]: the cost of predicting sizes instead of knowing them.

    The counterpart is :func:`exact_counterpart` evaluated on ``workload`` with
    exact predictions. Not called "price of misprediction" (formulas.md §3.4:
    the published definition is unconfirmed). Keyword arguments go to
    :meth:`Policy.mean_response_time` (e.g. ``rtol``).
    """
    _check(policy, workload)
    num = policy.mean_response_time(workload, **kwargs)
    den = exact_counterpart(policy).mean_response_time(_exact_workload(workload), **kwargs)
    return num / den


def srpt_ratio(policy: Policy, workload: Workload, **kwargs: Any) -> float:
    r"""E[T_policy] / E[T_SRPT]: distance from the optimal policy with true sizes.

    SRPT minimises the mean response time of every M/G/1 queue (formulas.md
    §2.7), so the ratio is >= 1 (up to the numerical error).
    """
    _check(policy, workload)
    from . import classic
    from .prediction import SPRPT

    srpt = classic.SRPT() if hasattr(classic, "SRPT") else SPRPT()
    num = policy.mean_response_time(workload, **kwargs)
    den = srpt.mean_response_time(_exact_workload(workload), **kwargs)
    return num / den
