r"""Numerical evaluation of symbolic results: fast Bessel K, compiled callables, quadrature.

Why this module exists
----------------------
The symbolic formulas keep the integrals that have no closed form as
unevaluated integrals (:class:`~queuetheory.symbolic.integral.QuadIntegral`).
Evaluating them with sympy's generic ``evalf`` is correct but very slow (sympy
re-evaluates the integrand symbolically at every node, and mpmath's
``besselk`` for integer order costs 2--30 ms a call), so that one ``sp.N`` of
the SPRPT mean took over a minute. Here the integrand is compiled once with
:func:`sympy.lambdify` and

* :func:`besselk_mp` evaluates :math:`K_n(z)` for integer ``n`` at arbitrary
  precision from :math:`K_0, K_1` (power series with guard digits for the
  cancellation, or the asymptotic expansion for large ``z``) and the stable
  upward recurrence :math:`K_{n+1} = K_{n-1} + (2n/z) K_n`;
* :func:`quad_mp` integrates with mpmath's tanh--sinh rule at a working
  precision above the target, checks mpmath's error estimate, and refines
  (more subintervals, higher degree) until the estimate is below the target.

Nested integrals are compiled recursively (:func:`compile_expr`): an inner
integral becomes a Python function of its free symbols that runs its own
quadrature, so the outer integrand stays an ordinary callable.

>>> import mpmath
>>> mpmath.mp.dps = 30
>>> abs(besselk_mp(3, mpmath.mpf(2)) / mpmath.besselk(3, 2) - 1) < mpmath.mpf(10) ** -28
True
>>> mpmath.mp.dps = 15
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from scipy import special

from ..errors import IntegrationError

__all__ = [
    "besselk_mp",
    "besselk_np",
    "compile_expr",
    "quad_mp",
    "quad_np",
    "MP_NAMESPACE",
    "NP_NAMESPACE",
]

# --------------------------------------------------------------------- Bessel K
_K01_CACHE: dict[tuple[Any, int], tuple[Any, Any]] = {}
_K01_CACHE_MAX = 4096


def _k01_series(z: Any) -> tuple[Any, Any]:
    """K0(z), K1(z) from the ascending series, at a working precision that absorbs cancellation.

    I0 = sum t_k, t_k = (z^2/4)^k/(k!)^2;  K0 = -(ln(z/2) + gamma) I0 + sum_{k>=1} H_k t_k;
    I1 = (z/2) sum t_k/(k+1);  K1 = (1/z - I1 K0)/I0 (Wronskian I0 K1 + I1 K0 = 1/z).
    Terms grow to about e^z while K decays like e^-z: 2z/ln 2 bits are lost.
    """
    prec = mpmath.mp.prec
    wp = prec + int(2.9 * float(z)) + 40
    with mpmath.workprec(wp):
        z = mpmath.mpf(z)
        # fixed-point big-integer arithmetic with wp fractional bits (fast in pure Python)
        one = 1 << wp
        u = int(mpmath.ldexp(z * z / 4, wp))
        term = one
        i0 = one
        s_h = 0
        s_i1 = one
        harmonic = 0
        k = 0
        while term:
            k += 1
            term = (term * u >> wp) // (k * k)
            harmonic += one // k
            i0 += term
            s_h += harmonic * term >> wp
            s_i1 += term // (k + 1)
        i0_f = mpmath.ldexp(i0, -wp)
        k0 = -(mpmath.log(z / 2) + mpmath.euler) * i0_f + mpmath.ldexp(s_h, -wp)
        i1 = z / 2 * mpmath.ldexp(s_i1, -wp)
        k1 = (1 / z - i1 * k0) / i0_f
    return +k0, +k1


def _k_asymptotic(nu: int, z: Any) -> Any:
    """K_nu(z) by the asymptotic series, or None if it cannot reach the working precision."""
    prec = mpmath.mp.prec
    with mpmath.workprec(prec + 20):
        z = mpmath.mpf(z)
        eps = mpmath.ldexp(1, -(prec + 10))
        mu = 4 * nu * nu
        term = mpmath.mpf(1)
        total = term
        k = 0
        while True:
            k += 1
            new = term * (mu - (2 * k - 1) ** 2) / (8 * k * z)
            if abs(new) >= abs(term):  # the series started to diverge
                return None
            term = new
            total += term
            if abs(term) < eps * abs(total):
                break
        return +(mpmath.sqrt(mpmath.pi / (2 * z)) * mpmath.exp(-z) * total)


def _k01(z: Any) -> tuple[Any, Any]:
    key = (z, mpmath.mp.prec)
    hit = _K01_CACHE.get(key)
    if hit is not None:
        return hit
    if z > 12 + 0.4 * mpmath.mp.prec:
        k0 = _k_asymptotic(0, z)
        k1 = _k_asymptotic(1, z)
        if k0 is None or k1 is None:  # pragma: no cover - threshold keeps this unlikely
            k0, k1 = _k01_series(z)
    else:
        k0, k1 = _k01_series(z)
    if len(_K01_CACHE) > _K01_CACHE_MAX:
        _K01_CACHE.clear()
    _K01_CACHE[key] = (k0, k1)
    return k0, k1


def besselk_mp(nu: Any, z: Any) -> Any:
    """Modified Bessel function :math:`K_\\nu(z)` at the current mpmath precision.

    Integer orders and real ``z > 0`` use the fast path described in the module
    docstring; anything else is passed to :func:`mpmath.besselk`.
    """
    try:
        n = int(nu)
        integer = n == nu
    except (TypeError, ValueError):
        integer = False
    if not integer or not isinstance(z, (int, float, mpmath.mpf)) or not z > 0:
        return mpmath.besselk(nu, z)
    n = abs(n)
    z = mpmath.mpf(z)
    with mpmath.workprec(mpmath.mp.prec + 10):
        k0, k1 = _k01(z)
        if n == 0:
            out = k0
        elif n == 1:
            out = k1
        else:
            a, b = k0, k1
            for j in range(1, n):
                a, b = b, a + 2 * j / z * b
            out = b
    return +out


def besselk_np(nu: Any, z: Any) -> Any:
    """Vectorized :math:`K_\\nu(z)` in double precision (:func:`scipy.special.kv`)."""
    return special.kv(nu, z)


def _expint_mp(n: Any, z: Any) -> Any:
    return mpmath.expint(n, z)


def _expint_np(n: Any, z: Any) -> Any:
    n_arr = np.asarray(n)
    if np.all(n_arr == 1):
        return special.exp1(z)
    return special.expn(n, z)


#: Extra names for :func:`sympy.lambdify` with ``modules="mpmath"``.
MP_NAMESPACE: dict[str, Any] = {"besselk": besselk_mp, "expint": _expint_mp}
#: Extra names for :func:`sympy.lambdify` with numpy/scipy.
NP_NAMESPACE: dict[str, Any] = {"besselk": besselk_np, "expint": _expint_np}


# ------------------------------------------------------------------ quadrature
def _split_points(a: Any, b: Any, scale: float = 1.0) -> list[Any]:
    """Initial subdivision for tanh-sinh: geometric points a + scale*4^k inside the interval.

    Integrands of queueing formulas vary on the scale of the job sizes near the
    lower limit and decay slowly (exponentially or algebraically) far out; a
    geometric subdivision serves both.
    """
    pts = [a]
    k = 0
    while True:
        p = a + scale * 4**k
        if (b != mpmath.inf and p >= b) or k > 0:
            break
        pts.append(p)
        k += 2 if k else 1
    pts.append(b)
    return pts


def quad_mp(f: Callable[[Any], Any], a: Any, b: Any, *, scale: float = 1.0,
            points: Sequence[Any] = (), floor: Any = 0) -> Any:
    """Integrate ``f`` over [a, b] at the current mpmath precision, to that precision.

    Uses tanh--sinh on a subdivision of the interval (tail pieces for ``b = inf``),
    compares mpmath's error estimate with the target (relative to
    ``max(|value|, floor)``) and refines the subdivision and the degree up to
    three times. Nested (inner) integrals use ``floor = 1``: their absolute error
    must be small on the scale of the outer integrand, not relative to a value
    that may be tiny.

    Raises
    ------
    IntegrationError
        If the error estimate stays above the target, or the value is not finite.
    """
    dps = mpmath.mp.dps
    target = mpmath.mpf(10) ** (-(dps - 3))
    pts = _split_points(a, b, scale)
    inner = [p for p in points if a < p < b]
    if inner:
        pts = sorted(set(pts) | set(inner), key=lambda t: (t == mpmath.inf, t))
    degree = 6
    value = err = None
    for _ in range(4):
        value, err = _quad_pieces(f, pts, degree)
        if not mpmath.isfinite(value):
            raise IntegrationError(f"the integral is not finite (got {value})")
        if err <= target * max(abs(value), floor):
            return value
        # refine: halve every finite piece and raise the degree
        new = [pts[0]]
        for lo, hi in zip(pts[:-1], pts[1:]):
            if hi != mpmath.inf:
                new.append((lo + hi) / 2)
            else:
                new.append(lo + 2 * (abs(lo) + scale))
            new.append(hi)
        pts = new
        degree += 2
    raise IntegrationError(
        f"mpmath quadrature did not reach {dps} digits (error estimate {mpmath.nstr(err, 3)}, "
        f"value {mpmath.nstr(value, 10)})"
    )


def _quad_pieces(f: Callable[[Any], Any], pts: list[Any], degree: int) -> tuple[Any, Any]:
    """tanh-sinh over the pieces; the first (finite) piece in u with t = a + u^2.

    The substitution makes endpoint singularities such as t^{-1/2} or log t at the
    lower limit smooth: mpmath's tanh-sinh loses half the digits on t^{-1/2}
    otherwise.
    """
    a, p1 = pts[0], pts[1]
    if p1 != mpmath.inf:
        v0, e0 = mpmath.quad(lambda u: 2 * u * f(a + u * u), [0, mpmath.sqrt(p1 - a)],
                             error=True, maxdegree=degree)
        rest = pts[1:]
    else:  # pragma: no cover - _split_points always gives a finite first piece
        v0, e0 = mpmath.mpf(0), mpmath.mpf(0)
        rest = pts
    if len(rest) > 1:
        v1, e1 = mpmath.quad(f, rest, error=True, maxdegree=degree)
    else:
        v1, e1 = mpmath.mpf(0), mpmath.mpf(0)
    return v0 + v1, e0 + e1


def quad_np(f: Callable[[np.ndarray], np.ndarray], a: float, b: float, *,
            rtol: float = 1e-12, points: Sequence[float] = (), atol: float = 0.0) -> float:
    """Integrate a vectorized ``f`` over [a, b] with :func:`queuetheory.integrate.quad`.

    A logarithmic or power singularity at a finite lower limit is handled by the
    substitution t = a + u**2 (so that the integrand in u is bounded).
    """
    from ..integrate import quad

    if math.isfinite(a):
        def g(u: np.ndarray) -> np.ndarray:
            return np.asarray(f(a + u * u), dtype=float) * 2.0 * u

        upper = math.sqrt(b - a) if math.isfinite(b) else math.inf
        pts = [math.sqrt(p - a) for p in points if a < p < b]
        return quad(g, 0.0, upper, points=pts, rtol=rtol, atol=atol).value
    return quad(f, a, b, points=list(points), rtol=rtol, atol=atol).value  # pragma: no cover


# ----------------------------------------------------------------- compilation
def _outer_integrals(expr: sp.Basic) -> list[sp.Integral]:
    """The Integral nodes of ``expr`` that are not inside another Integral."""
    found: list[sp.Integral] = []

    def walk(e: sp.Basic) -> None:
        if isinstance(e, sp.Integral):
            if e not in found:
                found.append(e)
            return
        for arg in e.args:
            walk(arg)

    walk(expr)
    return found


def compile_expr(expr: sp.Basic, args: Sequence[sp.Symbol], module: str = "mpmath",
                 rtol: float = 1e-12, _depth: int = 0) -> Callable[..., Any]:
    """Compile ``expr`` (possibly containing unevaluated integrals) into a Python function.

    Parameters
    ----------
    expr : sympy expression
    args : sequence of Symbol
        The arguments of the returned function, in order.
    module : {"mpmath", "numpy"}
        ``"mpmath"``: arbitrary precision (the current ``mpmath.mp.dps``), scalar
        arguments; integrals by :func:`quad_mp`. ``"numpy"``: double precision,
        vectorized over array arguments; integrals by :func:`quad_np` with
        relative tolerance ``rtol``.

    Every integral node becomes a call of a Python function of its free symbols,
    compiled recursively, so nested integrals work.
    """
    if module not in ("mpmath", "numpy"):
        from ..errors import ParameterError

        raise ParameterError(f"module must be 'mpmath' or 'numpy' (got {module!r})")
    args = list(args)
    namespace: dict[str, Any] = dict(MP_NAMESPACE if module == "mpmath" else NP_NAMESPACE)
    replacements: dict[sp.Basic, sp.Basic] = {}
    for k, node in enumerate(_outer_integrals(expr)):
        fname = f"_qt_integral_{k}"
        free = sorted(node.free_symbols, key=lambda s: s.name)
        func = _compile_integral(node, free, module, rtol, _depth)
        if free:
            namespace[fname] = func
            replacements[node] = sp.Function(fname)(*free)
        else:
            namespace[fname] = lambda _unused, func=func: func()
            replacements[node] = sp.Function(fname)(sp.Integer(0))
    body = expr.xreplace(replacements)
    modules: list[Any] = [namespace, "mpmath"] if module == "mpmath" else [
        namespace, "scipy", "numpy"]
    return sp.lambdify(args, body, modules=modules)


def _integral_scale(node: sp.Integral) -> float:
    return 1.0


def _compile_integral(node: sp.Integral, free: list[sp.Symbol], module: str,
                      rtol: float, depth: int = 0) -> Callable[..., Any]:
    """A Python function of ``free`` that evaluates the (iterated) integral ``node``."""
    limits = list(node.limits)
    if any(len(lim) != 3 for lim in limits):
        raise NotImplementedError("only definite integrals can be evaluated numerically")
    var, lo, hi = limits[0]
    inner_expr = node.function
    if len(limits) > 1:  # iterated: integrate the first variable innermost
        inner_expr = sp.Integral(node.function, limits[0])
        outer = sp.Integral(inner_expr, *limits[1:])
        return _compile_integral(outer, free, module, rtol, depth)
    integrand = compile_expr(inner_expr, [var, *free], module, rtol, depth + 1)
    lo_f = compile_expr(lo, free, module, rtol, depth + 1)
    hi_f = compile_expr(hi, free, module, rtol, depth + 1)
    floor = 0 if depth == 0 else 1
    scale = _integral_scale(node)

    if module == "mpmath":
        def value_mp(*vals: Any) -> Any:
            a = lo_f(*vals)
            b = hi_f(*vals)
            a = mpmath.mpf(a) if a not in (mpmath.inf, -mpmath.inf) else a
            b = mpmath.mpf(b) if b not in (mpmath.inf, -mpmath.inf) else b
            if a == b:
                return mpmath.mpf(0)
            sign = 1
            if b < a:
                a, b, sign = b, a, -1
            return sign * quad_mp(lambda t: integrand(t, *vals), a, b, scale=scale, floor=floor)

        return value_mp

    def value_scalar(*vals: float) -> float:
        a = float(lo_f(*vals))
        b = float(hi_f(*vals))
        if a == b:
            return 0.0
        sign = 1.0
        if b < a:
            a, b, sign = b, a, -1.0
        if not math.isfinite(a):  # pragma: no cover - not produced by the package
            raise NotImplementedError("integrals from -inf are not supported numerically")
        return sign * quad_np(lambda t: np.broadcast_to(integrand(t, *vals), np.shape(t)),
                              a, b, rtol=rtol, atol=0.0 if depth == 0 else rtol * 1e-3)

    vec = np.vectorize(value_scalar, otypes=[float])

    def value_np(*vals: Any) -> Any:
        out = vec(*vals) if vals else value_scalar()
        return float(out) if np.ndim(out) == 0 else out

    return value_np
