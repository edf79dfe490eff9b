r"""Scheduling with predicted sizes: SPJF, PSPJF, SPRPT and SPRPT-with-bounce.

The scheduler sees a prediction y of each job's size x (Mitzenmacher, ITCS
2020; formulas.md §3). Notation: ρ′(y) = λE[S 1(Y <= y)], ρ′(y⁻) = λE[S 1(Y < y)],
M₂′(y) = E[S² 1(Y <= y)]; the two differ only where Y has atoms (empirical
pairs, perfect predictions of a discrete size law), and the SOAP theorem
(formulas.md §4) fixes which one appears: new jobs preempt only with strictly
smaller rank (ρ′(y⁻)), old jobs are served with rank <= (ρ′(y)).

================  =====================  ====================================================
policy            rank r(y, a)           mean response time of a job (x, y)
================  =====================  ====================================================
SPJF              y at a = 0, then −∞    x + λE[S²] / (2(1 − ρ′(y))(1 − ρ′(y⁻)))
PSPJF             y                      x/(1 − ρ′(y⁻)) + λM₂′(y) / (2(1 − ρ′(y))(1 − ρ′(y⁻)))
SPRPT             y − a                  λ[M₂′(y) + E[((S − (Y − y))⁺)² 1(Y > y)]]
                                         / (2(1 − ρ′(y))(1 − ρ′(y⁻)))
                                         + ∫₀^{min(x, y)} da/(1 − ρ′(y − a)) + (x − y)⁺
SPRPTBounce       |y − a| (default)      SOAP engine (no closed form)
================  =====================  ====================================================

The overall means use the Fubini forms of formulas.md §3.3 (one-dimensional
integrals over y; residence ∫ [P(Y > v) − P(Y − S >= v)]/(1 − ρ′(v)) dv +
E[(S − Y)⁺]), with Bessel-K closed forms for exponential sizes and predictions
(§9), exact sums for empirical pairs and size quantities for perfect
predictions (see :mod:`queuetheory.policies._joint_terms`). For PSPJF with a
continuous prediction law E[S/(1 − ρ′(Y))] = −ln(1 − ρ)/λ exactly, because
dρ′(y) = λ m₁(y) dy.

The published SPRPT "equation" values of ITCS 2020 are 0.3–0.9 % *below* this
(exact) formula while the paper's simulation values agree with it
(published-values.md §1 note 4).

>>> import queuetheory as qt
>>> w = qt.Workload(arrival_rate=0.8, size=qt.Exponential(mean=1.0),
...                 prediction=qt.ExponentialPrediction())
>>> round(qt.SPRPT().mean_response_time(w), 8)
3.13752399
>>> round(qt.SPJF().mean_response_time(w), 4), round(qt.PSPJF().mean_response_time(w), 4)
(3.3758, 3.1945)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ParameterError, RankFunctionError
from ..integrate import Estimate
from .base import Policy
from .rank import NONPREEMPTIBLE, PiecewiseRank

__all__ = ["SPJF", "PSPJF", "SPRPT", "SPRPTBounce"]


class PredictionPolicy(Policy):
    """Shared machinery of policies whose closed form is a SOAP waiting + residence pair.

    Subclasses set ``_numerator`` (see :data:`~queuetheory.policies._joint_terms.NUMERATORS`)
    and ``_residence`` and implement :meth:`_residence_bounds` for the conditional form.
    """

    uses = "prediction"
    _numerator = "const"
    _residence = "none"
    _c: float | None = None

    def _terms(self, workload):
        from ._joint_terms import terms_for

        return terms_for(workload)

    def _infinite(self, workload) -> bool:
        """True if E[T] = ∞ because E[S²] = ∞ enters the waiting time (see module notes)."""
        if math.isfinite(float(workload.size.moment(2))):
            return False
        if self._numerator == "const":
            return True  # every job may wait for the residual of the job in service
        if self._numerator == "m2":
            return False
        from ._joint_terms import old_term_diverges

        verdict = old_term_diverges(workload, self._numerator)
        if verdict is None:
            raise ParameterError(
                f"{self.name}: with E[S^2] = inf the old-job term may be infinite; the closed "
                f"form supports this case only for multiplicative prediction models")
        return verdict

    def _mean_closed_form(self, workload, rtol):
        if self._infinite(workload):
            return Estimate(math.inf, 0.0)
        terms = self._terms(workload)
        wait = terms.mean_waiting(self._numerator, c=self._c, rtol=rtol)
        res = terms.mean_residence(self._residence, c=self._c, rtol=rtol)
        return _finite(wait + res, self.name)

    def _conditional_closed_form(self, workload, x, y, rtol):
        if self._infinite(workload):
            return Estimate(math.inf, 0.0)
        terms = self._terms(workload)
        wait = terms.waiting(self._numerator, y, c=self._c)
        lo, hi, tail = self._residence_parts(x, y)
        integral = terms.residence_integral(lo, hi, rtol)
        post = terms.post_denominator()
        kappa = 1.0 + 2.0 / (1.0 - terms.rho)
        err = abs(wait) * (1e-14 + kappa * terms.inner_rel)
        return _finite(Estimate(wait, err) + integral + tail / post, self.name)

    def _residence_parts(self, x: float, y: float) -> tuple[float, float, float]:
        """(a, b, t): residence = ∫_a^b dv/(1 − ρ′(v)) + t (+ t at the post-zero rate)."""
        raise NotImplementedError  # pragma: no cover


def _finite(est: Estimate, name: str) -> Estimate:
    if math.isnan(est.value) or math.isnan(est.error):
        raise ParameterError(f"{name}: the analysis produced NaN (please report this)")
    return est


def _point_then_nonpreemptible(value: np.ndarray, level: np.ndarray | float = 0.0
                               ) -> PiecewiseRank:
    """Rank ``(level, value)`` at age 0 only, then −∞ (non-preemptive)."""
    n = value.size
    lev = np.broadcast_to(np.asarray(level, float), (n,))
    return PiecewiseRank(
        start=np.zeros((n, 2)),
        end=np.column_stack([np.zeros(n), np.full(n, np.inf)]),
        level=np.column_stack([lev, np.full(n, NONPREEMPTIBLE)]),
        value=np.column_stack([value, np.zeros(n)]),
        slope=np.zeros((n, 2)),
    )


class SPJF(PredictionPolicy):
    r"""Shortest Predicted Job First: non-preemptive, priority to the smallest prediction.

    Rank: y at age 0, then −∞ (never preempted once started). Cobham's
    non-preemptive priority formula with a continuum of classes indexed by y
    (formulas.md §3.2 [P], atom-aware by SOAP §4):

    .. math::

        T(x, y) = x + \frac{\lambda E[S^2]}{2 (1 - \rho'(y)) (1 - \rho'(y^-))},
        \qquad E[T] = E[S] + \frac{\lambda E[S^2]}{2}
        E\Big[\frac{1}{(1 - \rho'(Y))(1 - \rho'(Y^-))}\Big].

    With exact predictions (``prediction=None``) this is SJF.

    >>> import queuetheory as qt
    >>> w = qt.Workload(0.5, qt.Exponential(1.0), qt.ExponentialPrediction())
    >>> round(qt.SPJF().mean_response_time(w), 3)  # published 1.795 (ITCS 2020)
    1.795
    """

    name = "SPJF"
    _numerator = "const"
    _residence = "none"

    def _rank_segments(self, d):
        return _point_then_nonpreemptible(np.asarray(d, float))

    def _conditional_closed_form(self, workload, x, y, rtol):
        if self._infinite(workload):
            return Estimate(math.inf, 0.0)
        terms = self._terms(workload)
        wait = terms.waiting("const", y)
        kappa = 1.0 + 2.0 / (1.0 - terms.rho)
        return _finite(Estimate(x + wait, abs(wait) * (1e-14 + kappa * terms.inner_rel)),
                       self.name)


class PSPJF(PredictionPolicy):
    r"""Preemptive Shortest Predicted Job First: constant rank y (formulas.md §3.2 [P]).

    .. math::

        T(x, y) = \frac{x}{1 - \rho'(y^-)} + \frac{\lambda M_2'(y)}{2 (1 - \rho'(y))
        (1 - \rho'(y^-))}.

    The overall mean uses E[S/(1 − ρ′(Y⁻))] = −ln(1 − ρ)/λ for a continuous
    prediction law (plus the atom terms otherwise). With exact predictions this
    is PSJF.

    >>> import queuetheory as qt
    >>> w = qt.Workload(0.5, qt.Exponential(1.0), qt.ExponentialPrediction())
    >>> round(qt.PSPJF().mean_response_time(w), 3)  # published 1.664
    1.664
    """

    name = "PSPJF"
    _numerator = "m2"
    _residence = "pspjf"

    def _rank_segments(self, d):
        return PiecewiseRank.linear(np.asarray(d, float), slope=0.0)

    def _conditional_closed_form(self, workload, x, y, rtol):
        terms = self._terms(workload)
        wait = terms.waiting("m2", y)
        d_strict = float(terms.denom(terms.fn(np.array([y]), ["m1cs"])["m1cs"])[0])
        kappa = 1.0 + 2.0 / (1.0 - terms.rho)
        val = wait + x / d_strict
        return _finite(Estimate(val, abs(val) * (1e-14 + kappa * terms.inner_rel)), self.name)


class SPRPT(PredictionPolicy):
    r"""Shortest Predicted Remaining Processing Time: rank y − a (formulas.md §3.2 [D]).

    The rank keeps decreasing below 0: once a job's age exceeds its
    prediction nothing can preempt it (every waiting job has rank >= 0).
    By SOAP (§4.4):

    .. math::

        T(x, y) = \frac{\lambda\,[M_2'(y) + E[((S - (Y - y))^+)^2 1(Y > y)]]}
        {2 (1 - \rho'(y))(1 - \rho'(y^-))}
        + \int_0^{\min(x, y)} \frac{da}{1 - \rho'(y - a)} + (x - y)^+ .

    Overall mean by the Fubini form (§3.3):
    E[R] = ∫₀^∞ [P(Y > v) − P(Y − S >= v)]/(1 − ρ′(v)) dv + E[(S − Y)⁺].
    With exact predictions this is SRPT.

    >>> import queuetheory as qt
    >>> w = qt.Workload(0.8, qt.Exponential(1.0), qt.ExponentialPrediction())
    >>> round(qt.SPRPT().mean_response_time(w), 10)
    3.1375239891
    >>> round(qt.SPRPT().response_time(w, x=1.0, y=0.5), 6) > 0
    True
    """

    name = "SPRPT"
    _numerator = "sprpt"
    _residence = "sprpt"

    def _rank_segments(self, d):
        return PiecewiseRank.linear(np.asarray(d, float), slope=-1.0)

    def _residence_parts(self, x, y):
        return y - min(x, y), y, max(x - y, 0.0)


# ------------------------------------------------------------------- bounce
_BOUNCE_SHAPES = ("abs", "caption")


class SPRPTBounce(Policy):
    r"""SPRPT-with-bounce (Scully, Grosof, Mitzenmacher, ITCS 2022; formulas.md §6).

    The rank falls from the prediction z to 0 as the job ages, then rises
    again ("bounces"), so that badly under-predicted jobs do not become
    non-preemptible. **The exact rank function is not confirmed from the
    primary source** (formulas.md §6.2 [U]); the default is the most plausible
    reading, |z − a|, and the shape is an explicit parameter:

    * ``rank="abs"`` (default, unconfirmed): r(z, a) = |z − a| — two linear
      segments, value z slope −1 on [0, z), then value 0 slope +1;
    * ``rank="caption"``: r(z, a) = max(|z − a|, z), the survey caption's
      formula taken literally (constant z until age 2z, then a − z; it never
      falls below z, which contradicts the figure, so it is offered only for
      comparison);
    * a callable ``rank(z) -> PiecewiseRank`` returning the piecewise-linear
      ranks of the jobs with predictions ``z`` (a 1-D array), for any other
      shape. It is validated (shape, finiteness) and must be piecewise linear
      so that the SOAP engine and the simulator can find exact crossing ages.

    There is no closed form: :meth:`evaluate` uses the generic SOAP engine
    (:mod:`queuetheory.soap`), which is exact for any of these shapes.

    >>> import queuetheory as qt
    >>> p = qt.SPRPTBounce()
    >>> p.rank(2.0, 0.5), p.rank(2.0, 3.0)
    ((0.0, 1.5), (0.0, 1.0))
    """

    name = "SPRPT-bounce"
    uses = "prediction"

    def __init__(self, rank: str | Callable[[np.ndarray], PiecewiseRank] = "abs") -> None:
        if isinstance(rank, str):
            if rank not in _BOUNCE_SHAPES:
                raise ParameterError(
                    f"rank must be one of {_BOUNCE_SHAPES} or a callable z -> PiecewiseRank "
                    f"(got {rank!r})")
        elif not callable(rank):
            raise ParameterError(f"rank must be a string or a callable (got {type(rank).__name__})")
        self.shape = rank

    def _params(self):
        return {"rank": self.shape if isinstance(self.shape, str) else "custom"}

    def _rank_segments(self, d):
        z = np.asarray(d, float)
        n = z.size
        if self.shape == "abs":
            return PiecewiseRank(
                start=np.column_stack([np.zeros(n), z]),
                end=np.column_stack([z, np.full(n, np.inf)]),
                level=np.zeros((n, 2)),
                value=np.column_stack([z, np.zeros(n)]),
                slope=np.column_stack([np.full(n, -1.0), np.ones(n)]),
            )
        if self.shape == "caption":
            return PiecewiseRank(
                start=np.column_stack([np.zeros(n), 2 * z]),
                end=np.column_stack([2 * z, np.full(n, np.inf)]),
                level=np.zeros((n, 2)),
                value=np.column_stack([z, z]),
                slope=np.column_stack([np.zeros(n), np.ones(n)]),
            )
        return _validated_custom(self.shape, z)


def _validated_custom(fn: Callable[[np.ndarray], Any], z: np.ndarray) -> PiecewiseRank:
    try:
        r = fn(z)
    except Exception as exc:  # noqa: BLE001 - reported with context
        raise RankFunctionError(f"the custom bounce rank raised {type(exc).__name__}: {exc}"
                                ) from exc
    if not isinstance(r, PiecewiseRank):
        raise RankFunctionError(f"the custom bounce rank must return a PiecewiseRank "
                                f"(got {type(r).__name__})")
    if r.n_jobs != z.size:
        raise RankFunctionError(f"the custom bounce rank returned {r.n_jobs} jobs for {z.size} "
                                f"predictions")
    for name in ("value", "slope"):
        arr = getattr(r, name)
        real = np.isfinite(r.start)
        if np.any(np.isnan(arr)) or np.any(~np.isfinite(arr[real])):
            raise RankFunctionError(f"the custom bounce rank has non-finite {name}s")
    return r
