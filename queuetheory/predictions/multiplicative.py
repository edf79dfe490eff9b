r"""Multiplicative prediction errors: Y = X·R with the ratio R independent of X.

Every concrete error model of formulas.md §3.5 has this form: exponential
(R ~ Exp(1)), uniform (R ~ U[1 − α, 1 + α]), lognormal (R = e^{σZ − shift}),
bounded multiplicative (R ∈ [β, α]), the ratio mode of empirical predictions
(R resampled from observed ratios), and perfect predictions (R = 1).

With R independent of X the joint quantities reduce to one-dimensional forms.
Write the law of R as atoms :math:`r_j` (weights :math:`w_j`) plus a continuous
part with density :math:`g_R` and sub-distribution function :math:`F_c` on
:math:`(r_{lo}, r_{hi})`, and let :math:`a = y/r_{hi}`, :math:`b = y/r_{lo}`:

.. math::

    E[X^k 1(Y \le y)] = \sum_j w_j\, E[X^k 1(X \le y/r_j)]
        + p_c\,E[X^k 1(X \le a)] + \int_{(a, b)} x^k F_c(y/x)\,dF(x),

    \int x^k g(x, y)\,dx = \sum_j w_j \frac{(y/r_j)^k f(y/r_j)}{r_j}
        + \int_{(a, b)} x^{k-1} g_R(y/x)\,dF(x),

    E[h(X, Y)] = E\Big[\sum_j w_j h(X, X r_j) + \int h(X, X r)\, g_R(r)\,dr\Big],

where :math:`p_c` is the mass of the continuous part. The first terms use the
size law's own (closed-form, atom-exact) partial moments; the band integral
has no kink inside :math:`(a, b)` except at the images y/r of the kinks of
:math:`g_R`, which are breakpoints of the batched quadrature (together with
y/q for a few quantiles q of R, which resolve sharp but smooth transitions
when R is concentrated, e.g. a lognormal with small σ).

Cost and accuracy: each value is computed to a relative error estimate of 1e-12
(checked against 30-digit mpmath integrals in ``tests/test_predictions.py``).
For a size law with A atoms the atom sums cost O(A) per y, except when F_c is
affine in r or log r (uniform, bounded uniform/loguniform laws), where
prefix sums make them O(log A) per y. About 20–300 ms per 1000 values of y
for continuous size laws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..integrate import DEFAULT_RTOL, Estimate
from ._batchquad import batch_quad
from .base import (
    _CHUNK,
    JointLaw,
    PredictionModel,
    _track,
    as_points,
    as_y,
    atom_sum,
    size_moment,
    size_partial_moment,
    size_tail_moment,
    weighted_powers,
)

__all__ = ["MultiplicativePrediction", "MultiplicativeJoint"]

_HINT_PROBS = np.array([1e-3, 0.05, 0.5, 0.95, 0.999])


class MultiplicativePrediction(PredictionModel):
    """Base class of multiplicative errors Y = X·R, R >= 0 independent of X.

    Subclasses describe the ratio law R by overriding ``_r_atoms`` (point masses),
    and for a continuous part ``_r_range`` (its support), ``_r_cdf`` (its
    sub-distribution function, rising from 0 to the continuous mass), ``_r_pdf``,
    ``_r_ppf`` (quantile of the normalised continuous part), optionally
    ``_r_sf`` (accurate complement), ``_r_kinks`` and ``_r_pdf0`` (the density
    at 0+).
    """

    name = "multiplicative"

    # ------------------------------------------------------------ ratio law
    def ratio_cdf(self, r: Any, *, strict: bool = False) -> Any:
        """P(R <= r) (P(R < r) with ``strict``) of the ratio R = Y/X."""
        arr, scalar = as_y(r, "r")
        out = self._full_r_cdf(arr, strict)
        return float(out) if scalar else out

    def ratio_pdf(self, r: Any) -> Any:
        """Density of the continuous part of the ratio R = Y/X."""
        arr, scalar = as_y(r, "r")
        out = self._r_pdf_safe(arr)
        return float(out) if scalar else out

    # Hooks (defaults: no continuous part) ---------------------------------
    def _r_atoms(self) -> tuple[np.ndarray, np.ndarray]:
        return np.empty(0), np.empty(0)

    def _r_range(self) -> tuple[float, float] | None:
        return None

    def _r_cdf(self, r: np.ndarray) -> np.ndarray:
        return np.zeros_like(r)

    def _r_sf(self, r: np.ndarray) -> np.ndarray:
        return self._r_mass() - self._r_cdf(r)

    def _r_pdf(self, r: np.ndarray) -> np.ndarray:
        return np.zeros_like(r)

    def _r_ppf(self, q: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _r_kinks(self) -> np.ndarray:
        return np.empty(0)

    def _r_affine(self) -> tuple[str, float, float] | None:
        """``("r", c0, c1)`` if F_c(r) = c0 + c1 r on the range, ``("log", c0, c1)`` if
        F_c(r) = c0 + c1 log r; ``None`` otherwise (enables exact O(A) band sums)."""
        return None

    def _r_pdf0(self) -> float:
        rng = self._r_range()
        if rng is None or rng[0] > 0:
            return 0.0
        return float(self._r_pdf(np.array([0.0]))[0])

    # Derived ------------------------------------------------------------------
    def _r_mass(self) -> float:
        """Mass of the continuous part of R."""
        if self._r_range() is None:
            return 0.0
        return 1.0 - float(np.sum(self._r_atoms()[1]))

    def _r_hints(self) -> np.ndarray:
        if self._r_range() is None:
            return np.empty(0)
        return np.asarray(self._r_ppf(_HINT_PROBS), dtype=float)

    def _r_points(self) -> np.ndarray:
        """All special ratios > 0: range ends, kinks, quantile hints, atoms."""
        pts = [self._r_kinks(), self._r_hints(), self._r_atoms()[0]]
        rng = self._r_range()
        if rng is not None:
            pts.append(np.array(rng))
        allp = np.concatenate([np.ravel(p) for p in pts])
        return np.unique(allp[np.isfinite(allp) & (allp > 0)])

    def _r_pdf_safe(self, r: np.ndarray) -> np.ndarray:
        rng = self._r_range()
        out = np.zeros(r.shape)
        if rng is None:
            return out
        inside = (r > rng[0]) & (r < rng[1])
        if np.any(inside):
            out[inside] = self._r_pdf(r[inside])
        return out

    def _cont_cdf(self, r: np.ndarray) -> np.ndarray:
        rng = self._r_range()
        if rng is None:
            return np.zeros(r.shape)
        mass = self._r_mass()
        out = np.where(r >= rng[1], mass, 0.0)
        inside = (r > rng[0]) & (r < rng[1])
        if np.any(inside):
            out[inside] = self._r_cdf(r[inside])
        return out

    def _cont_sf(self, r: np.ndarray) -> np.ndarray:
        rng = self._r_range()
        if rng is None:
            return np.zeros(r.shape)
        mass = self._r_mass()
        out = np.where(r <= rng[0], mass, 0.0)
        inside = (r > rng[0]) & (r < rng[1])
        if np.any(inside):
            out[inside] = self._r_sf(r[inside])
        return out

    def _full_r_cdf(self, r: np.ndarray, strict: bool) -> np.ndarray:
        out = self._cont_cdf(r)
        vals, probs = self._r_atoms()
        if vals.size:
            cum = np.concatenate([[0.0], np.cumsum(probs)])
            out = out + cum[np.searchsorted(vals, r, side="left" if strict else "right")]
        return np.clip(out, 0.0, 1.0)

    def _full_r_sf(self, r: np.ndarray, strict: bool) -> np.ndarray:
        out = self._cont_sf(r)
        vals, probs = self._r_atoms()
        if vals.size:
            tail = np.concatenate([np.cumsum(probs[::-1])[::-1], [0.0]])
            out = out + tail[np.searchsorted(vals, r, side="left" if strict else "right")]
        return np.clip(out, 0.0, 1.0)

    # PredictionModel hooks ----------------------------------------------------
    def _sample(self, rng, x):
        return x * self._r_sample(rng, x.shape)

    def _r_sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        """Mixture sampling: continuous part by inverse transform, atoms by their weights."""
        u = rng.random(shape)
        mass = self._r_mass()
        vals, probs = self._r_atoms()
        out = np.empty(shape)
        cont = u < mass
        if np.any(cont):
            out[cont] = self._r_ppf(u[cont] / mass)
        if np.any(~cont):
            cum = mass + np.cumsum(probs)
            idx = np.minimum(np.searchsorted(cum, u[~cont], side="right"), vals.size - 1)
            out[~cont] = vals[idx]
        return out

    def _ratio(self, y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, x = np.broadcast_arrays(np.asarray(y, float), np.asarray(x, float))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(x > 0, y / np.where(x > 0, x, 1.0), 0.0)
        return r, x > 0

    def _cond_cdf(self, y, x):
        r, pos = self._ratio(y, x)
        return np.where(pos, self._full_r_cdf(r, False), (np.asarray(y) >= 0) * 1.0)

    def _cond_cdf_strict(self, y, x):
        r, pos = self._ratio(y, x)
        return np.where(pos, self._full_r_cdf(r, True), (np.asarray(y) > 0) * 1.0)

    def _cond_sf(self, y, x):
        r, pos = self._ratio(y, x)
        return np.where(pos, self._full_r_sf(r, False), (np.asarray(y) < 0) * 1.0)

    def _cond_sf_strict(self, y, x):
        r, pos = self._ratio(y, x)
        return np.where(pos, self._full_r_sf(r, True), (np.asarray(y) <= 0) * 1.0)

    def _cond_pdf(self, y, x):
        r, pos = self._ratio(y, x)
        xs = np.where(pos, np.broadcast_to(x, r.shape), 1.0)
        return np.where(pos, self._r_pdf_safe(r) / xs, 0.0)

    def _x_kinks(self, y):
        return y / self._r_points() if y > 0 else np.empty(0)

    def _y_kinks(self, x):
        return x * self._r_points()

    def _x_kinks_batch(self, y):
        with np.errstate(divide="ignore"):
            return y[:, None] / self._r_points()[None, :]

    def _y_kinks_batch(self, x):
        return x[:, None] * self._r_points()[None, :]

    def joint(self, size):
        return MultiplicativeJoint(size, self)


class MultiplicativeJoint(JointLaw):
    """Joint law of (X, X·R) with R independent of X (formulas in the module docstring)."""

    prediction: MultiplicativePrediction

    # --------------------------------------------------------------- helpers
    def _band(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo_r, hi_r = self.prediction._r_range()
        with np.errstate(divide="ignore", invalid="ignore"):
            a = y / hi_r if math.isfinite(hi_r) else np.zeros_like(y)
            b = y / lo_r if lo_r > 0 else np.full_like(y, np.inf)
        return a, b

    def _weight(self, which: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        pred = self.prediction
        if which == "cdf":
            return lambda yy, x: pred._cont_cdf(yy / x)
        if which == "sf":
            return lambda yy, x: pred._cont_sf(yy / x)
        return lambda yy, x: pred._r_pdf_safe(yy / x) / x

    def _band_integral(self, ks, y, which: str) -> np.ndarray:
        """∫_(a, b) x^k w(y, x) dF(x) for every k and y > 0, atoms of X summed exactly.

        ``which`` selects w: ``"cdf"`` F_c(y/x), ``"sf"`` p_c − F_c(y/x), ``"pdf"``
        g_R(y/x)/x.
        """
        info = self._info
        kv = np.asarray(ks, dtype=float)
        out = np.zeros((kv.size, y.size))
        a, b = self._band(y)
        weight = self._weight(which)
        if info.atom_values.size:
            fast = self._band_atoms_affine(kv, y, which)
            if fast is not None:
                out += fast
            else:
                v, p = info.atom_values, info.atom_probs

                def fn(yy, vv):
                    aa, bb = self._band(yy)
                    inside = (vv > aa) & (vv < bb)
                    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                        w = np.where(inside, weight(yy, np.where(inside, vv, 1.0)), 0.0)
                        return np.where(inside[None], vv[None] ** kv[:, None, None], 0.0) * w[None]
                out += atom_sum(v, p, y, fn)
        if info.continuous:
            lo = np.maximum(a, info.lo)
            hi = np.minimum(b, info.hi)
            go = hi > lo
            if np.any(go):
                yg = y[go]
                r_pts = self.prediction._r_points()
                pts = np.concatenate([
                    yg[:, None] / r_pts[None, :],
                    np.broadcast_to(info.hints, (yg.size, info.hints.size))], axis=1)
                val, _ = batch_quad(
                    lambda x, i: weighted_powers(x, kv, info.pdf(x) * weight(yg[i], x)),
                    lo[go], hi[go], pts, rtol=self.rtol, tail_scale=info.scale)
                out[:, go] += val.T
        return out

    def _band_atoms_affine(self, kv: np.ndarray, y: np.ndarray, which: str) -> np.ndarray | None:
        """Band sums over the atoms of X in O(A + n log A) when F_c is affine in r or log r.

        With F_c(r) = c0 + c1 r (density c1) or F_c(r) = c0 + c1 log r (density c1/r)
        on the ratio range, ∑_{a < v_i < b} p_i v_i^k w(y, v_i) is a combination of
        band sums of p v^k, p v^(k-1) or p v^k log v, taken from prefix (or suffix)
        cumulative sums located by binary search.
        """
        form = self.prediction._r_affine()
        if form is None:
            return None
        kind, c0, c1 = form
        mass = self.prediction._r_mass()
        info = self._info
        v, p = info.atom_values, info.atom_probs
        a, b = self._band(y)
        lo = np.searchsorted(v, a, side="right")
        hi = np.maximum(np.searchsorted(v, b, side="left"), lo)

        def band_sum(terms: np.ndarray) -> np.ndarray:
            fwd = np.concatenate([[0.0], np.cumsum(terms)])
            bwd = np.concatenate([np.cumsum(terms[::-1])[::-1], [0.0]])
            # the difference with the smaller operands cancels less
            return np.where(fwd[hi] <= bwd[lo], fwd[hi] - fwd[lo], bwd[lo] - bwd[hi])

        out = np.zeros((kv.size, y.size))
        with np.errstate(divide="ignore", invalid="ignore"):
            logv = np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), 0.0)
            inv = np.where(v > 0, 1.0 / np.where(v > 0, v, 1.0), 0.0)
        for j, k in enumerate(kv):
            s_k = band_sum(p * v**k)
            if kind == "r":
                s_km1 = band_sum(p * v**k * inv)
                if which == "cdf":
                    out[j] = c0 * s_k + c1 * y * s_km1
                elif which == "sf":
                    out[j] = (mass - c0) * s_k - c1 * y * s_km1
                else:
                    out[j] = c1 * s_km1
            else:
                t_k = band_sum(p * v**k * logv)
                with np.errstate(divide="ignore"):
                    ly = np.log(y)
                if which == "cdf":
                    out[j] = (c0 + c1 * ly) * s_k - c1 * t_k
                elif which == "sf":
                    out[j] = (mass - c0 - c1 * ly) * s_k + c1 * t_k
                else:
                    out[j] = c1 * s_k / y
        return np.maximum(out, 0.0)

    def _atoms_pm(self, k: float, y: np.ndarray, strict: bool) -> np.ndarray:
        """∑_j w_j E[X^k 1(X r_j <= y)] (``strict``: <) over the atoms of R."""
        vals, probs = self.prediction._r_atoms()
        out = np.zeros(y.size)
        if not vals.size:
            return out
        pos = vals > 0
        if np.any(~pos):
            w0 = float(probs[~pos].sum())
            hit = (y > 0) if strict else (y >= 0)
            out += w0 * np.where(hit, size_moment(self.size, k), 0.0)
        r, w = vals[pos], probs[pos]
        rows = max(1, _CHUNK // max(y.size, 1))
        for s in range(0, r.size, rows):
            arg = y[None, :] / r[s:s + rows, None]
            pm = size_partial_moment(self._info, k, arg, strict)
            out += w[s:s + rows] @ pm
        return out

    def _atoms_tail(self, k: float, y: np.ndarray, strict: bool) -> np.ndarray:
        """∑_j w_j E[X^k 1(X r_j > y)] (``strict``: >=) over the atoms of R."""
        vals, probs = self.prediction._r_atoms()
        out = np.zeros(y.size)
        if not vals.size:
            return out
        pos = vals > 0
        if np.any(~pos) and strict:
            w0 = float(probs[~pos].sum())
            out += w0 * np.where(y == 0, size_moment(self.size, k), 0.0)
        r, w = vals[pos], probs[pos]
        rows = max(1, _CHUNK // max(y.size, 1))
        for s in range(0, r.size, rows):
            arg = y[None, :] / r[s:s + rows, None]
            out += w[s:s + rows] @ size_tail_moment(self._info, k, arg, strict)
        return out

    # ------------------------------------------------------------ quantities
    def _lower(self, ks, y, strict):
        pred = self.prediction
        out = np.zeros((len(ks), y.size))
        for j, k in enumerate(ks):
            out[j] += self._atoms_pm(k, y, strict)
        if pred._r_range() is not None:
            mass = pred._r_mass()
            pos = y > 0
            yp = y[pos]
            a, _ = self._band(yp)
            if np.any(a > 0):
                for j, k in enumerate(ks):
                    pm = np.zeros(yp.size)
                    m = a > 0
                    pm[m] = size_partial_moment(self._info, k, a[m], False)
                    out[j, pos] += mass * pm
            out[:, pos] += self._band_integral(ks, yp, "cdf")
            p0 = self._info.p0
            if p0 > 0:  # an atom of X at 0 gives Y = 0, outside every band (a, b)
                hit = (y > 0) if strict else (y >= 0)
                if math.isfinite(pred._r_range()[1]):
                    hit &= y == 0  # for y > 0, E[1(X <= a)] already counts it
                for j, k in enumerate(ks):
                    if k == 0:
                        out[j, hit] += mass * p0
        return out

    def _upper(self, ks, y, strict):
        pred = self.prediction
        infinite = [math.isinf(size_moment(self.size, k)) for k in ks]
        if any(infinite):
            # E[X^k] = inf: every y has E[X^k 1(Y > y)] = inf, since Y > y for all large X
            # (unless R = 0 almost surely, when Y = 0).
            out = np.full((len(ks), y.size), math.inf)
            finite = tuple(k for k, inf in zip(ks, infinite) if not inf)
            if finite:
                out[[j for j, inf in enumerate(infinite) if not inf]] = self._upper(
                    finite, y, strict)
            if pred._r_range() is None and not np.any(pred._r_atoms()[0] > 0):
                zero = (y == 0) if strict else np.zeros(y.size, dtype=bool)
                out[:, ~zero] = np.where(np.array(infinite)[:, None], 0.0, out[:, ~zero])
            return out
        out = np.zeros((len(ks), y.size))
        for j, k in enumerate(ks):
            out[j] += self._atoms_tail(k, y, strict)
        if pred._r_range() is not None:
            mass = pred._r_mass()
            pos = y > 0
            zero = ~pos
            for j, k in enumerate(ks):
                if np.any(zero):
                    at_zero = self._info.p0 if (k == 0 and not strict) else 0.0
                    out[j, zero] += mass * (size_moment(self.size, k) - at_zero)
            yp = y[pos]
            _, b = self._band(yp)
            fin = np.isfinite(b)
            if np.any(fin):
                for j, k in enumerate(ks):
                    t = size_tail_moment(self._info, k, b[fin], True)
                    tmp = np.zeros(yp.size)
                    tmp[fin] = mass * t
                    out[j, pos] += tmp
            out[:, pos] += self._band_integral(ks, yp, "sf")
        return out

    def _density(self, ks, y):
        pred = self.prediction
        info = self._info
        out = np.zeros((len(ks), y.size))
        vals, probs = pred._r_atoms()
        pos_atoms = vals > 0
        if info.continuous and np.any(pos_atoms):
            r, w = vals[pos_atoms], probs[pos_atoms]
            for j, k in enumerate(ks):
                def fn(yy, rr, k=k):
                    x = yy / rr
                    return x**k * info.pdf(x) / rr
                out[j] += atom_sum(r, w, y, fn)
        if pred._r_range() is not None:
            pos = y > 0
            zero = ~pos
            if np.any(zero):
                g0 = pred._r_pdf0()
                for j, k in enumerate(ks):
                    if g0 > 0:
                        out[j, zero] += g0 * self._moment_minus_one(k)
            yp = y[pos]
            out[:, pos] += self._band_integral(ks, yp, "pdf")
        return out

    def _moment_minus_one(self, k: float) -> float:
        """E[X^(k-1)], with E[1/X] = inf when the size density is positive at 0+."""
        if k >= 1:
            return size_moment(self.size, k - 1)
        info = self._info
        if info.atom_values.size and info.atom_values[0] == 0:
            return math.inf
        if info.continuous and info.lo == 0 and info.pdf(np.array([1e-300]))[0] > 0:
            return math.inf
        return float(self.size.expect(lambda x: x ** (k - 1)).value)

    @property
    def atoms_y(self) -> tuple[np.ndarray, np.ndarray]:
        pred = self.prediction
        info = self._info
        rv, rp = pred._r_atoms()
        xv, xp = info.atom_values, info.atom_probs
        if rv.size * xv.size > 50_000_000:
            raise ParameterError(
                f"Y has up to {rv.size * xv.size} atoms (size atoms x ratio atoms); "
                f"too many to list")
        vals = [np.ravel(xv[:, None] * rv[None, :])]
        probs = [np.ravel(xp[:, None] * rp[None, :])]
        cont_x = 1.0 - float(xp.sum()) if info.continuous else 0.0
        zero_mass = float(rp[rv == 0].sum()) * cont_x
        if pred._r_range() is not None:
            zero_mass += float(xp[xv == 0].sum()) * pred._r_mass()
        if zero_mass > 0:
            vals.append(np.array([0.0]))
            probs.append(np.array([zero_mass]))
        v = np.concatenate(vals)
        p = np.concatenate(probs)
        keep = p > 0
        u, inv = np.unique(v[keep], return_inverse=True)
        return u, np.bincount(inv, weights=p[keep], minlength=u.size)

    @property
    def has_density_y(self) -> bool:
        pred = self.prediction
        return pred._r_range() is not None or (
            self._info.continuous and bool(np.any(pred._r_atoms()[0] > 0)))

    def expect(self, h: Callable[[np.ndarray, np.ndarray], np.ndarray], *,
               rtol: float = DEFAULT_RTOL, y_points: Callable[[np.ndarray], Any] | None = None,
               ) -> Estimate:
        """E[h(X, Y)] = E[∑_j w_j h(X, X r_j) + ∫ h(X, X r) g_R(r) dr].

        The inner integral over the ratio r is split at the kinks of g_R, a few of
        its quantiles and ``y_points(x)/x`` (see :meth:`JointLaw.expect`); the outer
        expectation is the size law's ``expect``.
        """
        pred = self.prediction
        vals, probs = pred._r_atoms()
        rng_r = pred._r_range()
        r_pts = pred._r_points()
        worst = [0.0]

        def inner(xs: np.ndarray) -> np.ndarray:
            xs = np.asarray(xs, dtype=float)
            n = xs.size
            out = np.zeros(n)
            if vals.size:
                out += atom_sum(vals, probs, xs, lambda xx, rr: h(
                    np.broadcast_to(xx, np.broadcast_shapes(xx.shape, rr.shape)), xx * rr))
            if rng_r is not None:
                user = as_points(y_points(xs) if y_points else None, n)
                with np.errstate(divide="ignore", invalid="ignore"):
                    user = user / xs[:, None]
                pts = np.concatenate([np.broadcast_to(r_pts, (n, r_pts.size)), user], axis=1)
                val, err = batch_quad(
                    lambda r, i: h(xs[i], xs[i] * r) * pred._r_pdf_safe(r),
                    np.full(n, rng_r[0]), np.full(n, rng_r[1]), pts, rtol=rtol * 0.1,
                    tail_scale=float(pred._r_ppf(np.array([0.5]))[0]))
                _track(worst, val[:, 0], err[:, 0])
                out += val[:, 0]
            return out

        est = self.size.expect(inner, rtol=rtol)
        return Estimate(est.value, est.error + abs(est.value) * worst[0])
