"""Event-driven simulation of rank-based policies, and the formula-versus-simulation harness.

:func:`simulate` runs any :class:`~queuetheory.Policy` on a
:class:`~queuetheory.Workload` (or :func:`simulate_trace` on given jobs) and
returns a :class:`SimulationResult`; :func:`crosscheck` compares a policy's
formula with a simulation of the same policy object.
"""

from .crosscheck import CrossCheckResult, crosscheck
from .results import JobRecords, SimulationResult, SizeBuckets, UnstableSimulationWarning
from .simulator import simulate, simulate_trace

__all__ = [
    "simulate",
    "simulate_trace",
    "crosscheck",
    "SimulationResult",
    "SizeBuckets",
    "JobRecords",
    "CrossCheckResult",
    "UnstableSimulationWarning",
]
