r"""Per-policy symbolic formulas and the registry that maps policy classes to them.

Each builder assembles the formula of formulas.md from the building blocks of
:class:`~queuetheory.symbolic.blocks.Blocks` (which derive their closed forms
by the rules) and keeps the remaining outer integrals as unevaluated
:class:`~queuetheory.symbolic.integral.QuadIntegral` nodes. The outer
integrals over a size or a prediction have no closed form in general (they
contain 1/(1 − ρ(x))², formulas.md §2.5, §10.7), so they are not sent to
``sympy.integrate``.

========================  ===============================================  ==========
policy                    E[T] (mean)                                       source
========================  ===============================================  ==========
FCFS                      E[S] + λE[S²]/(2(1 − ρ))                          §2.1
PS, LCFS (preemptive)     E[S]/(1 − ρ)                                      §2.2
FB / LAS                  ∫ f(x) T(x) dx with ρ̄(x), E[min(S, x)²]          §2.3
SJF, PSJF                 Cobham continuum limits                           §2.5
SRPT                      Fubini form                                       §3.3
SPJF, PSPJF               §3.2 with f_Y, ρ′, M₂′, m₁                        §3.2
SPRPT                     Fubini form of W and R                           §3.2, §3.3
LimitedPreemptionSPRPT    §8.2 (threshold "prediction"), §8.4 ("size")      §8
OneBit                    two-class priority forms                          §5.2
========================  ===============================================  ==========

New policies register a builder with :func:`register` (no other change needed):

>>> import sympy as sp, queuetheory as qt
>>> class Twice(qt.PS):
...     pass
>>> register(Twice, mean=lambda policy, b, params: 2 * b.moment(1) / (1 - b.lam * b.moment(1)))
>>> lam = sp.Symbol("lambda", positive=True)
>>> mean_formula(Twice(), qt.Workload(lam, qt.Exponential(1.0)))
2/(1 - lambda)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from ..errors import ParameterError
from .blocks import Blocks
from .integral import QuadIntegral
from .laws import SymbolicWorkload, as_symbolic_workload, exact
from .rules import tidy

__all__ = [
    "register",
    "registered_policies",
    "mean_formula",
    "conditional_formula",
    "nice_rational",
    "Builder",
]

oo = sp.oo

#: A builder: (policy, blocks, params) -> sympy expression.
Builder = Callable[[Any, Blocks, dict], sp.Expr]

_MEAN: dict[type, Builder] = {}
_COND: dict[type, Callable[..., sp.Expr]] = {}
_BUILTINS_LOADED = False


def register(policy_class: type, *, mean: Builder | None = None,
             conditional: Callable[..., sp.Expr] | None = None) -> None:
    """Register symbolic builders for ``policy_class`` (and its subclasses).

    Parameters
    ----------
    policy_class : type
    mean : callable ``(policy, blocks, params) -> Expr``, optional
        Builds E[T]. ``blocks`` is a :class:`Blocks`; ``params`` holds the policy
        parameters as sympy objects (see :func:`policy_params`).
    conditional : callable ``(policy, blocks, params, x, y) -> Expr``, optional
        Builds E[T | X = x, Y = y] (``y`` is ``x`` under exact predictions).
    """
    if not isinstance(policy_class, type):
        raise ParameterError(f"policy_class must be a class (got {policy_class!r})")
    if mean is not None:
        _MEAN[policy_class] = mean
    if conditional is not None:
        _COND[policy_class] = conditional


def _lookup(table: dict[type, Any], policy: Any, what: str) -> Any:
    _load_builtins()
    for cls in type(policy).__mro__:
        if cls in table:
            return table[cls]
    names = sorted(c.__name__ for c in table)
    raise NotImplementedError(
        f"no symbolic {what} formula for {type(policy).__name__}; supported policies: "
        f"{', '.join(names)} (register one with queuetheory.symbolic.register)")


def registered_policies() -> list[str]:
    """Names of the policy classes with a symbolic mean formula."""
    _load_builtins()
    return sorted(c.__name__ for c in _MEAN)


# ------------------------------------------------------------------ parameters
def policy_params(policy: Any, overrides: dict | None = None) -> dict[str, Any]:
    """The policy's parameters as exact sympy numbers, with user overrides (symbols allowed)."""
    out: dict[str, Any] = {}
    for name in ("c", "threshold"):
        if hasattr(policy, name):
            val = getattr(policy, name)
            out[name] = val if isinstance(val, str) else exact(val, name)
    for key, val in (overrides or {}).items():
        if not isinstance(key, str):
            raise ParameterError(f"parameter names must be strings (got {key!r})")
        out[key] = exact(val, key)
    return out


def _sym(name: str, b: Blocks) -> sp.Symbol:
    """A positive bound variable named ``name`` that does not clash with the workload's symbols."""
    s = sp.Symbol(name, positive=True)
    return sp.Dummy(name, positive=True) if s in b._used else s


def _qint(expr: sp.Expr, var: sp.Symbol, lo: Any, hi: Any) -> sp.Expr:
    """An outer integral with no closed form: pull constant factors out, keep it unevaluated."""
    expr = sp.factor_terms(expr)
    coeff, dep = expr.as_independent(var, as_Add=False)
    if dep == 0 or coeff == 0:
        return sp.Integer(0)
    return coeff * QuadIntegral(dep, (var, lo, hi))


def _load_log_integral(num: sp.Expr, density: sp.Expr, total_load: sp.Expr, var: sp.Symbol,
                       lam: sp.Expr, lo: Any, hi: Any) -> sp.Expr:
    r"""∫ num/(1 − L(var)) dvar over [lo, hi] where L = λ·M and M′ = ``density``.

    If num = c·M′ with c constant (checked symbolically), the fundamental theorem of
    calculus gives c·(−log(1 − L(hi)) + log(1 − L(lo)))/λ; the loads run from 0 at
    ``lo`` to ``total_load`` at ``hi`` over the whole support. E.g. PSJF's
    ∫ x f(x)/(1 − ρ(x)) dx = −log(1 − ρ)/λ, and for exponential predictions the
    SPRPT residence integral (1 − 1/e)·∫ 2√v K₁(2√v)/(1 − ρ′(v)) dv = −(1 − 1/e) log(1 − λ)/λ.
    Otherwise the integral stays unevaluated.
    """
    if density == 0 or num.has(sp.Integral) or density.has(sp.Integral):
        return None  # type: ignore[return-value]
    ratio = sp.cancel(num / density)
    if ratio.has(var):
        ratio = sp.simplify(ratio)
    if not ratio.has(var) and ratio != 0:
        return -ratio * sp.log(1 - total_load) / lam
    return None  # type: ignore[return-value]


def _size_support(b: Blocks) -> tuple[sp.Expr, sp.Expr]:
    b._need_density("this policy's formula")
    return b.size.support


# --------------------------------------------------------------- classic policies
def _fcfs_mean(policy: Any, b: Blocks, p: dict) -> sp.Expr:
    es, es2 = b.moment(1), b.moment(2)
    return es + b.lam * es2 / (2 * (1 - b.lam * es))


def _fcfs_cond(policy: Any, b: Blocks, p: dict, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    return x + b.lam * b.moment(2) / (2 * (1 - b.lam * b.moment(1)))


def _ps_mean(policy: Any, b: Blocks, p: dict) -> sp.Expr:
    es = b.moment(1)
    return es / (1 - b.lam * es)


def _ps_cond(policy: Any, b: Blocks, p: dict, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    return x / (1 - b.lam * b.moment(1))


def _sjf_cond(policy: Any, b: Blocks, p: dict, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    return x + b.lam * b.moment(2) / (2 * (1 - b.load_below(x)) ** 2)


def _sjf_mean(policy: Any, b: Blocks, p: dict) -> sp.Expr:
    lo, hi = _size_support(b)
    x = _sym("x", b)
    return b.moment(1) + b.lam * b.moment(2) / 2 * _qint(
        b.size.pdf_at(x) / (1 - b.load_below(x)) ** 2, x, lo, hi)


def _psjf_cond(policy: Any, b: Blocks, p: dict, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    rho = b.load_below(x)
    return x / (1 - rho) + b.lam * b.partial_moment(2, x) / (2 * (1 - rho) ** 2)


def _psjf_mean(policy: Any, b: Blocks, p: dict) -> sp.Expr:
    lo, hi = _size_support(b)
    x = _sym("x", b)
    f = b.size.pdf_at(x)
    rho = b.load_below(x)
    first = _load_log_integral(x * f, x * f, b.lam * b.moment(1), x, b.lam, lo, hi)
    if first is None:
        first = _qint(x * f / (1 - rho), x, lo, hi)
    return first + _qint(f * b.lam * b.partial_moment(2, x) / (2 * (1 - rho) ** 2), x, lo, hi)


def _srpt_cond(policy: Any, b: Blocks, p: dict, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    lo, _ = _size_support(b)
    t = _sym("t", b)
    waiting = b.lam * b.limited_second(x) / (2 * (1 - b.load_below(x)) ** 2)
    if lo != 0:
        raise NotImplementedError("SRPT's residence integral needs a size law supported from 0")
    return waiting + _qint(1 / (1 - b.load_below(t)), t, 0, x)


def _srpt_mean(policy: Any, b: Blocks, p: dict) -> sp.Expr:
    lo, hi = _size_support(b)
    x, t = _sym("x", b), _sym("t", b)
    waiting = _qint(b.size.pdf_at(x) * b.lam * b.limited_second(x)
                    / (2 * (1 - b.load_below(x)) ** 2), x, lo, hi)
    residence = lo + _qint(b.sf(t) / (1 - b.load_below(t)), t, lo, hi)
    return waiting + residence


def _fb_cond(policy: Any, b: Blocks, p: dict, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    rbar = b.truncated_load(x)
    return x / (1 - rbar) + b.lam * b.limited_second(x) / (2 * (1 - rbar) ** 2)


def _fb_mean(policy: Any, b: Blocks, p: dict) -> sp.Expr:
    lo, hi = _size_support(b)
    x = _sym("x", b)
    return _qint(b.size.pdf_at(x) * _fb_cond(policy, b, p, x, x), x, lo, hi)


# ------------------------------------------------------------ prediction policies
def _spjf_cond(policy: Any, b: Blocks, p: dict, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    return x + b.lam * b.moment(2) / (2 * (1 - b.load_below_y(y)) ** 2)


def _spjf_mean(policy: Any, b: Blocks, p: dict) -> sp.Expr:
    y = _sym("y", b)
    return b.moment(1) + b.lam * b.moment(2) / 2 * _qint(
        b.pdf_y(y) / (1 - b.load_below_y(y)) ** 2, y, 0, oo)


def _pspjf_cond(policy: Any, b: Blocks, p: dict, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    rho = b.load_below_y(y)
    return x / (1 - rho) + b.lam * b.moment_below_y(2, y) / (2 * (1 - rho) ** 2)


def _pspjf_mean(policy: Any, b: Blocks, p: dict) -> sp.Expr:
    y = _sym("y", b)
    rho = b.load_below_y(y)
    m1 = b.m1_y(y)
    first = _load_log_integral(m1, m1, b.lam * b.moment(1), y, b.lam, 0, oo)
    if first is None:
        first = _qint(m1 / (1 - rho), y, 0, oo)
    return first + _qint(b.pdf_y(y) * b.lam * b.moment_below_y(2, y) / (2 * (1 - rho) ** 2),
                         y, 0, oo)


def _residence_integral(b: Blocks, x: sp.Expr, y: sp.Expr, upper: sp.Expr) -> sp.Expr:
    """∫_0^upper da / (1 − ρ′(y − a)) = ∫_{y − upper}^{y} dv / (1 − ρ′(v)).

    The residence of a tagged job with prediction y that can be preempted until
    age ``upper`` (formulas.md §3.2, §8.2), written in v = y − a.
    """
    v = _sym("v", b)
    return _qint(1 / (1 - b.load_below_y(v)), v, y - upper, y)


def _sprpt_cond(policy: Any, b: Blocks, p: dict, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    rho = b.load_below_y(y)
    numerator = tidy(b.moment_below_y(2, y) + b.old_sprpt(y))
    waiting = b.lam * numerator / (2 * (1 - rho) ** 2)
    return waiting + _residence_integral(b, x, y, sp.Min(x, y)) + sp.Max(x - y, 0)


def _sprpt_mean(policy: Any, b: Blocks, p: dict) -> sp.Expr:
    y, v = _sym("y", b), _sym("v", b)
    rho = b.load_below_y(y)
    numerator = tidy(b.moment_below_y(2, y) + b.old_sprpt(y))
    waiting = _qint(b.pdf_y(y) * b.lam * numerator / (2 * (1 - rho) ** 2), y, 0, oo)
    prob = sp.factor_terms(b.sf_y(v) - b.gap_prob(v))
    residence = _residence_mean(b, prob, v) + b.excess(sp.Integer(1))
    return waiting + residence


def _residence_mean(b: Blocks, prob: sp.Expr, v: sp.Symbol) -> sp.Expr:
    """∫_0^∞ prob(v)/(1 − ρ′(v)) dv: closed (a logarithm) when prob ∝ m₁ = ρ′′/λ."""
    if b.workload.has_prediction:
        closed = _load_log_integral(prob, b.m1_y(v), b.lam * b.moment(1), v, b.lam, 0, oo)
        if closed is not None:
            return closed
    return _qint(prob / (1 - b.load_below_y(v)), v, 0, oo)


def _trail_cond(policy: Any, b: Blocks, p: dict, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    c = p["c"]
    rho = b.load_below_y(y)
    if p.get("threshold", "prediction") == "size":
        old = b.old_trail_size(y, c)
        tail = x - sp.Min(c * x, y)
        upper = sp.Min(c * x, y)
    else:
        old = b.old_trail(y, c)
        tail = sp.Max(x - c * y, 0)
        upper = sp.Min(x, c * y)
    waiting = b.lam * tidy(b.moment_below_y(2, y) + old) / (2 * (1 - rho) ** 2)
    return waiting + _residence_integral(b, x, y, upper) + tail


def _trail_mean(policy: Any, b: Blocks, p: dict) -> sp.Expr:
    c = p["c"]
    y, v = _sym("y", b), _sym("v", b)
    rho = b.load_below_y(y)
    if p.get("threshold", "prediction") == "size":
        old = b.old_trail_size(y, c)
        prob = b.trail_size_res_prob(v, c)
        rest = (1 - c) * b.moment(1) + b.excess_size(c)
    else:
        old = b.old_trail(y, c)
        prob = b.trail_res_prob(v, c)
        rest = b.excess(c)
    numerator = tidy(b.moment_below_y(2, y) + old)
    waiting = _qint(b.pdf_y(y) * b.lam * numerator / (2 * (1 - rho) ** 2), y, 0, oo)
    return waiting + _residence_mean(b, prob, v) + rest


# ---------------------------------------------------------------------- one bit
def _onebit_classes(policy: Any, b: Blocks, p: dict) -> dict[str, sp.Expr]:
    """ρ_S, P_L, E[S 1(short)], E[S² 1(short)] for the classifying variable V (§5.1)."""
    T = p["threshold"]
    on_pred = getattr(policy, "on", "prediction") == "prediction" and b.workload.has_prediction
    if T == oo:
        zero = sp.Integer(0)
        return {"p_long": zero, "m1_short": b.moment(1), "m2_short": b.moment(2),
                "p_short": sp.Integer(1)}
    if on_pred:
        m1s, m2s, p_long = b.moment_below_y(1, T), b.moment_below_y(2, T), b.sf_y(T)
    elif b.size.atoms or b.size.is_atomic:
        m1s = sum((pr * v for v, pr in b.size.atoms if v <= T), sp.Integer(0))
        m2s = sum((pr * v**2 for v, pr in b.size.atoms if v <= T), sp.Integer(0))
        p_long = sum((pr for v, pr in b.size.atoms if v > T), sp.Integer(0))
        if b.size.pdf is not None:
            raise NotImplementedError("one-bit formulas for mixed (atoms + density) size laws")
    else:
        m1s, m2s, p_long = b.partial_moment(1, T), b.partial_moment(2, T), b.sf(T)
    return {"p_long": p_long, "m1_short": m1s, "m2_short": m2s, "p_short": 1 - p_long}


def _onebit_mean(policy: Any, b: Blocks, p: dict) -> sp.Expr:
    k = _onebit_classes(policy, b, p)
    lam, es, es2 = b.lam, b.moment(1), b.moment(2)
    rho, rho_s, p_long = lam * es, lam * k["m1_short"], k["p_long"]
    if not policy.preemptive:
        return es + lam * es2 / 2 * ((1 - p_long) / (1 - rho_s)
                                     + p_long / ((1 - rho_s) * (1 - rho)))
    long_wait = p_long * lam * es2 / (2 * (1 - rho_s) * (1 - rho))
    if getattr(policy, "shorts", "lcfs") == "lcfs":
        return es / (1 - rho_s) + long_wait
    short_part = k["m1_short"] + k["p_short"] * lam * k["m2_short"] / (2 * (1 - rho_s))
    long_part = (es - k["m1_short"]) / (1 - rho_s) + long_wait
    return short_part + long_part


def _onebit_cond(policy: Any, b: Blocks, p: dict, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    k = _onebit_classes(policy, b, p)
    lam, es, es2 = b.lam, b.moment(1), b.moment(2)
    rho, rho_s = lam * es, lam * k["m1_short"]
    if not policy.preemptive:
        short = x + lam * es2 / (2 * (1 - rho_s))
        long = x + lam * es2 / (2 * (1 - rho_s) * (1 - rho))
    else:
        long = x / (1 - rho_s) + lam * es2 / (2 * (1 - rho_s) * (1 - rho))
        if getattr(policy, "shorts", "lcfs") == "lcfs":
            short = x / (1 - rho_s)
        else:
            short = x + lam * k["m2_short"] / (2 * (1 - rho_s))
    on_pred = getattr(policy, "on", "prediction") == "prediction"
    v = y if on_pred else x
    return sp.Piecewise((short, sp.Le(v, p["threshold"])), (long, True))


# -------------------------------------------------------------------- registry
def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    import queuetheory as qt

    table: list[tuple[str, Builder, Callable[..., sp.Expr]]] = [
        ("FCFS", _fcfs_mean, _fcfs_cond),
        ("PS", _ps_mean, _ps_cond),
        ("LCFS", _ps_mean, _ps_cond),
        ("SJF", _sjf_mean, _sjf_cond),
        ("PSJF", _psjf_mean, _psjf_cond),
        ("SRPT", _srpt_mean, _srpt_cond),
        ("FB", _fb_mean, _fb_cond),
        ("SPJF", _spjf_mean, _spjf_cond),
        ("PSPJF", _pspjf_mean, _pspjf_cond),
        ("SPRPT", _sprpt_mean, _sprpt_cond),
        ("LimitedPreemptionSPRPT", _trail_mean, _trail_cond),
        ("OneBit", _onebit_mean, _onebit_cond),
    ]
    for name, mean, cond in table:
        cls = getattr(qt, name, None)
        if isinstance(cls, type) and cls not in _MEAN:
            register(cls, mean=mean, conditional=cond)
    _BUILTINS_LOADED = True


def _check_policy_workload(policy: Any, workload: Any) -> SymbolicWorkload:
    from ..policies.base import Policy

    if not isinstance(policy, Policy):
        raise ParameterError(f"policy must be a queuetheory Policy (got {type(policy).__name__})")
    sw = as_symbolic_workload(workload)
    lam = sw.arrival_rate
    if lam.is_number:
        # a numeric arrival rate: check stability exactly where possible
        try:
            b = Blocks(sw)
            rho = lam * b.moment(1)
            if rho.is_number and not bool(rho < 1):
                from ..errors import UnstableError

                raise UnstableError(f"the load rho = {rho} must be < 1 for a steady state")
        except NotImplementedError:
            pass
    return sw


def _positive_constant(factor: sp.Expr, free: list) -> tuple[sp.Expr, int]:
    """(±factor, sign) so that a polynomial factor has a positive constant term."""
    base, power = (factor.base, factor.exp) if factor.is_Pow else (factor, sp.Integer(1))
    if not base.is_Add:
        return factor, 1
    const = base.as_independent(*free, as_Add=True)[0]
    if const.is_negative:
        sign = -1 if (power.is_integer and power % 2 == 1) else 1
        return (-base) ** power, sign
    return factor, 1


def nice_rational(expr: sp.Expr) -> sp.Expr:
    """A rational function as one factored fraction whose factors have positive constant terms.

    ``2λ/(2 − 2λ) + 1`` becomes ``1/(1 − λ)``. Other expressions are returned unchanged.
    """
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    if expr.has(sp.Integral) or not expr.is_rational_function(*free):
        return expr
    num, den = sp.fraction(sp.factor(sp.cancel(sp.together(expr))))
    sign = 1
    parts = []
    for part in (num, den):
        new = []
        for f in sp.Mul.make_args(part):
            g, s = _positive_constant(f, free)
            sign *= s
            new.append(g)
        parts.append(sp.Mul(*new))
    return sign * parts[0] / parts[1]


def mean_formula(policy: Any, workload: Any, *, parameters: dict | None = None,
                 trace: list | None = None, fallback: bool = True,
                 budget: float | None = None) -> sp.Expr:
    """E[T] of ``policy`` on ``workload`` as a sympy expression (see the module docstring)."""
    sw = _check_policy_workload(policy, workload)
    soap_ok = sw.size.is_atomic and getattr(policy, "is_soap", False) and not parameters
    try:
        builder = _lookup(_MEAN, policy, "mean")
        b = Blocks(sw, trace=trace, fallback=fallback, budget=budget)
        return nice_rational(builder(policy, b, policy_params(policy, parameters)))
    except NotImplementedError:
        if not soap_ok:
            raise
    from .soap import soap_mean_response_time

    return nice_rational(soap_mean_response_time(policy, sw))


def conditional_formula(policy: Any, workload: Any, x: Any, y: Any = None, *,
                        parameters: dict | None = None, trace: list | None = None,
                        fallback: bool = True, budget: float | None = None) -> sp.Expr:
    """E[T | X = x (, Y = y)] as a sympy expression; ``x``, ``y`` numbers or sympy symbols."""
    sw = _check_policy_workload(policy, workload)
    x = exact(x, "x")
    if sw.size.is_atomic and getattr(policy, "is_soap", False) and not parameters and (
            y is None or exact(y, "y") == x) and x.is_number:
        try:
            builder = _lookup(_COND, policy, "conditional")
            return builder(policy, Blocks(sw), policy_params(policy), x, x)
        except NotImplementedError:
            from .soap import soap_response_time

            return soap_response_time(policy, sw, x)
    builder = _lookup(_COND, policy, "conditional")
    if x.is_number and not x.is_positive:
        raise ParameterError(f"x must be a job size > 0 (got {x})")
    uses_pred = getattr(policy, "uses", "nothing") == "prediction" or (
        getattr(policy, "on", None) == "prediction")
    if y is None:
        if uses_pred and sw.has_prediction:
            raise ParameterError(f"{getattr(policy, 'name', policy)} schedules by predicted size: "
                                 f"give the prediction y of the job")
        y = x
    else:
        y = exact(y, "y")
        if y.is_number and y.is_negative:
            raise ParameterError(f"y must be a prediction >= 0 (got {y})")
    b = Blocks(sw, trace=trace, fallback=fallback, budget=budget)
    return builder(policy, b, policy_params(policy, parameters), x, y)
