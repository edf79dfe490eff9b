r"""Exponential predictions: Y | X = x ~ Exp(mean x) (Mitzenmacher, ITCS 2020).

With exponential sizes of mean m the joint quantities are Bessel-K closed forms
(formulas.md §9, generalised from m = 1). The master integral (Gradshteyn &
Ryzhik 3.471.9; substitute x = m u in the m = 1 form) is

.. math::

    \int_0^\infty x^n e^{-x/m - y/x}\,dx = 2 (m y)^{(n+1)/2} K_{n+1}\big(2\sqrt{y/m}\big).

Writing :math:`t = y/m` and :math:`B_\nu(t) = 2 t^{\nu/2} K_\nu(2\sqrt t)`
(so that :math:`B_\nu(0) = \Gamma(\nu)` for ν > 0):

=====================================  ==========================================
quantity                               closed form
=====================================  ==========================================
:math:`f_Y(y)`                         :math:`B_0(t)/m = (2/m) K_0(2\sqrt{y/m})`
:math:`P(Y > y)`                       :math:`B_1(t) = 2\sqrt t K_1(2\sqrt t)`
:math:`E[X^k 1(Y > y)]`                :math:`m^k B_{k+1}(t)`
:math:`E[X^k 1(Y \le y)]`              :math:`m^k (k! - B_{k+1}(t))`
:math:`\int x^k g(x, y)\,dx`           :math:`m^{k-1} B_k(t)`
=====================================  ==========================================

For t < 1/4 the complement :math:`k! - B_{k+1}(t)` is evaluated from the
ascending series of :math:`K_n` (DLMF 10.31.1),

.. math::

    B_\nu(t) = \sum_{j=0}^{\nu-1} \frac{(\nu-j-1)!}{j!} (-t)^j
      + (-1)^{\nu+1} t^\nu \sum_{i\ge 0} \frac{t^i [\ln t - \psi(i+1) - \psi(\nu+i+1)]}
        {i!\,(\nu+i)!},

dropping its j = 0 term, so that small-y values keep full relative accuracy;
otherwise :math:`K_\nu` is evaluated as ``kve(ν, z)·e^{-z}`` in log space (no
overflow or underflow at large y). Integer orders k use these closed forms; other
k use the generic multiplicative quadrature.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..distributions.base import SizeDistribution
from .multiplicative import MultiplicativeJoint, MultiplicativePrediction

__all__ = ["ExponentialPrediction", "ExponentialExponentialJoint"]

_T_SERIES = 0.25
_N_SERIES = 30


def _series(nu: int, t: np.ndarray, *, drop_first: bool) -> np.ndarray:
    """B_ν(t) by the ascending series (t > 0 small); ``drop_first`` omits the (ν-1)! term."""
    out = np.zeros(t.shape)
    if nu >= 1 and not drop_first:
        out += math.factorial(nu - 1)
    for j in range(1, nu):
        out += math.factorial(nu - j - 1) / math.factorial(j) * (-t) ** j
    i = np.arange(_N_SERIES)
    coef = np.exp(-special.gammaln(i + 1) - special.gammaln(nu + i + 1))
    psi = special.digamma(i + 1) + special.digamma(nu + i + 1)
    lt = np.log(t)[:, None]
    powers = t[:, None] ** i[None, :]
    s = np.sum(powers * coef[None, :] * (lt - psi[None, :]), axis=1)
    return out + (-1) ** (nu + 1) * t**nu * s


def _closed(nu: float, t: np.ndarray) -> np.ndarray:
    """B_ν(t) = 2 t^{ν/2} K_ν(2√t) in log space, t > 0."""
    z = 2.0 * np.sqrt(t)
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        return 2.0 * np.exp(0.5 * nu * np.log(t) - z) * special.kve(nu, z)


def bessel_b(nu: int, t, *, complement: bool = False) -> np.ndarray:
    r"""B_ν(t) = 2 t^{ν/2} K_ν(2√t) for an integer ν >= 0 and t >= 0.

    With ``complement=True`` (ν >= 1) returns :math:`(\nu-1)! - B_\nu(t)`
    accurately for small t. :math:`B_0(0) = \infty`, :math:`B_\nu(0) = (\nu-1)!`.

    >>> from queuetheory.predictions.exponential import bessel_b
    >>> float(bessel_b(1, 0.0)), round(float(bessel_b(1, 1.0)), 12)  # 2 K_1(2)
    (1.0, 0.279731763633)
    """
    t = np.asarray(t, dtype=float)
    flat = t.reshape(-1)
    out = np.empty(flat.size)
    zero = flat == 0
    small = (flat > 0) & (flat < _T_SERIES)
    big = flat >= _T_SERIES
    if complement:
        full = math.factorial(nu - 1)
        out[zero] = 0.0
        if np.any(small):
            out[small] = -_series(nu, flat[small], drop_first=True)
        if np.any(big):
            out[big] = full - _closed(nu, flat[big])
    else:
        out[zero] = math.inf if nu == 0 else math.factorial(nu - 1)
        if np.any(small):
            out[small] = _series(nu, flat[small], drop_first=False)
        if np.any(big):
            out[big] = _closed(nu, flat[big])
    return out.reshape(t.shape)


class ExponentialPrediction(MultiplicativePrediction):
    r"""Y given X = x is exponential with mean x: :math:`g(y \mid x) = e^{-y/x}/x`.

    Equivalently Y = X·R with R ~ Exp(1) independent of X. The model of the
    published Table 1 (formulas.md §3.5, §9). With
    :class:`~queuetheory.Exponential` sizes, :meth:`joint` returns the Bessel-K
    closed forms of :class:`ExponentialExponentialJoint`; other sizes use the
    multiplicative quadrature.

    >>> import queuetheory as qt
    >>> y = qt.ExponentialPrediction().sample(1, [1.0] * 100000)
    >>> bool(abs(y.mean() - 1.0) < 0.01)
    True
    >>> j = qt.ExponentialPrediction().joint(qt.Exponential(1.0))
    >>> round(j.sf_y(1.0), 12)  # 2 K_1(2)
    0.279731763633
    """

    name = "exponential"

    def _r_range(self):
        return (0.0, math.inf)

    def _r_cdf(self, r):
        return -np.expm1(-r)

    def _r_sf(self, r):
        return np.exp(-r)

    def _r_pdf(self, r):
        return np.exp(-r)

    def _r_ppf(self, q):
        return -np.log1p(-np.asarray(q, dtype=float))

    def _r_pdf0(self):
        return 1.0

    def _r_sample(self, rng, shape):
        return rng.exponential(1.0, shape)

    def joint(self, size: SizeDistribution):
        from ..distributions.continuous import Exponential

        if type(size) is Exponential:
            return ExponentialExponentialJoint(size, self)
        return MultiplicativeJoint(size, self)


class ExponentialExponentialJoint(MultiplicativeJoint):
    r"""Exponential sizes (mean m) with exponential predictions: Bessel-K closed forms.

    See the module docstring for the formulas; :math:`g(x, y) = e^{-x/m} e^{-y/x}/(m x)`.

    >>> import queuetheory as qt
    >>> j = qt.ExponentialPrediction().joint(qt.Exponential(mean=1.0))
    >>> round(j.partial_moment_y(1, 1.0), 12)  # 1 - 2 K_2(2)
    0.492480490868
    >>> round(j.pdf_y(1.0), 12)  # 2 K_0(2)
    0.227787745499
    """

    @property
    def _m(self) -> float:
        return float(self.size.mean())

    def _lower(self, ks, y, strict):
        if not all(float(k).is_integer() for k in ks):
            return super()._lower(ks, y, strict)
        m = self._m
        t = y / m
        return np.stack([m**k * bessel_b(int(k) + 1, t, complement=True) for k in ks])

    def _upper(self, ks, y, strict):
        if not all(float(k).is_integer() for k in ks):
            return super()._upper(ks, y, strict)
        m = self._m
        t = y / m
        return np.stack([m**k * bessel_b(int(k) + 1, t) for k in ks])

    def _density(self, ks, y):
        if not all(float(k).is_integer() for k in ks):
            return super()._density(ks, y)
        m = self._m
        t = y / m
        return np.stack([m ** (k - 1) * bessel_b(int(k), t) for k in ks])
