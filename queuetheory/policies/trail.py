r"""Limited-preemption SPRPT (TRAIL; Shahout et al., ICLR 2025), formulas.md §8.

A job is scheduled by SPRPT (rank y − a) but can be preempted only during the
first part of its service; afterwards its rank is −∞ (non-preemptible). The
toolkit's own SOAP derivations (the paper's closed form is not confirmed from
the primary source):

* ``threshold="prediction"`` (default, "TRAIL(c)", §8.2 [D]): preemptible while
  a < c·y. With ρ′ as in :mod:`~queuetheory.policies.prediction`,

  .. math::

      T(x, y) = \frac{\lambda [M_2'(y) + E[((S - \min(Y - y, cY))^+)^2 1(Y > y)]]}
      {2 (1 - \rho'(y))(1 - \rho'(y^-))}
      + \int_0^{\min(x, cy)} \frac{da}{1 - \rho'(y - a)} + (x - cy)^+ ;

  an old job with prediction z > y becomes relevant at age min(z − y, c·z),
  so the old-job term has a breakpoint at z = y/(1 − c). Mean residence
  (Fubini): ∫₀^∞ P(max(Y − S, (1 − c)Y) < v < Y)/(1 − ρ′(v)) dv + E[(S − cY)⁺].
* ``threshold="size"`` (§8.3/§8.4 [D]): preemptible while a < c·x. **An analysis
  device: a real scheduler would need to know the true size x.** With
  exact predictions it is §8.3 (known sizes).

  .. math::

      T(x, y) = \frac{\lambda [M_2'(y) + E[\max(S - Y + y, (1 - c)S)^2 1(Y > y)]]}
      {2 (1 - \rho'(y))(1 - \rho'(y^-))}
      + \int_0^{\min(cx, y)} \frac{da}{1 - \rho'(y - a)} + x - \min(cx, y).

c = 0 is SPJF and c = 1 is SPRPT exactly (both thresholds); those endpoints
are delegated to :class:`~queuetheory.SPJF` / :class:`~queuetheory.SPRPT`.
The M/G/1 model has no memory: TRAIL's reported benefit at c ≈ 0.8 comes from
KV-cache effects that it omits (§8.2).

>>> import queuetheory as qt
>>> w = qt.Workload(0.8, qt.Exponential(1.0), qt.ExponentialPrediction())
>>> spjf, sprpt = qt.SPJF().mean_response_time(w), qt.SPRPT().mean_response_time(w)
>>> trail = qt.LimitedPreemptionSPRPT(c=0.5).mean_response_time(w)
>>> bool(sprpt < trail < spjf), round(trail, 6)
(True, 3.159656)
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError, check_in_interval
from .prediction import SPJF, SPRPT, PredictionPolicy
from .rank import NONPREEMPTIBLE, PiecewiseRank

__all__ = ["LimitedPreemptionSPRPT", "TRAIL"]

_THRESHOLDS = ("prediction", "size")


class LimitedPreemptionSPRPT(PredictionPolicy):
    r"""SPRPT that can be preempted only during the first c·(prediction) units of service.

    Parameters
    ----------
    c : float
        Preemptible fraction, in [0, 1]. 0 gives SPJF, 1 gives SPRPT.
    threshold : {"prediction", "size"}
        ``"prediction"`` (default): preemptible while age < c·y (TRAIL(c),
        formulas.md §8.2). ``"size"``: while age < c·x — the variant of §8.3/§8.4,
        which a real scheduler could not run (it would need the true size x);
        its descriptor is the pair (y, x).

    Notes
    -----
    Rank: y − a on [0, c·y) (resp. [0, c·x)), then −∞; a point segment at age 0
    when the preemptible window is empty.

    Examples
    --------
    >>> import queuetheory as qt
    >>> qt.LimitedPreemptionSPRPT(c=1.5)
    Traceback (most recent call last):
    ...
    queuetheory.errors.ParameterError: c must lie in [0.0, 1.0] (got 1.5)
    """

    name = "TRAIL"

    def __init__(self, c: float = 0.5, threshold: str = "prediction") -> None:
        self.c = check_in_interval("c", c, 0.0, 1.0)
        if threshold not in _THRESHOLDS:
            raise ParameterError(f"threshold must be one of {_THRESHOLDS} (got {threshold!r})")
        self.threshold = threshold
        #: What :meth:`descriptor` depends on: y, or (y, x) for the size threshold.
        self.descriptor_dependence = "y" if threshold == "prediction" else "xy"
        self._c = self.c
        if self.c == 0.0:
            self._numerator, self._residence = "const", "none"
        elif self.c == 1.0:
            self._numerator, self._residence = "sprpt", "sprpt"
        elif threshold == "prediction":
            self._numerator, self._residence = "trail", "trail"
        else:
            self._numerator, self._residence = "trail_size", "trail_size"
        self.name = f"TRAIL(c={self.c:g})" if threshold == "prediction" else \
            f"TRAIL-size(c={self.c:g})"

    def _params(self):
        out = {"c": self.c}
        if self.threshold != "prediction":
            out["threshold"] = self.threshold
        return out

    # ------------------------------------------------------------ descriptor
    def descriptor(self, x, y):
        """The prediction y (``threshold="prediction"``) or the pair (y, x) (``"size"``)."""
        x = np.asarray(x, dtype=float)
        yy = np.broadcast_to(np.asarray(y, dtype=float), x.shape)
        if self.threshold == "prediction":
            return yy.copy()
        return np.stack([yy, x], axis=-1)

    def rank_segments(self, d):
        d = np.asarray(d, dtype=float)
        if self.threshold == "size":
            return self._rank_segments(np.atleast_2d(d))
        return self._rank_segments(np.atleast_1d(d))

    def rank(self, d, a):
        if a < 0:
            raise ParameterError(f"age a must be >= 0 (got {a!r})")
        return self.rank_segments(np.asarray([d], dtype=float)).evaluate(0, float(a))

    def _rank_segments(self, d):
        d = np.asarray(d, dtype=float)
        if self.threshold == "size":
            y, x = d[:, 0], d[:, 1]
            cut = self.c * x
        else:
            y = d
            cut = self.c * y
        n = y.size
        return PiecewiseRank(
            start=np.column_stack([np.zeros(n), cut]),
            end=np.column_stack([cut, np.full(n, np.inf)]),
            level=np.column_stack([np.zeros(n), np.full(n, NONPREEMPTIBLE)]),
            value=np.column_stack([y, np.zeros(n)]),
            slope=np.column_stack([np.full(n, -1.0), np.zeros(n)]),
        )

    # -------------------------------------------------------------- analysis
    def _mean_closed_form(self, workload, rtol):
        if self.c == 0.0:
            return SPJF()._mean_closed_form(workload, rtol)
        if self.c == 1.0:
            return SPRPT()._mean_closed_form(workload, rtol)
        return super()._mean_closed_form(workload, rtol)

    def _conditional_closed_form(self, workload, x, y, rtol):
        if self.c == 0.0:
            return SPJF()._conditional_closed_form(workload, x, y, rtol)
        if self.c == 1.0:
            return SPRPT()._conditional_closed_form(workload, x, y, rtol)
        return super()._conditional_closed_form(workload, x, y, rtol)

    def _residence_parts(self, x, y):
        if self.threshold == "prediction":
            return y - min(x, self.c * y), y, max(x - self.c * y, 0.0)
        u = min(self.c * x, y)
        return y - u, y, x - u


class TRAIL(LimitedPreemptionSPRPT):
    """Alias of :class:`LimitedPreemptionSPRPT` with ``threshold="prediction"`` (TRAIL(c))."""

    def __init__(self, c: float = 0.5) -> None:
        super().__init__(c=c, threshold="prediction")

