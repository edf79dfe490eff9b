r"""A small rule-based integrator for the integrands of queueing formulas.

``sympy.integrate`` often answers the integrals of M/G/1 analysis with
Meijer-G functions or does not finish. This module integrates them by
pattern matching instead. :func:`integrate` expands the integrand into terms
and reduces each term to the normal form

.. math::  c \cdot t^n \cdot \exp(\alpha t + \beta / t + \gamma)

(``c``, ``n``, ``α``, ``β``, ``γ`` free of the integration variable ``t``),
then applies the first rule that fits:

``power``
    :math:`\alpha = \beta = 0`: :math:`\int t^n = t^{n+1}/(n+1)` or :math:`\log t`.
``poly-exp``
    :math:`\beta = 0`, integer :math:`n \ge 0`: the antiderivative
    :math:`e^{\alpha t}\sum_{k=0}^{n} (-1)^k \frac{n!}{(n-k)!} t^{n-k}/\alpha^{k+1}`
    (any finite limits, or an infinite upper limit when :math:`\alpha < 0`).
``expint``
    :math:`\beta = 0`, integer :math:`n \le -1`, :math:`\alpha = -a < 0`, lower limit
    :math:`L > 0`: :math:`\int_L^U t^n e^{-a t} dt = L^{n+1}E_{-n}(aL) - U^{n+1}E_{-n}(aU)`
    (exponential integrals; the :math:`U = \infty` term vanishes).
``gamma``
    :math:`\beta = 0`, other :math:`n`, :math:`\alpha = -a < 0`:
    :math:`a^{-(n+1)}[\Gamma(n+1, aL) - \Gamma(n+1, aU)]` (incomplete gamma).
``bessel-k`` (the master integral of formulas.md §9, Gradshteyn–Ryzhik 3.471.9)
    limits :math:`[0, \infty)`, :math:`\alpha = -a < 0`, :math:`\beta = -b < 0`:

    .. math:: \int_0^\infty t^n e^{-a t - b/t}\,dt = 2 (b/a)^{(n+1)/2} K_{n+1}(2\sqrt{ab}).

``inversion``
    :math:`\alpha = 0`, :math:`\beta \ne 0`: substitute :math:`u = 1/t` and retry.

Terms that match no rule are collected and integrated together by a
time-budgeted :func:`sympy.integrate` (``fallback=True``), whose answer is
accepted only if it contains no ``Integral``/Meijer-G/``Piecewise`` and
agrees with an independent mpmath quadrature at test values of the free
symbols. Otherwise they stay an unevaluated
:class:`~queuetheory.symbolic.integral.QuadIntegral` -- always correct, always
evaluable.

:func:`integrate_region` integrates over a two-dimensional region bounded by
lines through the origin, ``max(lowers) < t < min(uppers)`` with an outer
variable ``x`` in ``[x_lo, x_hi]``, which is how the joint (size, prediction)
quantities are written; it splits the outer range where the active bounds
change and calls :func:`integrate` on each piece.

Every rule application can be recorded in a ``trace`` list of
:class:`Step` (the derivation shown by the notebook).

>>> import sympy as sp
>>> x, y = sp.symbols("x y", positive=True)
>>> integrate(sp.exp(-x) * sp.exp(-y / x) / x, x, 0, sp.oo)   # f_Y of §9
2*besselk(0, 2*sqrt(y))
>>> tidy(integrate(x * sp.exp(-x), x, 0, y))                # rho(y)/lambda for Exp(1)
-(y + 1)*exp(-y) + 1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from .integral import QuadIntegral

__all__ = ["integrate", "integrate_region", "Step", "Term", "match_term", "tidy", "merge_integrals"]

oo = sp.oo


@dataclass
class Step:
    """One rule application: ``rule`` turned ``integrand`` over ``limits`` into ``result``."""

    rule: str
    integrand: sp.Expr
    limits: tuple
    result: sp.Expr

    def latex(self) -> str:
        """LaTeX ``\\int ... = result`` for display."""
        var, lo, hi = self.limits
        return (rf"\int_{{{sp.latex(lo)}}}^{{{sp.latex(hi)}}} {sp.latex(self.integrand)}\,"
                rf"d{sp.latex(var)} = {sp.latex(self.result)}")


@dataclass
class Term:
    """Normal form c * t**n * exp(alpha*t + beta/t + gamma) of one term of an integrand."""

    coeff: sp.Expr
    n: sp.Expr
    alpha: sp.Expr = field(default=sp.Integer(0))
    beta: sp.Expr = field(default=sp.Integer(0))
    gamma: sp.Expr = field(default=sp.Integer(0))


def match_term(term: sp.Expr, t: sp.Symbol) -> Term | None:
    """Match ``term`` to ``c * t**n * exp(alpha*t + beta/t + gamma)`` (``None``: no fit)."""
    coeff, dep = term.as_independent(t, as_Add=False)
    n = sp.Integer(0)
    exp_arg = sp.Integer(0)
    for factor in sp.Mul.make_args(dep):
        if factor == 1:
            continue
        if factor == t:
            n += 1
        elif isinstance(factor, sp.exp):
            exp_arg += factor.args[0]
        elif factor.is_Pow and factor.base == t and not factor.exp.has(t):
            n += factor.exp
        elif factor.is_Pow and isinstance(factor.base, sp.exp) and not factor.exp.has(t):
            exp_arg += factor.base.args[0] * factor.exp
        else:
            return None
    alpha = beta = gamma = sp.Integer(0)
    for part in sp.Add.make_args(sp.expand(exp_arg)):
        if part == 0:
            continue
        c, d = part.as_independent(t, as_Add=False)
        if d == 1:
            gamma += c
        elif d == t:
            alpha += c
        elif d == 1 / t:
            beta += c
        else:
            return None
    return Term(coeff, n, alpha, beta, gamma)


def _is_neg(e: sp.Expr) -> bool:
    return bool(e.is_negative)


def _is_pos(e: sp.Expr) -> bool:
    return bool(e.is_positive)


def _apply_rules(m: Term, t: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> tuple[str, sp.Expr] | None:
    """Integral of one matched term over [lo, hi], or None if no rule applies."""
    n, alpha, beta = m.n, m.alpha, m.beta
    scale = m.coeff * sp.exp(m.gamma)
    if alpha == 0 and beta == 0:  # power rule
        if n == -1:
            if lo == 0 or hi == oo:
                return None
            return "power", scale * (sp.log(hi) - sp.log(lo))
        if hi == oo:
            if not _is_neg(n + 1) or lo == 0:
                return None
            return "power", -scale * lo ** (n + 1) / (n + 1)
        if lo == 0 and not _is_pos(n + 1):
            return None
        return "power", scale * (hi ** (n + 1) - lo ** (n + 1)) / (n + 1)
    if beta == 0:
        if n.is_integer and n.is_nonnegative:
            if hi == oo and not _is_neg(alpha):
                return None
            if not alpha.is_nonzero:
                return None
            nn = int(n)

            def anti(u: sp.Expr) -> sp.Expr:
                if u == oo:
                    return sp.Integer(0)
                return sp.exp(alpha * u) * sum(
                    (-1) ** k * sp.factorial(nn) / sp.factorial(nn - k) * u ** (nn - k)
                    / alpha ** (k + 1) for k in range(nn + 1))

            return "poly-exp", scale * (anti(hi) - anti(lo))
        if not _is_neg(alpha):
            return None
        a = -alpha
        if n.is_integer and n.is_negative:
            if lo == 0 or not (lo.is_positive or lo.is_nonnegative):
                return None
            k = -n

            def piece(u: sp.Expr) -> sp.Expr:
                return sp.Integer(0) if u == oo else u ** (n + 1) * sp.expint(k, a * u)

            return "expint", scale * (piece(lo) - piece(hi))
        if lo == 0 and not _is_pos(n + 1):
            return None

        def inc(u: sp.Expr) -> sp.Expr:
            if u == oo:
                return sp.Integer(0)
            if u == 0:
                return sp.gamma(n + 1)
            return sp.uppergamma(n + 1, a * u)

        return "gamma", scale * a ** (-(n + 1)) * (inc(lo) - inc(hi))
    if alpha == 0:  # substitute u = 1/t: t^n e^{beta/t} dt = u^{-n-2} e^{beta u} du
        u = sp.Dummy("u", positive=True)
        new_lo = sp.Integer(0) if hi == oo else 1 / hi
        new_hi = oo if lo == 0 else 1 / lo
        inner = Term(m.coeff, -n - 2, beta, sp.Integer(0), m.gamma)
        res = _apply_rules(inner, u, new_lo, new_hi)
        if res is None:
            return None
        return "inversion+" + res[0], res[1]
    if lo == 0 and hi == oo and _is_neg(alpha) and _is_neg(beta):
        a, b = -alpha, -beta
        value = 2 * (b / a) ** ((n + 1) / 2) * sp.besselk(n + 1, 2 * sp.sqrt(a * b))
        return "bessel-k", scale * value
    return None


def _power_substitution(term: sp.Expr, t: sp.Symbol, lo: sp.Expr,
                        hi: sp.Expr) -> tuple[str, sp.Expr] | None:
    """``t^n exp(c t^p)`` with one power p > 0, p != 1: substitute u = t^p and apply the rules.

    t = u^{1/p}, dt = u^{1/p - 1}/p du; e.g. Weibull densities exp(-(x/s)^k).
    """
    powers: set[sp.Expr] = set()
    for factor in sp.Mul.make_args(term):
        if isinstance(factor, sp.exp):
            for part in sp.Add.make_args(sp.expand(factor.args[0])):
                _, d = part.as_independent(t, as_Add=False)
                if d == 1:
                    continue
                if d.is_Pow and d.base == t and d.exp.is_Rational:
                    powers.add(d.exp)
                else:
                    return None
    if len(powers) != 1:
        return None
    p = powers.pop()
    if not p.is_positive or p == 1:
        return None
    u = sp.Dummy("u", positive=True)
    new = sp.powsimp(sp.expand_power_base(term.subs(t, u ** (1 / p)) * u ** (1 / p - 1) / p,
                                          force=True), force=True)
    new_lo = lo**p
    new_hi = oo if hi == oo else hi**p
    total = sp.Integer(0)
    for piece in sp.Add.make_args(sp.expand(new)):
        m = match_term(piece, u)
        res = _apply_rules(m, u, new_lo, new_hi) if m is not None else None
        if res is None:
            return None
        total += res[1]
    return f"substitution u = t^{p}", total


_DEFAULT_FALLBACK_BUDGET = 4.0


def integrate(expr: sp.Expr, t: sp.Symbol, lo: Any, hi: Any, *, fallback: bool = True,
              budget: float | None = None, trace: list[Step] | None = None) -> sp.Expr:
    """Definite integral of ``expr`` in ``t`` over [lo, hi] by the rules of this module.

    Parameters
    ----------
    expr : sympy expression
    t : Symbol
        Integration variable.
    lo, hi : sympy expressions (``hi`` may be ``oo``)
    fallback : bool
        Try :func:`sympy.integrate` (under ``budget`` seconds) on the terms that
        match no rule. ``False`` keeps them as an unevaluated
        :class:`QuadIntegral` at once (use it where no closed form is known).
    budget : float, optional
        Seconds for the fallback (default 4).
    trace : list, optional
        Receives a :class:`Step` for every rule application.

    Returns
    -------
    sympy expression
        A closed form, possibly plus a ``QuadIntegral`` of the unmatched terms.
    """
    if any(isinstance(v, str) for v in (expr, lo, hi)):
        from ..errors import ParameterError

        raise ParameterError("integrate takes sympy expressions, not strings (strings are "
                             "never parsed)")
    expr = sp.sympify(expr)
    lo = sp.sympify(lo)
    hi = sp.sympify(hi)
    if lo == hi:
        return sp.Integer(0)
    if not expr.has(t):
        return expr * (hi - lo)
    total = sp.Integer(0)
    rest: list[sp.Expr] = []
    terms = sp.Add.make_args(sp.expand(expr))
    known_hard: list[sp.Expr] = []
    for term in terms:
        m = match_term(term, t)
        res = _apply_rules(m, t, lo, hi) if m is not None else None
        if m is None:
            res = _power_substitution(term, t, lo, hi)
        if res is None:
            # a term in normal form that no rule integrates (e.g. t^n e^{-at-b/t} on a finite
            # interval, an incomplete Bessel function) has no elementary closed form:
            # sympy.integrate would only spend its budget
            (rest if m is None else known_hard).append(term)
            continue
        rule, value = res
        if trace is not None:
            trace.append(Step(rule, term, (t, lo, hi), value))
        total += value
    if rest:
        remainder = expr if len(rest) == len(terms) else sp.Add(*rest)
        total += _fallback(remainder, t, lo, hi, fallback, budget, trace)
    if known_hard:
        total += QuadIntegral(sp.factor_terms(sp.Add(*known_hard)), (t, lo, hi))
    return total


def _fallback(expr: sp.Expr, t: sp.Symbol, lo: sp.Expr, hi: sp.Expr, use: bool,
              budget: float | None, trace: list[Step] | None) -> sp.Expr:
    unevaluated = QuadIntegral(expr, (t, lo, hi))
    if not use:
        return unevaluated
    from .timeout import call_with_budget

    result = call_with_budget(_sympy_integrate, expr, t, lo, hi,
                              budget=budget or _DEFAULT_FALLBACK_BUDGET, fallback=None)
    if result is None or result.has(sp.Integral, sp.meijerg, sp.Piecewise, sp.nan, sp.zoo) \
            or result.has(sp.oo, -sp.oo):
        return unevaluated
    if not _spot_check(expr, t, lo, hi, result):
        return unevaluated
    if trace is not None:
        trace.append(Step("sympy.integrate", expr, (t, lo, hi), result))
    return result


def _sympy_integrate(expr: sp.Expr, t: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    return sp.integrate(expr, (t, lo, hi), conds="none")


def _spot_check(expr: sp.Expr, t: sp.Symbol, lo: sp.Expr, hi: sp.Expr,
                result: sp.Expr) -> bool:
    """Compare a fallback result with an independent mpmath quadrature at test values."""
    import mpmath

    free = sorted((expr.free_symbols | result.free_symbols | lo.free_symbols
                   | hi.free_symbols) - {t}, key=lambda s: s.name)
    values = {s: sp.Rational(3 + 2 * i, 10 + 3 * i) for i, s in enumerate(free)}
    try:
        f = sp.lambdify(t, expr.subs(values), modules="mpmath")
        with mpmath.workdps(20):
            a = mpmath.mpf(sp.N(lo.subs(values), 25))
            b = mpmath.inf if hi == oo else mpmath.mpf(sp.N(hi.subs(values), 25))
            ref = mpmath.quad(f, [a, b])
            got = sp.N(result.subs(values), 20)
            got = mpmath.mpf(got) if got.is_real else None
    except Exception:  # noqa: BLE001 - any failure means "not verified"
        return False
    if got is None or not mpmath.isfinite(ref):
        return False
    return abs(got - ref) <= mpmath.mpf(10) ** -10 * max(1, abs(ref))


def _linear(bound: sp.Expr, x: sp.Symbol, y: sp.Symbol) -> tuple[sp.Expr, sp.Expr] | None:
    """(p, q) with bound = p*x + q*y and numeric p, q; None for oo or a non-linear bound."""
    if bound == oo:
        return None
    p = sp.diff(bound, x)
    q = sp.diff(bound, y)
    if not (p.is_number and q.is_number) or sp.simplify(bound - p * x - q * y) != 0:
        raise NotImplementedError(
            f"region bound {bound} must be linear in ({x}, {y}) with numeric coefficients")
    return p, q


def _bound_at(bound: sp.Expr, x: sp.Symbol, y: sp.Symbol, c: sp.Expr) -> sp.Expr:
    """Value of bound/y at x = c*y (a number, or oo)."""
    if bound == oo:
        return oo
    p, q = _linear(bound, x, y)
    return p * c + q


def integrate_region(expr: sp.Expr, t: sp.Symbol, lowers: Sequence[sp.Expr],
                     uppers: Sequence[sp.Expr], x: sp.Symbol, x_lo: sp.Expr, x_hi: sp.Expr,
                     y: sp.Symbol, *, delta: bool = False, fallback: bool = False,
                     budget: float | None = None, trace: list[Step] | None = None) -> sp.Expr:
    r"""Integrate ``expr`` over {x_lo < x < x_hi, max(lowers) < t < min(uppers)}.

    Every bound is a linear form ``p*x + q*y`` with numeric ``p, q`` (or ``oo``),
    where ``y`` is a positive parameter, and ``x_lo, x_hi`` are ``c*y``, ``0`` or
    ``oo``. The x-range is split at the points ``x = c*y`` where two bounds cross
    or the region becomes empty; on each piece the active bounds are fixed and
    the iterated integral ``∫ dx ∫ dt`` is done by :func:`integrate` (inner
    always with rules only, outer with ``fallback``).

    With ``delta=True`` the inner "integral" is the evaluation at t = x (a point
    mass, e.g. perfect predictions Y = X): the result is
    ``∫ expr(x, t=x) 1(max(lowers) < x < min(uppers)) dx``.
    """
    cands = {sp.Integer(0)}
    bounds = list(lowers) + list(uppers) + ([x] if delta else [])
    lin = [(_linear(b, x, y), b) for b in bounds]
    for i in range(len(lin)):
        for j in range(i + 1, len(lin)):
            (l1, _), (l2, _) = lin[i], lin[j]
            if l1 is None or l2 is None:
                continue
            (p1, q1), (p2, q2) = l1, l2
            if p1 != p2:
                c = (q2 - q1) / (p1 - p2)
                if c.is_positive:
                    cands.add(c)

    def coeff(e: sp.Expr) -> sp.Expr:
        if e == oo or e == 0:
            return e
        return _linear(e, x, y)[1] if sp.diff(e, x) == 0 else None

    c_lo, c_hi = coeff(sp.sympify(x_lo)), coeff(sp.sympify(x_hi))
    if c_lo is None or c_hi is None:
        raise NotImplementedError("x-limits of a region must be 0, oo or numeric multiples of y")
    cands |= {c_lo}
    if c_hi != oo:
        cands.add(c_hi)
    cuts = sorted(c for c in cands if c_lo <= c and (c_hi == oo or c <= c_hi))
    if c_hi == oo:
        cuts.append(oo)
    total = sp.Integer(0)
    for a, b in zip(cuts[:-1], cuts[1:]):
        mid = (a + b) / 2 if b != oo else a + 1
        low_vals = [(_bound_at(lb, x, y, mid), lb) for lb in lowers]
        up_vals = [(_bound_at(ub, x, y, mid), ub) for ub in uppers]
        lo_v, lo_b = max(low_vals, key=lambda p: p[0])
        hi_v, hi_b = min(up_vals, key=lambda p: (p[0] == oo, p[0]))
        xa = a * y
        xb = b * y if b != oo else oo
        if delta:
            if not (lo_v < mid and (hi_v == oo or mid < hi_v)):
                continue
            total += integrate(expr.subs(t, x), x, xa, xb, fallback=fallback, budget=budget,
                               trace=trace)
            continue
        if hi_v != oo and not lo_v < hi_v:
            continue
        inner = integrate(expr, t, lo_b, hi_b, fallback=False, trace=trace)
        total += integrate(inner, x, xa, xb, fallback=fallback, budget=budget, trace=trace)
    return total


def merge_integrals(expr: sp.Expr) -> sp.Expr:
    """Combine ``c1*Integral(f1, L) + c2*Integral(f2, L) + ...`` with equal limits ``L``.

    Fewer integral nodes mean fewer quadratures when the expression is evaluated
    (each nested integral is a quadrature per outer node).
    """
    groups: dict[tuple, sp.Expr] = {}
    rest = sp.Integer(0)
    for term in sp.Add.make_args(expr):
        ints = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Integral)]
        if len(ints) != 1 or len(ints[0].limits) != 1:
            rest += term
            continue
        node = ints[0]
        coeff = term / node
        groups[node.limits] = groups.get(node.limits, sp.Integer(0)) + coeff * node.function
    for limits, integrand in groups.items():
        rest += QuadIntegral(sp.factor_terms(integrand), *limits)
    return rest


def tidy(expr: sp.Expr) -> sp.Expr:
    """Collect a closed form on its special-function factors (Bessel K, E_n, exp, Γ).

    Purely cosmetic and cheap (no ``simplify``): terms with the same
    special-function factor are gathered and their coefficients factored, e.g.
    ``2 y^{3/2} K_3 - (4/e) y^{3/2} K_3`` becomes ``2 y^{3/2} (1 - 2/e) K_3``.
    """
    expr = sp.expand(expr)
    funcs = sorted(expr.atoms(sp.besselk, sp.expint, sp.uppergamma, sp.exp),
                   key=sp.default_sort_key)
    funcs = [f for f in funcs if f.free_symbols]
    if expr.has(sp.Integral):
        expr = merge_integrals(expr)
    if not funcs:
        return sp.factor_terms(expr)
    return sp.collect(expr, funcs, func=sp.factor_terms)
