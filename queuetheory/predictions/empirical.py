r"""Empirical predictions from a user's validation pairs (actual size, predicted size).

The realistic case: a user brings the output of their predictor on a
validation set. Two modes turn the n pairs :math:`(x_i, y_i)` into a model:

* ``mode="joint"`` (default): the joint law of (X, Y) *is* the empirical joint
  law of the pairs, each pair an atom of weight 1/n. The size law must then be
  the empirical law of the actual values,
  :attr:`EmpiricalPredictions.size_distribution`; build the workload with
  ``Workload(λ, preds.size_distribution, preds)`` or ``preds.workload(λ)``.
  Every joint quantity is an exact finite sum (:class:`EmpiricalJoint`).
* ``mode="ratio"``: multiplicative noise, Y = X·R with R drawn from the
  empirical ratios :math:`y_i/x_i` independently of the size. Usable with any
  size law (e.g. a fitted continuous one); it keeps the error distribution of
  the predictor but drops any dependence of the relative error on the size.
  Its joint quantities are sums over the distinct ratios of the size law's
  partial moments (:mod:`.multiplicative`): O(#ratios × #y) evaluations, so
  subsample very large validation sets in this mode (about 0.2 s for 10^3 ratios
  × 10^3 values of y with exponential sizes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError
from ..integrate import DEFAULT_RTOL, Estimate
from .base import JointLaw
from .multiplicative import MultiplicativeJoint, MultiplicativePrediction

__all__ = ["EmpiricalPredictions", "EmpiricalJoint"]

_MODES = ("joint", "ratio")


def _as_pairs(actual: Any, predicted: Any) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name, arr in (("actual", actual), ("predicted", predicted)):
        try:
            a = np.array(arr, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(f"{name} must be a 1-D sequence of numbers") from None
        if a.ndim != 1:
            raise ParameterError(f"{name} must be 1-D (got shape {a.shape})")
        if not np.all(np.isfinite(a)):
            raise ParameterError(f"{name} must contain only finite values")
        arrays.append(a)
    x, y = arrays
    if x.size != y.size:
        raise ParameterError(
            f"actual and predicted must have the same length (got {x.size} and {y.size})")
    if x.size < 1:
        raise ParameterError("actual and predicted must contain at least 1 pair (got 0)")
    if np.any(x <= 0):
        raise ParameterError(f"actual sizes must be > 0 (got min {x.min()!r})")
    if np.any(y < 0):
        raise ParameterError(f"predicted sizes must be >= 0 (got min {y.min()!r})")
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


class EmpiricalPredictions(MultiplicativePrediction):
    r"""Prediction errors observed on validation data: pairs (actual, predicted).

    Parameters
    ----------
    actual : sequence of float
        True sizes, finite and > 0.
    predicted : sequence of float
        The predictor's outputs for the same jobs, finite and >= 0, same length.
    mode : {"joint", "ratio"}
        ``"joint"``: the empirical joint law of the pairs (weights 1/n; needs the
        size law ``size_distribution``). ``"ratio"``: Y = X·R, R resampled from
        the ratios predicted/actual independently of X, for any size law.

    Examples
    --------
    >>> import queuetheory as qt
    >>> preds = qt.EmpiricalPredictions([1.0, 2.0, 4.0], [1.5, 1.0, 5.0])
    >>> j = preds.joint(preds.size_distribution)
    >>> round(j.partial_moment_y(1, 1.5), 12)  # (2 + 1) / 3: pairs with y <= 1.5
    1.0
    >>> r = qt.EmpiricalPredictions([1.0, 2.0], [2.0, 1.0], mode="ratio")
    >>> round(r.joint(qt.Exponential(1.0)).cdf_y(1.0), 12)  # (P(X <= 0.5) + P(X <= 2)) / 2
    0.629067028525
    """

    name = "empirical"

    def __init__(self, actual: Any, predicted: Any, mode: str = "joint") -> None:
        if mode not in _MODES:
            raise ParameterError(f"mode must be one of {_MODES} (got {mode!r})")
        self.actual, self.predicted = _as_pairs(actual, predicted)
        self.mode = mode
        self.n = self.actual.size
        ratios, counts = np.unique(self.predicted / self.actual, return_counts=True)
        self._ratios = (ratios, counts / self.n)
        order = np.lexsort((self.predicted, self.actual))
        self._by_x = self.actual[order]
        self._y_by_x = self.predicted[order]
        self._ux, self._ustart, self._ucount = np.unique(
            self._by_x, return_index=True, return_counts=True)
        self._size_cache = None

    def _params(self):
        return {"n": self.n, "mode": self.mode}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return (self.mode == other.mode and np.array_equal(self.actual, other.actual)
                and np.array_equal(self.predicted, other.predicted))

    def __hash__(self) -> int:
        return hash((self.mode, self.actual.tobytes(), self.predicted.tobytes()))

    # ----------------------------------------------------------- size law
    @property
    def size_distribution(self):
        """The empirical law of the actual sizes (``Empirical(actual)``)."""
        if self._size_cache is None:
            from ..distributions.discrete import Empirical

            self._size_cache = Empirical(self.actual)
        return self._size_cache

    def workload(self, arrival_rate: Any):
        """``Workload(arrival_rate, self.size_distribution, self)``: the M/G/1 queue whose
        jobs are drawn from the validation pairs (in ratio mode: empirical sizes with
        independently resampled ratios)."""
        from ..workload import Workload

        return Workload(arrival_rate, self.size_distribution, self)

    def check_size(self, size) -> None:
        if self.mode == "ratio":
            return
        vals, probs = size.atoms
        ux, counts = self._ux, self._ucount
        ok = (not size.has_continuous_part and vals.shape == ux.shape
              and np.array_equal(vals, ux)
              and np.allclose(probs, counts / self.n, rtol=1e-12, atol=0.0))
        if not ok:
            raise ParameterError(
                f"EmpiricalPredictions(mode='joint') defines the joint law of (size, prediction) "
                f"from its pairs, so the size law must be the empirical law of its actual values "
                f"(got {size!r}); use Workload(arrival_rate, preds.size_distribution, preds) or "
                f"preds.workload(arrival_rate), or mode='ratio' to apply the observed relative "
                f"errors to another size law")

    def joint(self, size):
        if self.mode == "ratio":
            return MultiplicativeJoint(size, self)
        return EmpiricalJoint(size, self)

    # ------------------------------------------------------- ratio mode
    def _r_atoms(self):
        return self._ratios

    # ------------------------------------------------------- joint mode
    def _groups(self, x: np.ndarray) -> np.ndarray:
        pos = np.clip(np.searchsorted(self._ux, x), 0, self._ux.size - 1)
        bad = self._ux[pos] != x
        if np.any(bad):
            raise ParameterError(
                f"EmpiricalPredictions(mode='joint') has no pair with actual size "
                f"{np.asarray(x)[bad].flat[0]!r}; its conditional law is defined only at the "
                f"observed actual sizes")
        return pos

    def _sample(self, rng, x):
        if self.mode == "ratio":
            return super()._sample(rng, x)
        g = self._groups(x)
        pick = self._ustart[g] + np.floor(rng.random(x.shape) * self._ucount[g]).astype(int)
        return self._y_by_x[pick]

    def _joint_count(self, y, x, side):
        y, x = np.broadcast_arrays(np.asarray(y, float), np.asarray(x, float))
        g = self._groups(x)
        group_of = np.repeat(np.arange(self._ux.size), self._ucount).astype(float)
        keys = group_of + 1j * self._y_by_x
        top = float(self._y_by_x.max()) + 1.0
        q = g + 1j * np.clip(y, -1.0, top)
        below = np.searchsorted(keys, q.ravel(), side=side).reshape(y.shape)
        return (below - self._ustart[g]) / self._ucount[g]

    def _cond_cdf(self, y, x):
        if self.mode == "ratio":
            return super()._cond_cdf(y, x)
        return self._joint_count(y, x, "right")

    def _cond_cdf_strict(self, y, x):
        if self.mode == "ratio":
            return super()._cond_cdf_strict(y, x)
        return self._joint_count(y, x, "left")

    def _cond_sf(self, y, x):
        return 1.0 - self._cond_cdf(y, x)

    def _cond_sf_strict(self, y, x):
        return 1.0 - self._cond_cdf_strict(y, x)

    def _cond_pdf(self, y, x):
        if self.mode == "ratio":
            return super()._cond_pdf(y, x)
        return np.zeros(np.broadcast_shapes(np.shape(y), np.shape(x)))


class EmpiricalJoint(JointLaw):
    r"""The empirical joint law of n pairs: exact finite sums.

    Attributes
    ----------
    x, y : ndarray
        The pairs, sorted by prediction ``y`` (stable, ties in input order).
    w : ndarray
        Their weights (1/n each).

    ``partial_moment_y(k, y)`` is :math:`\sum_i w_i x_i^k 1(y_i \le y)`, evaluated
    with a cumulative sum and a binary search (O(log n) per y); ``tail_moment_y``
    uses the reversed cumulative sum (no cancellation). Y is discrete:
    ``pdf_y`` and ``moment_density_y`` are 0 (there is no continuous part) and the
    atoms are in ``atoms_y``; formulas should sum over the pairs instead of
    integrating densities.
    """

    def __init__(self, size, prediction: EmpiricalPredictions) -> None:
        super().__init__(size, prediction)
        order = np.argsort(prediction.predicted, kind="stable")
        self.x = prediction.actual[order]
        self.y = prediction.predicted[order]
        self.w = np.full(self.x.size, 1.0 / self.x.size)
        self._cum: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def _sums(self, k: float) -> tuple[np.ndarray, np.ndarray]:
        if k not in self._cum:
            terms = self.w * self.x**k
            lower = np.concatenate([[0.0], np.cumsum(terms)])
            upper = np.concatenate([np.cumsum(terms[::-1])[::-1], [0.0]])
            self._cum[k] = (lower, upper)
        return self._cum[k]

    def _lower(self, ks, y, strict):
        idx = np.searchsorted(self.y, y, side="left" if strict else "right")
        return np.stack([self._sums(k)[0][idx] for k in ks])

    def _upper(self, ks, y, strict):
        idx = np.searchsorted(self.y, y, side="left" if strict else "right")
        return np.stack([self._sums(k)[1][idx] for k in ks])

    def _density(self, ks, y):
        return np.zeros((len(ks), y.size))

    def _public(self, kinds, ks, y, strict):
        # Exact sums are valid for every y (no special cases for y < 0 or inf).
        flat = y.reshape(-1)
        out = np.zeros((len(ks), flat.size))
        for j, (kind, k) in enumerate(zip(kinds, ks)):
            if kind == "lower":
                out[j] = self._lower((k,), flat, strict)[0]
            elif kind == "upper":
                out[j] = self._upper((k,), flat, strict)[0]
        return out.reshape((len(ks),) + y.shape)

    @property
    def atoms_y(self):
        u, inv = np.unique(self.y, return_inverse=True)
        return u, np.bincount(inv, weights=self.w, minlength=u.size)

    @property
    def has_density_y(self):
        return False

    def expect(self, h, *, rtol=DEFAULT_RTOL, y_points=None) -> Estimate:
        """E[h(X, Y)] = ∑ w_i h(x_i, y_i) (exact; error 0)."""
        vals = np.asarray(h(self.x, self.y), dtype=float)
        return Estimate(float(np.sum(self.w * vals)), 0.0)  # pairwise summation

    def sample(self, rng, n):
        """Resample ``n`` pairs with replacement."""
        rng = np.random.default_rng(rng)
        idx = rng.integers(0, self.x.size, n)
        return self.x[idx], self.y[idx]
