r"""Symbolic workloads: size laws, prediction models and arrival rate as sympy objects.

The numeric classes of queuetheory take float parameters. For symbolic
parameters use this layer:

* :class:`SymbolicDistribution` -- any density given as a sympy expression
  (its parameters may be symbols), with a support interval;
  :class:`SymbolicExponential` (``mean`` may be a symbol) and
  :class:`SymbolicDiscrete` (atoms) are convenience subclasses;
* prediction models :class:`SymbolicPerfectPrediction`,
  :class:`SymbolicExponentialPrediction` (Y | X = x ~ Exp(mean x)) and
  :class:`SymbolicUniformPrediction` (Y | X = x ~ U[(1 − α)x, (1 + α)x], numeric α);
* :class:`SymbolicWorkload` (arrival rate, size, prediction).

:func:`as_symbolic_workload` converts a numeric :class:`queuetheory.Workload`
(whose arrival rate may already be a sympy symbol): the size law through its
``symbolic()`` density (float parameters become exact rationals), atoms
through ``atoms``, and the prediction model by type.

A prediction model is described by its conditional density ``pdf(t, x)`` of
Y = t given X = x and by the support of Y given X = x,
``max(lowers(x)) < t < min(uppers(x))`` with bounds linear in x; the joint
quantities are then integrals over regions bounded by lines through the
origin (:func:`queuetheory.symbolic.rules.integrate_region`).

>>> import sympy as sp
>>> m = sp.Symbol("m", positive=True)
>>> SymbolicExponential(mean=m).pdf
exp(-x/m)/m
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from ..errors import ParameterError

__all__ = [
    "SymbolicDistribution",
    "SymbolicExponential",
    "SymbolicDiscrete",
    "SymbolicPrediction",
    "SymbolicPerfectPrediction",
    "SymbolicExponentialPrediction",
    "SymbolicUniformPrediction",
    "SymbolicWorkload",
    "as_symbolic_size",
    "as_symbolic_prediction",
    "as_symbolic_workload",
    "exact",
]

oo = sp.oo
#: The canonical size variable used in stored densities.
X = sp.Symbol("x", positive=True)


def exact(value: Any, name: str = "value") -> sp.Expr:
    """``value`` as an exact sympy number (floats become simple rationals), or a sympy expr.

    Strings are rejected: user strings are never parsed.
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, str) or isinstance(value, bool):
        raise ParameterError(f"{name} must be a number or a sympy expression (got {value!r})")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number or a sympy expression "
                             f"(got {value!r})") from None
    if v == float("inf"):
        return oo
    if v != v:
        raise ParameterError(f"{name} must not be NaN")
    if v.is_integer():
        return sp.Integer(int(v))
    r = sp.nsimplify(v, rational=True)
    if isinstance(r, sp.Rational) and float(r) == v:
        return r
    return sp.Rational(v)


class SymbolicDistribution:
    """A size law with a sympy density (continuous part) and/or atoms.

    Parameters
    ----------
    pdf : sympy expression, optional
        Density of the continuous part as an expression in ``variable``.
    variable : Symbol, optional
        The variable of ``pdf`` (default: the symbol ``x``, positive).
    support : (lo, hi)
        Support of the continuous part (default ``(0, oo)``).
    atoms : sequence of (value, probability), optional
        Point masses (numbers or sympy expressions).
    name : str, optional
    """

    def __init__(self, pdf: sp.Expr | None = None, variable: sp.Symbol | None = None,
                 support: tuple[Any, Any] = (0, oo),
                 atoms: Sequence[tuple[Any, Any]] = (), name: str | None = None) -> None:
        if pdf is None and not atoms:
            raise ParameterError("a symbolic distribution needs a density (pdf) or atoms")
        if pdf is not None and not isinstance(pdf, sp.Basic):
            raise ParameterError(f"pdf must be a sympy expression (got {type(pdf).__name__})")
        self.variable = X if variable is None else variable
        self.support = (exact(support[0], "support[0]"), exact(support[1], "support[1]"))
        self._pdf = None if pdf is None else pdf.subs(self.variable, X)
        self.atoms = [(exact(v, "atom value"), exact(p, "atom probability")) for v, p in atoms]
        self.name = name or "symbolic"

    @property
    def pdf(self) -> sp.Expr | None:
        """The density in the canonical variable ``x`` (None for a purely atomic law)."""
        return self._pdf

    def pdf_at(self, t: sp.Expr) -> sp.Expr:
        """The density at ``t`` (0 if there is no continuous part)."""
        return sp.Integer(0) if self._pdf is None else self._pdf.subs(X, t)

    @property
    def is_atomic(self) -> bool:
        """True for a purely atomic law (no density)."""
        return self._pdf is None

    def __repr__(self) -> str:
        parts = []
        if self._pdf is not None:
            parts.append(f"pdf={self._pdf}")
            parts.append(f"support={self.support}")
        if self.atoms:
            parts.append(f"atoms={self.atoms}")
        return f"{type(self).__name__}({', '.join(parts)})"


class SymbolicExponential(SymbolicDistribution):
    """Exponential sizes with a (possibly symbolic) mean: density e^{-x/m}/m."""

    def __init__(self, mean: Any = 1) -> None:
        m = exact(mean, "mean")
        if m.is_positive is False:
            raise ParameterError(f"mean must be > 0 (got {m})")
        self.mean = m
        super().__init__(sp.exp(-X / m) / m, X, (0, oo), name="exponential")


class SymbolicDiscrete(SymbolicDistribution):
    """A purely atomic size law: values with probabilities (exact or symbolic)."""

    def __init__(self, values: Sequence[Any], probs: Sequence[Any]) -> None:
        if len(values) != len(probs) or not values:
            raise ParameterError("values and probs must be non-empty and of equal length")
        super().__init__(None, X, (0, oo), atoms=list(zip(values, probs)), name="discrete")


def _piecewise_on_support(pdf: sp.Expr, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    """Drop a Piecewise wrapper whose first non-zero branch holds on the whole support."""
    if not isinstance(pdf, sp.Piecewise):
        return pdf
    mid = (lo + hi) / 2 if hi != oo else lo + 1
    for expr, cond in pdf.args:
        if expr == 0:
            continue
        if cond == sp.true or bool(cond.subs(X, mid)):
            return expr
    raise NotImplementedError(f"cannot reduce the piecewise density {pdf} to its support")


def as_symbolic_size(size: Any) -> SymbolicDistribution:
    """Convert a queuetheory (or symbolic) size distribution to :class:`SymbolicDistribution`."""
    if isinstance(size, SymbolicDistribution):
        return size
    from ..distributions.base import SizeDistribution

    if not isinstance(size, SizeDistribution):
        raise ParameterError(f"size must be a queuetheory or symbolic size distribution "
                             f"(got {type(size).__name__})")
    values, probs = size.atoms
    atoms = [(exact(v), exact(p)) for v, p in zip(values, probs)]
    pdf = None
    if size.has_continuous_part and not (atoms and abs(float(sum(probs)) - 1) < 1e-15):
        try:
            pdf = size.symbolic(X)
        except NotImplementedError:
            raise NotImplementedError(
                f"{size!r} has no symbolic density; use queuetheory.symbolic."
                f"SymbolicDistribution(pdf=...) to give one") from None
        lo, hi = size.support
        support = (exact(lo), exact(hi))
        pdf = _piecewise_on_support(pdf, *support)
        if pdf.has(sp.DiracDelta):
            raise NotImplementedError(f"{size!r}: densities with DiracDelta are not supported; "
                                      f"atoms are taken from .atoms")
        return SymbolicDistribution(pdf, X, support, atoms, name=getattr(size, "name", None))
    return SymbolicDistribution(None, X, (0, oo), atoms, name=getattr(size, "name", None))


# -------------------------------------------------------------------- predictions
class SymbolicPrediction:
    """Conditional law of the prediction Y given X = x (see the module docstring)."""

    #: True when Y = X (a point mass, no density).
    perfect: bool = False
    name: str = "prediction"

    def pdf(self, t: sp.Expr, x: sp.Expr) -> sp.Expr:  # pragma: no cover - abstract
        """Density of Y at ``t`` given X = ``x`` (valid inside the support)."""
        raise NotImplementedError

    def lowers(self, x: sp.Expr) -> list[sp.Expr]:
        """Lower bounds of the support of Y given X = x (the support starts at their max)."""
        return [sp.Integer(0)]

    def uppers(self, x: sp.Expr) -> list[sp.Expr]:
        """Upper bounds of the support of Y given X = x (it ends at their min)."""
        return [oo]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SymbolicPerfectPrediction(SymbolicPrediction):
    """Y = X."""

    perfect = True
    name = "perfect"


class SymbolicExponentialPrediction(SymbolicPrediction):
    """Y | X = x ~ Exp(mean x): density e^{-t/x}/x on t > 0 (formulas.md §3.5, §9)."""

    name = "exponential"

    def pdf(self, t: sp.Expr, x: sp.Expr) -> sp.Expr:
        return sp.exp(-t / x) / x


class SymbolicUniformPrediction(SymbolicPrediction):
    """Y | X = x ~ U[(1 − α)x, (1 + α)x], 0 < α <= 1 numeric (formulas.md §3.5)."""

    name = "uniform"

    def __init__(self, alpha: Any) -> None:
        a = exact(alpha, "alpha")
        if not a.is_number or not (0 < a <= 1):
            raise ParameterError(f"alpha must be a number in (0, 1] (got {alpha!r}); "
                                 f"alpha = 0 is exact prediction")
        self.alpha = a

    def pdf(self, t: sp.Expr, x: sp.Expr) -> sp.Expr:
        return 1 / (2 * self.alpha * x)

    def lowers(self, x: sp.Expr) -> list[sp.Expr]:
        return [(1 - self.alpha) * x]

    def uppers(self, x: sp.Expr) -> list[sp.Expr]:
        return [(1 + self.alpha) * x]

    def __repr__(self) -> str:
        return f"SymbolicUniformPrediction(alpha={self.alpha})"


def as_symbolic_prediction(pred: Any) -> SymbolicPrediction:
    """Convert a queuetheory prediction model (or None = exact) to a symbolic one."""
    if pred is None:
        return SymbolicPerfectPrediction()
    if isinstance(pred, SymbolicPrediction):
        return pred
    import queuetheory as qt

    if isinstance(pred, qt.PerfectPrediction) or getattr(pred, "perfect", False):
        return SymbolicPerfectPrediction()
    if type(pred) is qt.ExponentialPrediction:
        return SymbolicExponentialPrediction()
    uniform = getattr(qt, "UniformPrediction", None)
    if uniform is not None and type(pred) is uniform:
        return SymbolicUniformPrediction(pred.alpha)
    raise NotImplementedError(
        f"no symbolic form for the prediction model {pred!r}; supported: PerfectPrediction, "
        f"ExponentialPrediction, UniformPrediction (or a SymbolicPrediction subclass)")


class SymbolicWorkload:
    """An M/G/1 workload in symbolic form: arrival rate, size law, prediction model.

    Parameters
    ----------
    arrival_rate : number or sympy expression
    size : SymbolicDistribution or queuetheory size distribution
    prediction : SymbolicPrediction or queuetheory prediction model, optional
        ``None`` means exact predictions.
    """

    def __init__(self, arrival_rate: Any, size: Any, prediction: Any = None) -> None:
        lam = exact(arrival_rate, "arrival_rate")
        if lam.is_positive is False:
            raise ParameterError(f"arrival_rate must be > 0 (got {lam})")
        self.arrival_rate = lam
        self.size = as_symbolic_size(size)
        self.prediction = as_symbolic_prediction(prediction)
        self.has_prediction = prediction is not None and not self.prediction.perfect

    def __repr__(self) -> str:
        return (f"SymbolicWorkload(arrival_rate={self.arrival_rate}, size={self.size!r}, "
                f"prediction={self.prediction!r})")


def as_symbolic_workload(workload: Any) -> SymbolicWorkload:
    """Convert a :class:`queuetheory.Workload` (or return a :class:`SymbolicWorkload` as is)."""
    if isinstance(workload, SymbolicWorkload):
        return workload
    from ..workload import Workload

    if not isinstance(workload, Workload):
        raise ParameterError(f"workload must be a queuetheory Workload or a SymbolicWorkload "
                             f"(got {type(workload).__name__})")
    pred = workload.prediction if workload.has_prediction else None
    return SymbolicWorkload(workload.arrival_rate, workload.size, pred)
