r"""Joint expectations of (size, prediction) used by the prediction-based policies.

The closed forms of :mod:`~queuetheory.policies.prediction`,
:mod:`~queuetheory.policies.trail`, :mod:`~queuetheory.policies.onebit` and
:mod:`~queuetheory.policies.skippredict` are all built from a handful of
functions of the prediction y (notation of formulas.md §1, §3, §8), evaluated
for a *measure* μ on jobs: the whole population, or a sub-population (the
predicted-long jobs of SkipPredict):

=============  ===========================================================  ==========
name           quantity                                                     used by
=============  ===========================================================  ==========
``fy``         density of the continuous part of Y under μ                  all
``sf``         μ(Y > y); ``sfs``: μ(Y >= y)                                 one-bit
``m1c``        E_μ[S 1(Y > y)]; ``m1cs``: E_μ[S 1(Y >= y)]                  all (loads)
``m2c``        E_μ[S² 1(Y > y)]                                             all
``old``        E_μ[((S − (Y − y))⁺)² 1(Y > y)]                              SPRPT §3.2
``rnum``       μ(y < Y < y + S) = P(Y > y) − P(Y − S >= y)                  SPRPT §3.3
``old_c``      E_μ[((S − min(Y − y, cY))⁺)² 1(Y > y)]                       TRAIL §8.2
``rnum_c``     μ(max(Y − S, (1 − c)Y) < y < Y)                              TRAIL §8.2
``old_sc``     E_μ[max(S − Y + y, (1 − c)S)² 1(Y > y)]                      §8.3/§8.4
``rnum_sc``    μ(y < Y < y + cS) = P(Y > y) − P(Y − cS >= y)                §8.3/§8.4
``rnum_T``     μ(T < Y < y + S)                                             SkipPredict
=============  ===========================================================  ==========

Loads are handled in complement form for accuracy at high load:
``1 − ρ′(y) = (1 − ρ) + λ E[S 1(Y > y)]`` (no cancellation as ρ → 1).

Implementations (selected by :func:`terms_for`):

* :class:`DiscreteTerms` — finitely many (size, prediction) pairs
  (:class:`~queuetheory.EmpiricalPredictions`, perfect predictions of a
  discrete size law): exact sums in O(n log n) by sorting and cumulative sums.
  For S > 0, {Y > y, Y − S < y} = {Y > y} \ {Y − S >= y}, so the SPRPT old-job
  term is a difference of two one-dimensional cumulative sums; the TRAIL terms
  are sums over pairs whose activity in y is an interval (a sweep).
  Residence times use H(v) = ∫₀^v dt/(1 − ρ′(t)), which is piecewise linear.
* :class:`PerfectTerms` — Y = S: size quantities only (atom-aware, §2.5).
* :class:`ContinuousTerms` — any size law with any prediction model. The
  standard quantities (f_Y, tail moments) come from the workload's joint law
  (:mod:`queuetheory.predictions`); the policy-specific ones are
  E_X[ψ(X, y)] with ψ the conditional expectation of a quadratic polynomial of
  Y over an interval, integrated over the size by batched adaptive quadrature
  split at the kinks (formulas.md §10). For multiplicative errors Y = X·R
  (every model in :mod:`queuetheory.predictions`) ψ comes from partial moments
  of the ratio R — closed forms for exponential, uniform and lognormal R; other
  prediction models integrate their conditional density.
* :class:`ExponentialTerms` — exponential predictions with any size law: the
  ratio R ~ Exp(1) is memoryless, so (formulas.md §9, valid for any size law)
  ``old = (1 − 2/e) m2c``, ``rnum = (1 − 1/e) sf``, ``old_sc = (1 − 2c e^{−c}) m2c``,
  ``rnum_sc = (1 − e^{−c}) sf``, E[(S − Y)⁺] = E[S]/e.
* :class:`ExpExpTerms` — exponential sizes as well: every quantity except the
  TRAIL(c) terms is a Bessel-K closed form B_ν(y/m) (formulas.md §9), computed
  by :func:`queuetheory.predictions.exponential.bessel_b`.

Sub-populations (SkipPredict): ``restrict=("y", T)`` is the measure of jobs
with Y > T and ``restrict=("x", T)`` of jobs with S > T (the latter uses the
size law conditioned on S > T, scaled by P(S > T)).

The policy-level methods :meth:`JointTerms.mean_waiting`,
:meth:`JointTerms.mean_residence` and :meth:`JointTerms.residence_integral`
assemble these into the SOAP waiting and residence terms.
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import special

from ..distributions.base import SizeDistribution
from ..errors import ParameterError
from ..integrate import Estimate, IntegrationWarning, quad
from ..predictions._batchquad import batch_quad

__all__ = ["JointTerms", "terms_for", "NUMERATORS", "RESIDENCES"]

#: Waiting-time numerators N(y) (the SOAP old-job work, divided by λ).
NUMERATORS = ("const", "m2", "sprpt", "trail", "trail_size")
#: Residence kinds.
RESIDENCES = ("none", "pspjf", "sprpt", "trail", "trail_size")

#: Relative accuracy of inner (per-y) quantities.
INNER_RTOL = 1e-12
_E = math.e
_CHUNK = 1 << 20


# ============================================================== size facts
class _SizeFacts:
    """Atoms, support, breakpoints, scale and quantile hints of a size law."""

    def __init__(self, size: SizeDistribution) -> None:
        self.size = size
        v, p = size.atoms
        self.atom_values = np.asarray(v, float)
        self.atom_probs = np.asarray(p, float)
        self.continuous = bool(size.has_continuous_part)
        lo, hi = size.support
        self.lo, self.hi = float(lo), float(hi)
        self.breakpoints = np.asarray(size.breakpoints(), float).ravel()
        try:
            sc = float(size.scale)
        except Exception:  # pragma: no cover - defensive
            sc = 1.0
        self.scale = sc if math.isfinite(sc) and sc > 0 else 1.0
        hints = np.empty(0)
        if self.continuous:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    q = np.asarray(size.ppf(np.array([1e-4, 0.01, 0.1, 0.5, 0.9, 0.99, 0.9999])),
                                   float)
                hints = q[np.isfinite(q)]
            except Exception:  # pragma: no cover - a failing ppf only loses hints
                hints = np.empty(0)
        self.hints = np.unique(np.concatenate([hints, self.breakpoints, [self.scale]]))

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.size.pdf(x), float)


def _x_expect(facts: _SizeFacts, psi: Callable[[np.ndarray, np.ndarray], np.ndarray], n: int,
              points: np.ndarray | None, rtol: float, atol: np.ndarray | float,
              worst: list[float]) -> np.ndarray:
    """E_X[psi(X, i)] for owners i = 0..n-1: atoms summed, continuous part by batch quadrature.

    ``psi(x, idx)`` returns shape (len(x), m). ``worst[0]`` tracks the largest
    relative error estimate seen (for honest error propagation).
    """
    out = None
    if facts.atom_values.size and n:
        v, p = facts.atom_values, facts.atom_probs
        rows = max(1, _CHUNK // v.size)
        parts = []
        for s in range(0, n, rows):
            idx = np.arange(s, min(n, s + rows))
            xx = np.tile(v, idx.size)
            ii = np.repeat(idx, v.size)
            val = np.asarray(psi(xx, ii), float).reshape(idx.size, v.size, -1)
            parts.append(np.einsum("nam,a->nm", val, p))
        out = np.concatenate(parts, axis=0)
    if facts.continuous and n:
        hints = np.broadcast_to(facts.hints, (n, facts.hints.size))
        pts = hints if points is None else np.concatenate([points, hints], axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("error", IntegrationWarning)
            try:
                val, err = batch_quad(lambda x, i: np.asarray(psi(x, i), float)
                                      * facts.pdf(x)[:, None],
                                      np.full(n, facts.lo), np.full(n, facts.hi), pts,
                                      rtol=rtol, atol=atol, tail_scale=facts.scale)
            except IntegrationWarning:
                warnings.simplefilter("ignore", IntegrationWarning)
                val, err = batch_quad(lambda x, i: np.asarray(psi(x, i), float)
                                      * facts.pdf(x)[:, None],
                                      np.full(n, facts.lo), np.full(n, facts.hi), pts,
                                      rtol=rtol, atol=atol, tail_scale=facts.scale, limit=4000)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.maximum(np.abs(val), np.asarray(atol) / max(rtol, 1e-300))
            rel = np.where(scale > 0, err / scale, 0.0)
        if rel.size:
            worst[0] = max(worst[0], float(np.max(rel)))
        out = val if out is None else out + val
    if out is None:
        out = np.zeros((n, 1))
    return out


# ============================================================ channel laws
class _RatioLaw:
    """Law of the ratio R = Y/X of a multiplicative prediction model.

    ``seg(r0, r1, b, lo_closed)`` = E[Σ_k b_k (R − r0)^k 1(r0 < R < r1)] (k <= 2),
    evaluated in the shifted basis to avoid cancellation: closed forms for
    exponential (memoryless), uniform and log-uniform-free laws; atoms summed
    exactly; other continuous ratio laws by quadrature of their density.
    """

    def __init__(self, pred: Any) -> None:
        from ..predictions.exponential import ExponentialPrediction
        from ..predictions.lognormal import LognormalPrediction

        self.pred = pred
        av, ap = pred._r_atoms()
        order = np.argsort(np.asarray(av, float))
        self.av = np.asarray(av, float)[order]
        self.ap = np.asarray(ap, float)[order]
        self.rng = pred._r_range()
        self.kind = "none"
        if self.rng is not None:
            if isinstance(pred, ExponentialPrediction):
                self.kind = "exp"
            elif isinstance(pred, LognormalPrediction):
                self.kind = "lognormal"
            elif self._is_flat():
                self.kind = "uniform"
            else:
                self.kind = "numeric"
            self.mass = float(pred._r_mass())
            self.points = np.asarray(pred._r_points(), float)
        else:
            self.mass = 0.0
            self.points = self.av[self.av > 0]

    def _is_flat(self) -> bool:
        lo, hi = self.rng
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return False
        r = np.linspace(lo, hi, 7)[1:-1]
        d = np.asarray(self.pred._r_pdf(r), float)
        return bool(np.all(np.abs(d - d[0]) <= 1e-14 * abs(d[0])))

    # continuous part: [E[(R - r0)^k 1(a < R < b)] for k = 0..kmax], a >= r0
    def _cont_shift(self, kmax: int, r0: np.ndarray, a: np.ndarray, b: np.ndarray
                    ) -> list[np.ndarray]:
        lo, hi = self.rng
        a = np.maximum(a, lo)
        b = np.minimum(b, hi)
        go = b > a
        outs = [np.zeros(a.shape) for _ in range(kmax + 1)]
        if not np.any(go):
            return outs
        r0g, ag, bg = r0[go], a[go], b[go]
        if self.kind == "exp":
            # memoryless: E[(R - r0)^k 1(a < R < b)] = e^{-a} E[(d + s)^k 1(s < w)], s ~ Exp(1),
            # d = a - r0, w = b - a; partial moments of s in elementary form.
            d = ag - r0g
            w = bg - ag
            with np.errstate(over="ignore", invalid="ignore", under="ignore"):
                ew = np.exp(-w)
                wew = np.where(np.isinf(w), 0.0, w * ew)
                g0 = -np.expm1(-w)
                g1 = g0 - wew
                g2 = 2.0 * g1 - np.where(np.isinf(w), 0.0, w * wew)
                ea = np.exp(-ag)
            vals = [g0, d * g0 + g1, d * d * g0 + 2.0 * d * g1 + g2]
            for k in range(kmax + 1):
                outs[k][go] = ea * vals[k]
        elif self.kind == "uniform":
            dens = self.mass / (hi - lo)
            for k in range(kmax + 1):
                outs[k][go] = dens * ((bg - r0g) ** (k + 1) - (ag - r0g) ** (k + 1)) / (k + 1)
        elif self.kind == "lognormal":
            # raw partial moments of R = exp(sigma Z - s):
            # E[R^j 1(R <= r)] = e^{-js + j^2 sigma^2/2} Phi((ln r + s)/sigma - j sigma)
            sig, sh = self.pred.sigma, self.pred.shift
            raw = []
            for j in range(kmax + 1):
                with np.errstate(divide="ignore"):
                    za = (np.log(ag) + sh) / sig - j * sig
                    zb = (np.log(bg) + sh) / sig - j * sig
                coef = math.exp(-j * sh + 0.5 * j * j * sig * sig)
                raw.append(coef * (special.ndtr(-za) - special.ndtr(-zb)))
            outs[0][go] = raw[0]
            if kmax >= 1:
                outs[1][go] = raw[1] - r0g * raw[0]
            if kmax >= 2:
                outs[2][go] = raw[2] - 2 * r0g * raw[1] + r0g**2 * raw[0]
        else:
            pdf = self.pred._r_pdf
            pts = np.broadcast_to(self.points, (ag.size, self.points.size))
            ks = np.arange(kmax + 1)
            val, _ = batch_quad(lambda r, i: (r - r0g[i])[:, None] ** ks[None, :]
                                * pdf(r)[:, None], ag, bg, pts, rtol=INNER_RTOL, tail_scale=1.0)
            for k in range(kmax + 1):
                outs[k][go] = val[:, k]
        return outs

    def seg(self, r0: np.ndarray, r1: np.ndarray, b: Sequence[np.ndarray | float],
            lo_closed: bool = False) -> np.ndarray:
        r0, r1 = np.broadcast_arrays(np.asarray(r0, float), np.asarray(r1, float))
        shape = r0.shape
        r0 = r0.ravel()
        r1 = r1.ravel()
        bs = [np.broadcast_to(np.asarray(bk, float), shape).ravel() for bk in b]
        out = np.zeros(r0.size)
        live = r1 > r0
        if not np.any(live):
            return out.reshape(shape)
        if self.av.size:
            # atoms in (r0, r1) (or [r0, r1) with lo_closed)
            for v, p in zip(self.av, self.ap):
                inside = ((v > r0) | (lo_closed & (v == r0))) & (v < r1)
                if np.any(inside):
                    d = v - r0[inside]
                    acc = np.zeros(d.size)
                    for k, bk in enumerate(bs):
                        acc += bk[inside] * d**k
                    out[inside] += p * acc
        if self.rng is not None:
            idx = np.flatnonzero(live)
            parts = self._cont_shift(len(bs) - 1, r0[idx], r0[idx], r1[idx])
            for k, bk in enumerate(bs):
                out[idx] += bk[idx] * parts[k]
        return out.reshape(shape)

    def sf(self, r: np.ndarray, strict: bool = False) -> np.ndarray:
        """P(R > r) (P(R >= r) with ``strict``)."""
        return np.asarray(self.pred._full_r_sf(np.asarray(r, float), strict), float)


class _Channel:
    """Conditional law of Y given X = x, with the primitives the integrands need.

    ``seg(x, t0, t1, b, lo_closed)`` = E[Σ_k b_k (Y − t0)^k 1(t0 < Y < t1) | X = x]
    and ``sf(t, x, strict)`` = P(Y > t | x) (>= with ``strict``).
    """

    def __init__(self, pred: Any) -> None:
        from ..predictions.multiplicative import MultiplicativePrediction

        self.pred = pred
        self.ratio = _RatioLaw(pred) if isinstance(pred, MultiplicativePrediction) else None

    def seg(self, x, t0, t1, b, lo_closed=False):
        x, t0, t1 = np.broadcast_arrays(np.asarray(x, float), np.asarray(t0, float),
                                        np.asarray(t1, float))
        bs = [np.broadcast_to(np.asarray(bk, float), x.shape) for bk in b]
        out = np.zeros(x.shape)
        pos = x > 0
        if np.any(~pos):  # X = 0: Y = 0 for multiplicative models
            z = ~pos
            inside = ((t0[z] < 0) | (lo_closed & (t0[z] == 0))) & (t1[z] > 0)
            acc = np.zeros(inside.shape)
            for k, bk in enumerate(bs):
                acc += bk[z] * (-t0[z]) ** k
            out[z] = np.where(inside, acc, 0.0)
        if not np.any(pos):
            return out
        xp, a, c = x[pos], t0[pos], t1[pos]
        if self.ratio is not None:
            bb = [bk[pos] * xp**k for k, bk in enumerate(bs)]
            out[pos] = self.ratio.seg(a / xp, c / xp, bb, lo_closed)
        else:
            out[pos] = self._numeric_seg(xp, a, c, [bk[pos] for bk in bs], lo_closed)
        return out

    def _numeric_seg(self, x, t0, t1, bs, lo_closed):
        pred = self.pred
        lo = np.maximum(t0, 0.0)
        live = t1 > lo
        out = np.zeros(x.size)
        if lo_closed:
            # add a possible atom at t0 = P(Y <= t0) - P(Y < t0)
            atom = np.asarray(pred._cond_cdf(t0, x), float) - np.asarray(
                pred._cond_cdf_strict(t0, x), float)
            out += np.where(atom > 0, bs[0] * atom, 0.0)
        if not np.any(live):
            return out
        xi, ai, ci = x[live], lo[live], t1[live]
        t0i = t0[live]
        bi = [bk[live] for bk in bs]
        kinks = pred._y_kinks_batch(xi)

        def f(y, i):
            d = y - t0i[i]
            acc = np.zeros(y.size)
            for k, bk in enumerate(bi):
                acc += bk[i] * d**k
            return acc * pred._cond_pdf(y, xi[i])

        val, _ = batch_quad(f, ai, ci, kinks, rtol=INNER_RTOL, tail_scale=np.maximum(xi, 1e-300))
        out[live] += val[:, 0]
        return out

    def sf(self, t, x, strict=False):
        t, x = np.broadcast_arrays(np.asarray(t, float), np.asarray(x, float))
        fn = self.pred._cond_sf_strict if strict else self.pred._cond_sf
        return np.asarray(fn(t, x), float)

    def x_kinks(self, y: np.ndarray) -> np.ndarray:
        """Kinks in x of the standard conditional quantities for each y: (n, p)."""
        return np.asarray(self.pred._x_kinks_batch(np.asarray(y, float)), float)

    def ratio_points(self) -> np.ndarray:
        return self.ratio.points if self.ratio is not None else np.empty(0)


def _psi(ch: _Channel, name: str, x: np.ndarray, y: np.ndarray, c: float | None,
         T: float | None) -> np.ndarray:
    """Per-size integrand of a y-function (see the module table), vectorized."""
    if name == "old":
        return ch.seg(x, y, y + x, [x * x, -2 * x, 1.0])
    if name == "rnum":
        return ch.seg(x, y, y + x, [1.0])
    if name == "old_c":
        y1 = y / (1.0 - c)
        a = ch.seg(x, y, np.minimum(y1, y + x), [x * x, -2 * x, 1.0])
        h = x - c * y1
        bpart = ch.seg(x, y1, x / c, [h * h, -2 * c * h, c * c])
        return a + bpart
    if name == "rnum_c":
        return ch.seg(x, y, np.minimum(y / (1.0 - c), y + x), [1.0])
    if name == "old_sc":
        return (ch.seg(x, y, y + c * x, [x * x, -2 * x, 1.0])
                + (1 - c) ** 2 * x * x * ch.sf(y + c * x, x, strict=True))
    if name == "rnum_sc":
        return ch.seg(x, y, y + c * x, [1.0])
    if name == "rnum_T":
        return ch.seg(x, np.full(np.shape(y), T), y + x, [1.0])
    if name == "m1c":
        return x * ch.sf(y, x)
    if name == "m1cs":
        return x * ch.sf(y, x, strict=True)
    if name == "m2c":
        return x * x * ch.sf(y, x)
    if name == "sf":
        return ch.sf(y, x)
    if name == "sfs":
        return ch.sf(y, x, strict=True)
    # scalars (y unused)
    if name == "pos_gap":
        return ch.seg(x, np.zeros(np.shape(x)), x, [x, -1.0], lo_closed=True)
    if name == "pos_gap_c":
        return ch.seg(x, np.zeros(np.shape(x)), x / c, [x, -c], lo_closed=True)
    if name == "excess_sc":
        return ch.seg(x, np.zeros(np.shape(x)), c * x, [c * x, -1.0], lo_closed=True) + (1 - c) * x
    if name == "pos_gap_T":
        return ch.seg(x, np.full(np.shape(x), T), x, [x - T, -1.0])
    raise ParameterError(f"unknown joint term {name!r}")  # pragma: no cover


def _kinks_for(ch: _Channel, name: str, y: np.ndarray, c: float | None,
               T: float | None) -> np.ndarray:
    """Kinks in x of the per-size integrand of ``name`` for each y: an (n, p) array.

    For multiplicative errors the integrand changes form where an interval end in
    ratio space (y/x, y/x + 1, y/((1 − c)x), T/x, ...) crosses a special ratio r
    of the law of R (range ends, kinks, atoms, quantile hints); TRAIL(c) adds
    x = yc/(1 − c), where the two old-job regions meet. Exponential R has no
    special ratio: its kinks are the policy's own, plus the scale x = y.
    """
    y = np.asarray(y, float)[:, None]
    exp_law = ch.ratio is not None and ch.ratio.kind == "exp"
    if exp_law:
        r = np.empty(0)
        cols = [y]
    else:
        r = ch.ratio_points()
        cols = [ch.x_kinks(y[:, 0])]
    above1 = r[r > 1][None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        if name in ("old", "rnum"):
            cols.append(y / (above1 - 1.0))
        elif name in ("old_c", "rnum_c"):
            cols += [y * c / (1.0 - c), y / (above1 - 1.0), y / ((1.0 - c) * r[None, :])]
        elif name in ("old_sc", "rnum_sc"):
            cols.append(y / (r[r > c][None, :] - c))
        elif name == "rnum_T":
            cols += [y / (above1 - 1.0), np.broadcast_to(T / r[None, :], (y.shape[0], r.size)),
                     T - y]
    out = np.concatenate([np.broadcast_to(cc, (y.shape[0], np.shape(cc)[1])) for cc in cols],
                         axis=1)
    return np.where(np.isfinite(out) & (out > 0), out, np.nan)


# ================================================================ base terms
class JointTerms:
    """Policy building blocks for a measure μ on jobs (the population or a sub-population).

    Attributes
    ----------
    lam, rho : float
        Arrival rate and the load of the *whole* population.
    es2 : float
        E[S²] of the whole population (the waiting numerators use it).
    """

    #: True when Y has a density part (then ``expect_y`` integrates it).
    y_has_density: bool = True

    def __init__(self, lam: float, rho: float, es2: float) -> None:
        self.lam = float(lam)
        self.rho = float(rho)
        self.es2 = float(es2)
        self._worst = [0.0]
        self.inner_rtol = INNER_RTOL

    def set_accuracy(self, rtol: float) -> None:
        """Inner (per-y) accuracy for an outer relative tolerance ``rtol``."""
        self.inner_rtol = float(min(max(rtol * 1e-2, 1e-13), 1e-10))
        self._worst[0] = 0.0

    # ------------------------------------------------------------ interface
    def fn(self, y: np.ndarray, names: Sequence[str], *, c: float | None = None,
           T: float | None = None) -> dict[str, np.ndarray]:
        """The y-functions ``names`` at the points ``y`` (1-D array)."""
        raise NotImplementedError  # pragma: no cover

    def scalar(self, name: str, *, c: float | None = None, T: float | None = None) -> float:
        """Scalars: ``mass``, ``m1tot``, ``m2tot``, ``pos_gap``, ``pos_gap_c``, ``excess_sc``,
        ``pos_gap_T``."""
        raise NotImplementedError  # pragma: no cover

    def y_atoms(self) -> tuple[np.ndarray, np.ndarray]:
        """Point masses of Y under μ."""
        return np.empty(0), np.empty(0)

    def y_points(self) -> np.ndarray:
        """Breakpoints in y of the y-functions (atoms, kinks)."""
        return np.empty(0)

    def y_scale(self) -> float:
        return 1.0

    # --------------------------------------------------------------- loads
    def denom(self, m1c: np.ndarray) -> np.ndarray:
        """1 − ρ′(y) = (1 − ρ) + λ E_μ[S 1(Y > y)] (jobs outside μ count as always ahead)."""
        return (1.0 - self.rho) + self.lam * m1c

    @property
    def inner_rel(self) -> float:
        return self._worst[0]

    def _inflate(self, est: Estimate) -> Estimate:
        """Add the propagated inner quadrature error (amplified by the load denominators)."""
        if math.isinf(est.value):
            return Estimate(est.value, 0.0)
        kappa = 1.0 + 2.0 / max(1.0 - self.rho, 1e-300)
        return Estimate(est.value, est.error + abs(est.value) * kappa * self.inner_rel)

    # ------------------------------------------------------- expectations
    def expect_y(self, phi: Callable[[np.ndarray, dict], np.ndarray], names: Sequence[str], *,
                 c: float | None = None, T: float | None = None, rtol: float = 1e-10,
                 lo: float | None = None) -> Estimate:
        """E_μ[φ(Y) 1(Y > lo)] (all Y when ``lo`` is None), φ(y, F) with F = fn(y, names)."""
        self.set_accuracy(rtol)
        names = list(dict.fromkeys(list(names)))
        total = Estimate(0.0, 0.0)
        av, ap = self.y_atoms()
        if av.size:
            keep = ((av > lo) if lo is not None else np.ones(av.size, bool)) & (ap > 0)
            if np.any(keep):
                v = av[keep]
                F = self.fn(v, names, c=c, T=T)
                vals = np.asarray(phi(v, F), float)
                if np.any(np.isposinf(vals)):
                    return Estimate(math.inf, 0.0)
                total = total + _dot(ap[keep], vals)
        if self.y_has_density:
            need = list(dict.fromkeys([*names, "fy"]))
            lo0 = 0.0 if lo is None else lo
            pts = np.sqrt(np.asarray([p for p in self.y_points() if p > lo0], float))

            def integrand(w: np.ndarray) -> np.ndarray:
                y = w * w
                F = self.fn(y, need, c=c, T=T)
                with np.errstate(invalid="ignore"):
                    val = 2.0 * w * np.asarray(phi(y, F), float) * F["fy"]
                val = np.where(F["fy"] > 0, val, 0.0)
                if np.any(np.isposinf(val)):
                    raise _Infinite
                return val

            try:
                total = total + _outer_quad(integrand, math.sqrt(lo0), pts, rtol,
                                            math.sqrt(self.y_scale()))
            except _Infinite:
                return Estimate(math.inf, 0.0)
        return total

    def integrate_v(self, psi: Callable[[np.ndarray, dict], np.ndarray], names: Sequence[str], *,
                    c: float | None = None, T: float | None = None, rtol: float = 1e-10,
                    lo: float = 0.0, hi: float = math.inf) -> Estimate:
        """∫_lo^hi ψ(v, F) dv over v (substitution v = w²), F = fn(v, names)."""
        self.set_accuracy(rtol)
        names = list(dict.fromkeys(list(names)))
        if hi <= lo:
            return Estimate(0.0, 0.0)
        pts = np.sqrt(np.asarray([p for p in self.y_points() if lo < p < hi], float))

        def integrand(w: np.ndarray) -> np.ndarray:
            v = w * w
            return 2.0 * w * psi(v, self.fn(v, names, c=c, T=T))

        return _outer_quad(integrand, math.sqrt(lo), pts, rtol, math.sqrt(self.y_scale()),
                           b=math.sqrt(hi) if math.isfinite(hi) else math.inf)

    # ------------------------------------------------------- policy blocks
    def numerator(self, kind: str, F: dict) -> np.ndarray:
        """N(y): the old-job second moment E[Σ (X^old_i)²] of the SOAP waiting time.

        M₂′(y) is E[S²] − E_μ[S² 1(Y > y)] (no cancellation at small y matters here),
        or computed directly when E[S²] = ∞.
        """
        if kind == "const":
            return np.full(np.shape(F["m1c"]), self.es2)
        base = self.es2 - F["m2c"] if math.isfinite(self.es2) else F["m2"]
        if kind == "m2":
            return base
        if kind == "sprpt":
            return base + F["old"]
        if kind == "trail":
            return base + F["old_c"]
        if kind == "trail_size":
            return base + F["old_sc"]
        raise ParameterError(f"unknown numerator {kind!r}")  # pragma: no cover

    def numerator_names(self, kind: str) -> list[str]:
        m2 = "m2c" if math.isfinite(self.es2) else "m2"
        return {"const": ["m1c", "m1cs"], "m2": ["m1c", "m1cs", m2],
                "sprpt": ["m1c", "m1cs", m2, "old"],
                "trail": ["m1c", "m1cs", m2, "old_c"],
                "trail_size": ["m1c", "m1cs", m2, "old_sc"]}[kind]

    def waiting_phi(self, kind: str) -> Callable[[np.ndarray, dict], np.ndarray]:
        lam = self.lam

        def phi(y, F):
            return lam * self.numerator(kind, F) / (2.0 * self.denom(F["m1c"])
                                                     * self.denom(F["m1cs"]))
        return phi

    def mean_waiting(self, kind: str, *, c: float | None = None, rtol: float = 1e-10,
                     lo: float | None = None) -> Estimate:
        """E_μ[λ N(Y) / (2 (1 − ρ′(Y)) (1 − ρ′(Y⁻)))] (SOAP waiting term, atom-aware)."""
        return self._inflate(self.expect_y(self.waiting_phi(kind), self.numerator_names(kind),
                                           c=c, rtol=rtol, lo=lo))

    def waiting(self, kind: str, y: float, *, c: float | None = None) -> float:
        """The waiting term of a job with prediction y."""
        F = self.fn(np.array([y]), self.numerator_names(kind), c=c)
        return float(self.waiting_phi(kind)(np.array([y]), F)[0])

    def post_denominator(self) -> float:
        """1 − (load of jobs outside μ): the service rate left once a job's rank is below 0."""
        return (1.0 - self.rho) + self.lam * self.scalar("m1tot")

    def mean_residence(self, kind: str, *, c: float | None = None, rtol: float = 1e-10,
                       T: float | None = None) -> Estimate:
        """E_μ[residence] (formulas.md §3.3, §8.2, §8.4 Fubini forms).

        ``none``: E[S]; ``pspjf``: E[S / (1 − ρ′(Y⁻))];
        ``sprpt``: ∫ rnum/(1 − ρ′) dv + E[(S − Y)⁺]/post;
        ``trail``: ∫ rnum_c/(1 − ρ′) dv + E[(S − cY)⁺]/post;
        ``trail_size``: ∫ rnum_sc/(1 − ρ′) dv + E[S − min(cS, Y)]/post.
        """
        if kind == "none":
            return Estimate(self.scalar("m1tot"), 0.0)
        if kind == "pspjf":
            return self._pspjf_residence(rtol)
        num, extra = {"sprpt": ("rnum", "pos_gap"), "trail": ("rnum_c", "pos_gap_c"),
                      "trail_size": ("rnum_sc", "excess_sc")}[kind]

        def psi(v, F):
            return F[num] / self.denom(F["m1c"])

        est = self.integrate_v(psi, [num, "m1c"], c=c, rtol=rtol)
        est = est + self.scalar(extra, c=c) / self.post_denominator()
        return self._inflate(est)

    def _pspjf_residence(self, rtol: float) -> Estimate:
        """E[S/(1 − ρ′(Y⁻))] = (1/λ)(log increments of 1/(1 − ρ′) on continuous stretches)
        + Σ_atoms E[S 1(Y = a)]/(1 − ρ′(a⁻)), since dρ′ = λ m₁(y) dy there."""
        lam = self.lam
        d_top = self.denom(np.array([self.scalar("m1tot")]))[0]  # 1 − ρ′(0⁻)
        log_total = math.log(d_top) - math.log(1.0 - self.rho)
        av, ap = self.y_atoms()
        atom_part = 0.0
        if av.size:
            F = self.fn(av, ["m1c", "m1cs"])
            d_in, d_st = self.denom(F["m1c"]), self.denom(F["m1cs"])
            mass_s = (F["m1cs"] - F["m1c"])  # E[S 1(Y = a)]
            atom_part = float(np.sum(mass_s / d_st))
            log_total -= float(np.sum(np.log(d_st) - np.log(d_in)))
        val = log_total / lam + atom_part
        return Estimate(val, 1e-14 * abs(val) * (1 + len(av)))

    def residence_integral(self, a: float, b: float, rtol: float = 1e-10) -> Estimate:
        """∫_a^b dv/(1 − ρ′(v)) (0 <= a <= b)."""
        if b <= a:
            return Estimate(0.0, 0.0)
        self.set_accuracy(rtol)
        pts = np.asarray([p for p in self.y_points() if a < p < b], float)
        est = quad(lambda v: 1.0 / self.denom(self.fn(v, ["m1c"])["m1c"]), a, b, points=pts,
                   rtol=rtol)
        return self._inflate(est)


class _Infinite(Exception):
    """An integrand is +inf on a set of positive measure: the expectation is infinite."""


def _outer_quad(f, a, pts, rtol, scale, b=math.inf) -> Estimate:
    with warnings.catch_warnings():
        warnings.simplefilter("error", IntegrationWarning)
        try:
            return quad(f, a, b, points=pts, rtol=rtol, tail_scale=scale)
        except IntegrationWarning:
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        return quad(f, a, b, points=pts, rtol=rtol, tail_scale=scale, limit=200000)


# ============================================================ discrete pairs
class DiscreteTerms(JointTerms):
    """Finitely many pairs (x_i, y_i) with weights w_i (a sub-probability measure): exact sums.

    Everything is O(n log n): the pairs are sorted once by prediction and once by
    y − x; every y-function is a combination of suffix/prefix sums found by
    binary search. A sub-population is the same pairs with some weights set to
    zero (:meth:`restricted`), which reuses the orderings.
    """

    y_has_density = False

    def __init__(self, x, y, w, lam: float, rho: float, es2: float, *,
                 _parent: DiscreteTerms | None = None) -> None:
        super().__init__(lam, rho, es2)
        if _parent is None:
            x = np.asarray(x, float)
            y = np.asarray(y, float)
            w = np.asarray(w, float)
            order = np.argsort(y, kind="stable")
            x, y, w = x[order], y[order], w[order]
            self.d = y - x
            self._od = np.argsort(self.d, kind="stable")
            self.ds = self.d[self._od]
            first = np.concatenate([[True], y[1:] != y[:-1]]) if y.size else np.zeros(0, bool)
            self._ustart = np.flatnonzero(first)
            self._shared: dict = {}
        else:
            self.d, self._od, self.ds = _parent.d, _parent._od, _parent.ds
            self._ustart = _parent._ustart
            self._shared = _parent._shared  # orderings and searchsorted indices
        self.x, self.y, self.w = x, y, w
        self.ys = self.y
        self._cache: dict = {}
        self._suf = {k: _suffix(self.w * self.x**k) for k in (0, 1, 2)}
        self._suf_d = [_suffix(self.w * self.d**j) for j in range(3)]
        wd = self.w[self._od]
        self._suf_dd = [_suffix(wd * self.ds**j) for j in range(3)]
        self._build_H()

    def _index(self, y, side):
        """searchsorted(ys, y, side), cached for the pairs' own predictions."""
        if y is self.y:
            key = ("self_idx", side)
            if key not in self._shared:
                self._shared[key] = np.searchsorted(self.ys, self.y, side=side)
            return self._shared[key]
        return np.searchsorted(self.ys, y, side=side)

    # ------------------------------------------------------------ y-functions
    def _above(self, k, y, strict):
        return self._suf[k][self._index(y, "left" if strict else "right")]

    def _quad_sum(self, sums, idx, y):
        """Σ w (y − d)² over a suffix given suffix sums of w d^j (j = 0, 1, 2)."""
        return sums[0][idx] * y * y - 2.0 * y * sums[1][idx] + sums[2][idx]

    def fn(self, y, names, *, c=None, T=None):
        if y is not self.y:
            y = np.asarray(y, float)
        out = {}
        for name in names:
            if name == "sf":
                out[name] = self._above(0, y, False)
            elif name == "sfs":
                out[name] = self._above(0, y, True)
            elif name == "m1c":
                out[name] = self._above(1, y, False)
            elif name == "m1cs":
                out[name] = self._above(1, y, True)
            elif name == "m2c":
                out[name] = self._above(2, y, False)
            elif name == "old":
                # {Y > y, Y − S < y} = {Y > y} minus {Y − S >= y} (S > 0)
                iy = self._index(y, "right")
                idd = np.searchsorted(self.ds, y, side="left")
                val = self._quad_sum(self._suf_d, iy, y) - self._quad_sum(self._suf_dd, idd, y)
                out[name] = np.maximum(val, 0.0)
            elif name == "old_c":
                out[name] = self._old_c(y, c)
            elif name == "old_sc":
                out[name] = self._old_sc(y, c)
            elif name == "fy":
                out[name] = np.zeros(np.shape(y))
            else:
                raise ParameterError(f"joint term {name!r} is not available for discrete pairs")
        return out

    def _sorted_by(self, key, values):
        """(order, sorted values) of an auxiliary per-pair array, shared with sub-populations."""
        if key not in self._shared:
            o = np.argsort(values, kind="stable")
            self._shared[key] = (o, values[o])
        return self._shared[key]

    def _window_sum(self, y, L_key, L_vals):
        """Σ_i w_i (y − d_i)² 1(L_i <= y < y_i) (pairs with L_i < y_i; a sweep in y)."""
        oL, Ls = self._sorted_by(L_key, L_vals)
        ok = (L_vals < self.y)
        wl = (self.w * ok)[oL]
        dl = self.d[oL]
        pre_L = [_prefix(wl * dl**j) for j in range(3)]
        wy = self.w * ok
        pre_Y = [_prefix(wy * self.d**j) for j in range(3)]
        iL = np.searchsorted(Ls, y, side="right")
        iY = self._index(y, "right")
        a = pre_L[0][iL] * y * y - 2 * y * pre_L[1][iL] + pre_L[2][iL]
        b = pre_Y[0][iY] * y * y - 2 * y * pre_Y[1][iY] + pre_Y[2][iY]
        return np.maximum(a - b, 0.0)

    def _old_c(self, y, c):
        # pairs with y_i > y/(1 − c): ((x_i − c y_i)⁺)²; with y < y_i <= y/(1 − c): ((y − d_i)⁺)²
        e = np.maximum(self.x - c * self.y, 0.0) ** 2
        suf_e = _suffix(self.w * e)
        part_b = suf_e[np.searchsorted((1.0 - c) * self.ys, y, side="right")]
        L = np.maximum((1.0 - c) * self.y, self.d)
        return part_b + self._window_sum(y, ("old_c_L", c), L)

    def _old_sc(self, y, c):
        # max(y − d_i, (1 − c) x_i)² for y_i > y: switches at k_i = y_i − c x_i
        k_i = self.y - c * self.x
        o, ks = self._sorted_by(("old_sc_k", c), k_i)
        suf = _suffix((self.w * ((1 - c) * self.x) ** 2)[o])
        part_b = suf[np.searchsorted(ks, y, side="right")]
        return part_b + self._window_sum(y, ("old_sc_k", c), k_i)

    def scalar(self, name, *, c=None, T=None):
        key = ("scalar", name, c, T)
        if key in self._cache:
            return self._cache[key]
        x, y, w = self.x, self.y, self.w
        if name == "mass":
            val = float(self._suf[0][0])
        elif name == "m1tot":
            val = float(self._suf[1][0])
        elif name == "m2tot":
            val = float(self._suf[2][0])
        elif name == "pos_gap":
            val = _dot(w, np.maximum(x - y, 0.0))
        elif name == "pos_gap_c":
            val = _dot(w, np.maximum(x - c * y, 0.0))
        elif name == "excess_sc":
            val = _dot(w, x - np.minimum(c * x, y))
        elif name == "pos_gap_T":
            val = _dot(w, np.where(y > T, np.maximum(x - y, 0.0), 0.0))
        else:  # pragma: no cover
            raise ParameterError(f"unknown scalar {name!r}")
        self._cache[key] = val
        return val

    def y_atoms(self):
        u = self.y[self._ustart]
        p = np.add.reduceat(self.w, self._ustart) if self.y.size else np.zeros(0)
        keep = p > 0
        return u[keep], p[keep]

    def y_points(self):
        return self.y[self._ustart]

    # ------------------------------------------------------------- residence
    def _build_H(self):
        u = self.y[self._ustart]
        knots = u if (u.size and u[0] == 0.0) else np.concatenate([[0.0], u])
        m1c = self._above(1, knots, False)
        dens = self.denom(m1c)
        seg = np.diff(knots) / dens[:-1]
        self._Hk = knots
        self._Hd = dens
        self._Hc = np.concatenate([[0.0], np.cumsum(seg)])

    def H(self, v):
        """H(v) = ∫₀^v dt/(1 − ρ′(t)), exact (piecewise linear)."""
        v = np.maximum(np.asarray(v, float), 0.0)
        i = np.searchsorted(self._Hk, v, side="right") - 1
        return self._Hc[i] + (v - self._Hk[i]) / self._Hd[i]

    def residence_integral(self, a, b, rtol=1e-10):
        if b <= a:
            return Estimate(0.0, 0.0)
        val = float(self.H(b) - self.H(a))
        return Estimate(val, 1e-13 * abs(val) + 1e-15)

    def expect_y(self, phi, names, *, c=None, T=None, rtol=1e-10, lo=None):
        names = list(dict.fromkeys(list(names)))
        if lo is None or self.y.size == 0 or self.y[0] > lo:
            y, w = self.y, self.w
        else:
            keep = self.y > lo
            y, w = self.y[keep], self.w[keep]
        val = _dot(w, phi(y, self.fn(y, names, c=c, T=T)))
        return Estimate(val, 1e-13 * abs(val) * (1 + 2 / max(1 - self.rho, 1e-300)))

    def mean_residence(self, kind, *, c=None, rtol=1e-10, T=None):
        x, y, w = self.x, self.y, self.w
        post = self.post_denominator()
        if kind == "none":
            return Estimate(self.scalar("m1tot"), 0.0)
        if kind == "pspjf":
            d = self.denom(self._above(1, y, True))
            val = _dot(w, x / d)
            return Estimate(val, 1e-13 * abs(val))
        if kind == "sprpt":
            u = np.minimum(x, y)
            tail = np.maximum(x - y, 0.0)
        elif kind == "trail":
            u = np.minimum(x, c * y)
            tail = np.maximum(x - c * y, 0.0)
        elif kind == "trail_size":
            u = np.minimum(c * x, y)
            tail = x - u
        else:  # pragma: no cover
            raise ParameterError(f"unknown residence {kind!r}")
        if "H_self" not in self._cache:
            # y is sorted and every y is a knot: H at the pairs' own predictions
            self._cache["H_self"] = self.H(y)
        val = _dot(w, self._cache["H_self"] - self.H(y - u)) + _dot(w, tail) / post
        return Estimate(val, 1e-13 * abs(val) * (1 + 1 / max(1 - self.rho, 1e-300)))

    def restricted(self, axis: str, T: float) -> DiscreteTerms:
        """The sub-population S > T (``axis="x"``) or Y > T (``"y"``): zero weights elsewhere."""
        keep = (self.x > T) if axis == "x" else (self.y > T)
        return DiscreteTerms(self.x, self.y, self.w * keep, self.lam, self.rho, self.es2,
                             _parent=self)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a b without BLAS (whose thread start-up dominates for one-off dot products)."""
    return float(np.sum(a * b))


def _suffix(a: np.ndarray) -> np.ndarray:
    """s[i] = Σ_{j >= i} a[j], with s[n] = 0."""
    return np.concatenate([np.cumsum(a[::-1])[::-1], [0.0]])


def _prefix(a: np.ndarray) -> np.ndarray:
    """p[i] = Σ_{j < i} a[j]."""
    return np.concatenate([[0.0], np.cumsum(a)])


# ============================================================ perfect predictions
class PerfectTerms(JointTerms):
    """Y = S (perfect predictions) for a size law with a continuous part: size quantities.

    ``old(y) = y² P(S > y)``; ``old_c(y) = old_sc(y) = E[max(y, (1 − c)S)² 1(S > y)]``
    (formulas.md §8.3); ``rnum(v) = P(S > v)``; ``rnum_c = rnum_sc = P(v < S < v/(1 − c))``.
    A restriction S > T is applied with ``lower=T``.
    """

    def __init__(self, size: SizeDistribution, lam, rho, es2, lower: float | None = None):
        super().__init__(lam, rho, es2)
        self.size = size
        self.facts = _SizeFacts(size)
        self.lower = lower
        self.y_has_density = self.facts.continuous

    def _pm(self, k, x, strict=False):
        x = np.asarray(x, float)
        val = np.asarray(self.size.partial_moment(k, x, strict=strict), float)
        if self.lower is not None:
            base = float(self.size.partial_moment(k, self.lower))
            val = np.where(x > self.lower, val - base, 0.0)
        return val

    def _tot(self, k):
        return float(self.size.moment(k)) if k else 1.0

    def _tail(self, k, y, strict=False):
        """E[S^k 1(S > y, S > lower)] (>= with strict)."""
        y = np.asarray(y, float)
        if self.lower is not None:
            y_eff = np.maximum(y, self.lower)
            strict_eff = strict & (y > self.lower)
        else:
            y_eff = y
            strict_eff = np.full(y.shape, strict)
        tot = self._tot(k)
        pm_in = np.asarray(self.size.partial_moment(k, y_eff, strict=False), float)
        pm_st = np.asarray(self.size.partial_moment(k, y_eff, strict=True), float)
        return np.maximum(tot - np.where(strict_eff, pm_st, pm_in), 0.0)

    def fn(self, y, names, *, c=None, T=None):
        y = np.asarray(y, float)
        out = {}
        for name in names:
            if name == "fy":
                f = self.facts.pdf(y) if self.facts.continuous else np.zeros(y.shape)
                out[name] = f if self.lower is None else np.where(y > self.lower, f, 0.0)
            elif name == "sf":
                out[name] = self._tail(0, y)
            elif name == "sfs":
                out[name] = self._tail(0, y, True)
            elif name == "m1c":
                out[name] = self._tail(1, y)
            elif name == "m1cs":
                out[name] = self._tail(1, y, True)
            elif name == "m2c":
                out[name] = self._tail(2, y)
            elif name == "m2":
                out[name] = self._pm(2, y)
            elif name == "old":
                out[name] = y * y * self._tail(0, y)
            elif name == "rnum":
                out[name] = self._tail(0, y)
            elif name in ("old_c", "old_sc"):
                z = y / (1.0 - c) if c < 1 else np.full(y.shape, np.inf)
                p_band = self._tail(0, y) - self._tail(0, z, strict=False)
                out[name] = y * y * p_band + (1 - c) ** 2 * self._tail(2, z)
            elif name in ("rnum_c", "rnum_sc"):
                z = y / (1.0 - c) if c < 1 else np.full(y.shape, np.inf)
                out[name] = self._tail(0, y) - self._tail(0, z, strict=True)
            elif name == "rnum_T":
                out[name] = self._tail(0, np.full(y.shape, T))
            else:  # pragma: no cover
                raise ParameterError(f"unknown joint term {name!r}")
        return out

    def scalar(self, name, *, c=None, T=None):
        if name == "mass":
            return float(self._tail(0, np.array(0.0), True))
        if name == "m1tot":
            return float(self._tail(1, np.array(0.0), True))
        if name == "m2tot":
            return float(self._tail(2, np.array(0.0), True))
        if name in ("pos_gap", "pos_gap_T"):
            return 0.0
        if name in ("pos_gap_c", "excess_sc"):
            return (1.0 - c) * self.scalar("m1tot")
        raise ParameterError(f"unknown scalar {name!r}")  # pragma: no cover

    def y_atoms(self):
        v, p = self.facts.atom_values, self.facts.atom_probs
        if self.lower is not None:
            keep = v > self.lower
            v, p = v[keep], p[keep]
        return v, p

    def y_points(self):
        pts = [self.facts.breakpoints, self.facts.atom_values]
        if self.lower is not None:
            pts.append(np.array([self.lower]))
        return np.unique(np.concatenate(pts))

    def y_scale(self):
        return self.facts.scale


# ============================================================ continuous (generic)
class ContinuousTerms(JointTerms):
    """Any size law and prediction model: joint-law quantities + batched quadrature over x."""

    def __init__(self, workload, lam, rho, es2, joint=None, size=None, weight: float = 1.0):
        super().__init__(lam, rho, es2)
        self.size = workload.size if size is None else size
        self.joint = workload.joint if joint is None else joint
        self.pred = self.joint.prediction
        self.channel = _Channel(self.pred)
        self.facts = _SizeFacts(self.size)
        self.weight = float(weight)  # measure = weight × (law of the given size/joint)
        self._scalar_cache: dict = {}
        try:
            atoms = self.joint.atoms_y
        except ParameterError:
            atoms = (np.empty(0), np.empty(0))
        self._atoms = (np.asarray(atoms[0], float), np.asarray(atoms[1], float) * self.weight)
        self.y_has_density = bool(getattr(self.joint, "has_density_y", True))

    # standard quantities from the joint law (scaled by the measure's weight)
    def _standard(self, name, y):
        j = self.joint
        if name == "fy":
            return np.asarray(j.pdf_y(y), float)
        if name == "sf":
            return np.asarray(j.sf_y(y), float)
        if name == "sfs":
            return np.asarray(j.sf_y(y, strict=True), float)
        if name == "m1c":
            return np.asarray(j.tail_moment_y(1, y), float)
        if name == "m1cs":
            return np.asarray(j.tail_moment_y(1, y, strict=True), float)
        if name == "m2c":
            return np.asarray(j.tail_moment_y(2, y), float)
        if name == "m2":
            return np.asarray(j.partial_moment_y(2, y), float)
        return None

    _STANDARD = ("fy", "sf", "sfs", "m1c", "m1cs", "m2c", "m2")
    #: natural magnitudes of the per-size integrands (absolute tolerances)
    _SCALE_POW = {"old": 2, "old_c": 2, "old_sc": 2, "rnum": 0, "rnum_c": 0, "rnum_sc": 0,
                  "rnum_T": 0}

    def _special(self, name, y, c, T):
        """Closed forms available for this model (overridden); None if not available."""
        return None

    def fn(self, y, names, *, c=None, T=None):
        y = np.asarray(y, float)
        out = {}
        pending = []
        for name in names:
            val = self._special(name, y, c, T)
            if val is None and name in self._STANDARD:
                val = self._standard(name, y)
            if val is None:
                pending.append(name)
            else:
                out[name] = self.weight * val
        for name in pending:
            out[name] = self.weight * self._integrated(name, y, c, T)
        return out

    def _integrated(self, name, y, c, T):
        if y.size == 0:
            return np.zeros(0)
        ch = self.channel
        kinks = _kinks_for(ch, name, y, c, T)
        es = self.size.mean()
        atol = self.inner_rtol * 0.01 * (es ** self._SCALE_POW.get(name, 0))
        val = _x_expect(self.facts, lambda x, i: _psi(ch, name, x, y[i], c, T)[:, None],
                        y.size, kinks, self.inner_rtol, atol, self._worst)
        return val[:, 0]

    def scalar(self, name, *, c=None, T=None):
        key = (name, c, T)
        if key not in self._scalar_cache:
            self._scalar_cache[key] = self.weight * self._scalar(name, c, T)
        return self._scalar_cache[key]

    def _scalar(self, name, c, T):
        if name == "mass":
            return 1.0
        if name == "m1tot":
            return float(self.size.mean())
        if name == "m2tot":
            return float(self.size.moment(2))
        ch = self.channel
        val = _x_expect(self.facts, lambda x, i: _psi(ch, name, x, x, c, T)[:, None], 1, None,
                        INNER_RTOL, 0.0, self._worst)
        return float(val[0, 0])

    def y_atoms(self):
        return self._atoms

    def y_points(self):
        av = self._atoms[0]
        return av if av.size <= 2000 else np.empty(0)

    def y_scale(self):
        return self.facts.scale


class ExponentialTerms(ContinuousTerms):
    """Exponential predictions (Y | X = x ~ Exp(mean x)) with any size law (formulas.md §9).

    The standard quantities are the transforms L_k(y) = E[S^k e^{−y/S}]
    (k = −1: f_Y, 0: P(Y > y), 1: E[S 1(Y > y)], 2: E[S² 1(Y > y)]), all computed in
    one batched quadrature over the size; memorylessness of the ratio gives the
    SPRPT and size-threshold TRAIL terms from them.
    """

    _ORDERS = {"fy": -1, "sf": 0, "sfs": 0, "rnum": 0, "rnum_sc": 0, "m1c": 1, "m1cs": 1,
               "m2c": 2, "old": 2, "old_sc": 2}

    def _transforms(self, y: np.ndarray, ks: list[int]) -> dict[int, np.ndarray]:
        karr = np.asarray(ks, float)
        es = float(self.size.mean())
        atol = self.inner_rtol * 0.01 * es ** np.maximum(karr, 0.0)
        atol = np.where(karr < 0, self.inner_rtol * 0.01 / es, atol)

        def psi(x, i):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                e = np.exp(-y[i] / x)
                out = x[:, None] ** karr[None, :] * e[:, None]
            return np.where(np.isfinite(out), out, 0.0)

        val = _x_expect(self.facts, psi, y.size, y[:, None], self.inner_rtol, atol, self._worst)
        return {k: val[:, j] for j, k in enumerate(ks)}

    def fn(self, y, names, *, c=None, T=None):
        y = np.asarray(y, float)
        ks = sorted({self._ORDERS[n] for n in names if n in self._ORDERS})
        out = {}
        if ks:
            L = self._bessel_or_transforms(y, ks)
            for name in names:
                if name not in self._ORDERS:
                    continue
                k = self._ORDERS[name]
                v = L[k]
                if name == "rnum":
                    v = (1.0 - 1.0 / _E) * v
                elif name == "rnum_sc":
                    v = -math.expm1(-c) * v
                elif name == "old":
                    v = (1.0 - 2.0 / _E) * v
                elif name == "old_sc":
                    v = (1.0 - 2.0 * c * math.exp(-c)) * v
                out[name] = self.weight * v
        rest = [n for n in names if n not in out]
        if rest:
            out.update(ContinuousTerms.fn(self, y, rest, c=c, T=T))
        return out

    def _bessel_or_transforms(self, y, ks):
        return self._transforms(y, ks)

    def _standard(self, name, y):
        if name not in self._ORDERS:
            return ContinuousTerms._standard(self, name, y)
        return self.fn(y, [name])[name] / self.weight

    def _scalar(self, name, c, T):
        es = float(self.size.mean())
        if name == "pos_gap":
            return es / _E
        if name == "pos_gap_c":
            return es * (1.0 - c + c * math.exp(-1.0 / c)) if c > 0 else es
        if name == "excess_sc":
            return es * math.exp(-c)
        return super()._scalar(name, c, T)


class ExpExpTerms(ExponentialTerms):
    """Exponential sizes (mean m) and exponential predictions: Bessel-K closed forms (§9).

    With t = y/m and B_ν(t) = 2 t^{ν/2} K_ν(2√t): L_k(y) = E[S^k e^{−y/S}] = m^k B_{k+1}(t),
    so f_Y = B₀/m, P(Y > y) = B₁, E[S 1(Y > y)] = m B₂, E[S² 1(Y > y)] = m² B₃
    (M₂′ = m²(2 − B₃)), SPRPT old-job term (1 − 2/e) m² B₃, P(Y − S >= y) = B₁/e.
    """

    def __init__(self, workload, lam, rho, es2):
        super().__init__(workload, lam, rho, es2)
        self.m = float(self.size.mean())

    def _bessel_or_transforms(self, y, ks):
        B = bessel_blocks(np.asarray(y, float) / self.m, max(ks) + 1)
        return {k: self.m**k * B[k + 1] for k in ks}

    def y_points(self):
        # initial subdivision of the outer integrals (in w = √y: 0.25 ... 6 × √m), where the
        # integrands (~ e^{-2√(y/m)} times powers and log terms) change character
        return self.m * np.array([0.0625, 0.25, 1.0, 4.0, 9.0, 16.0, 36.0])


def bessel_blocks(t: np.ndarray, top: int) -> list[np.ndarray]:
    r"""[B_0(t), ..., B_top(t)] with B_ν(t) = 2 t^{ν/2} K_ν(2√t) (formulas.md §9).

    K_0, K_1 from ``scipy.special.kve`` (exponentially scaled, so no underflow
    at large t), higher orders by the stable upward recurrence
    K_{ν+1}(z) = K_{ν−1}(z) + (2ν/z) K_ν(z). Limits at t = 0: B_0 = ∞,
    B_ν = (ν − 1)!. (Same quantities as
    :func:`queuetheory.predictions.exponential.bessel_b`, vectorized over orders.)
    """
    t = np.asarray(t, float)
    tiny = t < 1e-280
    ts = np.where(tiny, 1.0, t)
    z = 2.0 * np.sqrt(ts)
    k = [special.kve(0, z), special.kve(1, z)]
    for nu in range(1, top):
        k.append(k[nu - 1] + (2.0 * nu / z) * k[nu])
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        logt = np.log(ts)
        out = []
        for nu in range(top + 1):
            val = 2.0 * np.exp(0.5 * nu * logt - z) * k[nu]
            lim = math.inf if nu == 0 else float(math.factorial(nu - 1))
            out.append(np.where(tiny, lim, val))
    return out


# ============================================================ restricted views
class _YRestricted(JointTerms):
    """The sub-population {Y > T} of a base measure (SkipPredict with the bit from Y)."""

    def __init__(self, base: JointTerms, T: float) -> None:
        super().__init__(base.lam, base.rho, base.es2)
        self.base = base
        self.T = float(T)
        self.y_has_density = base.y_has_density
        self._worst = base._worst

    def fn(self, y, names, *, c=None, T=None):
        y = np.asarray(y, float)
        T0 = self.T
        above = y > T0
        ym = np.maximum(y, T0)
        out = {}
        std = [n for n in names if n in ("sf", "sfs", "m1c", "m1cs", "m2c")]
        Fm = self.base.fn(ym, list(dict.fromkeys(std + [n[:-1] for n in std
                                                        if n in ("sfs", "m1cs")])), c=c)
        for name in names:
            if name in ("sf", "m1c", "m2c"):
                out[name] = Fm[name]
            elif name in ("sfs", "m1cs"):
                # E[. 1(Y >= y, Y > T)]: for y > T the strict base value; else the value at T
                out[name] = np.where(above, Fm[name], Fm[name[:-1]])
            elif name == "fy":
                out[name] = np.where(above, self.base.fn(y, ["fy"])["fy"], 0.0)
            elif name == "old":
                if np.any(~above & (y < T0)):
                    raise ParameterError("internal: SkipPredict old-job term below the threshold")
                out[name] = self.base.fn(y, ["old"])["old"]
            elif name == "rnum":
                val = np.empty(y.shape)
                if np.any(above):
                    val[above] = self.base.fn(y[above], ["rnum"])["rnum"]
                if np.any(~above):
                    val[~above] = self.base.fn(y[~above], ["rnum_T"], T=T0)["rnum_T"]
                out[name] = val
            else:
                raise ParameterError(f"joint term {name!r} is not available for a sub-population")
        return out

    def scalar(self, name, *, c=None, T=None):
        b = self.base
        one = np.array([self.T])
        if name == "mass":
            return float(b.fn(one, ["sf"])["sf"][0])
        if name == "m1tot":
            return float(b.fn(one, ["m1c"])["m1c"][0])
        if name == "m2tot":
            return float(b.fn(one, ["m2c"])["m2c"][0])
        if name == "pos_gap":
            return b.scalar("pos_gap_T", T=self.T)
        raise ParameterError(f"scalar {name!r} is not available for a sub-population")

    def y_atoms(self):
        v, p = self.base.y_atoms()
        keep = v > self.T
        return v[keep], p[keep]

    def y_points(self):
        return np.unique(np.concatenate([self.base.y_points(), [self.T]]))

    def y_scale(self):
        return self.base.y_scale()

    def expect_y(self, phi, names, *, c=None, T=None, rtol=1e-10, lo=None):
        lo = self.T if lo is None else max(lo, self.T)
        return super().expect_y(phi, names, c=c, T=T, rtol=rtol, lo=lo)



class _TruncatedSize(SizeDistribution):
    """The size law conditioned on S > T (used for sub-populations {S > T})."""

    name = "truncated"

    def __init__(self, size: SizeDistribution, T: float) -> None:
        self.base = size
        self.T = float(T)
        self.p = float(size.sf(self.T))
        if not self.p > 0:
            raise ParameterError(f"threshold {T!r} leaves no jobs above it")
        self._m = {k: (float(size.moment(k)) - float(size.partial_moment(k, self.T))) / self.p
                   for k in (1, 2)}

    def _params(self):
        return {"base": self.base, "T": self.T}

    def _support(self):
        lo, hi = self.base.support
        return (max(float(lo), self.T), float(hi))

    def _atoms(self):
        v, p = self.base.atoms
        keep = v > self.T
        return v[keep], p[keep] / self.p

    def _has_continuous_part(self):
        return self.base.has_continuous_part

    def _pdf(self, x):
        return np.where(x > self.T, self.base.pdf(x), 0.0) / self.p

    def _cdf(self, x):
        return np.clip((self.p - np.asarray(self.base.sf(np.maximum(x, self.T)), float)) / self.p,
                       0.0, 1.0)

    def _sf(self, x):
        return np.asarray(self.base.sf(np.maximum(x, self.T)), float) / self.p

    def _moment(self, k):
        if k in self._m:
            return self._m[k]
        return super()._moment(k)

    def _partial_moment(self, k, x, strict):
        x = np.asarray(x, float)
        base = float(self.base.partial_moment(k, self.T))
        val = np.asarray(self.base.partial_moment(k, np.maximum(x, self.T), strict=strict), float)
        return np.where(x > self.T, (val - base) / self.p, 0.0)

    def _breakpoints(self):
        bp = np.asarray(self.base.breakpoints(), float)
        return np.unique(np.concatenate([bp[bp > self.T], [self.T]]))

    def _scale(self):
        return max(float(self.base.scale), self.T)

    def _sample(self, rng, size):  # pragma: no cover - not used by the analysis
        u = rng.random(size)
        return np.asarray(self._ppf(u), float)


# ================================================================== factory
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def terms_for(workload: Any, restrict: tuple[str, float] | None = None) -> JointTerms:
    """The :class:`JointTerms` implementation for a workload (optionally a sub-population).

    ``restrict=("y", T)``: jobs with Y > T; ``("x", T)``: jobs with S > T.
    Cached per workload (and arrival rate).
    """
    lam = float(workload.arrival_rate)
    key = (lam, restrict)
    try:
        per = _CACHE.setdefault(workload, {})
    except TypeError:  # pragma: no cover - unhashable workload
        per = {}
    if key in per:
        return per[key]
    if restrict is not None:
        base = terms_for(workload)
        if isinstance(base, DiscreteTerms):
            terms = base.restricted(*restrict)
            per[key] = terms
            return terms
    terms = _build(workload, lam, restrict)
    per[key] = terms
    return terms


def _discrete_pairs(workload):
    """(x, y, w) if the joint law is a finite set of pairs, else None."""
    joint = workload.joint
    if all(hasattr(joint, a) for a in ("x", "y", "w")) and not getattr(
            joint, "has_density_y", True):
        return np.asarray(joint.x, float), np.asarray(joint.y, float), np.asarray(joint.w, float)
    size = workload.size
    if size.has_continuous_part:
        return None
    pred = workload.prediction
    sv, sp = size.atoms
    if getattr(pred, "perfect", False):
        return sv, sv.copy(), sp
    from ..predictions.multiplicative import MultiplicativePrediction

    if isinstance(pred, MultiplicativePrediction) and pred._r_range() is None:
        rv, rp = pred._r_atoms()
        if sv.size * rv.size <= 5_000_000:
            x = np.repeat(sv, rv.size)
            y = np.ravel(sv[:, None] * np.asarray(rv, float)[None, :])
            w = np.ravel(sp[:, None] * np.asarray(rp, float)[None, :])
            return x, y, w
    return None


def _build(workload, lam, restrict) -> JointTerms:
    from ..predictions.exponential import ExponentialExponentialJoint, ExponentialPrediction

    size = workload.size
    rho = lam * float(size.mean())
    es2 = float(size.moment(2))
    pred = workload.prediction
    pairs = _discrete_pairs(workload)
    if pairs is not None:
        base = DiscreteTerms(*pairs, lam, rho, es2)
        return base if restrict is None else base.restricted(*restrict)
    if getattr(pred, "perfect", False):
        if restrict is None:
            return PerfectTerms(size, lam, rho, es2)
        return PerfectTerms(size, lam, rho, es2, lower=float(restrict[1]))
    if restrict is not None and restrict[0] == "x":
        T = float(restrict[1])
        trunc = _TruncatedSize(size, T)
        joint = pred.joint(trunc)
        cls = ExponentialTerms if isinstance(pred, ExponentialPrediction) else ContinuousTerms
        return cls(workload, lam, rho, es2, joint=joint, size=trunc, weight=trunc.p)
    if isinstance(workload.joint, ExponentialExponentialJoint):
        base = ExpExpTerms(workload, lam, rho, es2)
    elif isinstance(pred, ExponentialPrediction):
        base = ExponentialTerms(workload, lam, rho, es2)
    else:
        base = ContinuousTerms(workload, lam, rho, es2)
    if restrict is None:
        return base
    return _YRestricted(base, float(restrict[1]))


def old_term_diverges(workload: Any, kind: str) -> bool | None:
    """With E[S²] = ∞: is the old-job term of ``kind`` infinite for every y?

    For multiplicative errors Y = S·R, an old job with Y > y keeps
    (S − (Y − y))⁺ = (S(1 − R) + y)⁺ of work, which is of order S when R < 1:
    the SPRPT and TRAIL(c) terms are infinite iff P(R < 1) > 0; the size-threshold
    term is >= (1 − c)² E[S² 1(Y > y)] = ∞ for c < 1. Perfect predictions keep
    y² P(S > y) (finite). Returns None for other prediction models (undecided).
    """
    from ..predictions.multiplicative import MultiplicativePrediction

    pred = workload.prediction
    if getattr(pred, "perfect", False):
        # Y = S: SPRPT keeps y² P(S > y); TRAIL keeps max(y, (1 − c)S)² (infinite)
        return kind != "sprpt"
    if not isinstance(pred, MultiplicativePrediction):
        return None
    if kind == "trail_size":
        return True
    return bool(pred.ratio_cdf(1.0, strict=True) > 0)
