r"""Prediction-error models: the joint law of the size X and its prediction Y.

A :class:`PredictionModel` is the conditional law of Y given X = x (a
"channel"). Bound to a size distribution it gives a :class:`JointLaw`, which
provides every joint quantity the formulas need (notation of formulas.md §1):

* the prediction's density ``pdf_y`` :math:`f_Y(y)`, ``cdf_y``, ``sf_y`` :math:`P(Y > y)`;
* ``partial_moment_y(k, y)`` :math:`E[X^k 1(Y \le y)]`, so that
  :math:`\rho'(y) = \lambda E[X 1(Y \le y)]` and :math:`M_2'(y)` are
  ``partial_moment_y(1, y)`` and ``partial_moment_y(2, y)``;
  ``tail_moment_y(k, y)`` :math:`E[X^k 1(Y > y)]` (computed directly, without the
  cancellation of ``E[X^k] - partial_moment_y``);
* ``moment_density_y(k, y)`` :math:`\int x^k g(x, y)\,dx = E[X^k \mid Y = y] f_Y(y)`;
* ``expect(h)`` :math:`E[h(X, Y)]` for any vectorized ``h``;
* ``atoms_y`` (point masses of Y, if any), ``sample(rng, n)``.

Predictions are sizes: every model has Y >= 0. Where Y has atoms (perfect
predictions of an atomic size law, empirical pairs, two-point errors),
``strict=True`` selects :math:`E[X^k 1(Y < y)]` and :math:`E[X^k 1(Y \ge y)]`;
``pdf_y`` and ``moment_density_y`` are densities of the continuous part of Y.

The generic :class:`JointLaw` integrates over the size law,
:math:`E[X^k 1(Y \le y)] = \int x^k P(Y \le y \mid X = x)\,dF(x)` (atoms of X
summed exactly), for all requested y at once with the batched adaptive
Gauss–Kronrod rule of :mod:`queuetheory.predictions._batchquad`: each y gets its
own subdivision, split at the channel's kinks ``_x_kinks(y)`` and the size law's
breakpoints. Accuracy: relative error estimate <= ``rtol`` (default 1e-12) per
value; an :class:`~queuetheory.integrate.IntegrationWarning` is emitted where it
is not reached. Subclasses override the private batch methods with closed forms
(the Bessel-K identities of formulas.md §9, exact sums for empirical pairs) or
better representations (multiplicative errors, :mod:`.multiplicative`).

Hooks used by other modules (the SOAP engine and the policy formulas rely on
them; keep their semantics): ``PredictionModel._cond_cdf``,
``_cond_cdf_strict``, ``_cond_sf``, ``_cond_sf_strict``, ``_cond_pdf``,
``_x_kinks_batch(y) -> (n, p)``, ``_y_kinks_batch(x) -> (n, p)`` (NaN-padded);
for multiplicative models also ``_r_atoms``, ``_r_range``, ``_r_mass``, ``_r_ppf``;
``JointLaw.atoms_y`` (may raise :class:`ParameterError` when there are too many
atoms to list), ``has_density_y``; :class:`~.empirical.EmpiricalJoint`'s
``x, y, w``; :func:`._batchquad.batch_quad`; :func:`.exponential.bessel_b`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..distributions.base import SizeDistribution
from ..errors import ParameterError
from ..integrate import DEFAULT_RTOL, Estimate
from ._batchquad import batch_quad

__all__ = ["PredictionModel", "JointLaw"]

#: Default relative accuracy of the inner (per-y) quantities of a joint law.
INNER_RTOL = 1e-12
#: Work arrays of atom sums are processed in chunks of about this many entries.
_CHUNK = 1 << 21


def weighted_powers(x: np.ndarray, ks: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``x^k * weight`` for every k in ``ks``: shape (len(x), len(ks)).

    Exact zeros of ``weight`` (a density underflowed far in the tail) give 0 even
    where x^k overflows, so that a convergent integral never sees ``inf * 0``.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        prod = x[:, None] ** ks[None, :] * weight[:, None]
    return np.where(weight[:, None] == 0, 0.0, prod)


def check_k(k: Any) -> float:
    """Validate a moment order: a finite real number >= 0."""
    if isinstance(k, bool):
        raise ParameterError(f"k must be a real number >= 0 (got {k!r})")
    try:
        kf = float(k)
    except (TypeError, ValueError):
        raise ParameterError(f"k must be a real number >= 0 (got {k!r})") from None
    if not math.isfinite(kf) or kf < 0:
        raise ParameterError(f"k must be a finite real number >= 0 (got {k!r})")
    return kf


def as_y(y: Any, name: str = "y") -> tuple[np.ndarray, bool]:
    """``y`` as a float array (and whether it was a scalar); NaN is rejected."""
    arr = np.asarray(y, dtype=float)
    if np.any(np.isnan(arr)):
        raise ParameterError(f"{name} must not contain NaN")
    return arr, arr.ndim == 0


def _out(arr: np.ndarray, scalar: bool) -> Any:
    return float(arr) if scalar else arr


def size_moment(size: SizeDistribution, k: float) -> float:
    """E[X^k] for a real k >= 0 (``inf`` where it diverges)."""
    if k == 0:
        return 1.0
    if float(k).is_integer():
        return float(size.moment(int(k)))
    return float(size.expect(lambda x: x**k).value)


def size_partial_moment(info: _SizeInfo, k: float, x: np.ndarray, strict: bool) -> np.ndarray:
    """E[X^k 1(X <= x)] (``strict``: X < x) for a real k >= 0 and an array x >= 0.

    Integer k uses the size law's own (closed-form) ``partial_moment``; other k
    sum the atoms and integrate the continuous part.
    """
    x = np.asarray(x, dtype=float)
    if float(k).is_integer():
        return np.asarray(info.size.partial_moment(int(k), x, strict=strict), dtype=float)
    flat = x.reshape(-1)
    out = np.zeros(flat.size)
    if info.atom_values.size:
        cum = np.concatenate([[0.0], np.cumsum(info.atom_probs * info.atom_values**k)])
        out += cum[np.searchsorted(info.atom_values, flat, side="left" if strict else "right")]
    if info.continuous and flat.size:
        upper = np.minimum(np.maximum(flat, info.lo), info.hi)
        kv = np.array([float(k)])
        val, _ = batch_quad(lambda t, i: weighted_powers(t, kv, info.pdf(t)),
                            np.full(flat.size, info.lo), upper,
                            np.broadcast_to(info.hints, (flat.size, info.hints.size)),
                            rtol=INNER_RTOL, tail_scale=info.scale)
        out += val[:, 0]
    return out.reshape(x.shape)


def size_tail_moment(info: _SizeInfo, k: float, x: np.ndarray, strict: bool) -> np.ndarray:
    """E[X^k 1(X > x)] (``strict``: X >= x) for a real k >= 0 and an array x.

    k = 0 uses the survival function. Otherwise E[X^k] - E[X^k 1(X <= x)] where
    that difference is at least half of E[X^k]; in the far tail (where the
    difference would cancel) the atoms above x are summed and the continuous part
    integrated directly. ``inf`` where E[X^k] diverges.
    """
    x = np.asarray(x, dtype=float)
    size = info.size
    if k == 0:
        out = np.asarray(size.sf(x), dtype=float)
        if strict and info.atom_values.size:
            out = out + np.asarray(size.pmf(x), dtype=float)
        return out
    total = size_moment(size, k)
    if math.isinf(total):
        return np.full(x.shape, math.inf)
    flat = x.reshape(-1)
    out = np.maximum(total - size_partial_moment(info, k, flat, strict), 0.0)
    far = out < 0.5 * total
    if np.any(far):
        xf = flat[far]
        tail = np.zeros(xf.size)
        if info.atom_values.size:
            terms = info.atom_probs * info.atom_values**k
            rev = np.concatenate([np.cumsum(terms[::-1])[::-1], [0.0]])
            tail += rev[np.searchsorted(info.atom_values, xf, side="left" if strict else "right")]
        if info.continuous:
            lo = np.minimum(np.maximum(xf, info.lo), info.hi)
            kv = np.array([float(k)])
            val, _ = batch_quad(lambda t, i: weighted_powers(t, kv, info.pdf(t)),
                                lo, np.full(xf.size, info.hi),
                                np.broadcast_to(info.hints, (xf.size, info.hints.size)),
                                rtol=INNER_RTOL, tail_scale=info.scale)
            tail += val[:, 0]
        out[far] = tail
    return out.reshape(x.shape)


class _SizeInfo:
    """Cached facts about a size law used by the quadratures."""

    def __init__(self, size: SizeDistribution) -> None:
        self.size = size
        self.atom_values, self.atom_probs = size.atoms
        self.continuous = bool(size._has_continuous_part())
        self.lo, self.hi = (float(v) for v in size.support)
        self.breakpoints = np.asarray(size.breakpoints(), dtype=float).ravel()
        try:
            scale = float(size._scale())
        except Exception:  # pragma: no cover - defensive
            scale = 1.0
        self.scale = scale if math.isfinite(scale) and scale > 0 else 1.0
        self._hints: np.ndarray | None = None
        zero = self.atom_values == 0
        self.p0 = float(self.atom_probs[zero].sum()) if np.any(zero) else 0.0

    @property
    def hints(self) -> np.ndarray:
        """A few quantiles of the continuous part: subdivision hints for quadrature."""
        if self._hints is None:
            hints = np.empty(0)
            if self.continuous:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        q = np.asarray(self.size.ppf(np.array([1e-3, 0.1, 0.5, 0.9, 0.999])),
                                       dtype=float)
                    hints = q[np.isfinite(q)]
                except Exception:  # pragma: no cover - a ppf that fails only loses hints
                    hints = np.empty(0)
            self._hints = np.unique(np.concatenate([hints, self.breakpoints, [self.scale]]))
        return self._hints

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.size.pdf(x), dtype=float)


def atom_sum(values: np.ndarray, probs: np.ndarray, y: np.ndarray,
             fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """``sum_i probs[i] * fn(y[:, None], values[None, :])[:, i]`` for each y, in chunks.

    ``fn`` returns shape (n, A) or (m, n, A); the result is (n,) or (m, n).
    """
    n, a = y.size, values.size
    rows = max(1, _CHUNK // max(a, 1))
    parts = []
    for s in range(0, n, rows):
        block = np.asarray(fn(y[s:s + rows, None], values[None, :]), dtype=float)
        parts.append(block @ probs)
    return np.concatenate(parts, axis=-1) if parts else np.zeros(0)


def as_points(points: Any, n: int) -> np.ndarray:
    """User breakpoints per owner as an (n, p) array (see :meth:`JointLaw.expect`)."""
    if points is None:
        return np.empty((n, 0))
    arr = np.asarray(points, dtype=float)
    if arr.ndim == 0:
        return np.full((n, 1), float(arr))
    if arr.ndim == 1:
        return arr[:, None] if arr.size == n else np.broadcast_to(arr, (n, arr.size))
    if arr.ndim == 2 and arr.shape[1] == n:
        return arr.T
    if arr.ndim == 2 and arr.shape[0] == n:
        return arr
    raise ParameterError(f"y_points returned an array of shape {arr.shape}; expected (p, {n})")


class PredictionModel:
    """Conditional law of the prediction Y >= 0 given the true size X = x.

    Subclasses implement ``_sample(rng, sizes)``, ``_cond_cdf(y, x)``,
    ``_cond_pdf(y, x)`` and, where the conditional law has kinks, ``_y_kinks(x)``
    (kinks in y for fixed x) and ``_x_kinks(y)`` (kinks in x for fixed y).
    Channels with atoms also override ``_cond_cdf_strict`` (P(Y < y | x)) and
    return a specialised :class:`JointLaw` from :meth:`joint`.
    """

    name: str = "prediction"
    #: True when Y = X exactly.
    perfect: bool = False

    # ---------------------------------------------------------------- public
    def sample(self, rng: np.random.Generator | int | None, sizes: Any) -> np.ndarray:
        """Draw one prediction per size in ``sizes`` (vectorized; ``rng`` a Generator or seed)."""
        rng = np.random.default_rng(rng)
        x = np.asarray(sizes, dtype=float)
        return np.asarray(self._sample(rng, x), dtype=float)

    def conditional_cdf(self, y: Any, x: Any, *, strict: bool = False) -> Any:
        """P(Y <= y | X = x) (P(Y < y | X = x) with ``strict``), broadcast over y and x."""
        yy, sy = as_y(y)
        xx, sx = as_y(x, "x")
        fn = self._cond_cdf_strict if strict else self._cond_cdf
        return _out(np.asarray(fn(yy, xx), dtype=float), sy and sx)

    def conditional_sf(self, y: Any, x: Any, *, strict: bool = False) -> Any:
        """P(Y > y | X = x) (P(Y >= y | X = x) with ``strict``)."""
        yy, sy = as_y(y)
        xx, sx = as_y(x, "x")
        fn = self._cond_sf_strict if strict else self._cond_sf
        return _out(np.asarray(fn(yy, xx), dtype=float), sy and sx)

    def conditional_pdf(self, y: Any, x: Any) -> Any:
        """Density of (the continuous part of) Y given X = x at ``y``."""
        yy, sy = as_y(y)
        xx, sx = as_y(x, "x")
        return _out(np.asarray(self._cond_pdf(yy, xx), dtype=float), sy and sx)

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

    def _cond_cdf_strict(self, y, x):
        return self._cond_cdf(y, x)

    def _cond_sf(self, y, x):
        return 1.0 - self._cond_cdf(y, x)

    def _cond_sf_strict(self, y, x):
        return 1.0 - self._cond_cdf_strict(y, x)

    def _cond_pdf(self, y, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _x_kinks(self, y: float) -> np.ndarray:
        return np.empty(0)

    def _y_kinks(self, x: float) -> np.ndarray:
        return np.empty(0)

    def _x_kinks_batch(self, y: np.ndarray) -> np.ndarray:
        """Kinks in x for each y, as an (n, p) array (NaN-padded)."""
        rows = [np.ravel(self._x_kinks(float(v))) for v in y]
        return _pad(rows, y.size)

    def _y_kinks_batch(self, x: np.ndarray) -> np.ndarray:
        """Kinks in y for each x, as an (n, p) array (NaN-padded)."""
        rows = [np.ravel(self._y_kinks(float(v))) for v in x]
        return _pad(rows, x.size)

    def _params(self) -> dict:
        return {}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({params})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))


def _pad(rows: Sequence[np.ndarray], n: int) -> np.ndarray:
    width = max((r.size for r in rows), default=0)
    out = np.full((n, width), np.nan)
    for i, r in enumerate(rows):
        out[i, : r.size] = r
    return out


class JointLaw:
    r"""Joint law of (X, Y) for a size distribution and a prediction model.

    The generic implementation uses
    :math:`E[\phi(X) 1(Y \le y)] = E[\phi(X) P(Y \le y \mid X)]`, integrated
    over the size law (atoms summed, the continuous part by batched adaptive
    quadrature with the channel's kinks as breakpoints). It assumes that Y given
    X = x has a density; channels with atoms provide their own joint law.

    Public methods accept scalars or arrays of y and return floats or arrays of
    the same shape. Each value is computed to a relative error estimate of
    ``rtol`` (class attribute, default 1e-12).
    """

    #: Relative accuracy of every per-y quantity.
    rtol: float = INNER_RTOL

    def __init__(self, size: SizeDistribution, prediction: PredictionModel) -> None:
        prediction.check_size(size)
        self.size = size
        self.prediction = prediction
        self._info_cache: _SizeInfo | None = None

    @property
    def _info(self) -> _SizeInfo:
        if self._info_cache is None:
            self._info_cache = _SizeInfo(self.size)
        return self._info_cache

    # Marginal of Y ---------------------------------------------------------
    def pdf_y(self, y: Any) -> Any:
        """Density f_Y(y) of (the continuous part of) the prediction."""
        return self.moment_density_y(0, y)

    def cdf_y(self, y: Any, *, strict: bool = False) -> Any:
        """P(Y <= y) (P(Y < y) with ``strict``)."""
        return self.partial_moment_y(0, y, strict=strict)

    def sf_y(self, y: Any, *, strict: bool = False) -> Any:
        """P(Y > y) (P(Y >= y) with ``strict``), computed without cancellation."""
        return self.tail_moment_y(0, y, strict=strict)

    def partial_moment_y(self, k: float, y: Any, *, strict: bool = False) -> Any:
        """E[X^k 1(Y <= y)], or with ``strict`` E[X^k 1(Y < y)].

        Continuous prediction laws make the two equal; perfect predictions of an
        atomic size law do not. ``partial_moment_y(1, y)`` is ρ′(y)/λ and
        ``partial_moment_y(2, y)`` is M₂′(y) (formulas.md §1).
        """
        arr, scalar = as_y(y)
        return _out(self._public(("lower",), (check_k(k),), arr, strict)[0], scalar)

    def tail_moment_y(self, k: float, y: Any, *, strict: bool = False) -> Any:
        """E[X^k 1(Y > y)], or with ``strict`` E[X^k 1(Y >= y)] (may be ``inf``)."""
        arr, scalar = as_y(y)
        return _out(self._public(("upper",), (check_k(k),), arr, strict)[0], scalar)

    def partial_moments_y(self, ks: Sequence[float], y: Any, *, strict: bool = False,
                          ) -> np.ndarray:
        """E[X^k 1(Y <= y)] for several k at once: shape ``(len(ks),) + shape(y)``.

        Cheaper than separate calls: the quadratures share one subdivision.
        """
        arr, _ = as_y(y)
        kk = tuple(check_k(k) for k in ks)
        return self._public(("lower",) * len(kk), kk, arr, strict)

    def moment_density_y(self, k: float, y: Any) -> Any:
        """∫ x^k g(x, y) dx = E[X^k | Y = y] f_Y(y) (continuous part of Y).

        ``moment_density_y(1, y)`` is m₁(y) of formulas.md §3.2.
        """
        arr, scalar = as_y(y)
        return _out(self._public(("density",), (check_k(k),), arr, False)[0], scalar)

    @property
    def atoms_y(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted point masses of Y: (values, probabilities); empty if Y is continuous."""
        return np.empty(0), np.empty(0)

    @property
    def has_atoms_y(self) -> bool:
        """True if Y has at least one point mass (then ``strict`` matters)."""
        return self.atoms_y[0].size > 0

    @property
    def has_density_y(self) -> bool:
        """True if Y has a continuous part (``pdf_y`` is not identically 0)."""
        return True

    def expect(self, h: Callable[[np.ndarray, np.ndarray], np.ndarray], *,
               rtol: float = DEFAULT_RTOL, y_points: Callable[[np.ndarray], Any] | None = None,
               ) -> Estimate:
        """E[h(X, Y)] by nested quadrature (inner over y given x, outer over x).

        ``h`` is vectorized over equal-shape arrays. ``y_points(x)`` may give kinks of
        ``h`` in y for given x: it receives a 1-D array of x and returns a sequence of
        arrays of that shape (or an array of shape (p, n), or scalars). The error
        estimate is the outer one plus the inner relative error times the value.
        """
        pred = self.prediction
        worst = [0.0]

        def inner(xs: np.ndarray) -> np.ndarray:
            xs = np.asarray(xs, dtype=float)
            n = xs.size
            pts = np.concatenate([pred._y_kinks_batch(xs), as_points(
                y_points(xs) if y_points else None, n)], axis=1)
            val, err = batch_quad(
                lambda y, i: h(xs[i], y) * pred._cond_pdf(y, xs[i]),
                np.zeros(n), np.full(n, np.inf), pts, rtol=rtol * 0.1,
                tail_scale=np.maximum(xs, 1e-300))
            _track(worst, val[:, 0], err[:, 0])
            return val[:, 0]

        est = self.size.expect(inner, rtol=rtol)
        return Estimate(est.value, est.error + abs(est.value) * worst[0])

    def sample(self, rng: np.random.Generator | int | None,
               n: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` pairs (X, Y) (reproducible for a given seed)."""
        rng = np.random.default_rng(rng)
        x = self.size.sample(rng, n)
        return x, self.prediction.sample(rng, x)

    # Internals ---------------------------------------------------------------
    def _public(self, kinds: tuple[str, ...], ks: tuple[float, ...], y: np.ndarray,
                strict: bool) -> np.ndarray:
        """Evaluate quantities on the flattened y; handle y < 0 and y = inf here."""
        flat = y.reshape(-1)
        out = np.zeros((len(ks), flat.size))
        neg = flat < 0
        pinf = np.isposinf(flat)
        mid = ~(neg | pinf)
        for j, (kind, k) in enumerate(zip(kinds, ks)):
            if kind == "upper" and np.any(neg):
                out[j, neg] = size_moment(self.size, k)
            if kind == "lower" and np.any(pinf):
                out[j, pinf] = size_moment(self.size, k)
        if np.any(mid):
            ym = flat[mid]
            for kind in dict.fromkeys(kinds):
                idx = [j for j, kd in enumerate(kinds) if kd == kind]
                kk = tuple(ks[j] for j in idx)
                if kind == "lower":
                    vals = self._lower(kk, ym, strict)
                elif kind == "upper":
                    vals = self._upper(kk, ym, strict)
                else:
                    vals = self._density(kk, ym)
                out[np.ix_(idx, np.flatnonzero(mid))] = vals
        if np.any(np.isnan(out)):  # pragma: no cover - a bug, never a silent NaN
            raise ParameterError("internal error: a joint-law quantity evaluated to NaN")
        return out.reshape((len(ks),) + y.shape)

    def _lower(self, ks: tuple[float, ...], y: np.ndarray, strict: bool) -> np.ndarray:
        fn = self.prediction._cond_cdf_strict if strict else self.prediction._cond_cdf
        return self._integrate_cond(ks, y, fn)

    def _upper(self, ks: tuple[float, ...], y: np.ndarray, strict: bool) -> np.ndarray:
        fn = self.prediction._cond_sf_strict if strict else self.prediction._cond_sf
        return self._integrate_cond(ks, y, fn)

    def _density(self, ks: tuple[float, ...], y: np.ndarray) -> np.ndarray:
        return self._integrate_cond(ks, y, self.prediction._cond_pdf)

    def _integrate_cond(self, ks, y, cond) -> np.ndarray:
        """E[X^k cond(y, X)] over the size law for every k in ``ks`` and every y."""
        info = self._info
        kv = np.asarray(ks, dtype=float)
        out = np.zeros((kv.size, y.size))
        if info.atom_values.size:
            v, p = info.atom_values, info.atom_probs
            out += atom_sum(v, p, y, lambda yy, vv: vv[None] ** kv[:, None, None]
                            * cond(yy, vv)[None])
        if info.continuous and y.size:
            pts = self.prediction._x_kinks_batch(y)
            pts = np.concatenate([pts, np.broadcast_to(info.hints, (y.size, info.hints.size))],
                                 axis=1)
            val, _ = batch_quad(
                lambda x, i: weighted_powers(x, kv, info.pdf(x) * cond(y[i], x)),
                np.full(y.size, info.lo), np.full(y.size, info.hi), pts, rtol=self.rtol,
                tail_scale=info.scale)
            out += val.T
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.size!r}, {self.prediction!r})"


def _track(worst: list, val: np.ndarray, err: np.ndarray) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(val != 0, err / np.abs(val), 0.0)
    if rel.size:
        worst[0] = max(worst[0], float(np.max(rel)))
