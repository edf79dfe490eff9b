"""Continuous size distributions with closed-form building blocks.

Every class overrides the quadrature fallbacks of
:class:`~queuetheory.distributions.base.SizeDistribution` with closed forms:
cdf, survival function, quantile function, raw moments and partial moments
:math:`E[S^k 1(S \\le x)] = \\int_0^x t^k\\,dF(t)` (notation of formulas.md §1;
the building blocks of §2.5–2.6). Partial moments of the gamma-type laws use
the regularized lower incomplete gamma function :math:`P(a, z)`
(:func:`scipy.special.gammainc`), the lognormal one the normal CDF, and the
Pareto-type ones elementary power/log forms.

Moments that diverge are returned as ``math.inf`` (e.g. Pareto with
``shape <= k``) without integrating.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from ..errors import (
    ParameterError,
    check_finite,
    check_nonnegative,
    check_positive,
    check_positive_integer,
    check_probability_vector,
)
from .base import SizeDistribution, exact_number, invert_cdf

__all__ = [
    "Exponential",
    "Erlang",
    "HyperExponential",
    "Weibull",
    "Lognormal",
    "Pareto",
    "BoundedPareto",
    "Uniform",
]


def _expm1_ratio(c: float, log_ratio: np.ndarray) -> np.ndarray:
    """``(exp(c L) - 1) / c``, equal to ``L`` at ``c = 0`` (accurate for small ``c L``)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if c == 0:
            return np.asarray(log_ratio, dtype=float).copy()
        return np.expm1(c * log_ratio) / c


def _gamma_partial(log_coef: float, a: float, z: np.ndarray,
                   coef: float | None = None) -> np.ndarray:
    """``C * P(a, z)`` with ``C = exp(log_coef)`` (or ``coef`` if given and finite).

    Computed in log space when the factor overflows but the product may not.
    """
    if coef is None or not math.isfinite(coef):
        coef = math.exp(log_coef) if log_coef < 700 else math.inf
    p = special.gammainc(a, z)
    if math.isfinite(coef):
        return coef * p
    with np.errstate(divide="ignore"):
        return np.exp(log_coef + np.log(p))


class Exponential(SizeDistribution):
    r"""Exponential sizes with the given mean.

    Density :math:`f(x) = e^{-x/m}/m`. Closed forms:
    :math:`E[S^k 1(S \le x)] = m^k\,\gamma(k + 1, x/m)` (lower incomplete gamma),
    :math:`E[S^k] = k!\,m^k`.

    >>> from queuetheory import Exponential
    >>> d = Exponential(mean=2.0)
    >>> d.mean(), d.moment(2)
    (2.0, 8.0)
    >>> round(d.partial_moment(1, 2.0), 12)  # 2 (1 - 2/e)
    0.528482235314
    """

    name = "exponential"

    def __init__(self, mean: float = 1.0) -> None:
        self._mean = check_positive("mean", mean)

    def _params(self) -> dict:
        return {"mean": self._mean}

    def _pdf(self, x):
        return np.exp(-x / self._mean) / self._mean

    def _cdf(self, x):
        return -np.expm1(-np.maximum(x, 0.0) / self._mean)

    def _sf(self, x):
        return np.exp(-np.maximum(x, 0.0) / self._mean)

    def _ppf(self, q):
        with np.errstate(divide="ignore"):
            return -self._mean * np.log1p(-q)

    def _moment(self, k):
        return math.factorial(k) * self._mean**k

    def _partial_moment(self, k, x, strict):
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return self._mean**k * math.factorial(k) * special.gammainc(k + 1, x / self._mean)

    def _sample(self, rng, size):
        return rng.exponential(self._mean, size)

    def _scale(self):
        return self._mean

    def _symbolic_pdf(self, x):
        import sympy

        m = sympy.nsimplify(self._mean)
        return sympy.exp(-x / m) / m


class Erlang(SizeDistribution):
    r"""Erlang sizes: the sum of ``k`` i.i.d. exponential phases, total mean ``mean``.

    With phase mean :math:`\theta = m/k`:
    :math:`f(x) = x^{k-1} e^{-x/\theta} / (\theta^k (k-1)!)`,
    :math:`F(x) = P(k, x/\theta)`,
    :math:`E[S^j] = \theta^j\,\Gamma(k+j)/\Gamma(k)` and
    :math:`E[S^j 1(S \le x)] = \theta^j\,\Gamma(k+j)/\Gamma(k)\;P(k+j, x/\theta)`,
    where :math:`P` is the regularized lower incomplete gamma function.
    The squared coefficient of variation is :math:`1/k`.

    Parameters
    ----------
    k : int
        Number of phases, an integer >= 1 (``k = 1`` is the exponential law).
    mean : float
        E[S] > 0.

    Examples
    --------
    >>> from queuetheory import Erlang
    >>> d = Erlang(k=2, mean=1.0)
    >>> d.mean(), d.moment(2)  # E[S^2] = (1/2)^2 * 2 * 3
    (1.0, 1.5)
    >>> round(d.cdf(1.0), 12)  # 1 - 3 e^{-2}
    0.593994150290
    """

    name = "erlang"

    def __init__(self, k: int = 2, mean: float = 1.0) -> None:
        self._k = check_positive_integer("k", k)
        self._mean = check_positive("mean", mean)
        self._theta = self._mean / self._k

    def _params(self) -> dict:
        return {"k": self._k, "mean": self._mean}

    def _pdf(self, x):
        z = x / self._theta
        with np.errstate(divide="ignore", invalid="ignore"):
            log_f = special.xlogy(self._k - 1, z) - z - special.gammaln(self._k)
            return np.exp(log_f) / self._theta

    def _cdf(self, x):
        return special.gammainc(self._k, np.maximum(x, 0.0) / self._theta)

    def _sf(self, x):
        return special.gammaincc(self._k, np.maximum(x, 0.0) / self._theta)

    def _ppf(self, q):
        return self._theta * special.gammaincinv(self._k, q)

    def _log_coef(self, j: int) -> float:
        return j * math.log(self._theta) + math.lgamma(self._k + j) - math.lgamma(self._k)

    def _moment(self, k):
        val = self._theta**k * special.poch(self._k, k)
        return float(val) if math.isfinite(val) else math.exp(self._log_coef(k))

    def _partial_moment(self, k, x, strict):
        z = np.maximum(np.asarray(x, dtype=float), 0.0) / self._theta
        coef = self._theta**k * special.poch(self._k, k)
        if math.isfinite(coef):
            return coef * special.gammainc(self._k + k, z)
        return _gamma_partial(self._log_coef(k), self._k + k, z)

    def _sample(self, rng, size):
        return rng.gamma(self._k, self._theta, size)

    def _scale(self):
        return self._mean

    def _symbolic_pdf(self, x):
        import sympy

        k = sympy.Integer(self._k)
        rate = k / exact_number(self._mean)
        return rate**k * x ** (k - 1) * sympy.exp(-rate * x) / sympy.factorial(k - 1)


class HyperExponential(SizeDistribution):
    r"""Mixture of exponentials: with probability ``probs[i]`` the size is Exp(mean ``means[i]``).

    :math:`\bar F(x) = \sum_i p_i e^{-x/m_i}`,
    :math:`E[S^k] = k! \sum_i p_i m_i^k`,
    :math:`E[S^k 1(S \le x)] = k! \sum_i p_i m_i^k\, P(k+1, x/m_i)`.
    The quantile function has no closed form and is found by exact bisection.

    Parameters
    ----------
    probs : sequence of float
        Phase probabilities (>= 0, summing to 1).
    means : sequence of float
        Phase means (> 0), same length as ``probs``.

    Examples
    --------
    >>> from queuetheory import HyperExponential
    >>> d = HyperExponential(probs=[0.5, 0.5], means=[0.5, 1.5])
    >>> d.mean(), d.moment(2)  # 2 * (0.5 * 0.25 + 0.5 * 2.25)
    (1.0, 2.5)
    >>> h = HyperExponential.from_mean_cv2(mean=1.0, cv2=4.0)
    >>> round(h.mean(), 12), round(h.var() / h.mean() ** 2, 12)
    (1.0, 4.0)
    """

    name = "hyperexponential"

    def __init__(self, probs: Any, means: Any) -> None:
        p = check_probability_vector("probs", probs)
        m = np.asarray(means, dtype=float)
        if m.ndim != 1 or m.size != p.size:
            raise ParameterError(
                f"means must be a 1-D sequence with one mean per probability "
                f"(got {m.size} means for {p.size} probabilities)")
        if not np.all(np.isfinite(m)) or np.any(m <= 0):
            raise ParameterError(f"means must be finite and > 0 (got {m.tolist()})")
        self._p = p
        self._m = m

    @classmethod
    def from_mean_cv2(cls, mean: float, cv2: float) -> HyperExponential:
        r"""Two-phase hyperexponential with *balanced means* and the given mean and SCV.

        Balanced means (:math:`p_1 m_1 = p_2 m_2 = E[S]/2`) with
        :math:`p_{1,2} = \tfrac12\big(1 \pm \sqrt{(c^2-1)/(c^2+1)}\big)`,
        :math:`m_i = E[S]/(2p_i)`; requires the squared coefficient of
        variation :math:`c^2 \ge 1` (``cv2 = 1`` is the exponential law).
        """
        mean = check_positive("mean", mean)
        cv2 = check_finite("cv2", cv2)
        if cv2 < 1:
            raise ParameterError(f"cv2 must be >= 1 for a hyperexponential law (got {cv2!r})")
        r = math.sqrt((cv2 - 1.0) / (cv2 + 1.0))
        p1, p2 = 0.5 * (1.0 + r), 0.5 * (1.0 - r)
        return cls([p1, p2], [mean / (2 * p1), mean / (2 * p2)])

    def _params(self) -> dict:
        return {"probs": self._p.tolist(), "means": self._m.tolist()}

    def _pdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.exp(-x[..., None] / self._m) @ (self._p / self._m)

    def _cdf(self, x):
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return -np.expm1(-x[..., None] / self._m) @ self._p

    def _sf(self, x):
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return np.exp(-x[..., None] / self._m) @ self._p

    def _ppf(self, q):
        q = np.asarray(q, dtype=float)
        return np.where(q >= 1, math.inf, invert_cdf(self._cdf, np.minimum(q, 1.0)))

    def _moment(self, k):
        return float(math.factorial(k) * np.dot(self._p, self._m**k))

    def _partial_moment(self, k, x, strict):
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        inc = special.gammainc(k + 1, x[..., None] / self._m)
        return math.factorial(k) * (inc @ (self._p * self._m**k))

    def _sample(self, rng, size):
        phase = rng.choice(self._p.size, size=size, p=self._p)
        return self._m[phase] * rng.standard_exponential(size)

    def _scale(self):
        return float(np.dot(self._p, self._m))

    def _symbolic_pdf(self, x):
        import sympy

        return sympy.Add(*[exact_number(p) / exact_number(m) * sympy.exp(-x / exact_number(m))
                           for p, m in zip(self._p, self._m)])


class Weibull(SizeDistribution):
    r"""Weibull sizes, :math:`F(x) = 1 - \exp(-(x/\lambda)^c)` with shape c and scale λ.

    :math:`f(x) = (c/\lambda)(x/\lambda)^{c-1} e^{-(x/\lambda)^c}`,
    :math:`E[S^k] = \lambda^k\,\Gamma(1 + k/c)`,
    :math:`E[S^k 1(S \le x)] = \lambda^k\,\Gamma(1 + k/c)\,P(1 + k/c, (x/\lambda)^c)`.
    ``shape < 1`` gives a decreasing hazard rate (heavier than exponential;
    the density is infinite at 0), ``shape = 1`` is exponential. The Weibull
    of formulas.md §2.6 is ``Weibull(shape=0.5, scale=0.5)`` (mean 1, E[S²] = 6).

    Parameters
    ----------
    shape : float
        c > 0.
    scale : float
        λ > 0.

    Examples
    --------
    >>> from queuetheory import Weibull
    >>> d = Weibull(shape=0.5, scale=0.5)
    >>> round(d.mean(), 12), round(d.moment(2), 12)
    (1.0, 6.0)
    >>> round(d.partial_moment(1, 2.0), 12)  # 1 - e^{-2} (1 + 2 + 2), formulas.md §2.6
    0.323323583817
    """

    name = "weibull"

    def __init__(self, shape: float = 1.0, scale: float = 1.0) -> None:
        self._c = check_positive("shape", shape)
        self._lam = check_positive("scale", scale)

    def _params(self) -> dict:
        return {"shape": self._c, "scale": self._lam}

    def _z(self, x):
        with np.errstate(over="ignore"):
            return (np.maximum(np.asarray(x, dtype=float), 0.0) / self._lam) ** self._c

    def _pdf(self, x):
        c, lam = self._c, self._lam
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            u = np.asarray(x, dtype=float) / lam
            out = (c / lam) * u ** (c - 1) * np.exp(-(u**c))
        return np.where(np.isnan(out), 0.0, out)

    def _cdf(self, x):
        return -np.expm1(-self._z(x))

    def _sf(self, x):
        return np.exp(-self._z(x))

    def _ppf(self, q):
        with np.errstate(divide="ignore"):
            return self._lam * (-np.log1p(-np.asarray(q, dtype=float))) ** (1.0 / self._c)

    def _log_coef(self, k: int) -> float:
        return k * math.log(self._lam) + math.lgamma(1.0 + k / self._c)

    def _moment(self, k):
        lc = self._log_coef(k)
        if lc > 709.7:
            return math.inf
        val = self._lam**k * math.gamma(1.0 + k / self._c) if lc < 700 else math.exp(lc)
        return float(val)

    def _partial_moment(self, k, x, strict):
        lc = self._log_coef(k)
        coef = self._lam**k * math.gamma(1.0 + k / self._c) if lc < 700 else None
        return _gamma_partial(lc, 1.0 + k / self._c, self._z(x), coef)

    def _sample(self, rng, size):
        return self._lam * rng.weibull(self._c, size)

    def _scale(self):
        m = self._moment(1)
        return m if math.isfinite(m) else self._lam

    def _symbolic_pdf(self, x):
        import sympy

        c, lam = exact_number(self._c), exact_number(self._lam)
        return c / lam * (x / lam) ** (c - 1) * sympy.exp(-((x / lam) ** c))


class Lognormal(SizeDistribution):
    r"""Lognormal sizes: :math:`\log S \sim N(\mu, \sigma^2)`.

    :math:`F(x) = \Phi((\ln x - \mu)/\sigma)`,
    :math:`E[S^k] = e^{k\mu + k^2\sigma^2/2}`,
    :math:`E[S^k 1(S \le x)] = e^{k\mu + k^2\sigma^2/2}\,\Phi((\ln x - \mu - k\sigma^2)/\sigma)`.
    The median is :math:`e^\mu`, the squared coefficient of variation
    :math:`e^{\sigma^2} - 1`; use :meth:`from_mean_cv2` to set mean and SCV.

    Parameters
    ----------
    mu : float
        Mean of log S (any real).
    sigma : float
        Standard deviation of log S, > 0.

    Examples
    --------
    >>> from queuetheory import Lognormal
    >>> d = Lognormal.from_mean_cv2(mean=2.0, cv2=3.0)
    >>> round(d.mean(), 12), round(d.var() / d.mean() ** 2, 12)
    (2.0, 3.0)
    >>> round(Lognormal(mu=0.0, sigma=1.0).cdf(1.0), 15)
    0.5
    """

    name = "lognormal"

    def __init__(self, mu: float = 0.0, sigma: float = 1.0) -> None:
        self._mu = check_finite("mu", mu)
        self._sigma = check_positive("sigma", sigma)

    @classmethod
    def from_mean_cv2(cls, mean: float, cv2: float) -> Lognormal:
        r"""The lognormal law with the given mean and squared coefficient of variation.

        :math:`\sigma^2 = \ln(1 + c^2)`, :math:`\mu = \ln E[S] - \sigma^2/2`.
        """
        mean = check_positive("mean", mean)
        cv2 = check_positive("cv2", cv2)
        s2 = math.log1p(cv2)
        return cls(mu=math.log(mean) - 0.5 * s2, sigma=math.sqrt(s2))

    def _params(self) -> dict:
        return {"mu": self._mu, "sigma": self._sigma}

    def _std(self, x):
        with np.errstate(divide="ignore"):
            return (np.log(np.maximum(np.asarray(x, dtype=float), 0.0)) - self._mu) / self._sigma

    def _pdf(self, x):
        x = np.asarray(x, dtype=float)
        z = self._std(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.exp(-0.5 * z * z) / (x * self._sigma * math.sqrt(2 * math.pi))
        return np.where(x > 0, out, 0.0)

    def _cdf(self, x):
        return special.ndtr(self._std(x))

    def _sf(self, x):
        return special.ndtr(-self._std(x))

    def _ppf(self, q):
        return np.exp(self._mu + self._sigma * special.ndtri(np.asarray(q, dtype=float)))

    def _log_moment(self, k: int) -> float:
        return k * self._mu + 0.5 * (k * self._sigma) ** 2

    def _moment(self, k):
        lm = self._log_moment(k)
        return math.exp(lm) if lm < 709.78 else math.inf

    def _partial_moment(self, k, x, strict):
        z = self._std(x) - k * self._sigma
        with np.errstate(over="ignore"):
            return np.exp(self._log_moment(k) + special.log_ndtr(z))

    def _sample(self, rng, size):
        return rng.lognormal(self._mu, self._sigma, size)

    def _scale(self):
        m = self._moment(1)
        return m if math.isfinite(m) else math.exp(self._mu)

    def _symbolic_pdf(self, x):
        import sympy

        mu, sigma = exact_number(self._mu), exact_number(self._sigma)
        return sympy.exp(-((sympy.log(x) - mu) ** 2) / (2 * sigma**2)) / (
            x * sigma * sympy.sqrt(2 * sympy.pi))


class Pareto(SizeDistribution):
    r"""Pareto (type I) sizes: :math:`F(x) = 1 - (s/x)^\alpha` for :math:`x \ge s`.

    :math:`f(x) = \alpha s^\alpha x^{-\alpha-1}`;
    :math:`E[S^k] = \alpha s^k/(\alpha - k)` for :math:`k < \alpha` and
    :math:`\infty` for :math:`k \ge \alpha`;
    :math:`E[S^k 1(S \le x)] = \alpha s^k \big((x/s)^{k-\alpha} - 1\big)/(k - \alpha)`
    for :math:`x \ge s`, and :math:`\alpha s^k \ln(x/s)` when :math:`k = \alpha`.
    Any shape > 0 is accepted: ``shape <= 1`` has an infinite mean (so any
    workload built on it is unstable), ``1 < shape <= 2`` a finite mean and
    infinite E[S²] (FCFS and SJF then have infinite mean response time).

    Parameters
    ----------
    shape : float
        α > 0 (tail index).
    scale : float
        s > 0, the minimum size.

    Examples
    --------
    >>> from queuetheory import Pareto
    >>> d = Pareto(shape=1.5, scale=1.0)
    >>> d.mean(), d.moment(2)
    (3.0, inf)
    >>> round(d.partial_moment(2, 4.0), 12)  # 1.5 (4^{0.5} - 1) / 0.5
    3.0
    """

    name = "pareto"

    def __init__(self, shape: float = 2.5, scale: float = 1.0) -> None:
        self._alpha = check_positive("shape", shape)
        self._s = check_positive("scale", scale)

    def _params(self) -> dict:
        return {"shape": self._alpha, "scale": self._s}

    def _support(self):
        return (self._s, math.inf)

    def _log_ratio(self, x):
        # ln(x/s) as log1p((x - s)/s): x - s is exact near s
        with np.errstate(invalid="ignore"):
            xc = np.maximum(np.asarray(x, dtype=float), self._s)
            return np.where(np.isinf(xc), np.inf, np.log1p((xc - self._s) / self._s))

    def _pdf(self, x):
        with np.errstate(divide="ignore", over="ignore"):
            return self._alpha / self._s * (self._s / np.asarray(x, dtype=float)) ** (
                self._alpha + 1)

    def _cdf(self, x):
        return -np.expm1(-self._alpha * self._log_ratio(x))

    def _sf(self, x):
        return np.exp(-self._alpha * self._log_ratio(x))

    def _ppf(self, q):
        with np.errstate(divide="ignore"):
            return self._s * np.exp(-np.log1p(-np.asarray(q, dtype=float)) / self._alpha)

    def _moment(self, k):
        if k >= self._alpha:
            return math.inf
        return self._alpha * self._s**k / (self._alpha - k)

    def _partial_moment(self, k, x, strict):
        with np.errstate(over="ignore"):
            return self._alpha * self._s**k * _expm1_ratio(k - self._alpha, self._log_ratio(x))

    def _sample(self, rng, size):
        return self._s * np.exp(rng.standard_exponential(size) / self._alpha)

    def _scale(self):
        return self._s * 2.0 ** (1.0 / self._alpha)  # the median

    def _breakpoints(self):
        return np.array([self._s])

    def _heavy_tail(self):
        return True

    def _t_pdf(self, t):
        # t f(t) = alpha (s/t)^alpha: no underflow of (s/t)^(alpha+1) before t^-alpha does
        with np.errstate(divide="ignore", over="ignore"):
            return self._alpha * (self._s / np.asarray(t, dtype=float)) ** self._alpha

    def _symbolic_pdf(self, x):
        import sympy

        a, s = exact_number(self._alpha), exact_number(self._s)
        return sympy.Piecewise((a * s**a * x ** (-a - 1), x >= s), (0, True))


class BoundedPareto(SizeDistribution):
    r"""Pareto law truncated to ``[low, high]``: density proportional to :math:`x^{-\alpha-1}`.

    With :math:`D = 1 - (L/H)^\alpha`:
    :math:`f(x) = \alpha L^\alpha x^{-\alpha-1}/D`,
    :math:`F(x) = (1 - (L/x)^\alpha)/D`,
    :math:`E[S^k 1(S \le x)] = \alpha L^k \big((x/L)^{k-\alpha} - 1\big) / ((k-\alpha) D)`
    for :math:`L \le x \le H` (:math:`\alpha L^k \ln(x/L)/D` when :math:`k = \alpha`),
    and :math:`E[S^k]` is its value at :math:`x = H`. All moments are finite.

    Parameters
    ----------
    shape : float
        α > 0.
    low, high : float
        0 < L < H < inf.

    Examples
    --------
    >>> from queuetheory import BoundedPareto
    >>> d = BoundedPareto(shape=1.0, low=1.0, high=10.0)
    >>> round(d.mean(), 12)  # ln(10) / 0.9
    2.558427881104
    >>> round(d.cdf(2.0), 12)  # (1 - 1/2) / 0.9
    0.555555555556
    """

    name = "bounded_pareto"

    def __init__(self, shape: float = 1.5, low: float = 1.0, high: float = 1e3) -> None:
        self._alpha = check_positive("shape", shape)
        self._L = check_positive("low", low)
        self._H = check_positive("high", high)
        if not self._L < self._H:
            raise ParameterError(f"low must be < high (got low={self._L!r}, high={self._H!r})")
        self._log_span = math.log1p((self._H - self._L) / self._L)  # ln(H/L), exact-ish
        self._D = -math.expm1(-self._alpha * self._log_span)

    def _params(self) -> dict:
        return {"shape": self._alpha, "low": self._L, "high": self._H}

    def _support(self):
        return (self._L, self._H)

    def _log_ratio(self, x):
        xc = np.clip(np.asarray(x, dtype=float), self._L, self._H)
        return np.log1p((xc - self._L) / self._L)  # ln(x/L); x - L is exact near L

    def _pdf(self, x):
        return (self._alpha / self._L * (self._L / np.asarray(x, dtype=float)) ** (
            self._alpha + 1) / self._D)

    def _cdf(self, x):
        return -np.expm1(-self._alpha * self._log_ratio(x)) / self._D

    def _sf(self, x):
        xc = np.clip(np.asarray(x, dtype=float), self._L, self._H)
        to_high = np.log1p((self._H - xc) / xc)  # ln(H/x); H - x is exact near H
        return np.exp(-self._alpha * self._log_ratio(xc)) * -np.expm1(
            -self._alpha * to_high) / self._D

    def _ppf(self, q):
        q = np.asarray(q, dtype=float)
        with np.errstate(divide="ignore"):
            out = self._L * np.exp(-np.log1p(-q * self._D) / self._alpha)
        return np.where(q >= 1, self._H, np.clip(out, self._L, self._H))

    def _moment(self, k):
        lr = self._log_span
        return float(self._alpha * self._L**k * _expm1_ratio(k - self._alpha, np.asarray(lr))
                     / self._D)

    def _partial_moment(self, k, x, strict):
        return (self._alpha * self._L**k * _expm1_ratio(k - self._alpha, self._log_ratio(x))
                / self._D)

    def _sample(self, rng, size):
        return self._ppf(rng.random(size))

    def _scale(self):
        return float(self._ppf(np.asarray(0.5)))

    def _breakpoints(self):
        return np.array([self._L, self._H])

    def _symbolic_pdf(self, x):
        import sympy

        a, lo, hi = exact_number(self._alpha), exact_number(self._L), exact_number(self._H)
        dens = a * lo**a * x ** (-a - 1) / (1 - (lo / hi) ** a)
        return sympy.Piecewise((dens, (x >= lo) & (x <= hi)), (0, True))


class Uniform(SizeDistribution):
    r"""Uniform sizes on ``[low, high]``.

    :math:`E[S^k 1(S \le x)] = (u^{k+1} - l^{k+1}) / ((k+1)(h-l))` with
    :math:`u = \min(\max(x, l), h)`, evaluated as
    :math:`(u - l)\sum_{j=0}^{k} u^j l^{k-j} / ((k+1)(h-l))` (no cancellation).

    Parameters
    ----------
    low, high : float
        0 <= low < high < inf.

    Examples
    --------
    >>> from queuetheory import Uniform
    >>> d = Uniform(0.0, 2.0)
    >>> d.mean(), round(d.moment(2), 15), d.partial_moment(1, 1.0)
    (1.0, 1.333333333333333, 0.25)
    """

    name = "uniform"

    def __init__(self, low: float = 0.0, high: float = 1.0) -> None:
        self._l = check_nonnegative("low", low)
        self._h = check_finite("high", high)
        if not self._l < self._h:
            raise ParameterError(f"low must be < high (got low={self._l!r}, high={self._h!r})")

    def _params(self) -> dict:
        return {"low": self._l, "high": self._h}

    def _support(self):
        return (self._l, self._h)

    def _pdf(self, x):
        return np.full(np.shape(x), 1.0 / (self._h - self._l))

    def _cdf(self, x):
        return np.clip((np.asarray(x, dtype=float) - self._l) / (self._h - self._l), 0.0, 1.0)

    def _sf(self, x):
        return np.clip((self._h - np.asarray(x, dtype=float)) / (self._h - self._l), 0.0, 1.0)

    def _ppf(self, q):
        q = np.asarray(q, dtype=float)
        return np.where(q >= 1, self._h, np.minimum(self._l + q * (self._h - self._l), self._h))

    def _power_sum(self, u, k):
        total = np.zeros(np.shape(u))
        for j in range(k + 1):
            total = total + u**j * self._l ** (k - j)
        return total

    def _moment(self, k):
        return float(self._power_sum(np.asarray(self._h), k) / (k + 1))

    def _partial_moment(self, k, x, strict):
        u = np.clip(np.asarray(x, dtype=float), self._l, self._h)
        return (u - self._l) * self._power_sum(u, k) / ((k + 1) * (self._h - self._l))

    def _sample(self, rng, size):
        return rng.uniform(self._l, self._h, size)

    def _scale(self):
        return 0.5 * (self._l + self._h)

    def _breakpoints(self):
        return np.array([self._l, self._h])

    def _symbolic_pdf(self, x):
        import sympy

        lo, hi = exact_number(self._l), exact_number(self._h)
        return sympy.Piecewise((1 / (hi - lo), (x >= lo) & (x <= hi)), (0, True))
