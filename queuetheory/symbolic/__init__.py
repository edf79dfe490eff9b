r"""Symbolic derivations with sympy: response-time formulas as expressions.

Ask queuetheory for the formula, not just the number::

    >>> import sympy as sp, queuetheory as qt
    >>> lam = sp.Symbol("lambda", positive=True)
    >>> qt.symbolic.mean_response_time(qt.FCFS(), qt.Workload(lam, qt.Exponential(1.0)))
    1/(1 - lambda)
    >>> w = qt.Workload(arrival_rate=lam, size=qt.Exponential(mean=1),
    ...                 prediction=qt.ExponentialPrediction())
    >>> e = qt.symbolic.mean_response_time(qt.SPRPT(), w)
    >>> e.has(sp.besselk), lam in e.free_symbols
    (True, True)

API
---
:func:`mean_response_time` (policy, workload) and :func:`response_time`
(policy, workload, x, y=None) return **plain sympy expressions**: closed forms
where the rules of :mod:`~queuetheory.symbolic.rules` find them, and
unevaluated integrals (:class:`~queuetheory.symbolic.integral.QuadIntegral`,
a subclass of :class:`sympy.Integral`) where there is none. ``sp.N(e)``
evaluates them quickly and to the requested precision. :func:`derive` returns
the same formula wrapped in a :class:`~queuetheory.symbolic.result.SymbolicResult`
(derivation steps, LaTeX for Jupyter, ``lambdify`` to numpy/mpmath).

Symbolic parameters
-------------------
* The arrival rate of :class:`queuetheory.Workload` may be a sympy symbol.
* Distribution parameters are floats in the numeric classes (converted to
  exact rationals). For symbolic ones use :class:`SymbolicWorkload` with
  :class:`SymbolicExponential` (``mean=m``) or any
  :class:`SymbolicDistribution` (a density expression).
* Policy parameters (one-bit ``threshold``, TRAIL ``c``) may be overridden by
  symbols with ``parameters={"threshold": T}``. (Region integrals need a
  numeric ``c``.)

Closed forms derived (not stored) include formulas.md §2.6 and §9: for
S ~ Exp(1) and exponential predictions, f_Y = 2K₀(2√y), P(Y > y) = 2√y K₁(2√y),
ρ′(y) = λ(1 − 2yK₂(2√y)), M₂′(y) = 2 − 2y^{3/2}K₃(2√y), and the SPRPT old-job
term (1 − 2/e)·2y^{3/2}K₃(2√y), from the master integral
∫₀^∞ xⁿ e^{−x/m − y/x} dx = 2(my)^{(n+1)/2} K_{n+1}(2√(y/m)); exponential-integral
forms for uniform predictions; elementary forms for exact sizes.

Atomic size laws (e.g. ``qt.Discrete([2, 14], [0.5, 0.5])``) go through an exact
symbolic SOAP engine (:mod:`.soap`) for any SOAP policy, including custom rank
functions: the results are rational functions of λ (formulas.md §4.5).

Every sympy call that can run long (``sympy.integrate`` fallbacks, ``doit``)
runs under a time budget in a worker process (:mod:`.timeout`). User strings
are never parsed.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .blocks import Blocks
from .formulas import conditional_formula, mean_formula, register, registered_policies
from .integral import QuadIntegral
from .laws import (
    SymbolicDiscrete,
    SymbolicDistribution,
    SymbolicExponential,
    SymbolicExponentialPrediction,
    SymbolicPerfectPrediction,
    SymbolicPrediction,
    SymbolicUniformPrediction,
    SymbolicWorkload,
)
from .result import SymbolicResult
from .rules import Step, integrate, integrate_region
from .soap import soap_mean_response_time, soap_response_time
from .timeout import call_with_budget, configure

__all__ = [
    "mean_response_time",
    "response_time",
    "derive",
    "register",
    "registered_policies",
    "SymbolicResult",
    "QuadIntegral",
    "Blocks",
    "Step",
    "integrate",
    "integrate_region",
    "SymbolicWorkload",
    "SymbolicDistribution",
    "SymbolicExponential",
    "SymbolicDiscrete",
    "SymbolicPrediction",
    "SymbolicPerfectPrediction",
    "SymbolicExponentialPrediction",
    "SymbolicUniformPrediction",
    "call_with_budget",
    "configure",
    "soap_mean_response_time",
    "soap_response_time",
]


def mean_response_time(policy: Any, workload: Any, *, parameters: dict | None = None,
                       fallback: bool = True, budget: float | None = None) -> sp.Expr:
    """E[T] of ``policy`` on ``workload`` as a sympy expression.

    Parameters
    ----------
    policy : queuetheory Policy
        One of :func:`registered_policies` (or a subclass, or a class registered
        with :func:`register`).
    workload : queuetheory.Workload or SymbolicWorkload
        The arrival rate may be a sympy symbol.
    parameters : dict, optional
        Symbolic overrides of policy parameters, e.g. ``{"threshold": T}``.
    fallback : bool
        Allow time-budgeted :func:`sympy.integrate` on integrands no rule matches.
    budget : float, optional
        Seconds per fallback call (default 4).

    Returns
    -------
    sympy.Expr
        Closed form where one is found, unevaluated integrals otherwise.

    Raises
    ------
    NotImplementedError
        For a policy without a registered formula (the message lists them), or a
        workload outside the supported symbolic forms.
    """
    return mean_formula(policy, workload, parameters=parameters, fallback=fallback,
                        budget=budget)


def response_time(policy: Any, workload: Any, x: Any, y: Any = None, *,
                  parameters: dict | None = None, fallback: bool = True,
                  budget: float | None = None) -> sp.Expr:
    """E[T | X = x (, Y = y)] as a sympy expression.

    ``x`` and ``y`` may be numbers or sympy symbols. ``y`` is required for
    prediction-based policies when the workload has a prediction model; with
    exact predictions it defaults to ``x``.
    """
    return conditional_formula(policy, workload, x, y, parameters=parameters,
                               fallback=fallback, budget=budget)


def derive(policy: Any, workload: Any, x: Any = None, y: Any = None, *,
           parameters: dict | None = None, fallback: bool = True,
           budget: float | None = None) -> SymbolicResult:
    """Like :func:`mean_response_time` (``x`` None) or :func:`response_time`, wrapped.

    Returns a :class:`SymbolicResult` with the derivation steps, LaTeX output
    and numeric evaluators.
    """
    steps: list[Step] = []
    name = getattr(policy, "name", type(policy).__name__)
    if x is None:
        expr = mean_formula(policy, workload, parameters=parameters, trace=steps,
                            fallback=fallback, budget=budget)
        desc = f"E[T] of {name}"
    else:
        expr = conditional_formula(policy, workload, x, y, parameters=parameters, trace=steps,
                                   fallback=fallback, budget=budget)
        desc = f"E[T | x] of {name}"
    return SymbolicResult(expr, steps, desc)
