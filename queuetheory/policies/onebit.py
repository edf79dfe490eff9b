r"""One bit of advice (Mitzenmacher, "Queues with Small Advice", SIAM ACDA 2021), formulas.md §5.

Each job carries one bit: *short* if V <= T, *long* otherwise, where T is the
threshold and V is the prediction Y (``on="prediction"``) or the true size
(``on="size"``, the "THR" scheme; also what ``on="prediction"`` reduces to with
exact predictions). Shorts go ahead of longs. Write
ρ_S = λE[S 1(short)], P_L = P(long), ρ = λE[S], W₀ = λE[S²]/2 (general M/G/1
forms of §5.2 [D], derived from Cobham's priority formulas §2.4 and LCFS-PR §2.2):

=======================================  ======================  ==================================
variant                                  short job of size x     long job of size x
=======================================  ======================  ==================================
non-preemptive                           x + W₀/(1 − ρ_S)        x + W₀/((1 − ρ_S)(1 − ρ))
preemptive, shorts LCFS-PR (default)     x/(1 − ρ_S)             x/(1 − ρ_S) + W₀/((1 − ρ_S)(1 − ρ))
preemptive, shorts FCFS                  x + λE[S²1(short)]      same as above
                                         /(2(1 − ρ_S))
=======================================  ======================  ==================================

**Preemptive semantics.** The published preemptive values (Table 2 of the
survey, published-values.md §2) are reproduced only when an arriving short job
preempts *whatever* is in service, including another short job: shorts are
served LCFS preemptive-resume among themselves and preempt longs; longs are
FCFS among themselves. That is the default (``shorts="lcfs"``) for
``preemptive=True``. It is not a SOAP policy (the rank of a short depends on
arrival order), so :attr:`OneBit.is_soap` is False for it and the SOAP engine
cannot evaluate it; the closed form above is exact (busy-period argument).
``shorts="fcfs"`` gives the SOAP variant with constant ranks ⟨1⟩, ⟨2⟩.

**For a simulator.** Jobs of equal rank are ordered by
:meth:`OneBit.tie_break_for_level`: level 1 (shorts) uses ``"lcfs"`` when
``shorts="lcfs"`` (the newest short job is served, an arriving short preempts
the short in service), level 2 (longs) is always ``"fcfs"``.

>>> import queuetheory as qt
>>> w = qt.Workload(0.8, qt.Exponential(1.0), qt.ExponentialPrediction())
>>> round(qt.OneBit(threshold=1.0, preemptive=True).mean_response_time(w), 6)
3.496489
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..errors import ParameterError, check_nonnegative
from ..integrate import Estimate
from ..workload import Workload
from .base import Policy
from .prediction import _point_then_nonpreemptible
from .rank import PiecewiseRank

__all__ = ["OneBit", "OneBitOptimum"]

_SHORTS = ("lcfs", "fcfs")
_ON = ("prediction", "size")


@dataclass(frozen=True)
class _Classes:
    """Class quantities of a one-bit split (everything a closed form needs)."""

    lam: float
    rho: float
    es: float
    es2: float
    p_long: float
    es_short: float  # E[S 1(short)]
    es2_short: float  # E[S² 1(short)]
    one_minus_rho_s: float  # 1 − ρ_S, computed without cancellation

    @property
    def p_short(self) -> float:
        return 1.0 - self.p_long

    @property
    def w0(self) -> float:
        return self.lam * self.es2 / 2.0


@dataclass(frozen=True)
class OneBitOptimum:
    """Result of :meth:`OneBit.optimal_threshold` with ``full_output=True``.

    Attributes
    ----------
    threshold : float
        The minimising threshold (``0.0`` or ``inf`` if a boundary is best).
    mean_response_time : float
        E[T] at that threshold.
    boundary : str or None
        ``"zero"`` / ``"infinity"`` when the infimum is at a boundary, else None.
    foc_residual : float or None
        Relative residual of the first-order condition of formulas.md §5.4 at an
        interior optimum (non-preemptive and preemptive LCFS-PR with a
        continuous classifying variable), else None.
    evaluations : int
        Number of closed-form evaluations used.
    """

    threshold: float
    mean_response_time: float
    boundary: str | None
    foc_residual: float | None
    evaluations: int


class OneBit(Policy):
    r"""Two priority classes from one bit: short if V <= threshold (formulas.md §5).

    Parameters
    ----------
    threshold : float
        T >= 0. A job is short iff its prediction (``on="prediction"``) or
        size (``on="size"``) is at most T.
    preemptive : bool
        Whether an arriving short job preempts (see the module docstring).
    shorts : {"lcfs", "fcfs"}, optional
        Order among short jobs. Default: ``"lcfs"`` for preemptive (the
        semantics of the published values), ``"fcfs"`` for non-preemptive (the
        order does not affect any mean in the non-preemptive case).
    on : {"prediction", "size"}
        The classifying variable V. With exact predictions both are the same.

    Notes
    -----
    Descriptor: the bit, 1.0 (short) or 2.0 (long). Rank: level = bit, constant
    (preemptive), or at age 0 only and −∞ afterwards (non-preemptive).
    """

    name = "one-bit"

    def __init__(self, threshold: float, preemptive: bool = True, shorts: str | None = None,
                 on: str = "prediction") -> None:
        self.threshold = check_nonnegative("threshold", threshold)
        if not isinstance(preemptive, (bool, np.bool_)):
            raise ParameterError(f"preemptive must be True or False (got {preemptive!r})")
        self.preemptive = bool(preemptive)
        if shorts is None:
            shorts = "lcfs" if self.preemptive else "fcfs"
        if shorts not in _SHORTS:
            raise ParameterError(f"shorts must be one of {_SHORTS} (got {shorts!r})")
        self.shorts = shorts
        if on not in _ON:
            raise ParameterError(f"on must be one of {_ON} (got {on!r})")
        self.on = on
        self.uses = "prediction" if on == "prediction" else "size"
        #: What :meth:`descriptor` depends on ("x" size, "y" prediction).
        self.descriptor_dependence = "y" if on == "prediction" else "x"
        self.is_soap = shorts == "fcfs"
        kind = "P" if self.preemptive else "NP"
        self.name = f"one-bit-{'PRED' if on == 'prediction' else 'THR'}-{kind}-{shorts}"

    def _params(self):
        return {"threshold": self.threshold, "preemptive": self.preemptive,
                "shorts": self.shorts, "on": self.on}

    # ---------------------------------------------------------- descriptor
    def descriptor(self, x, y):
        """The bit: 1.0 if V <= threshold (short), else 2.0 (long)."""
        x = np.asarray(x, dtype=float)
        v = x if self.on == "size" else np.broadcast_to(np.asarray(y, dtype=float), x.shape)
        return np.where(v <= self.threshold, 1.0, 2.0)

    def tie_break_for_level(self, level: float) -> str:
        """How a simulator orders jobs of equal rank at this level: "fcfs" or "lcfs".

        Level 1 (short jobs) is ``"lcfs"`` when ``shorts="lcfs"``: the most recent
        short job is served, so an arriving short preempts the short in service.
        Every other level is ``"fcfs"``.
        """
        return "lcfs" if (level == 1.0 and self.shorts == "lcfs") else "fcfs"

    def _rank_segments(self, d):
        bit = np.asarray(d, dtype=float)
        if self.preemptive:
            return PiecewiseRank.linear(np.zeros(bit.size), slope=0.0, level=bit)
        return _point_then_nonpreemptible(np.zeros(bit.size), level=bit)

    # ------------------------------------------------------------ analysis
    def _classes(self, workload: Workload, threshold: float | None = None) -> _Classes:
        T = self.threshold if threshold is None else threshold
        lam = float(workload.arrival_rate)
        size = workload.size
        es = float(size.mean())
        es2 = float(size.moment(2))
        rho = lam * es
        if math.isinf(T):
            return _Classes(lam, rho, es, es2, 0.0, es, es2, 1.0 - rho)
        if self.on == "size" or not workload.has_prediction:
            p_long = float(size.sf(T))
            es_long = max(es - float(size.partial_moment(1, T)), 0.0)
            es2_short = float(size.partial_moment(2, T))
        else:
            from ._joint_terms import terms_for

            direct = not math.isfinite(es2)
            F = terms_for(workload).fn(np.array([T]), ["sf", "m1c", "m2" if direct else "m2c"])
            p_long = float(F["sf"][0])
            es_long = float(F["m1c"][0])
            es2_short = float(F["m2"][0]) if direct else max(es2 - float(F["m2c"][0]), 0.0)
        return _Classes(lam, rho, es, es2, p_long, es - es_long, es2_short,
                        (1.0 - rho) + lam * es_long)

    def _mean_from(self, k: _Classes) -> float:
        """E[T] from the class quantities (``inf`` where a waiting term has E[S²] = ∞)."""
        d_s = k.one_minus_rho_s
        if not math.isfinite(k.es2):
            if not self.preemptive or k.p_long > 0:
                return math.inf
            if self.shorts == "fcfs" and not math.isfinite(k.es2_short):
                return math.inf
        if not self.preemptive:
            return k.es + k.w0 / d_s * (k.p_short + k.p_long / (1.0 - k.rho))
        long_wait = k.p_long * k.w0 / (d_s * (1.0 - k.rho))
        if self.shorts == "lcfs":
            return k.es / d_s + long_wait
        es_long = k.es - k.es_short
        return (k.es_short + k.p_short * k.lam * k.es2_short / (2.0 * d_s)
                + es_long / d_s + long_wait)

    def _mean_closed_form(self, workload, rtol):
        k = self._classes(workload)
        val = self._mean_from(k)
        if math.isinf(val):
            return Estimate(math.inf, 0.0)
        return Estimate(val, 1e-13 * abs(val) / max(1.0 - k.rho, 1e-300))

    def _conditional_closed_form(self, workload, x, y, rtol):
        k = self._classes(workload)
        v = x if (self.on == "size" or y is None) else y
        short = v <= self.threshold
        d_s = k.one_minus_rho_s
        if not self.preemptive:
            val = x + k.w0 / d_s * (1.0 if short else 1.0 / (1.0 - k.rho))
            if math.isinf(val):
                return Estimate(math.inf, 0.0)
        elif short:
            val = x / d_s if self.shorts == "lcfs" else x + k.lam * k.es2_short / (2.0 * d_s)
        else:
            val = x / d_s + k.w0 / (d_s * (1.0 - k.rho))
        return Estimate(val, 1e-13 * abs(val) / max(1.0 - k.rho, 1e-300))

    # ------------------------------------------------------ optimal threshold
    @classmethod
    def optimal_threshold(cls, workload: Workload, *, preemptive: bool = True,
                          shorts: str | None = None, on: str = "prediction",
                          full_output: bool = False, xatol: float = 1e-10
                          ) -> float | OneBitOptimum:
        r"""The threshold T that minimises E[T] (formulas.md §5.4).

        Scans a logarithmic grid of thresholds (or, for a discrete classifying
        variable, every one of its values, where E[T] is piecewise constant),
        refines the best interior point by bounded Brent minimisation in log T,
        and compares with the boundaries T → 0 (all long) and T → ∞ (all short).
        For a continuous classifying variable the result is checked against the
        first-order condition of §5.4 (``foc_residual`` in the full output):

        non-preemptive: E[S] · (1 − ρ_S) = E[S | V = T] · (1 − ρ + ρ P_L);
        preemptive LCFS-PR:
        (E[S²]/2) · (1 − ρ_S) = E[S | V = T] · (E[S] · (1 − ρ) + (λE[S²]/2) P_L).

        Returns the threshold (``0.0`` or ``math.inf`` at a boundary), or a
        :class:`OneBitOptimum` with ``full_output=True``.

        >>> import queuetheory as qt
        >>> w = qt.Workload(0.5, qt.Exponential(1.0))
        >>> T = qt.OneBit.optimal_threshold(w, preemptive=True)
        >>> round(T, 9)  # root of (T - 1)(1 - lam) = lam e^{-T}: T = 1 + W(1/e)
        1.278464543
        """
        if not isinstance(workload, Workload):
            raise ParameterError("workload must be a queuetheory.Workload")
        workload.check_stable()
        proto = cls(0.0, preemptive=preemptive, shorts=shorts, on=on)
        count = [0]

        def f(T: float) -> float:
            count[0] += 1
            return proto._mean_from(proto._classes(workload, T))

        es = float(workload.size.mean())
        discrete = cls._discrete_values(workload, on)
        f_inf = f(math.inf)
        if discrete is not None:
            cand = np.concatenate([[0.0], discrete])
            vals = np.array([f(float(T)) for T in cand])
            j = int(np.argmin(vals))
            best_T, best = float(cand[j]), float(vals[j])
            foc = None
        else:
            grid = es * np.logspace(-5, 3, 81)
            vals = np.array([f(float(T)) for T in grid])
            j = int(np.argmin(vals))
            lo = math.log(grid[max(j - 1, 0)])
            hi = math.log(grid[min(j + 1, grid.size - 1)])
            res = optimize.minimize_scalar(lambda u: f(math.exp(u)), bounds=(lo, hi),
                                           method="bounded",
                                           options={"xatol": xatol, "maxiter": 500})
            best_T, best = float(math.exp(res.x)), float(res.fun)
            if vals[j] < best:
                best_T, best = float(grid[j]), float(vals[j])
            foc = proto._foc_residual(workload, best_T)
            if foc is not None:
                best_T, best, foc = proto._polish(workload, best_T, best, f)
        f_zero = f(0.0)
        boundary = None
        if f_inf < best and f_inf <= f_zero:
            best_T, best, boundary, foc = math.inf, f_inf, "infinity", None
        elif f_zero < best:
            best_T, best, boundary, foc = 0.0, f_zero, "zero", None
        if full_output:
            return OneBitOptimum(best_T, best, boundary, foc, count[0])
        return best_T

    @staticmethod
    def _discrete_values(workload: Workload, on: str) -> np.ndarray | None:
        """Distinct values of the classifying variable if it is discrete, else None."""
        if on == "size" or not workload.has_prediction:
            size = workload.size
            return None if size.has_continuous_part else np.asarray(size.atoms[0], float)
        joint = workload.joint
        if getattr(joint, "has_density_y", True):
            return None
        vals = np.asarray(joint.atoms_y[0], float)
        return vals

    def _polish(self, workload, T, best, f):
        """Solve the first-order condition near T by Brent's method (when it brackets)."""
        g = lambda t: self._foc_residual(workload, t)  # noqa: E731
        for width in (1e-6, 1e-4, 1e-2):
            a, b = T * (1 - width), T * (1 + width)
            try:
                ga, gb = g(a), g(b)
            except (ParameterError, ValueError):  # pragma: no cover - defensive
                break
            if ga is None or gb is None:
                break
            if ga * gb < 0:
                root = optimize.brentq(g, a, b, xtol=1e-15 * T, rtol=1e-15, maxiter=200)
                val = f(root)
                if val <= best * (1 + 1e-12):
                    return root, val, g(root)
                break
        return T, best, g(T)

    def _foc_residual(self, workload: Workload, T: float) -> float | None:
        if self.preemptive and self.shorts == "fcfs":
            return None
        k = self._classes(workload, T)
        if self.on == "size" or not workload.has_prediction:
            cond = T
        else:
            joint = workload.joint
            dens = float(joint.pdf_y(T))
            if not dens > 0:
                return None
            cond = float(joint.moment_density_y(1, T)) / dens
        if self.preemptive:
            lhs = k.es2 / 2.0 * k.one_minus_rho_s
            rhs = cond * (k.es * (1.0 - k.rho) + k.w0 * k.p_long)
        else:
            lhs = k.es * k.one_minus_rho_s
            rhs = cond * (1.0 - k.rho + k.rho * k.p_long)
        return (lhs - rhs) / max(abs(lhs), abs(rhs), 1e-300)

