r"""Classic M/G/1 scheduling policies with exact closed forms.

FCFS, LCFS (preemptive-resume), PS, SJF, PSJF, SRPT, FB (alias LAS) and
priority classes (Cobham's formulas, non-preemptive and preemptive-resume).
Every policy is a :class:`~queuetheory.policies.base.Policy`: it has a rank
function (used by the SOAP engine and the simulator) and closed forms for
E[T | X = x] and E[T] (formulas.md §2), evaluated with the vectorized
adaptive quadrature of :mod:`queuetheory.integrate` and reported as an
:class:`~queuetheory.integrate.Estimate` (value, absolute error estimate).

Numerics (formulas.md §3.3, §10)
--------------------------------
* Means over the size law are one-dimensional integrals ``∫ f(x) g(x) dx``
  plus exact sums over atoms; SRPT's residence time uses the Fubini form
  ``E[R] = ∫ F̄(t) / (1 − ρ(t)) dt``. No quadrature is nested in another.
* Continuous parts are integrated in the variable ``v = log x``, split at the
  law's breakpoints, atoms and at decades around its median. This turns
  density singularities at 0 (Weibull shape < 1) and power tails (Pareto)
  into exponentially decaying integrands. The range is cut at ``1e±150``
  times the median (beyond, x² overflows); the neglected head and tail are
  bounded and the bound is added to the error estimate. This only matters
  for extremely heavy tails: for Pareto shape 1.05 the reported relative
  error is 3e-8, for shape 1.02 it is 1e-3 (shape >= 1.1: below 1e-12).
* Purely atomic laws (Deterministic, Discrete, Empirical) are evaluated by
  exact finite sums: E over x is a sum over atoms and ``∫ F̄/(1 − ρ)`` is a
  sum over the intervals between atoms, where the integrand is constant.
* At atoms the atom-aware denominators ``(1 − ρ(x⁻))(1 − ρ(x))`` are used
  (formulas.md §2.5): jobs of equal rank arriving later do not preempt.
* The error estimate is the sum of the quadrature error estimates plus a
  round-off term ``16 ε |E[T]| / (1 − ρ)`` for the conditioning of
  ``1/(1 − ρ(·))``.

Infinite answers: FCFS, SJF and non-preemptive priority have E[T] = ∞ when
E[S²] = ∞ (every job may wait behind a job in service). PS, LCFS-PR, FB,
PSJF and SRPT stay finite whenever ρ < 1.

>>> import queuetheory as qt
>>> w = qt.Workload(arrival_rate=0.9, size=qt.Exponential(mean=1.0))
>>> round(qt.SRPT().mean_response_time(w), 10)
3.5521250996
>>> round(qt.FCFS().mean_response_time(w), 12), round(qt.FB().mean_response_time(w), 9)
(10.0, 10.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..integrate import Estimate, quad
from ..workload import Workload
from .base import Policy
from .rank import NONPREEMPTIBLE, PiecewiseRank

__all__ = [
    "FCFS",
    "LCFS",
    "PS",
    "SJF",
    "PSJF",
    "SRPT",
    "FB",
    "LAS",
    "NonPreemptivePriority",
    "PreemptivePriority",
]

_EPS = float(np.finfo(float).eps)
#: Continuous parts are integrated over [median / _SPAN, median * _SPAN].
_SPAN = 1e150
#: Split points at median * 10**(±k): resolves light and heavy tails alike.
_DECADES = (1, 2, 4, 8, 16, 32, 64, 128)
_LN10 = math.log(10.0)


# =====================================================================================
# Numerical machinery shared by the classic policies
# =====================================================================================
class _Law:
    """Quantities of a workload's size law used by the classic formulas.

    Collects λ, ρ, the atoms, whether there is a continuous part, and the
    integration range; evaluates loads and truncated moments vectorized.
    """

    def __init__(self, workload: Workload) -> None:
        size = workload.size
        self.size = size
        self.lam = float(workload.arrival_rate)
        self.mean = float(workload.mean_size)
        self.rho = self.lam * self.mean
        values, probs = size.atoms
        keep = probs > 0
        self.values = np.asarray(values[keep], dtype=float)
        self.probs = np.asarray(probs[keep], dtype=float)
        self.atomic_mass = float(self.probs.sum()) if self.probs.size else 0.0
        self.has_atoms = self.values.size > 0
        self.continuous = bool(size.has_continuous_part) and self.atomic_mass < 1.0 - 1e-12
        lo, hi = size.support
        self.lo, self.hi = float(lo), float(hi)
        if self.continuous:
            anchor = float(size.scale)
        elif self.has_atoms:
            anchor = float(np.median(self.values[self.values > 0])) if np.any(
                self.values > 0) else 1.0
        else:  # pragma: no cover - a law with neither atoms nor density
            anchor = 1.0
        if not (math.isfinite(anchor) and anchor > 0):
            anchor = 1.0
        self.anchor = anchor
        self.x_min = max(anchor / _SPAN, 1e-300)
        self.x_max = min(anchor * _SPAN, 1e150)
        pts = [np.asarray([self.lo, self.hi]), np.ravel(size.breakpoints())]
        if self.has_atoms and self.continuous:  # atoms are kinks of the continuous integrands
            pts.append(self.values)
        pts = np.concatenate(pts).astype(float)
        self.points = pts[np.isfinite(pts) & (pts > 0)]

    # ------------------------------------------------------------- load functions
    def load_le(self, x: np.ndarray) -> np.ndarray:
        """ρ(x) = λ E[S 1(S <= x)]."""
        return self.lam * np.asarray(self.size.partial_moment(1, x), dtype=float)

    def load_lt(self, x: np.ndarray) -> np.ndarray:
        """ρ(x⁻) = λ E[S 1(S < x)]."""
        return self.lam * np.asarray(self.size.partial_moment(1, x, strict=True), dtype=float)

    def limited(self, k: int, x: np.ndarray) -> np.ndarray:
        """E[min(S, x)^k]."""
        return np.asarray(self.size.limited_moment(k, x), dtype=float)

    def partial(self, k: int, x: np.ndarray, strict: bool = False) -> np.ndarray:
        """E[S^k 1(S <= x)] (``strict``: S < x)."""
        return np.asarray(self.size.partial_moment(k, x, strict=strict), dtype=float)

    def tail_mass(self, x: float) -> tuple[float, float]:
        """(P(S > x), E[S 1(S > x)]) with zero when the survival function underflows."""
        with np.errstate(over="ignore", under="ignore"):  # x is far in the tail
            sf = float(self.size.sf(x))
            if sf <= 0.0:
                return 0.0, 0.0
            return sf, max(self.mean - float(self.size.partial_moment(1, x)), x * sf)

    # ------------------------------------------------------------------ quadrature
    def log_quad(self, h: Callable[[np.ndarray], np.ndarray], a: float, b: float,
                 rtol: float) -> list[Estimate]:
        """``∫_a^b h(x) dx`` (0 < a < b < ∞) in the variable v = log x; a list of Estimates."""
        if not b > a:
            probe = np.asarray(h(np.asarray([max(a, self.x_min)])), dtype=float)
            return [Estimate(0.0, 0.0)] * (1 if probe.ndim == 1 else probe.shape[1])
        la = math.log(self.anchor)
        pts = [math.log(p) for p in self.points if a < p < b]
        pts.append(la)
        pts.extend(la + s * k * _LN10 for k in _DECADES for s in (-1.0, 1.0))

        def integrand(v: np.ndarray) -> np.ndarray:
            x = np.exp(v)
            with np.errstate(over="ignore", under="ignore"):  # far tails: exp(-inf) = 0
                out = np.asarray(h(x), dtype=float)
            return out * x if out.ndim == 1 else out * x[:, None]

        est = quad(integrand, math.log(a), math.log(b), points=pts, rtol=rtol)
        return est if isinstance(est, list) else [est]

    def expect(self, g: Callable[[np.ndarray, bool], np.ndarray], rtol: float, *,
               slope: float, const: float) -> Estimate:
        """E[g(S)] for a non-decreasing g with g(x) <= slope * x + const.

        ``g(x, at_atoms)`` must use the strict loads ρ(x⁻) where ``at_atoms``.
        The bound on g controls the neglected tail beyond ``x_max``.
        """
        total = Estimate(0.0, 0.0)
        if self.has_atoms:
            terms = self.probs * np.asarray(g(self.values, True), dtype=float)
            s = float(np.sum(terms))
            total = total + Estimate(s, 4.0 * _EPS * math.log2(terms.size + 1)
                                     * float(np.sum(np.abs(terms))))
        if self.continuous:
            size = self.size
            a = self.lo if self.lo > 0 else self.x_min
            b = min(self.hi, self.x_max)
            (est,) = self.log_quad(lambda x: size.pdf(x) * g(x, False), a, b, rtol)
            total = total + est
            if self.lo < a:  # neglected head [lo, x_min]: at most F(x_min) g(x_min)
                head = float(size.cdf(a)) * float(np.asarray(g(np.asarray([a]), False))[0])
                total = total + Estimate(0.5 * head, 0.5 * head)
            if self.hi > b:  # neglected tail: at most slope E[S 1(S > b)] + const P(S > b)
                sf, m1 = self.tail_mass(b)
                tail = slope * m1 + const * sf
                total = total + Estimate(0.5 * tail, 0.5 * tail)
        return total

    def residence(self, x: float, rtol: float) -> Estimate:
        """``∫_0^x dt / (1 − ρ(t))``, SRPT's residence time (formulas.md §2.5)."""
        if not self.continuous:
            edges, one_minus = self._atomic_steps()
            widths = np.clip(np.minimum(np.append(edges[1:], np.inf), x) - edges, 0.0, None)
            terms = widths / one_minus
            val = float(np.sum(terms))
            return Estimate(val, 4.0 * _EPS * math.log2(terms.size + 1) * val)
        a = min(self.x_min, x)
        b = min(x, self.x_max)
        (est,) = self.log_quad(lambda t: 1.0 / (1.0 - self.load_le(t)), a, b, rtol)
        head = a / (1.0 - float(self.load_le(np.asarray([a]))[0]))
        est = est + Estimate(0.5 * (a + head), 0.5 * (head - a))
        if x > b:  # beyond the integration range: 1 <= 1/(1 - rho(t)) <= 1/(1 - rho)
            hi = (x - b) / (1.0 - self.rho)
            est = est + Estimate(0.5 * (hi + (x - b)), 0.5 * (hi - (x - b)))
        return est

    def mean_residence_and_wait(self, w: Callable[[np.ndarray, bool], np.ndarray],
                                rtol: float, *, slope: float, const: float
                                ) -> tuple[Estimate, Estimate]:
        """(E[w(S)], ∫_0^∞ F̄(t) / (1 − ρ(t)) dt): SRPT's waiting and residence means.

        For a law with a continuous part both integrals share one vectorized quadrature.
        """
        if not self.continuous:
            wait = self.expect(w, rtol, slope=slope, const=const)
            edges, one_minus = self._atomic_steps()
            sf = self._atomic_sf()
            widths = np.diff(np.append(edges, edges[-1]))  # last interval has F̄ = 0
            terms = widths * sf / one_minus
            val = float(np.sum(terms))
            return wait, Estimate(val, 4.0 * _EPS * math.log2(terms.size + 1) * val)
        size = self.size
        wait = Estimate(0.0, 0.0)
        if self.has_atoms:
            terms = self.probs * np.asarray(w(self.values, True), dtype=float)
            wait = Estimate(float(np.sum(terms)),
                            4.0 * _EPS * math.log2(terms.size + 1) * float(np.sum(np.abs(terms))))
        a, b = self.x_min, min(self.hi, self.x_max)

        def h(x: np.ndarray) -> np.ndarray:
            out = np.empty((x.size, 2))
            out[:, 0] = size.pdf(x) * w(x, False)
            out[:, 1] = size.sf(x) / (1.0 - self.load_le(x))
            return out

        est_w, est_r = self.log_quad(h, a, b, rtol)
        wait = wait + est_w
        # head [0, x_min]: the residence integrand is <= 1/(1 - rho(x_min)); the waiting
        # integrand f(x) w(x) has mass at most F(x_min) w(x_min) there.
        head_r = a / (1.0 - float(self.load_le(np.asarray([a]))[0]))
        resid = est_r + Estimate(0.5 * head_r, 0.5 * head_r)
        head_w = float(size.cdf(a)) * float(np.asarray(w(np.asarray([a]), False))[0])
        wait = wait + Estimate(0.5 * head_w, 0.5 * head_w)
        if self.hi > b:
            sf, m1 = self.tail_mass(b)
            tail_w = slope * m1 + const * sf
            wait = wait + Estimate(0.5 * tail_w, 0.5 * tail_w)
            # ∫_b^∞ F̄(t)/(1 − ρ(t)) dt <= E[(S − b)^+] / (1 − ρ)
            excess = 0.0
            if sf > 0:
                with np.errstate(over="ignore", under="ignore"):
                    excess = max(self.mean - float(size.limited_moment(1, b)), 0.0)
            tail_r = excess / (1.0 - self.rho)
            resid = resid + Estimate(0.5 * tail_r, 0.5 * tail_r)
        return wait, resid

    # --------------------------------------------------------------- atomic laws
    def _atomic_steps(self) -> tuple[np.ndarray, np.ndarray]:
        """Left edges [0, v_1, ..., v_n] and 1 − ρ(t) on each interval [edge_i, edge_{i+1})."""
        v, p = self.values, self.probs
        # 1 − ρ(v_i) = (1 − ρ) + λ Σ_{j > i} p_j v_j, summed from the top (no cancellation).
        upper = np.concatenate([np.cumsum((p * v)[::-1])[::-1], [0.0]])
        one_minus = (1.0 - self.rho) + self.lam * upper
        return np.concatenate([[0.0], v]), one_minus

    def _atomic_sf(self) -> np.ndarray:
        """P(S > t) on each interval [edge_i, edge_{i+1})."""
        p = self.probs
        return np.concatenate([np.cumsum(p[::-1])[::-1], [0.0]])


def _inf() -> Estimate:
    return Estimate(math.inf, 0.0)


def _with_roundoff(law: _Law | Workload, est: Estimate) -> Estimate:
    """Add the round-off allowance 16 ε |value| / (1 − ρ) to an estimate."""
    rho = law.rho if isinstance(law, _Law) else float(law.load)
    value = float(est.value)
    return Estimate(value, float(est.error) + 16.0 * _EPS * abs(value) / (1.0 - rho))


def _point_then_nonpreemptible(level: np.ndarray, value: np.ndarray) -> PiecewiseRank:
    """Rank ``(level, value)`` at age 0 only, non-preemptible (rank −∞) afterwards."""
    n = value.size
    zeros = np.zeros(n)
    return PiecewiseRank(
        start=np.zeros((n, 2)),
        end=np.column_stack([zeros, np.full(n, np.inf)]),
        level=np.column_stack([np.broadcast_to(level, (n,)).astype(float),
                               np.full(n, NONPREEMPTIBLE)]),
        value=np.column_stack([value.astype(float), zeros]),
        slope=np.zeros((n, 2)),
    )


def _check_stable(workload: Workload) -> None:
    if not isinstance(workload, Workload):
        raise ParameterError(f"workload must be a queuetheory.Workload "
                             f"(got {type(workload).__name__})")
    workload.check_stable()


# =====================================================================================
# Policies that ignore sizes
# =====================================================================================
class FCFS(Policy):
    r"""First-come first-served (non-preemptive).

    Pollaczek–Khinchine (formulas.md §2.1):

    .. math:: T(x) = x + \frac{\lambda E[S^2]}{2(1-\rho)}, \qquad
              E[T] = E[S] + \frac{\lambda E[S^2]}{2(1-\rho)},

    ``inf`` when E[S²] = ∞. :meth:`second_moment` gives E[T²] (Takács).
    Rank: constant 0 (ties go to the earlier arrival).

    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.5, size=qt.Exponential(mean=1.0))
    >>> qt.FCFS().mean_response_time(w)  # 1 / (1 - 0.5)
    2.0
    >>> qt.FCFS().second_moment(w)  # T ~ Exp(1/2): E[T^2] = 2 * 2^2
    8.0
    """

    name = "FCFS"
    uses = "nothing"

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        return PiecewiseRank.linear(np.zeros(d.shape[0]))

    @staticmethod
    def _waiting(workload: Workload) -> float:
        m2 = workload.size.moment(2)
        if math.isinf(m2):
            return math.inf
        lam = float(workload.arrival_rate)
        return lam * m2 / (2.0 * (1.0 - workload.load))

    def _conditional_closed_form(self, workload, x, y, rtol):
        wq = self._waiting(workload)
        if math.isinf(wq):
            return _inf()
        return _with_roundoff(workload, Estimate(x + wq, 0.0))

    def _mean_closed_form(self, workload, rtol):
        wq = self._waiting(workload)
        if math.isinf(wq):
            return _inf()
        return _with_roundoff(workload, Estimate(workload.mean_size + wq, 0.0))

    def second_moment(self, workload: Workload) -> float:
        r"""E[T²] of the FCFS response time (Takács recursion).

        .. math::
            E[W] = \frac{\lambda E[S^2]}{2(1-\rho)},\quad
            E[W^2] = 2E[W]^2 + \frac{\lambda E[S^3]}{3(1-\rho)},\quad
            E[T^2] = E[W^2] + 2E[W]E[S] + E[S^2]

        (W and S independent). ``inf`` when E[S³] = ∞.
        """
        _check_stable(workload)
        size = workload.size
        m1, m2, m3 = size.moment(1), size.moment(2), size.moment(3)
        if math.isinf(m3):
            return math.inf
        lam = float(workload.arrival_rate)
        rho = lam * m1
        ew = lam * m2 / (2.0 * (1.0 - rho))
        ew2 = 2.0 * ew**2 + lam * m3 / (3.0 * (1.0 - rho))
        return ew2 + 2.0 * ew * m1 + m2


class _Insensitive(Policy):
    r"""Shared closed forms of the insensitive policies (LCFS-PR and PS, formulas.md §2.2):
    :math:`T(x) = x/(1-\rho)`, :math:`E[T] = E[S]/(1-\rho)`; constant nominal rank."""

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        return PiecewiseRank.linear(np.zeros(d.shape[0]))

    def _conditional_closed_form(self, workload, x, y, rtol):
        return _with_roundoff(workload, Estimate(x / (1.0 - workload.load), 0.0))

    def _mean_closed_form(self, workload, rtol):
        return _with_roundoff(workload, Estimate(workload.mean_size / (1.0 - workload.load), 0.0))


class LCFS(_Insensitive):
    r"""Last-come first-served, preemptive-resume.

    A job's response time is the busy period started by its own work
    (formulas.md §2.2): :math:`T(x) = x/(1-\rho)`, :math:`E[T] = E[S]/(1-\rho)`,
    finite whenever ρ < 1. Not a SOAP policy (``is_soap = False``): the rank is
    constant with ties broken in favour of the *later* arrival (``tie_break = "lcfs"``).

    >>> import queuetheory as qt
    >>> qt.LCFS().response_time(qt.Workload(0.5, qt.Exponential(1.0)), 3.0)
    6.0
    """

    name = "LCFS"
    uses = "nothing"
    tie_break = "lcfs"
    is_soap = False



class PS(_Insensitive):
    r"""Processor sharing: all jobs present share the server equally.

    Insensitive (formulas.md §2.2): :math:`T(x) = x/(1-\rho)`,
    :math:`E[T] = E[S]/(1-\rho)` for every size law with ρ < 1. Not a rank
    policy (``processor_sharing = True``, ``is_soap = False``); its nominal
    rank is constant.

    >>> import queuetheory as qt
    >>> round(qt.PS().mean_response_time(qt.Workload(0.8, qt.Exponential(1.0))), 12)  # 1/0.2
    5.0
    """

    name = "PS"
    uses = "nothing"
    processor_sharing = True
    is_soap = False


class FB(Policy):
    r"""Foreground–background (least attained service, LAS): rank = age a.

    Formulas.md §2.3 (Kleinrock 1976; Harchol-Balter 2013), general S
    (atoms included, since ρ̄ is continuous):

    .. math:: T(x) = \frac{x}{1-\bar\rho(x)}
              + \frac{\lambda E[\min(S,x)^2]}{2(1-\bar\rho(x))^2},
              \qquad \bar\rho(x) = \lambda E[\min(S, x)],

    and :math:`E[T] = E[T(S)]` by quadrature. Finite whenever ρ < 1.
    ``LAS`` is an alias.

    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.5, size=qt.Exponential(mean=1.0))
    >>> round(qt.FB().mean_response_time(w), 12)  # = PS for exponential sizes
    2.0
    """

    name = "FB"
    uses = "nothing"

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        return PiecewiseRank.linear(np.zeros(d.shape[0]), slope=1.0)

    @staticmethod
    def _t(law: _Law, x: np.ndarray) -> np.ndarray:
        om = 1.0 - law.lam * law.limited(1, x)
        return x / om + law.lam * law.limited(2, x) / (2.0 * om * om)

    def _conditional_closed_form(self, workload, x, y, rtol):
        law = _Law(workload)
        val = float(self._t(law, np.asarray([x]))[0])
        return _with_roundoff(law, Estimate(val, 0.0))

    def _mean_closed_form(self, workload, rtol):
        law = _Law(workload)
        k = 1.0 / (1.0 - law.rho) + law.rho / (2.0 * (1.0 - law.rho) ** 2)
        est = law.expect(lambda x, atoms: self._t(law, x), rtol, slope=k, const=0.0)
        return _with_roundoff(law, est)


# =====================================================================================
# Size-based policies
# =====================================================================================
class SJF(Policy):
    r"""Shortest job first, non-preemptive (formulas.md §2.5).

    .. math:: T(x) = x + \frac{\lambda E[S^2]}{2(1-\rho(x^-))(1-\rho(x))},

    the continuum limit of Cobham's non-preemptive formula (ρ(x⁻) = ρ(x)
    except at atoms). ``inf`` when E[S²] = ∞. Rank: ``x`` at age 0, then
    non-preemptible.

    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.5, size=qt.Exponential(mean=1.0))
    >>> round(qt.SJF().mean_response_time(w), 10)
    1.7126863319
    """

    name = "SJF"
    uses = "size"

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        return _point_then_nonpreemptible(np.zeros(d.shape[0]), d)

    @staticmethod
    def _inv(law: _Law, x: np.ndarray, atoms: bool) -> np.ndarray:
        le = 1.0 - law.load_le(x)
        lt = 1.0 - law.load_lt(x) if atoms else le
        return 1.0 / (le * lt)

    def _conditional_closed_form(self, workload, x, y, rtol):
        law = _Law(workload)
        m2 = workload.size.moment(2)
        if math.isinf(m2):
            return _inf()
        inv = float(self._inv(law, np.asarray([x]), law.has_atoms)[0])
        return _with_roundoff(law, Estimate(x + 0.5 * law.lam * m2 * inv, 0.0))

    def _mean_closed_form(self, workload, rtol):
        law = _Law(workload)
        m2 = workload.size.moment(2)
        if math.isinf(m2):
            return _inf()
        est = law.expect(lambda x, atoms: self._inv(law, x, atoms), rtol, slope=0.0,
                         const=1.0 / (1.0 - law.rho) ** 2)
        return _with_roundoff(law, law.mean + est * (0.5 * law.lam * m2))


class PSJF(Policy):
    r"""Preemptive shortest job first: rank = original size x (formulas.md §2.5).

    .. math:: T(x) = \frac{x}{1-\rho(x^-)}
              + \frac{\lambda m_2(x)}{2(1-\rho(x^-))(1-\rho(x))},
              \qquad m_2(x) = E[S^2 1(S\le x)],

    the continuum limit of Cobham's preemptive formula (atom-aware). Finite
    whenever ρ < 1.

    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.5, size=qt.Exponential(mean=1.0))
    >>> round(qt.PSJF().response_time(w, 1.0), 10)
    1.2055395497
    """

    name = "PSJF"
    uses = "size"

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        return PiecewiseRank.linear(d)

    @staticmethod
    def _t(law: _Law, x: np.ndarray, atoms: bool) -> np.ndarray:
        le = 1.0 - law.load_le(x)
        lt = 1.0 - law.load_lt(x) if atoms else le
        return x / lt + law.lam * law.partial(2, x) / (2.0 * le * lt)

    def _conditional_closed_form(self, workload, x, y, rtol):
        law = _Law(workload)
        val = float(self._t(law, np.asarray([x]), law.has_atoms)[0])
        return _with_roundoff(law, Estimate(val, 0.0))

    def _mean_closed_form(self, workload, rtol):
        law = _Law(workload)
        k = 1.0 / (1.0 - law.rho) + law.rho / (2.0 * (1.0 - law.rho) ** 2)
        est = law.expect(lambda x, atoms: self._t(law, x, atoms), rtol, slope=k, const=0.0)
        return _with_roundoff(law, est)


class SRPT(Policy):
    r"""Shortest remaining processing time: rank = x − a (Schrage & Miller 1966).

    Formulas.md §2.5, atom-aware:

    .. math:: T(x) = \frac{\lambda E[\min(S,x)^2]}{2(1-\rho(x^-))(1-\rho(x))}
              + \int_0^x \frac{dt}{1-\rho(t)},

    (waiting + residence). The mean uses the Fubini form (formulas.md §3.3)

    .. math:: E[T] = E\left[\frac{\lambda E[\min(S,x)^2]}{2(1-\rho(x^-))(1-\rho(x))}
              \Big|_{x=S}\right] + \int_0^\infty \frac{\bar F(t)}{1-\rho(t)}\,dt,

    two one-dimensional integrals sharing one vectorized quadrature (exact sums
    for atomic laws). Finite whenever ρ < 1.

    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.9, size=qt.Exponential(mean=1.0))
    >>> round(qt.SRPT().mean_response_time(w), 10)
    3.5521250996
    >>> round(qt.SRPT().response_time(w, 1.0), 10)
    1.5198356008
    """

    name = "SRPT"
    uses = "size"

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        return PiecewiseRank.linear(d, slope=-1.0)

    @staticmethod
    def _wait(law: _Law, x: np.ndarray, atoms: bool) -> np.ndarray:
        le = 1.0 - law.load_le(x)
        lt = 1.0 - law.load_lt(x) if atoms else le
        return law.lam * law.limited(2, x) / (2.0 * le * lt)

    def _conditional_closed_form(self, workload, x, y, rtol):
        law = _Law(workload)
        wait = float(self._wait(law, np.asarray([x]), law.has_atoms)[0])
        est = law.residence(x, rtol) + wait
        return _with_roundoff(law, est)

    def _mean_closed_form(self, workload, rtol):
        law = _Law(workload)
        k = law.rho / (2.0 * (1.0 - law.rho) ** 2)
        wait, resid = law.mean_residence_and_wait(
            lambda x, atoms: self._wait(law, x, atoms), rtol, slope=k, const=0.0)
        return _with_roundoff(law, wait + resid)


# =====================================================================================
# Priority classes (Cobham)
# =====================================================================================
_PIECE_GRID_PER_DECADE = 100
_PIECE_GRID_DECADES = 12


def _call_labels(func: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
    """Class labels of sizes ``x`` from a user function (vectorized or scalar)."""
    out = None
    try:
        res = np.asarray(func(x))
        if res.shape == x.shape:
            out = res
    except Exception:  # the function may accept scalars only; retried below
        out = None
    if out is None:
        try:
            out = np.asarray([func(float(xi)) for xi in x])
        except Exception as exc:
            raise ParameterError(f"classes function raised {type(exc).__name__}: {exc}") from exc
    if out.dtype == bool:
        out = out.astype(int)
    try:
        out = out.astype(float)
    except (TypeError, ValueError):
        raise ParameterError("classes function must return integer class labels") from None
    if out.shape != x.shape or not np.all(np.isfinite(out)) or np.any(out != np.round(out)):
        raise ParameterError(
            f"classes function must return one integer class label per size "
            f"(got {out.ravel()[:5].tolist()!r}...)"
        )
    return out


class _PriorityClasses(Policy):
    """Shared machinery of the two Cobham priority policies."""

    uses = "size"

    def __init__(self, classes: Sequence[float] | Callable[[Any], Any]) -> None:
        if callable(classes):
            self._func = classes
            self._bounds = None
        else:
            if isinstance(classes, (str, bytes)):
                raise ParameterError("classes must be a sequence of size boundaries or a "
                                     "function size -> class label (got a string)")
            try:
                b = np.asarray(classes, dtype=float)
            except (TypeError, ValueError):
                raise ParameterError(
                    "classes must be a sequence of size boundaries or a function "
                    f"size -> class label (got {classes!r})") from None
            if b.ndim != 1:
                raise ParameterError("classes must be a 1-D sequence of size boundaries")
            if not np.all(np.isfinite(b)) or np.any(b <= 0):
                raise ParameterError(f"classes boundaries must be finite and > 0 "
                                     f"(got {b.tolist()})")
            if np.any(np.diff(b) <= 0):
                raise ParameterError(f"classes boundaries must be strictly increasing "
                                     f"(got {b.tolist()})")
            self._func = None
            self._bounds = b

    def _params(self) -> dict:
        return {"classes": self._func if self._func is not None else self._bounds.tolist()}

    # -------------------------------------------------------------- class labels
    def class_of(self, x: Any) -> np.ndarray:
        """Class label(s) of size(s) ``x``: lower labels have priority.

        With boundaries b_1 < … < b_{K−1}, class k (0-based) holds sizes in
        (b_k, b_{k+1}] with b_0 = 0 and b_K = ∞.
        """
        x = np.atleast_1d(np.asarray(x, dtype=float))
        if self._bounds is not None:
            return np.searchsorted(self._bounds, x, side="left").astype(float)
        return _call_labels(self._func, x)

    def _rank_level(self, d: np.ndarray) -> np.ndarray:
        return self.class_of(d)

    # -------------------------------------------------------------- class table
    def _continuous_pieces(self, law: _Law) -> list[tuple[float, float, float]]:
        """(a, b, label) pieces of the continuous part of the size law."""
        lo, hi = law.lo, law.hi
        if self._bounds is not None:
            edges = [lo, *[b for b in self._bounds if lo < b < hi], hi]
            labels = self.class_of(np.asarray([0.5 * (a + b) if math.isfinite(b) else a + 1.0
                                               for a, b in zip(edges[:-1], edges[1:])]))
            return [(a, b, float(k)) for a, b, k in zip(edges[:-1], edges[1:], labels)]
        # A function: locate label changes on a geometric grid, then bisect them to
        # machine precision. Assumes the function is piecewise constant with pieces
        # resolved by the grid (relative width > ~2.3%, within 1e±12 of the median).
        g_lo = lo if lo > 0 else law.anchor * 10.0**-_PIECE_GRID_DECADES
        g_hi = hi if math.isfinite(hi) else law.anchor * 10.0**_PIECE_GRID_DECADES
        n = int(math.ceil(math.log10(g_hi / g_lo) * _PIECE_GRID_PER_DECADE)) + 1
        grid = np.geomspace(g_lo, g_hi, max(n, 2))
        bps = [p for p in law.points if g_lo < p < g_hi]
        grid = np.unique(np.concatenate([grid, bps]))
        lab = self.class_of(grid)
        change = np.nonzero(lab[1:] != lab[:-1])[0]
        a, b = grid[change].copy(), grid[change + 1].copy()
        la = lab[change]
        for _ in range(200):
            if np.all(b - a <= 4 * _EPS * b):
                break
            mid = 0.5 * (a + b)
            same = self.class_of(mid) == la
            a = np.where(same, mid, a)
            b = np.where(same, b, mid)
        cuts = [lo, *b.tolist(), hi]
        labels = [lab[0], *lab[change + 1].tolist()]
        return [(cuts[i], cuts[i + 1], float(labels[i])) for i in range(len(labels))]

    def _class_table(self, workload: Workload) -> dict[float, np.ndarray]:
        """Per class label: [P(class), E[S 1(class)], E[S² 1(class)]]."""
        law = _Law(workload)
        size = workload.size
        table: dict[float, np.ndarray] = {}

        def add(label: float, row: np.ndarray) -> None:
            table[label] = table.get(label, np.zeros(3)) + row

        if law.has_atoms:
            labels = self.class_of(law.values)
            for label in np.unique(labels):
                sel = labels == label
                v, p = law.values[sel], law.probs[sel]
                add(float(label), np.array([p.sum(), (p * v).sum(), (p * v * v).sum()]))
        if law.continuous:
            v, p = law.values, law.probs

            def cont_pm(k: int, x: float) -> float:
                """Continuous part of E[S^k 1(S <= x)]."""
                if math.isinf(x):
                    total = size.moment(k) if k > 0 else 1.0
                else:
                    total = float(size.partial_moment(k, x))
                if v.size and not math.isinf(total):
                    total -= float(np.sum(p[v <= x] * v[v <= x] ** k))
                return total

            for a, b, label in self._continuous_pieces(law):
                row = np.array([cont_pm(k, b) - cont_pm(k, a) for k in (0, 1, 2)])
                add(label, np.maximum(row, 0.0))
        return table

    @staticmethod
    def _sigmas(table: dict[float, np.ndarray], lam: float, label: float) -> tuple[float, float]:
        """(σ_{<k}, σ_{<=k}): load of classes of strictly higher / at least equal priority."""
        below = sum(lam * r[1] for k, r in table.items() if k < label)
        upto = below + sum(lam * r[1] for k, r in table.items() if k == label)
        return below, upto


class NonPreemptivePriority(_PriorityClasses):
    r"""Non-preemptive priority classes (Cobham 1954; formulas.md §2.4).

    Parameters
    ----------
    classes : sequence of float, or callable
        Either strictly increasing size boundaries b_1 < … < b_{K−1} (class k,
        0-based, holds sizes in (b_k, b_{k+1}], b_0 = 0, b_K = ∞), or a function
        ``size -> integer class label`` (vectorized or scalar; lower label =
        higher priority). For a function, per-class loads and moments are
        integrated over the size law: its label changes are located on a
        geometric grid (100 points per decade within 10^±12 of the median) and
        bisected to machine precision, so it must be piecewise constant with
        pieces the grid resolves; atoms are labelled exactly.

    Notes
    -----
    With σ_k the load of classes of priority at least k and
    W₀ = λE[S²]/2 the mean residual work,

    .. math:: E[W_k] = \frac{W_0}{(1-\sigma_{k-1})(1-\sigma_k)},\qquad T_k(x) = x + E[W_k],

    ``inf`` when E[S²] = ∞. Jobs are FCFS within a class. Rank: the class
    label at age 0, non-preemptible afterwards.

    Examples
    --------
    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.5, size=qt.Exponential(mean=1.0))
    >>> round(qt.NonPreemptivePriority([1.0]).mean_response_time(w), 10)
    1.7880584424
    """

    name = "NP-priority"

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        return _point_then_nonpreemptible(self._rank_level(d), np.zeros(d.shape[0]))

    def _conditional_closed_form(self, workload, x, y, rtol):
        law = _Law(workload)
        m2 = workload.size.moment(2)
        if math.isinf(m2):
            return _inf()
        table = self._class_table(workload)
        label = float(self.class_of(x)[0])
        below, upto = self._sigmas(table, law.lam, label)
        val = x + 0.5 * law.lam * m2 / ((1.0 - below) * (1.0 - upto))
        return _with_roundoff(law, Estimate(val, 0.0))

    def _mean_closed_form(self, workload, rtol):
        law = _Law(workload)
        m2 = workload.size.moment(2)
        if math.isinf(m2):
            return _inf()
        table = self._class_table(workload)
        w0 = 0.5 * law.lam * m2
        val = law.mean
        for label, row in table.items():
            if row[0] > 0:
                below, upto = self._sigmas(table, law.lam, label)
                val += row[0] * w0 / ((1.0 - below) * (1.0 - upto))
        return _with_roundoff(law, Estimate(val, 0.0))

    def waiting_times(self, workload: Workload) -> dict[float, tuple[float, float]]:
        """Per class label: (P(class), E[W_class]) — Cobham's waiting times."""
        _check_stable(workload)
        law = _Law(workload)
        m2 = workload.size.moment(2)
        table = self._class_table(workload)
        out = {}
        for label, row in sorted(table.items()):
            below, upto = self._sigmas(table, law.lam, label)
            wk = math.inf if math.isinf(m2) else 0.5 * law.lam * m2 / ((1 - below) * (1 - upto))
            out[label] = (float(row[0]), wk)
        return out


class PreemptivePriority(_PriorityClasses):
    r"""Preemptive-resume priority classes (formulas.md §2.4).

    Parameters
    ----------
    classes : sequence of float, or callable
        As for :class:`NonPreemptivePriority`.

    Notes
    -----
    .. math:: T_k(x) = \frac{x}{1-\sigma_{k-1}}
              + \frac{\sum_{i\le k}\lambda_i E[S_i^2]/2}{(1-\sigma_{k-1})(1-\sigma_k)}

    (classes below k are invisible to class k); ``inf`` for a class whose own
    or higher classes have infinite second moment. Rank: the class label,
    constant in age.

    Examples
    --------
    >>> import queuetheory as qt
    >>> w = qt.Workload(arrival_rate=0.5, size=qt.Exponential(mean=1.0))
    >>> round(qt.PreemptivePriority([1.0]).mean_response_time(w), 10)
    1.5651342509
    """

    name = "P-priority"

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        return PiecewiseRank.linear(np.zeros(d.shape[0]), level=self._rank_level(d))

    @staticmethod
    def _residual(table: dict[float, np.ndarray], lam: float, label: float) -> float:
        vals = [r[2] for k, r in table.items() if k <= label and r[0] > 0]
        return 0.5 * lam * float(sum(vals)) if vals else 0.0

    def _conditional_closed_form(self, workload, x, y, rtol):
        law = _Law(workload)
        table = self._class_table(workload)
        label = float(self.class_of(x)[0])
        below, upto = self._sigmas(table, law.lam, label)
        r = self._residual(table, law.lam, label)
        if math.isinf(r):
            return _inf()
        val = x / (1.0 - below) + r / ((1.0 - below) * (1.0 - upto))
        return _with_roundoff(law, Estimate(val, 0.0))

    def _mean_closed_form(self, workload, rtol):
        law = _Law(workload)
        table = self._class_table(workload)
        val = 0.0
        for label, row in table.items():
            if row[0] <= 0:
                continue
            below, upto = self._sigmas(table, law.lam, label)
            r = self._residual(table, law.lam, label)
            if math.isinf(r):
                return _inf()
            val += row[1] / (1.0 - below) + row[0] * r / ((1.0 - below) * (1.0 - upto))
        return _with_roundoff(law, Estimate(val, 0.0))


#: Least attained service: another name for :class:`FB`.
LAS = FB

