"""Wrap any frozen ``scipy.stats`` continuous distribution as a size distribution."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..errors import IntegrationError, ParameterError
from ..integrate import IntegrationWarning, quad
from .base import SizeDistribution

__all__ = ["ScipyDistribution"]


class ScipyDistribution(SizeDistribution):
    r"""A frozen ``scipy.stats`` continuous distribution used as the size law.

    ``pdf``, ``cdf``, ``sf``, ``ppf`` and sampling are scipy's. Partial
    moments :math:`E[S^k 1(S \le x)]` (k >= 1) are computed by the batched
    adaptive Gauss–Kronrod fallback of the base class (all ``x`` at once,
    relative accuracy about 1e-13); ``k = 0`` is scipy's CDF.

    Raw moments :math:`E[S^k]` are integrated, never taken from scipy's
    ``moment`` (which silently returns wrong finite values for divergent
    moments, e.g. ``scipy.stats.pareto(1.5).moment(2)``): the integral is split
    at the median m, and beyond it rewritten as
    :math:`\int_0^\infty m^{k+1} e^{(k+1)u} f(m e^u)\,du`, which turns power
    tails :math:`x^{-\alpha-1}` into exponentials :math:`e^{(k-\alpha)u}`. An
    exact power tail (the same local index over the quantile ranges
    (1e-6, 1e-10) and (1e-10, 1e-14), within 1%) with index <= k is ``inf``
    without integrating. If
    that integral does not converge, the tail index α (estimated from the
    quantiles at 1e-10 and 1e-14, also used to scale the quadrature's tail
    map) decides: ``inf`` is returned when α <= k + 0.5 and
    :class:`~queuetheory.errors.IntegrationError` is raised otherwise.
    Moments are cached.

    Parameters
    ----------
    frozen : scipy.stats frozen continuous distribution
        E.g. ``scipy.stats.gamma(2.5, scale=0.4)``. Its support must lie in
        ``[0, inf)``. Discrete scipy laws are rejected (use :class:`Discrete`).

    Notes
    -----
    There is no symbolic form: :meth:`symbolic` raises ``NotImplementedError``.
    Sampling calls ``frozen.rvs(size=..., random_state=rng)``, so it is
    reproducible with a seed or Generator.

    Examples
    --------
    >>> import scipy.stats
    >>> from queuetheory import ScipyDistribution
    >>> d = ScipyDistribution(scipy.stats.gamma(2.0, scale=0.5))
    >>> round(d.mean(), 12), round(d.moment(2), 12)  # k theta, k (k+1) theta^2
    (1.0, 1.5)
    >>> round(d.partial_moment(1, 1.0), 12)  # 1 - 5 e^{-2}
    0.323323583817
    """

    name = "scipy"

    def __init__(self, frozen: Any) -> None:
        import scipy.stats

        dist = getattr(frozen, "dist", None)
        if isinstance(frozen, (scipy.stats.rv_continuous, scipy.stats.rv_discrete)):
            raise ParameterError(
                "frozen must be a *frozen* scipy.stats distribution: call it with its "
                "parameters first, e.g. scipy.stats.gamma(2.5, scale=0.4)")
        if isinstance(dist, scipy.stats.rv_discrete):
            raise ParameterError(
                "frozen must be a continuous scipy.stats distribution; wrap discrete laws "
                "with queuetheory.Discrete(values, probs)")
        if not isinstance(dist, scipy.stats.rv_continuous):
            raise ParameterError(
                f"frozen must be a frozen scipy.stats continuous distribution "
                f"(got {type(frozen).__name__})")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = (float(v) for v in frozen.support())
        if math.isnan(lo) or math.isnan(hi):
            raise ParameterError(
                f"frozen has invalid parameters (scipy reports an undefined support for "
                f"{self._describe(frozen)})")
        if lo < 0:
            raise ParameterError(
                f"frozen must have a support within [0, inf) (sizes are >= 0; "
                f"{self._describe(frozen)} has support [{lo!r}, {hi!r}])")
        if not hi > lo:
            raise ParameterError(f"frozen must have a support of positive length (got "
                                 f"[{lo!r}, {hi!r}])")
        self.frozen = frozen
        self._lo = lo + 0.0
        self._hi = hi
        self._moments: dict[int, float] = {}

    @staticmethod
    def _describe(frozen: Any) -> str:
        args = [repr(a) for a in frozen.args] + [f"{k}={v!r}" for k, v in frozen.kwds.items()]
        return f"{frozen.dist.name}({', '.join(args)})"

    def __repr__(self) -> str:
        return f"ScipyDistribution({self._describe(self.frozen)})"

    def _support(self):
        return (self._lo, self._hi)

    def _pdf(self, x):
        return np.asarray(self.frozen.pdf(x), dtype=float)

    def _cdf(self, x):
        return np.asarray(self.frozen.cdf(x), dtype=float)

    def _sf(self, x):
        return np.asarray(self.frozen.sf(x), dtype=float)

    def _ppf(self, q):
        """scipy's quantile, polished to agree with this law's cdf.

        scipy's ``ppf`` and ``cdf`` are computed independently and may disagree by a few
        ulps (gamma(1.5): cdf(ppf(q)) = q − 2.4e-15). One Newton step on F(x) = q is kept
        where it helps; then x is moved up by single ulps (at most 8) while F(x) < q, so
        that x is the generalized inverse inf{x : F(x) >= q} to rounding.
        """
        q = np.asarray(q, dtype=float)
        x = np.asarray(self.frozen.ppf(q), dtype=float)
        inner = np.isfinite(x) & (q > 0) & (q < 1)
        if not np.any(inner):
            return x
        xi, qi = x[inner], q[inner]
        with np.errstate(divide="ignore", invalid="ignore"):
            f0 = self._cdf(xi) - qi
            dens = self._pdf(xi)
            step = np.where(dens > 0, f0 / dens, 0.0)
            x1 = np.clip(xi - np.where(np.isfinite(step), step, 0.0), self._lo, self._hi)
        better = np.abs(self._cdf(x1) - qi) < np.abs(f0)
        xi = np.where(better, x1, xi)
        for _ in range(8):
            low = self._cdf(xi) < qi
            if not np.any(low):
                break
            xi = np.where(low, np.nextafter(xi, np.inf), xi)
        out = x.copy()
        out[inner] = xi
        return out

    def _sample(self, rng, size):
        return np.asarray(self.frozen.rvs(size=size, random_state=rng), dtype=float)

    def _scale(self):
        m = float(self.frozen.median())
        return m if math.isfinite(m) and m > 0 else 1.0

    def _partial_moment(self, k, x, strict):
        if k == 0:
            return self._cdf(np.asarray(x, dtype=float))
        return super()._partial_moment(k, x, strict)

    def _heavy_tail(self) -> bool:
        return self._tail_index() < 20.0

    def _t_pdf(self, t):
        t = np.asarray(t, dtype=float)
        with np.errstate(divide="ignore"):
            return np.exp(np.log(t) + np.asarray(self.frozen.logpdf(t), dtype=float))

    def _tail_index(self) -> float:
        """Estimate α from P(S > x) ≈ C x^(-α) between the quantiles 1 - 1e-10 and 1 - 1e-14."""
        return self._tail_indices()[1]

    def _tail_indices(self) -> tuple[float, float]:
        """Local tail indices -Δln P(S > x)/Δln x over the quantiles (1e-6, 1e-10) and
        (1e-10, 1e-14); equal for an exact power tail, increasing for lighter tails."""
        if not hasattr(self, "_tail_cache"):
            if math.isfinite(self._hi):
                self._tail_cache = (math.inf, math.inf)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    xs = [float(v) for v in self.frozen.isf([1e-6, 1e-10, 1e-14])]

                def index(a: float, b: float) -> float:
                    if not (math.isfinite(a) and a > 0):
                        return math.inf
                    if math.isinf(b):
                        return 0.0
                    return math.log(1e4) / math.log(b / a) if b > a else math.inf

                self._tail_cache = (index(xs[0], xs[1]), index(xs[1], xs[2]))
        return self._tail_cache

    def _moment(self, k):
        if k not in self._moments:
            self._moments[k] = self._compute_moment(k)
        return self._moments[k]

    def _compute_moment(self, k: int) -> float:
        lo, hi = self._lo, self._hi
        rtol = 1e-13
        mid, far = self._tail_indices()
        if math.isfinite(far) and abs(mid - far) <= 0.01 * far and far <= k + 1e-3:
            return math.inf  # an exact power tail x^(-alpha) with alpha <= k: divergent
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", IntegrationWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                if math.isfinite(hi):
                    return quad(lambda t: t**k * self._pdf(t), lo, hi, rtol=rtol).value
                m = float(self.frozen.median())
                if not (math.isfinite(m) and m > lo):
                    m = lo + 1.0
                body = quad(lambda t: t**k * self._pdf(t), lo, m, rtol=rtol)

                log_m = math.log(m)

                def tail(u: np.ndarray) -> np.ndarray:
                    # m^{k+1} e^{(k+1)u} f(m e^u), in log space against overflow
                    x = m * np.exp(u)
                    log_f = np.asarray(self.frozen.logpdf(x), dtype=float)
                    out = np.exp((k + 1) * (log_m + u) + log_f)
                    return np.where(np.isinf(x) | np.isneginf(log_f), 0.0, out)

                # the tail decays like exp(-(alpha - k) u): match the map's length scale
                alpha = self._tail_index()
                length = 1.0 / (alpha - k) if alpha > k + 1e-3 else 1.0
                rest = quad(tail, 0.0, math.inf, rtol=rtol, tail_scale=min(max(length, 1.0), 1e3))
                total = body.value + rest.value
                if math.isfinite(total):
                    return total
        except (IntegrationWarning, IntegrationError, FloatingPointError, OverflowError):
            pass
        alpha = self._tail_index()
        if alpha <= k + 0.5:
            return math.inf
        raise IntegrationError(
            f"E[S^{k}] of {self!r} could not be integrated to rtol={rtol:g} "
            f"(estimated tail index {alpha:.3g} > {k}, so it is probably finite)")
