r"""``SymbolicResult``: a derived formula with its derivation, LaTeX and numeric evaluators.

The API functions :func:`queuetheory.symbolic.mean_response_time` and
:func:`~queuetheory.symbolic.response_time` return plain sympy expressions (so
``e.subs(...)``, ``sp.N(e)``, ``sp.latex(e)`` work as usual).
:func:`~queuetheory.symbolic.derive` returns a :class:`SymbolicResult`,
which wraps the same expression (``.expr``) together with

* the rule applications that produced its closed forms (``.steps``);
* ``.latex()`` and ``_repr_latex_`` (rendered by Jupyter);
* ``.lambdify(*symbols, modules="numpy" | "mpmath")`` -- a callable that also
  evaluates the unevaluated integrals (numpy: vectorized double precision with
  :func:`queuetheory.integrate.quad`; mpmath: arbitrary precision);
* ``.evalf(n, subs)`` / ``.N(...)`` -- high-precision values.

>>> import sympy as sp, queuetheory as qt
>>> lam = sp.Symbol("lambda", positive=True)
>>> r = qt.symbolic.derive(qt.FCFS(), qt.Workload(lam, qt.Exponential(1.0)))
>>> r.expr
1/(1 - lambda)
>>> r.lambdify(lam)(0.5)
2.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..errors import ParameterError
from .rules import Step

__all__ = ["SymbolicResult"]


class SymbolicResult:
    """A derived formula (``expr``) and how it was obtained.

    Parameters
    ----------
    expr : sympy expression
    steps : list of Step, optional
        The rule applications of the derivation.
    description : str, optional
        What the formula is (e.g. "E[T] of SPRPT").
    """

    def __init__(self, expr: sp.Expr, steps: Sequence[Step] = (), description: str = "") -> None:
        self.expr = expr
        self.steps = list(steps)
        self.description = description

    # ------------------------------------------------------------------ display
    def latex(self, **settings: Any) -> str:
        """LaTeX of the formula (:func:`sympy.latex` settings accepted)."""
        return sp.latex(self.expr, **settings)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def derivation_latex(self) -> list[str]:
        """One LaTeX line per rule application (deduplicated), in order."""
        seen: set[str] = set()
        out: list[str] = []
        for st in self.steps:
            s = st.latex()
            if s not in seen:
                seen.add(s)
                out.append(s)
        return out

    def __repr__(self) -> str:
        return f"SymbolicResult({self.expr})"

    def __str__(self) -> str:
        return str(self.expr)

    @property
    def free_symbols(self) -> set:
        """Free symbols of the formula."""
        return self.expr.free_symbols

    @property
    def has_closed_form(self) -> bool:
        """True when the formula contains no unevaluated integral."""
        return not self.expr.has(sp.Integral)

    # ---------------------------------------------------------------- numerics
    def subs(self, *args: Any, **kwargs: Any) -> SymbolicResult:
        """Substitute and return a new result (the steps are kept)."""
        return SymbolicResult(self.expr.subs(*args, **kwargs), self.steps, self.description)

    def evalf(self, n: int = 15, subs: dict | None = None) -> sp.Expr:
        """Numerical value to ``n`` significant digits (``subs``: values of the free symbols)."""
        expr = self.expr.subs(subs) if subs else self.expr
        if expr.free_symbols:
            raise ParameterError(f"give values for the free symbols "
                                 f"{sorted(map(str, expr.free_symbols))} (subs=...)")
        return sp.N(expr, n)

    N = evalf

    def lambdify(self, *symbols: sp.Symbol, modules: str = "numpy", rtol: float = 1e-12) -> Any:
        """A Python function of ``symbols`` (default: the sorted free symbols).

        ``modules="numpy"``: double precision, vectorized over array arguments;
        unevaluated integrals by :func:`queuetheory.integrate.quad` at ``rtol``.
        ``modules="mpmath"``: arbitrary precision (set ``mpmath.mp.dps``), scalar
        arguments; integrals by tanh-sinh quadrature to the working precision.
        """
        from .numeric import compile_expr

        if not symbols:
            symbols = tuple(sorted(self.expr.free_symbols, key=lambda s: s.name))
        missing = self.expr.free_symbols - set(symbols)
        if missing:
            raise ParameterError(f"lambdify needs every free symbol as an argument "
                                 f"(missing {sorted(map(str, missing))})")
        if modules not in ("numpy", "mpmath"):
            raise ParameterError(f"modules must be 'numpy' or 'mpmath' (got {modules!r})")
        func = compile_expr(self.expr, symbols, module=modules, rtol=rtol)
        if modules == "mpmath":
            def mp_func(*vals: Any) -> Any:
                return func(*[mpmath.mpf(v) if isinstance(v, (int, float)) else v
                              for v in vals])

            return mp_func

        def np_func(*vals: Any) -> Any:
            return func(*[np.asarray(v, dtype=float) if isinstance(v, (list, tuple)) else v
                          for v in vals])

        return np_func
