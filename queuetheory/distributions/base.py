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
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import optimize

from ..errors import ParameterError, check_positive_integer
from ..integrate import DEFAULT_RTOL, Estimate, quad

__all__ = ["SizeDistribution"]


def _as_array(name: str, x: Any) -> tuple[np.ndarray, bool]:
    arr = np.asarray(x, dtype=float)
    if np.any(np.isnan(arr)):
        raise ParameterError(f"{name} must not contain NaN")
    return arr, arr.ndim == 0


def _out(arr: np.ndarray, scalar: bool):
    return float(arr) if scalar else arr


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
        out = self.partial_moment(k, arr) + np.where(arr > 0, arr, 0.0) ** k * self.sf(arr)
        return _out(np.asarray(out, dtype=float), scalar)

    def expect(self, func: Callable[[np.ndarray], np.ndarray], *, rtol: float = DEFAULT_RTOL,
               points: Any = None) -> Estimate:
        """E[func(S)] with an error estimate; ``func`` must be vectorized.

        Integrates ``func * pdf`` over the continuous part (split at the
        distribution's breakpoints and at ``points``) and adds the atoms.
        """
        total = Estimate(0.0, 0.0)
        values, probs = self.atoms
        if values.size:
            total = total + float(np.dot(probs, func(values)))
        if self._has_continuous_part():
            lo, hi = self.support
            pts = np.concatenate([self.breakpoints(), np.ravel(points) if points is not None
                                  else np.empty(0)])
            total = total + quad(lambda t: func(t) * self._pdf(t), lo, hi, points=pts,
                                 rtol=rtol, tail_scale=self._scale())
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
        flat = np.atleast_1d(q).astype(float)
        out = np.empty_like(flat)
        for i, qi in enumerate(flat):
            if qi <= 0:
                out[i] = lo
                continue
            if qi >= 1:
                out[i] = hi
                continue
            b = hi if np.isfinite(hi) else max(1.0, lo + 1.0)
            while not np.isfinite(hi) and self._cdf(np.asarray(b)) < qi:
                b *= 2.0
            out[i] = optimize.brentq(lambda t, qi=qi: float(self._cdf(np.asarray(t))) - qi, lo, b,
                                     xtol=1e-14, rtol=4 * np.finfo(float).eps)
        return out.reshape(np.shape(q))

    def _moment(self, k: int) -> float:
        est = self.expect(lambda t: t**k)
        return est.value

    def _partial_moment(self, k: int, x: np.ndarray, strict: bool) -> np.ndarray:
        """Generic E[S^k 1(S <= x)]: atoms summed, continuous part by quadrature."""
        x = np.asarray(x, dtype=float)
        out = np.zeros(x.shape)
        values, probs = self.atoms
        if values.size:
            weights = probs * values**k
            cum = np.concatenate([[0.0], np.cumsum(weights)])
            idx = np.searchsorted(values, x, side="left" if strict else "right")
            out += cum[idx]
        if self._has_continuous_part():
            lo, hi = self._support()
            flat = out.reshape(-1)
            xs = x.reshape(-1)
            bps = self.breakpoints()
            for i, xi in enumerate(xs):
                upper = min(xi, hi)
                if upper > lo:
                    flat[i] += quad(lambda t: t**k * self._pdf(t), lo, upper,
                                    points=bps, rtol=1e-13, tail_scale=self._scale()).value
            out = flat.reshape(x.shape)
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
