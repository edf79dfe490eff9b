r"""Formula versus simulation: :func:`crosscheck`.

Every analytic value in queuetheory can be checked against an honest
simulation of the same :class:`~queuetheory.Policy` object (formulas.md §10.8):
the formula (closed form or SOAP engine, with its numerical error estimate)
and the simulated mean (with a batch-means confidence interval, 99.9% by
default) agree when the formula lies inside the interval widened on each side
by the formula's error estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..integrate import Estimate
from ..policies.base import Policy
from ..workload import Workload
from .results import SimulationResult
from .simulator import simulate

__all__ = ["crosscheck", "CrossCheckResult"]


@dataclass(frozen=True)
class CrossCheckResult:
    """Outcome of :func:`crosscheck`.

    Attributes
    ----------
    policy, workload : str
        Names of what was checked.
    formula : float
        E[T] from :meth:`Policy.evaluate` (may be ``inf``).
    formula_error : float
        Its numerical error estimate.
    simulated : float
        Simulated mean response time.
    interval : tuple of float
        Confidence interval of the simulated mean at ``level``.
    level : float
        Confidence level.
    agree : bool
        True if ``interval[0] - formula_error <= formula <= interval[1] + formula_error``
        (False when the formula or its error estimate is infinite).
    simulation : SimulationResult
        The full simulation result.
    estimate : Estimate
        The full formula estimate.
    """

    policy: str
    workload: str
    formula: float
    formula_error: float
    simulated: float
    interval: tuple[float, float]
    level: float
    agree: bool
    simulation: SimulationResult
    estimate: Estimate

    @property
    def relative_difference(self) -> float:
        """(simulated - formula) / formula."""
        if self.formula == 0 or not math.isfinite(self.formula):
            return math.nan
        return (self.simulated - self.formula) / self.formula

    @property
    def score(self) -> float:
        """(simulated - formula) in units of the interval's half-width (|score| <= 1: agree)."""
        half = 0.5 * (self.interval[1] - self.interval[0]) + self.formula_error
        if half <= 0 or not math.isfinite(self.formula):
            return math.inf
        return (self.simulated - self.formula) / half

    def __str__(self) -> str:
        low, high = self.interval
        verdict = "agree" if self.agree else "DISAGREE"
        return (f"{self.policy} on {self.workload}: formula {self.formula:.8g} "
                f"± {self.formula_error:.2g}, simulation {self.simulated:.8g} "
                f"[{low:.8g}, {high:.8g}] ({100 * self.level:g}%, {self.simulation.jobs} jobs): "
                f"{verdict} (rel. diff {self.relative_difference:+.3%})")


def crosscheck(policy: Policy, workload: Workload, *, jobs: int = 400_000, seed: Any = 0,
               level: float = 0.999, method: str = "auto", rtol: float = 1e-8,
               **simulate_kwargs: Any) -> CrossCheckResult:
    """Compare ``policy.evaluate(workload)`` with a simulation of the same policy.

    Parameters
    ----------
    policy : Policy
    workload : Workload
        Must have load < 1 (the formula needs a steady state).
    jobs, seed : int
        Simulation length (warm-up included) and seed; see :func:`simulate`.
    level : float
        Confidence level of the simulation interval (default 0.999).
    method : {"auto", "closed_form", "soap"}
        Which formula to check (see :meth:`Policy.evaluate`).
    rtol : float
        Relative accuracy requested from the formula.
    **simulate_kwargs
        Passed on to :func:`simulate` (``warmup``, ``batches``, ``engine``...).

    Returns
    -------
    CrossCheckResult
    """
    est = policy.evaluate(workload, method=method, rtol=rtol)
    sim = simulate(policy, workload, jobs=jobs, seed=seed, level=level, **simulate_kwargs)
    low, high = sim.confidence_interval
    value, err = float(est.value), abs(float(est.error))
    # an infinite formula value or error estimate cannot be confirmed by a finite simulation
    agree = bool(math.isfinite(value) and math.isfinite(err) and low - err <= value <= high + err)
    return CrossCheckResult(
        policy=policy.name,
        workload=repr(workload),
        formula=value,
        formula_error=err,
        simulated=sim.mean_response_time,
        interval=(low, high),
        level=sim.level,
        agree=agree,
        simulation=sim,
        estimate=est,
    )
