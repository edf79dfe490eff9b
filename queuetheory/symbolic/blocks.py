r"""Symbolic building blocks of a workload (notation of formulas.md §1), derived by the rules.

:class:`Blocks` computes, for a :class:`~queuetheory.symbolic.laws.SymbolicWorkload`,
every quantity the policy formulas are assembled from, as sympy expressions
in a symbol of the caller's choice. Nothing is stored in final form: each
block is an integral of the density (and of the conditional density of the
prediction) evaluated by :mod:`queuetheory.symbolic.rules`, so that for
S ~ Exp(1) with exponential predictions the Bessel-K forms of formulas.md §9
come out of the master integral.

Size blocks (continuous part on its support, atoms added exactly):

====================  ======================================================
``moment(k)``         E[S^k]
``partial_moment``    E[S^k 1(S <= x)]
``sf(x)``             P(S > x)
``load_below(x)``     ρ(x) = λ E[S 1(S <= x)]
``truncated_load(x)`` ρ̄(x) = λ E[min(S, x)]
``limited_second``    E[min(S, x)^2] = m₂(x) + x² F̄(x)
====================  ======================================================

Joint blocks (prediction y; a region integral over (size, prediction)):

=========================  =================================================
``pdf_y(y)``               f_Y(y)
``sf_y(y)``                P(Y > y)
``m1_y(y)``                ∫ x g(x, y) dx
``moment_below_y(k, y)``   E[S^k 1(Y <= y)]  (ρ′(y) = λ·k=1, M₂′(y) = k=2)
``moment_above_y(k, y)``   E[S^k 1(Y > y)]
``old_sprpt(y)``           E[((S − (Y − y))⁺)² 1(Y > y)]            (§3.2)
``old_trail(y, c)``        E[((S − min(Y − y, cY))⁺)² 1(Y > y)]     (§8.2)
``old_trail_size(y, c)``   E[max(S − Y + y, (1 − c)S)² 1(Y > y)]    (§8.4)
``gap_prob(v)``            P(Y − S >= v)
``trail_res_prob(v, c)``   P(max(Y − S, (1 − c)Y) < v < Y)
``trail_size_res_prob``    P(v < Y < v + cS)
``excess(c)``              E[(S − cY)⁺]
``excess_size(c)``         E[(cS − Y)⁺]
=========================  =================================================

>>> import sympy as sp
>>> from queuetheory.symbolic.laws import SymbolicWorkload, SymbolicExponential
>>> from queuetheory.symbolic.laws import SymbolicExponentialPrediction
>>> lam, y = sp.symbols("lambda y", positive=True)
>>> b = Blocks(SymbolicWorkload(lam, SymbolicExponential(1), SymbolicExponentialPrediction()))
>>> b.pdf_y(y)
2*besselk(0, 2*sqrt(y))
>>> b.load_below_y(y)
lambda*(-2*y*besselk(2, 2*sqrt(y)) + 1)
>>> b.old_sprpt(y)
2*y**(3/2)*(1 - 2*exp(-1))*besselk(3, 2*sqrt(y))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from .laws import SymbolicWorkload, X, as_symbolic_workload
from .rules import Step, integrate, integrate_region, tidy

__all__ = ["Blocks"]

oo = sp.oo


def _safe_div(a: sp.Expr, c: sp.Expr) -> sp.Expr:
    return oo if c == 0 else a / c


def _positive_arg(method: Callable) -> Callable:
    """Run a block with a positive symbol and substitute the caller's argument afterwards.

    The rules need sign information (e.g. the Bessel-K rule needs y > 0), so a
    number, or a symbol without assumptions, is replaced by a positive dummy.
    """
    import functools

    @functools.wraps(method)
    def wrapper(self: Blocks, arg: Any, *rest: Any) -> sp.Expr:
        arg = sp.sympify(arg)
        if isinstance(arg, sp.Symbol) and arg.is_positive:
            return method(self, arg, *rest)
        d = sp.Dummy("y", positive=True)
        return method(self, d, *rest).subs(d, arg)

    return wrapper


class Blocks:
    """Building blocks of a symbolic workload (see the module docstring).

    Parameters
    ----------
    workload : SymbolicWorkload or queuetheory.Workload
    trace : list, optional
        Receives every rule application (:class:`~queuetheory.symbolic.rules.Step`).
    fallback : bool
        Allow time-budgeted :func:`sympy.integrate` for terms no rule matches.
    budget : float, optional
        Seconds per fallback call.
    """

    def __init__(self, workload: Any, *, trace: list[Step] | None = None,
                 fallback: bool = True, budget: float | None = None) -> None:
        self.workload: SymbolicWorkload = as_symbolic_workload(workload)
        self.lam = self.workload.arrival_rate
        self.size = self.workload.size
        self.pred = self.workload.prediction
        self.trace = trace
        self.fallback = fallback
        self.budget = budget
        self._cache: dict[tuple, sp.Expr] = {}
        used = set(self.lam.free_symbols)
        if self.size.pdf is not None:
            used |= self.size.pdf.free_symbols - {X}
        # private integration variables that cannot clash with the user's symbols
        self.s = sp.Dummy("s", positive=True)
        self.t = sp.Dummy("t", positive=True)
        self._used = used

    # ------------------------------------------------------------------ helpers
    def _cached(self, key: tuple, build: Callable[[], sp.Expr]) -> sp.Expr:
        if key not in self._cache:
            self._cache[key] = tidy(build())
        return self._cache[key]

    def _int(self, expr: sp.Expr, var: sp.Symbol, lo: Any, hi: Any, *,
             fallback: bool | None = None) -> sp.Expr:
        fb = self.fallback if fallback is None else fallback
        return integrate(expr, var, lo, hi, fallback=fb, budget=self.budget, trace=self.trace)

    def _need_density(self, what: str) -> None:
        if self.size.is_atomic or self.size.atoms:
            raise NotImplementedError(
                f"{what} is implemented for size laws with a density and no atoms "
                f"(atomic laws go through the exact symbolic SOAP: queuetheory.symbolic.soap)")

    # -------------------------------------------------------------- size blocks
    def moment(self, k: int) -> sp.Expr:
        """E[S^k] (continuous part by the rules, atoms summed)."""
        def build() -> sp.Expr:
            total = sum((p * v**k for v, p in self.size.atoms), sp.Integer(0))
            if self.size.pdf is not None:
                lo, hi = self.size.support
                total += self._int(self.s**k * self.size.pdf_at(self.s), self.s, lo, hi)
            return total
        return self._cached(("moment", k), build)

    def partial_moment(self, k: int, x: sp.Expr) -> sp.Expr:
        """E[S^k 1(S <= x)] for x inside the support of the density."""
        return self._partial_moment(x, k)

    @_positive_arg
    def _partial_moment(self, x: sp.Expr, k: int) -> sp.Expr:
        self._need_density("partial_moment")
        lo = self.size.support[0]
        return self._cached(("pm", k, x), lambda: self._int(
            self.s**k * self.size.pdf_at(self.s), self.s, lo, x))

    @_positive_arg
    def sf(self, x: sp.Expr) -> sp.Expr:
        """P(S > x) for x inside the support."""
        self._need_density("sf")
        hi = self.size.support[1]
        return self._cached(("sf", x), lambda: self._int(self.size.pdf_at(self.s), self.s, x, hi))

    @_positive_arg
    def load_below(self, x: sp.Expr) -> sp.Expr:
        """ρ(x) = λ E[S 1(S <= x)]."""
        return self.lam * self.partial_moment(1, x)

    @_positive_arg
    def truncated_load(self, x: sp.Expr) -> sp.Expr:
        """ρ̄(x) = λ E[min(S, x)] = λ(E[S 1(S <= x)] + x P(S > x))."""
        return self.lam * self._cached(("lim1", x), lambda: self.partial_moment(1, x)
                                       + x * self.sf(x))

    @_positive_arg
    def limited_second(self, x: sp.Expr) -> sp.Expr:
        """E[min(S, x)^2] = m₂(x) + x² F̄(x)."""
        return self._cached(("lim2", x), lambda: self.partial_moment(2, x) + x**2 * self.sf(x))

    # ------------------------------------------------------------- joint blocks
    def _region(self, h: sp.Expr, lowers: list[sp.Expr], uppers: list[sp.Expr],
                y: sp.Expr) -> sp.Expr:
        """∫∫ h(s, t) g(s, t) over max(lowers) < t < min(uppers) (s = size, t = prediction).

        Bounds are linear in (s, y). With perfect predictions the t-integral is the
        evaluation at t = s.
        """
        self._need_density("a joint quantity")
        s, t = self.s, self.t
        f = self.size.pdf_at(s)
        lo, hi = self.size.support
        if lo != 0 or hi != oo:
            raise NotImplementedError("joint (prediction) quantities need a size law supported "
                                      "on (0, oo)")
        if self.pred.perfect:
            return integrate_region(h * f, t, lowers, uppers, s, lo, hi, y, delta=True,
                                    fallback=self.fallback, budget=self.budget, trace=self.trace)
        return integrate_region(h * f * self.pred.pdf(t, s), t,
                                lowers + self.pred.lowers(s), uppers + self.pred.uppers(s),
                                s, lo, hi, y, fallback=self.fallback, budget=self.budget,
                                trace=self.trace)

    def _density_y(self, k: int, y: sp.Expr) -> sp.Expr:
        """∫ x^k g(x, y) dx (k = 0: f_Y(y); k = 1: m₁(y))."""
        self._need_density("a joint density")
        s = self.s
        if self.pred.perfect:
            return y**k * self.size.pdf_at(y)
        lo, hi = self.size.support
        if lo != 0 or hi != oo:
            raise NotImplementedError("prediction densities need a size law supported on (0, oo)")
        # support of X given Y = y: lower_i(x) < y < upper_j(x), bounds p*x with p > 0
        x_lo, x_hi = sp.Integer(0), oo
        for b in self.pred.lowers(s):
            p = sp.diff(b, s)
            if p != 0:
                x_hi = sp.Min(x_hi, y / p) if x_hi != oo else y / p
        for b in self.pred.uppers(s):
            if b == oo:
                continue
            p = sp.diff(b, s)
            x_lo = y / p
        integrand = s**k * self.size.pdf_at(s) * self.pred.pdf(y, s)
        return self._int(integrand, s, x_lo, x_hi)

    @_positive_arg
    def pdf_y(self, y: sp.Expr) -> sp.Expr:
        """f_Y(y), the density of the prediction."""
        return self._cached(("fy", y), lambda: self._density_y(0, y))

    @_positive_arg
    def m1_y(self, y: sp.Expr) -> sp.Expr:
        """m₁(y) = ∫ x g(x, y) dx = E[S | Y = y] f_Y(y)."""
        return self._cached(("m1y", y), lambda: self._density_y(1, y))

    @_positive_arg
    def sf_y(self, y: sp.Expr) -> sp.Expr:
        """P(Y > y)."""
        return self._cached(("sfy", y), lambda: self._region(sp.Integer(1), [y], [oo], y))

    def moment_below_y(self, k: int, y: sp.Expr) -> sp.Expr:
        """E[S^k 1(Y <= y)]."""
        return self._moment_below_y(y, k)

    @_positive_arg
    def _moment_below_y(self, y: sp.Expr, k: int) -> sp.Expr:
        return self._cached(("mby", k, y), lambda: self._region(
            self.s**k, [sp.Integer(0)], [y], y))

    def moment_above_y(self, k: int, y: sp.Expr) -> sp.Expr:
        """E[S^k 1(Y > y)]."""
        return self._moment_above_y(y, k)

    @_positive_arg
    def _moment_above_y(self, y: sp.Expr, k: int) -> sp.Expr:
        return self._cached(("may", k, y), lambda: self._region(self.s**k, [y], [oo], y))

    @_positive_arg
    def load_below_y(self, y: sp.Expr) -> sp.Expr:
        """ρ′(y) = λ E[S 1(Y <= y)]."""
        return self.lam * self.moment_below_y(1, y)

    @_positive_arg
    def old_sprpt(self, y: sp.Expr) -> sp.Expr:
        """E[((S − (Y − y))⁺)² 1(Y > y)]: region y < t < y + s, integrand (s − t + y)²."""
        s, t = self.s, self.t
        return self._cached(("old", y), lambda: self._region((s - t + y) ** 2, [y], [y + s], y))

    @_positive_arg
    def old_trail(self, y: sp.Expr, c: sp.Expr) -> sp.Expr:
        """E[((S − min(Y − y, cY))⁺)² 1(Y > y)] (formulas.md §8.2).

        min(t − y, ct) = t − y for t <= y/(1 − c), else ct; positive part: t < y + s,
        resp. t < s/c.
        """
        s, t = self.s, self.t
        brk = _safe_div(y, 1 - c)

        def build() -> sp.Expr:
            first = self._region((s - t + y) ** 2, [y], [y + s, brk], y) if brk != y else 0
            second = self._region((s - c * t) ** 2, [y, brk], [_safe_div(s, c)], y) \
                if brk != oo else 0
            return first + second

        return self._cached(("old_trail", y, c), build)

    @_positive_arg
    def old_trail_size(self, y: sp.Expr, c: sp.Expr) -> sp.Expr:
        """E[max(S − Y + y, (1 − c)S)² 1(Y > y)] (formulas.md §8.4).

        s − t + y >= (1 − c)s iff t <= y + cs.
        """
        s, t = self.s, self.t

        def build() -> sp.Expr:
            first = self._region((s - t + y) ** 2, [y], [y + c * s], y) if c != 0 else 0
            second = self._region(((1 - c) * s) ** 2, [y + c * s], [oo], y) if c != 1 else 0
            return first + second

        return self._cached(("old_trail_size", y, c), build)

    @_positive_arg
    def gap_prob(self, v: sp.Expr) -> sp.Expr:
        """P(Y − S >= v): region t > v + s."""
        return self._cached(("gap", v), lambda: self._region(sp.Integer(1), [v + self.s], [oo],
                                                             v))

    @_positive_arg
    def trail_res_prob(self, v: sp.Expr, c: sp.Expr) -> sp.Expr:
        """P(max(Y − S, (1 − c)Y) < v < Y): region v < t < min(v + s, v/(1 − c))."""
        return self._cached(("trp", v, c), lambda: self._region(
            sp.Integer(1), [v], [v + self.s, _safe_div(v, 1 - c)], v))

    @_positive_arg
    def trail_size_res_prob(self, v: sp.Expr, c: sp.Expr) -> sp.Expr:
        """P(v < Y < v + cS): region v < t < v + cs."""
        return self._cached(("tsrp", v, c), lambda: self._region(
            sp.Integer(1), [v], [v + c * self.s], v) if c != 0 else sp.Integer(0))

    def excess(self, c: sp.Expr) -> sp.Expr:
        """E[(S − cY)⁺]: region c t < s, integrand s − c t."""
        d = sp.Dummy("d", positive=True)
        return self._cached(("excess", c), lambda: self._region(
            self.s - c * self.t, [sp.Integer(0)], [_safe_div(self.s, c)], d))

    def excess_size(self, c: sp.Expr) -> sp.Expr:
        """E[(cS − Y)⁺]: region t < c s, integrand c s − t."""
        d = sp.Dummy("d", positive=True)
        return self._cached(("excess_size", c), lambda: self._region(
            c * self.s - self.t, [sp.Integer(0)], [c * self.s], d) if c != 0 else sp.Integer(0))
