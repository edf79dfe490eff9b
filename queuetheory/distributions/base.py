"""Base class of job-size distributions.

Design (after :mod:`scipy.stats`' ``rv_continuous``): the public methods
validate and broadcast their arguments and return floats for scalar input;
the private ``_``-methods compute and are overridden by subclasses where a
closed form exists. Every private method has a generic fallback by
quadrature, so a subclass needs only ``_pdf`` (or ``_atoms``) to work.

A distribution may have a continuous part with density ``_pdf`` and/or atoms
(point masses) returned by ``_atoms``. Queueing formulas distinguish the load
of jobs *smaller than* x from the load of jobs *at most* x at atoms; the
``strict`` flag of :meth:`SizeDistribution.partial_moment` selects which.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ParameterError, check_positive_integer
from ..integrate import DEFAULT_RTOL, Estimate, IntegrationWarning, apply_rule, quad

__all__ = ["SizeDistribution"]


def _as_array(name: str, x: Any) -> tuple[np.ndarray, bool]:
    arr = np.asarray(x, dtype=float)
    if np.any(np.isnan(arr)):
        raise ParameterError(f"{name} must not contain NaN")
    return arr, arr.ndim == 0


def _out(arr: np.ndarray, scalar: bool):
    return float(arr) if scalar else arr


def exact_number(value: float) -> Any:
    """A sympy number equal to the float ``value``, as simple as possible.

    Integers stay integers, simple decimals become rationals
    (``0.1 -> 1/10``, via :func:`sympy.nsimplify`); anything else becomes the
    exact binary rational of the float, so that no parameter is rounded.
    """
    import sympy

    v = float(value)
    if v.is_integer():
        return sympy.Integer(int(v))
    r = sympy.nsimplify(v, rational=True)
    if isinstance(r, sympy.Rational) and float(r) == v:
        return r
    return sympy.Rational(v)


def invert_cdf(cdf: Callable[[np.ndarray], np.ndarray], q: np.ndarray, lo: float = 0.0,
               hi: float = math.inf) -> np.ndarray:
    """Smallest double ``x`` in ``[lo, hi]`` with ``cdf(x) >= q``, for every entry of ``q``.

    Vectorized bisection on the bit patterns of non-negative doubles (their
    int64 views are ordered like the doubles), so it ends after at most 64
    calls of ``cdf`` on the whole array and is exact to the last bit for any
    non-decreasing ``cdf`` (continuous or with jumps). Requires ``0 <= lo``.
    """
    q = np.asarray(q, dtype=float)
    flat = q.reshape(-1)
    lo_bits = np.array(float(lo) + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0
    hi_bits = np.array(float(hi)).view(np.int64)
    a = np.full(flat.shape, lo_bits - 1, dtype=np.int64)  # invariant: cdf(a) < q (or a < lo)
    b = np.full(flat.shape, hi_bits, dtype=np.int64)  # invariant: cdf(b) >= q (or b = hi)
    active = b - a > 1
    while np.any(active):
        m = a[active] + (b[active] - a[active]) // 2
        ok = np.asarray(cdf(m.view(np.float64)), dtype=float) >= flat[active]
        b[active] = np.where(ok, m, b[active])
        a[active] = np.where(ok, a[active], m)
        active = b - a > 1
    return b.view(np.float64).reshape(q.shape).copy()


def cumulative_quad(g: Callable[[np.ndarray], np.ndarray], lo: float, xs: np.ndarray, *,
                    points: Any = None, rtol: float = 1e-13, limit: int = 200000) -> np.ndarray:
    """``∫_lo^x g(t) dt`` for every finite ``x`` in ``xs`` at once, for ``g >= 0``.

    The interval from ``lo`` to ``max(xs)`` is cut at the sorted distinct
    ``x`` values and at ``points``; all the pieces are refined together by
    adaptive 21-point Gauss–Kronrod (the rule of :func:`queuetheory.integrate.quad`,
    one vectorized call of ``g`` per refinement round), each piece until its
    error estimate is below ``rtol`` times its value (or a negligible fraction
    of the running total). Cumulative sums give the integrals. Entries with
    ``x <= lo`` give 0. Since ``g >= 0`` the relative error of each result is
    at most about ``rtol``.
    """
    xs = np.asarray(xs, dtype=float)
    out = np.zeros(xs.shape)
    inside = xs > lo
    if not np.any(inside):
        return out
    ux = np.unique(xs[inside])
    pts = np.empty(0) if points is None else np.ravel(np.asarray(points, dtype=float))
    pts = pts[(pts > lo) & (pts < ux[-1])]
    edges = np.unique(np.concatenate([[float(lo)], pts, ux]))
    nseg = edges.size - 1
    seg = np.arange(nseg)
    a, b = edges[:-1], edges[1:]
    res, err = apply_rule(g, a, b)
    res, err = res[:, 0], err[:, 0]
    eps = np.finfo(float).eps
    while True:
        val = np.bincount(seg, weights=res, minlength=nseg)
        e = np.bincount(seg, weights=err, minlength=nseg)
        running = np.cumsum(np.abs(val))
        tol = rtol * np.maximum(np.abs(val), 1e-6 * running)
        bad = e > tol
        if not np.any(bad):
            break
        cnt = np.bincount(seg, minlength=nseg)
        norm = err / np.where(tol[seg] > 0, tol[seg], np.inf)
        split = bad[seg] & (norm * cnt[seg] > 0.5)
        worst = np.zeros(nseg)
        np.maximum.at(worst, seg, np.where(bad[seg], norm, 0.0))
        split |= bad[seg] & (norm == worst[seg])
        split &= (b - a) > 64 * eps * np.maximum(np.abs(a), np.abs(b))
        if not np.any(split) or a.size + int(split.sum()) > limit:
            worst_rel = float(np.max(e / np.maximum(tol, 1e-300))) * rtol
            warnings.warn(
                f"cumulative_quad stopped before reaching rtol={rtol:g} "
                f"(worst relative error estimate {worst_rel:.3g})",
                IntegrationWarning, stacklevel=2)
            break
        mid = 0.5 * (a[split] + b[split])
        na = np.concatenate([a[split], mid])
        nb = np.concatenate([mid, b[split]])
        nseg_ids = np.concatenate([seg[split], seg[split]])
        r2, e2 = apply_rule(g, na, nb)
        keep = ~split
        a = np.concatenate([a[keep], na])
        b = np.concatenate([b[keep], nb])
        seg = np.concatenate([seg[keep], nseg_ids])
        res = np.concatenate([res[keep], r2[:, 0]])
        err = np.concatenate([err[keep], e2[:, 0]])
    val = np.bincount(seg, weights=res, minlength=nseg)
    cum = np.concatenate([[0.0], np.cumsum(val)])
    out[inside] = cum[np.searchsorted(edges, xs[inside])]
    return out


class SizeDistribution:
    """A non-negative job-size distribution S.

    Subclasses implement ``_pdf`` (density of the continuous part) and/or
    ``_atoms`` (point masses), and override any other private method with a
    closed form. Public methods:

    ``pdf, cdf, sf, ppf, pmf, mean, var, moment, partial_moment,
    limited_moment, expect, sample, symbolic``.
    """

    #: Human-readable name used in reprs, tables and the CLI.
    name: str = "distribution"

    # ------------------------------------------------------------------ public
    def pdf(self, x: Any) -> Any:
        """Density of the continuous part of S at ``x`` (0 outside the support)."""
        arr, scalar = _as_array("x", x)
        out = np.zeros_like(arr, dtype=float)
        lo, hi = self.support
        inside = (arr >= lo) & (arr <= hi)
        if np.any(inside):
            out[inside] = self._pdf(arr[inside])
        return _out(out, scalar)

    def pmf(self, x: Any) -> Any:
        """Probability P(S = x) of an atom at ``x`` (0 where S has no atom)."""
        arr, scalar = _as_array("x", x)
        values, probs = self.atoms
        out = np.zeros_like(arr, dtype=float)
        if values.size:
            idx = np.searchsorted(values, arr)
            idx_c = np.clip(idx, 0, values.size - 1)
            hit = values[idx_c] == arr
            out[hit] = probs[idx_c[hit]]
        return _out(out, scalar)

    def cdf(self, x: Any) -> Any:
        """P(S <= x)."""
        arr, scalar = _as_array("x", x)
        return _out(np.clip(self._cdf(arr), 0.0, 1.0), scalar)

    def sf(self, x: Any) -> Any:
        """Survival function P(S > x)."""
        arr, scalar = _as_array("x", x)
        return _out(np.clip(self._sf(arr), 0.0, 1.0), scalar)

    def ppf(self, q: Any) -> Any:
        """Quantile function: the smallest x with P(S <= x) >= q."""
        arr, scalar = _as_array("q", q)
        if np.any((arr < 0) | (arr > 1)):
            raise ParameterError("q must lie in [0, 1]")
        return _out(self._ppf(arr), scalar)

    def mean(self) -> float:
        """E[S] (may be ``inf``)."""
        return self.moment(1)

    def var(self) -> float:
        """Var[S] (may be ``inf``)."""
        m2 = self.moment(2)
        if math.isinf(m2):
            return math.inf
        return m2 - self.moment(1) ** 2

    def moment(self, k: int) -> float:
        """Raw moment E[S^k] for an integer ``k >= 1``; ``inf`` when it diverges."""
        k = check_positive_integer("k", k)
        return float(self._moment(k))

    def partial_moment(self, k: int, x: Any, *, strict: bool = False) -> Any:
        """E[S^k 1(S <= x)], or E[S^k 1(S < x)] with ``strict=True``.

        The two differ only at atoms of S. ``k`` is an integer >= 0.
        """
        if isinstance(k, bool) or int(k) != k or k < 0:
            raise ParameterError(f"k must be an integer >= 0 (got {k!r})")
        arr, scalar = _as_array("x", x)
        return _out(np.asarray(self._partial_moment(int(k), arr, strict), dtype=float), scalar)

    def limited_moment(self, k: int, x: Any) -> Any:
        """E[min(S, x)^k] = E[S^k 1(S <= x)] + x^k P(S > x)."""
        arr, scalar = _as_array("x", x)
        tail = self.sf(arr)
        with np.errstate(invalid="ignore", over="ignore"):
            beyond = np.where(tail > 0, np.where(arr > 0, arr, 0.0) ** k * tail, 0.0)
        out = self.partial_moment(k, arr) + beyond
        return _out(np.asarray(out, dtype=float), scalar)

    def expect(self, func: Callable[[np.ndarray], np.ndarray], *, rtol: float = DEFAULT_RTOL,
               points: Any = None) -> Estimate:
        """E[func(S)] with an error estimate; ``func`` must be vectorized.

        Integrates ``func * pdf`` over the continuous part (split at the
        distribution's breakpoints and at ``points``) and adds the atoms.
        For heavy (power-law) tails (``_heavy_tail()`` true) the range beyond
        ``c = max(scale, breakpoints)`` is integrated in ``u = ln(t/c)``, where a
        tail :math:`t^{-\alpha}` becomes the exponential :math:`e^{-\alpha u}`
        that the quadrature's tail map resolves.
        """
        total = Estimate(0.0, 0.0)
        values, probs = self.atoms
        if values.size:
            total = total + float(np.dot(probs, func(values)))
        if self._has_continuous_part():
            lo, hi = self.support
            pts = np.concatenate([self.breakpoints(), np.ravel(points) if points is not None
                                  else np.empty(0)])

            def g(t: np.ndarray) -> np.ndarray:
                return func(t) * self._pdf(t)

            if not (math.isinf(hi) and self._heavy_tail()):
                return total + quad(g, lo, hi, points=pts, rtol=rtol, tail_scale=self._scale())
            finite_pts = pts[np.isfinite(pts) & (pts > lo)]
            c = max(lo, self._scale(), float(finite_pts.max()) if finite_pts.size else lo)
            if c <= 0:
                c = 1.0
            if c > lo:
                total = total + quad(g, lo, c, points=pts, rtol=rtol)

            def h(u: np.ndarray) -> np.ndarray:
                t = c * np.exp(u)
                with np.errstate(invalid="ignore", over="ignore"):
                    out = np.asarray(func(t), dtype=float) * self._t_pdf(t)
                return np.where(np.isinf(t), 0.0, out)

            with np.errstate(over="ignore"):
                total = total + quad(h, 0.0, math.inf, rtol=rtol, tail_scale=1.0)
            # t overflows beyond u_max: if the log-integrand has not decayed there, say so
            u_max = math.log(np.finfo(float).max / c) - 1.0
            edge = abs(float(h(np.array([u_max]))[0]))
            if edge > rtol * abs(total.value):
                warnings.warn(
                    f"E[func(S)] misses the part of the tail beyond the float range "
                    f"(integrand of ln S still {edge:.3g} there); the result is a lower bound",
                    IntegrationWarning, stacklevel=2)
                total = total + Estimate(0.0, edge)
        return total

    def sample(self, rng: np.random.Generator | int | None, size: int | tuple = 1) -> np.ndarray:
        """Draw ``size`` i.i.d. sizes using ``rng`` (a Generator, or a seed)."""
        rng = np.random.default_rng(rng)
        return np.asarray(self._sample(rng, size), dtype=float)

    def symbolic(self, x: Any = None) -> Any:
        """The density (or, for atoms, a sympy ``Piecewise``/sum) as a sympy expression in ``x``.

        Raises :class:`NotImplementedError` where no symbolic form exists.
        """
        import sympy

        if x is None:
            x = sympy.Symbol("x", positive=True)
        expr = self._symbolic_pdf(x)
        if expr is None:
            raise NotImplementedError(f"{self!r} has no symbolic density")
        return expr

    @property
    def support(self) -> tuple[float, float]:
        """(low, high) of the support; ``high`` may be ``inf``."""
        return self._support()

    @property
    def atoms(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted atom locations and their probabilities (empty arrays if none)."""
        v, p = self._atoms()
        return np.asarray(v, dtype=float), np.asarray(p, dtype=float)

    @property
    def has_atoms(self) -> bool:
        """True if S has at least one point mass."""
        return self.atoms[0].size > 0

    @property
    def has_continuous_part(self) -> bool:
        """True if S has a density part (False for purely atomic laws such as
        :class:`Discrete`).

        >>> import queuetheory as qt
        >>> qt.Exponential(mean=1.0).has_continuous_part, qt.Deterministic(2.0).has_continuous_part
        (True, False)
        """
        return bool(self._has_continuous_part())

    @property
    def scale(self) -> float:
        """A characteristic length of S (the median by default, 1 if that is not positive
        and finite); quadrature uses it to map the infinite tail.

        >>> import queuetheory as qt
        >>> qt.Exponential(mean=2.0).scale > 0
        True
        """
        return float(self._scale())

    def breakpoints(self) -> np.ndarray:
        """Points inside the support where the density is not smooth (used by quadrature)."""
        return np.asarray(self._breakpoints(), dtype=float)

    # ----------------------------------------------------------------- private
    def _support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def _atoms(self) -> tuple[np.ndarray, np.ndarray]:
        return np.empty(0), np.empty(0)

    def _has_continuous_part(self) -> bool:
        return type(self)._pdf is not SizeDistribution._pdf

    def _pdf(self, x: np.ndarray) -> np.ndarray:
        return np.zeros_like(x)

    def _breakpoints(self) -> np.ndarray:
        return np.empty(0)

    def _heavy_tail(self) -> bool:
        """True if the density decays like a power, so that :meth:`expect` integrates in log t."""
        return False

    def _t_pdf(self, t: np.ndarray) -> np.ndarray:
        """``t * pdf(t)``, the density of ln S; override to avoid underflow far in a heavy tail."""
        return t * self._pdf(t)

    def _scale(self) -> float:
        """A characteristic length (used to map the infinite tail in quadrature)."""
        try:
            m = float(self._ppf(np.asarray(0.5)))
        except Exception:  # pragma: no cover - defensive
            m = 1.0
        return m if np.isfinite(m) and m > 0 else 1.0

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        return self._partial_moment(0, x, False)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        return 1.0 - self._cdf(x)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        lo, hi = self._support()
        q = np.asarray(q, dtype=float)
        inner = (q > 0) & (q < 1)
        top = hi
        if math.isinf(hi) and np.any(inner):
            # a finite bracket first, so that the cdf is never asked about absurd sizes
            qmax = float(np.max(q[inner]))
            top = max(1.0, 2.0 * lo)
            while float(self._cdf(np.asarray(top))) < qmax and top < 1e300:
                top *= 4.0
        out = invert_cdf(lambda t: self._cdf(t), np.where(inner, q, 0.0), lo, top)
        return np.where(q <= 0, lo, np.where(q >= 1, hi, out))

    def _moment(self, k: int) -> float:
        est = self.expect(lambda t: t**k)
        return est.value

    def _partial_moment(self, k: int, x: np.ndarray, strict: bool) -> np.ndarray:
        """Generic E[S^k 1(S <= x)]: atoms summed, continuous part by quadrature.

        All ``x`` are integrated together by :func:`cumulative_quad`. Where
        ``x = inf`` (beyond an infinite support) the result is the full moment
        ``_moment(k)`` (so a subclass must not define ``_moment`` through this
        fallback at ``x = inf``).
        """
        x = np.asarray(x, dtype=float)
        out = np.zeros(x.shape)
        values, probs = self.atoms
        if values.size:
            with np.errstate(over="ignore"):
                weights = probs * values**k
            cum = np.concatenate([[0.0], np.cumsum(weights)])
            idx = np.searchsorted(values, x, side="left" if strict else "right")
            out += cum[idx]
        if self._has_continuous_part():
            lo, hi = self._support()
            whole = np.isinf(x) & (x > 0) & math.isinf(hi)
            finite = ~whole
            if np.any(finite):
                out[finite] += cumulative_quad(lambda t: t**k * self._pdf(t), lo,
                                               np.minimum(x[finite], hi),
                                               points=self.breakpoints())
            if np.any(whole):
                out[whole] = self._moment(k) if k >= 1 else 1.0
        return out

    def _sample(self, rng: np.random.Generator, size) -> np.ndarray:
        u = rng.random(size)
        return self._ppf(u)

    def _symbolic_pdf(self, x: Any) -> Any:
        return None

    # ------------------------------------------------------------------ dunder
    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({params})"

    def _params(self) -> dict:
        return {}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))
