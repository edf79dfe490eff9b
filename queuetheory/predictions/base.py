r"""Prediction-error models: the joint law of the size X and its prediction Y.

A :class:`PredictionModel` is the conditional law of Y given X = x (a
"channel"). Bound to a size distribution it gives a :class:`JointLaw`, which
provides every joint quantity the formulas need (notation of formulas.md §1):

* the prediction's density ``pdf_y`` :math:`f_Y(y)`, ``sf_y`` :math:`P(Y > y)`;
* ``partial_moment_y(k, y)`` :math:`E[X^k 1(Y \le y)]`, so that
  :math:`\rho'(y) = \lambda E[X 1(Y \le y)]` and :math:`M_2'(y)` are
  ``partial_moment_y(1, y)`` and ``partial_moment_y(2, y)``;
* ``moment_density_y(k, y)`` :math:`\int x^k g(x, y)\,dx`;
* ``expect(h)`` :math:`E[h(X, Y)]` for any vectorized ``h``.

Generic methods integrate over the size law with the channel's kinks as
breakpoints; subclasses override them with closed forms (e.g. the Bessel-K
identities of formulas.md §9 for exponential sizes and predictions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..distributions.base import SizeDistribution
from ..errors import ParameterError
from ..integrate import DEFAULT_RTOL, Estimate, quad

__all__ = ["PredictionModel", "JointLaw"]


class PredictionModel:
    """Conditional law of the prediction Y given the true size X = x.

    Subclasses implement ``_sample(rng, sizes)``, ``_cond_cdf(y, x)``,
    ``_cond_pdf(y, x)`` and, where the conditional law has kinks, ``_y_kinks(x)``
    (kinks in y for fixed x) and ``_x_kinks(y)`` (kinks in x for fixed y).
    """

    name: str = "prediction"
    #: True when Y = X exactly.
    perfect: bool = False

    # ---------------------------------------------------------------- public
    def sample(self, rng: np.random.Generator | int | None, sizes: Any) -> np.ndarray:
        """Draw one prediction per size in ``sizes``."""
        rng = np.random.default_rng(rng)
        x = np.asarray(sizes, dtype=float)
        return np.asarray(self._sample(rng, x), dtype=float)

    def conditional_cdf(self, y: Any, x: Any) -> Any:
        """P(Y <= y | X = x), broadcast over ``y`` and ``x``."""
        return self._cond_cdf(np.asarray(y, float), np.asarray(x, float))

    def conditional_sf(self, y: Any, x: Any) -> Any:
        """P(Y > y | X = x)."""
        return 1.0 - self.conditional_cdf(y, x)

    def conditional_pdf(self, y: Any, x: Any) -> Any:
        """Density of Y given X = x at ``y``."""
        return self._cond_pdf(np.asarray(y, float), np.asarray(x, float))

    def joint(self, size: SizeDistribution) -> JointLaw:
        """The joint law of (X, Y) with X ~ ``size``. Subclasses return closed-form laws."""
        return JointLaw(size, self)

    def check_size(self, size: SizeDistribution) -> None:
        """Raise :class:`ParameterError` if this model cannot be used with ``size``."""

    # --------------------------------------------------------------- private
    def _sample(self, rng, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _cond_cdf(self, y, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _cond_pdf(self, y, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _x_kinks(self, y: float) -> np.ndarray:
        return np.empty(0)

    def _y_kinks(self, x: float) -> np.ndarray:
        return np.empty(0)

    def _params(self) -> dict:
        return {}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({params})"


class JointLaw:
    """Joint law of (X, Y) for a size distribution and a prediction model.

    The generic implementation uses
    :math:`E[\\phi(X) 1(Y \\le y)] = E[\\phi(X) P(Y \\le y \\mid X)]`, integrated
    over the size law by :meth:`SizeDistribution.expect` with the channel's
    kinks as breakpoints.
    """

    def __init__(self, size: SizeDistribution, prediction: PredictionModel) -> None:
        prediction.check_size(size)
        self.size = size
        self.prediction = prediction

    # Marginal of Y ---------------------------------------------------------
    def pdf_y(self, y: Any) -> Any:
        """Density f_Y(y) of the prediction."""
        return self._vectorize(y, lambda yi: self.size.expect(
            lambda x: self.prediction._cond_pdf(np.asarray(yi), x),
            points=self.prediction._x_kinks(yi)).value)

    def cdf_y(self, y: Any, *, strict: bool = False) -> Any:
        """P(Y <= y) (P(Y < y) with ``strict``)."""
        return self.partial_moment_y(0, y, strict=strict)

    def sf_y(self, y: Any) -> Any:
        """P(Y > y)."""
        return 1.0 - self.cdf_y(y)

    def partial_moment_y(self, k: int, y: Any, *, strict: bool = False) -> Any:
        """E[X^k 1(Y <= y)], or with ``strict`` E[X^k 1(Y < y)].

        Continuous prediction laws make the two equal; perfect predictions of an
        atomic size law do not.
        """
        return self._vectorize(y, lambda yi: self._partial_moment_y(k, yi, strict))

    def moment_density_y(self, k: int, y: Any) -> Any:
        """The density-weighted conditional moment ∫ x^k g(x, y) dx = E[X^k | Y = y] f_Y(y)."""
        return self._vectorize(y, lambda yi: self.size.expect(
            lambda x: x**k * self.prediction._cond_pdf(np.asarray(yi), x),
            points=self.prediction._x_kinks(yi)).value)

    def expect(self, h: Callable[[np.ndarray, np.ndarray], np.ndarray], *,
               rtol: float = DEFAULT_RTOL, y_points: Callable[[float], Any] | None = None,
               ) -> Estimate:
        """E[h(X, Y)] by nested quadrature (inner over y given x, outer over x).

        ``y_points(x)`` may give extra kinks of ``h`` in y for fixed x.
        """
        pred = self.prediction

        def inner(xs: np.ndarray) -> np.ndarray:
            out = np.empty(xs.shape)
            for i, xi in enumerate(xs):
                pts = np.concatenate([pred._y_kinks(xi),
                                      np.ravel(y_points(xi)) if y_points else np.empty(0)])
                out[i] = quad(lambda y, xi=xi: h(np.full(y.shape, xi), y) * pred._cond_pdf(y, xi),
                              0.0, np.inf, points=pts, rtol=rtol * 0.1,
                              tail_scale=max(xi, 1e-300)).value
            return out

        return self.size.expect(inner, rtol=rtol)

    def sample(self, rng: np.random.Generator | int | None,
               n: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` pairs (X, Y)."""
        rng = np.random.default_rng(rng)
        x = self.size.sample(rng, n)
        return x, self.prediction.sample(rng, x)

    # Internals ---------------------------------------------------------------
    def _partial_moment_y(self, k: int, y: float, strict: bool) -> float:
        pred = self.prediction
        return self.size.expect(lambda x: x**k * pred._cond_cdf(np.asarray(y), x),
                                points=pred._x_kinks(y)).value

    @staticmethod
    def _vectorize(y: Any, fn: Callable[[float], float]) -> Any:
        arr = np.asarray(y, dtype=float)
        if np.any(np.isnan(arr)):
            raise ParameterError("y must not contain NaN")
        out = np.array([fn(float(v)) for v in arr.reshape(-1)]).reshape(arr.shape)
        return float(out) if arr.ndim == 0 else out

    def __repr__(self) -> str:
        return f"JointLaw({self.size!r}, {self.prediction!r})"
