r"""Formula versus simulation: :func:`crosscheck`.

Every analytic value in queuetheory can be checked against an honest
simulation of the same :class:`~queuetheory.Policy` object (formulas.md §10.8):
the formula (closed form or SOAP engine, with its numerical error estimate)
and the simulated mean (with a confidence interval, 99.9% by default) agree
when the formula lies inside the interval widened on each side by the
formula's error estimate. By default the simulated mean is the control-variate
estimate of :func:`~queuetheory.simulate` (batch means regressed on the work
found at arrival and the job size, whose means are known exactly), whose
interval is typically 2–8 times narrower than the plain batch-means interval,
so the check separates policies whose means differ by a fraction of a percent.
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
        Simulated mean response time (control-variate estimate unless
        ``estimator == "batch means"``).
    interval : tuple of float
        Confidence interval of the simulated mean at ``level``.
    estimator : str
        ``"control variates"``, ``"batch means"`` or ``"replications"``.
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
    estimator: str
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
                f"[{low:.8g}, {high:.8g}] ({100 * self.level:g}%, {self.estimator}, "
                f"{self.simulation.jobs} jobs): "
                f"{verdict} (rel. diff {self.relative_difference:+.3%})")


def crosscheck(policy: Policy, workload: Workload, *, jobs: int = 400_000, seed: Any = 0,
               level: float = 0.999, method: str = "auto", rtol: float = 1e-8,
               control_variates: bool = True, **simulate_kwargs: Any) -> CrossCheckResult:
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
    control_variates : bool
        Compare with the control-variate estimate and interval when available
        (E[S²] < ∞); otherwise with the plain batch-means (or replications) ones.
    **simulate_kwargs
        Passed on to :func:`simulate` (``warmup``, ``batches``, ``engine``...).

    Returns
    -------
    CrossCheckResult
    """
    est = policy.evaluate(workload, method=method, rtol=rtol)
    sim = simulate(policy, workload, jobs=jobs, seed=seed, level=level, **simulate_kwargs)
    if control_variates:
        mean, (low, high), estimator = sim.mean_response_time, sim.confidence_interval, \
            sim.estimator
    else:
        mean, (low, high), estimator = (sim.sample_mean_response_time, sim.sample_interval,
                                        sim.method)
    value, err = float(est.value), abs(float(est.error))
    # an infinite formula value or error estimate cannot be confirmed by a finite simulation
    agree = bool(math.isfinite(value) and math.isfinite(err) and low - err <= value <= high + err)
    return CrossCheckResult(
        policy=policy.name,
        workload=repr(workload),
        formula=value,
        formula_error=err,
        simulated=mean,
        interval=(low, high),
        level=sim.level,
        estimator=estimator,
        agree=agree,
        simulation=sim,
        estimate=est,
    )
