r"""SkipPredict (Shahout & Mitzenmacher, NeurIPS 2024), external-cost model — formulas.md §7.

**Status: a reconstruction** ([U] in formulas.md §7.2: derived by the SOAP
theorem, not confirmed from the primary source). It has been checked here
against an independent event simulation (tests/test_prediction_policies.py).

Model implemented
-----------------
* Every job gets a cheap one-bit prediction, *short* or *long* with threshold
  T. ``bit_on`` says what the bit is computed from:

  - ``"prediction"`` (default): the bit is 1(Y <= T) for the workload's
    prediction Y — the cheap predictor tells on which side of T the expensive
    prediction falls (a cheap classifier that agrees with the expensive
    predictor);
  - ``"size"``: the bit is exact, 1(S <= T) (a perfect cheap classifier; the
    "THR" setting of one-bit advice).

  With exact predictions (``prediction=None``) the two coincide.
* Predicted-long jobs (only) receive the expensive prediction y, the
  workload's prediction, and are scheduled by SPRPT among themselves.
* Short jobs are FCFS among themselves and ahead of every long job.
* ``shorts_preempt=True`` (default): ranks ⟨1⟩ for shorts (constant) and
  ⟨2, y − a⟩ for longs (formulas.md §4.1 table). ``shorts_preempt=False``: the
  fully non-preemptive SOAP variant — ranks ⟨1⟩ and ⟨2, y⟩ at age 0 and −∞
  afterwards: nothing is ever interrupted, shorts first (FCFS), then longs by
  smallest expensive prediction (SPJF among longs). (The hybrid "shorts do
  not preempt but longs preempt longs" depends on which job is in service and
  is not a SOAP policy; it is not offered.)
* Predictions are computed off the server (external cost model): cost =
  E[T] + c₁ + c₂·P(long) with c₁ per cheap and c₂ per expensive prediction
  (:meth:`SkipPredict.cost`).

Formulas (ρ_S = λE[S 1(short)], ρ_L(u) = λE[S 1(long, Y < u)], W₀ = λE[S²]/2):

* shorts_preempt=True — short: x + λE[S²1(short)]/(2(1 − ρ_S));
  long (x, y): λ[E[S²1(short)] + E[S²1(long, Y <= y)] + E[((S − Y + y)⁺)² 1(long, Y > y)]]
  /(2(1 − ρ_S − ρ_L(y⁺))(1 − ρ_S − ρ_L(y))) + ∫₀^{min(x, y)} da/(1 − ρ_S − ρ_L(y − a))
  + (x − y)⁺/(1 − ρ_S).
* shorts_preempt=False — short: x + W₀/(1 − ρ_S); long: x + W₀/((1 − ρ_S − ρ_L(y⁺))
  (1 − ρ_S − ρ_L(y))).

>>> import queuetheory as qt
>>> w = qt.Workload(0.8, qt.Exponential(1.0), qt.ExponentialPrediction())
>>> p = qt.SkipPredict(threshold=1.0, cheap_cost=0.1, expensive_cost=0.5)
>>> t = p.mean_response_time(w)
>>> round(t, 6), round(p.cost(w) - t, 6)  # cost adds 0.1 + 0.5 P(Y > 1)
(3.190631, 0.239866)
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ParameterError, check_nonnegative
from ..integrate import Estimate
from ..workload import Workload
from .base import Policy
from .rank import NONPREEMPTIBLE, PiecewiseRank

__all__ = ["SkipPredict"]

_BIT_ON = ("prediction", "size")
#: A long class carrying less than this fraction of the load is treated as empty.
_EMPTY = 1e-12


class SkipPredict(Policy):
    r"""Cheap one-bit prediction for all jobs, expensive prediction for predicted-long jobs.

    Parameters
    ----------
    threshold : float
        T >= 0: short iff the bit's variable is <= T.
    cheap_cost, expensive_cost : float
        c₁ >= 0 per job, c₂ >= 0 per predicted-long job (external cost model).
    shorts_preempt : bool
        Whether short jobs preempt long ones (see the module docstring).
    bit_on : {"prediction", "size"}
        What the cheap bit is computed from (see the module docstring).

    Notes
    -----
    Descriptor: an (n, 2) array (bit, y) with bit 1.0 (short) or 2.0 (long).
    """

    name = "SkipPredict"
    uses = "prediction"

    def __init__(self, threshold: float, cheap_cost: float = 0.0, expensive_cost: float = 0.0,
                 shorts_preempt: bool = True, bit_on: str = "prediction") -> None:
        self.threshold = check_nonnegative("threshold", threshold)
        self.cheap_cost = check_nonnegative("cheap_cost", cheap_cost)
        self.expensive_cost = check_nonnegative("expensive_cost", expensive_cost)
        if not isinstance(shorts_preempt, (bool, np.bool_)):
            raise ParameterError(f"shorts_preempt must be True or False (got {shorts_preempt!r})")
        self.shorts_preempt = bool(shorts_preempt)
        if bit_on not in _BIT_ON:
            raise ParameterError(f"bit_on must be one of {_BIT_ON} (got {bit_on!r})")
        self.bit_on = bit_on
        #: What :meth:`descriptor` depends on: (bit, y), the bit from y or from x.
        self.descriptor_dependence = "y" if bit_on == "prediction" else "xy"

    def _params(self):
        return {"threshold": self.threshold, "cheap_cost": self.cheap_cost,
                "expensive_cost": self.expensive_cost, "shorts_preempt": self.shorts_preempt,
                "bit_on": self.bit_on}

    # ------------------------------------------------------------ descriptor
    def descriptor(self, x, y):
        """(bit, y): bit 1.0 (short) if the bit's variable is <= threshold, else 2.0."""
        x = np.asarray(x, dtype=float)
        yy = np.broadcast_to(np.asarray(y, dtype=float), x.shape)
        v = x if self.bit_on == "size" else yy
        return np.stack([np.where(v <= self.threshold, 1.0, 2.0), yy], axis=-1)

    def rank_segments(self, d):
        return self._rank_segments(np.atleast_2d(np.asarray(d, dtype=float)))

    def rank(self, d, a):
        if a < 0:
            raise ParameterError(f"age a must be >= 0 (got {a!r})")
        return self.rank_segments(np.asarray([d], dtype=float)).evaluate(0, float(a))

    def _rank_segments(self, d):
        bit, y = d[:, 0], d[:, 1]
        long = bit == 2.0
        value = np.where(long, y, 0.0)
        n = bit.size
        if self.shorts_preempt:
            return PiecewiseRank.linear(value, slope=np.where(long, -1.0, 0.0), level=bit)
        return PiecewiseRank(
            start=np.zeros((n, 2)),
            end=np.column_stack([np.zeros(n), np.full(n, np.inf)]),
            level=np.column_stack([bit, np.full(n, NONPREEMPTIBLE)]),
            value=np.column_stack([value, np.zeros(n)]),
            slope=np.zeros((n, 2)),
        )

    # -------------------------------------------------------------- analysis
    def _axis(self, workload: Workload) -> str:
        return "x" if (self.bit_on == "size" or not workload.has_prediction) else "y"

    def _long_terms(self, workload: Workload):
        """Joint terms of the predicted-long sub-population (None if it is empty)."""
        from ._joint_terms import terms_for

        axis = self._axis(workload)
        T = self.threshold
        es = float(workload.size.mean())
        if axis == "x":
            tail = es - float(workload.size.partial_moment(1, T))
        else:
            tail = float(terms_for(workload).fn(np.array([T]), ["m1c"])["m1c"][0])
        if not tail > _EMPTY * es:
            # no (or a numerically negligible, < 1e-12 of the load) predicted-long class
            return None
        return terms_for(workload, restrict=(axis, T))

    def _short_parts(self, workload: Workload, longs) -> tuple[float, float, float, float]:
        """(P(short), E[S 1(short)], E[S² 1(short)], 1 − ρ_S)."""
        lam = float(workload.arrival_rate)
        es, es2 = float(workload.size.mean()), float(workload.size.moment(2))
        rho = lam * es
        if longs is None:
            return 1.0, es, es2, 1.0 - rho
        m1l = longs.scalar("m1tot")
        return (1.0 - longs.scalar("mass"), es - m1l, max(es2 - longs.scalar("m2tot"), 0.0),
                (1.0 - rho) + lam * m1l)

    def long_fraction(self, workload: Workload) -> float:
        """P(long): the fraction of jobs that receive the expensive prediction."""
        self._check_workload(workload)
        longs = self._long_terms(workload)
        return 0.0 if longs is None else longs.scalar("mass")

    def _mean_closed_form(self, workload, rtol):
        lam = float(workload.arrival_rate)
        es2 = float(workload.size.moment(2))
        if not math.isfinite(es2):
            raise ParameterError("SkipPredict's closed form needs a size law with E[S^2] < inf "
                                 "(got E[S^2] = inf)")
        longs = self._long_terms(workload)
        p_s, es_s, es2_s, d_s = self._short_parts(workload, longs)
        if self.shorts_preempt:
            shorts = es_s + p_s * lam * es2_s / (2.0 * d_s)
        else:
            shorts = es_s + p_s * lam * es2 / (2.0 * d_s)
        total = Estimate(shorts, 1e-14 * abs(shorts))
        if longs is not None:
            if self.shorts_preempt:
                total = total + longs.mean_waiting("sprpt", rtol=rtol) + longs.mean_residence(
                    "sprpt", rtol=rtol)
            else:
                total = total + longs.mean_waiting("const", rtol=rtol) + longs.scalar("m1tot")
        return total

    def _conditional_closed_form(self, workload, x, y, rtol):
        lam = float(workload.arrival_rate)
        es2 = float(workload.size.moment(2))
        if not math.isfinite(es2):
            raise ParameterError("SkipPredict's closed form needs a size law with E[S^2] < inf "
                                 "(got E[S^2] = inf)")
        v = x if self._axis(workload) == "x" else y
        longs = self._long_terms(workload)
        p_s, es_s, es2_s, d_s = self._short_parts(workload, longs)
        if v <= self.threshold or longs is None:
            num = es2_s if self.shorts_preempt else es2
            val = x + lam * num / (2.0 * d_s)
            return Estimate(val, 1e-14 * abs(val))
        if not self.shorts_preempt:
            val = x + longs.waiting("const", y)
            return Estimate(val, abs(val) * 1e-12)
        wait = longs.waiting("sprpt", y)
        integral = longs.residence_integral(y - min(x, y), y, rtol)
        val = Estimate(wait, abs(wait) * 1e-12) + integral + max(x - y, 0.0) / d_s
        return val

    def cost(self, workload: Workload, **kwargs) -> float:
        """E[T] + c₁ + c₂·P(long) (external cost model, formulas.md §7.1)."""
        t = self.mean_response_time(workload, **kwargs)
        return t + self.cheap_cost + self.expensive_cost * self.long_fraction(workload)
