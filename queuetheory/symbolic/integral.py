r"""``QuadIntegral``: an unevaluated sympy ``Integral`` that evaluates numerically fast.

Integrals without a closed form (for instance the SRPT residence integral
:math:`\int_0^x dt/(1 - \rho(t))`, formulas.md §2.5) stay unevaluated in the
formulas. ``QuadIntegral`` is a subclass of :class:`sympy.Integral`: it
prints, differentiates, substitutes and pretty-prints exactly like an
``Integral`` (the printers dispatch on the class hierarchy), but its
numerical evaluation (``evalf`` / ``sp.N``) compiles the integrand once and
uses :func:`queuetheory.symbolic.numeric.quad_mp`, with the fast Bessel-K of
that module. Plain sympy ``Integral.evalf`` would re-evaluate the integrand
symbolically at every node (minutes instead of a second).

``doit()`` tries :func:`sympy.integrate` under the time budget of
:mod:`queuetheory.symbolic.timeout` and returns the integral unchanged if that
does not finish or gives no closed form.

>>> import sympy as sp
>>> t = sp.Symbol("t", positive=True)
>>> I = QuadIntegral(sp.exp(-t**2), (t, 0, sp.oo))
>>> sp.latex(I)
'\\int\\limits_{0}^{\\infty} e^{- t^{2}}\\, dt'
>>> sp.N(I, 30)
0.886226925452758013649083741671
>>> sp.N(sp.sqrt(sp.pi) / 2, 30)
0.886226925452758013649083741671
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp
from sympy.core.evalf import prec_to_dps

__all__ = ["QuadIntegral", "as_quad_integrals"]


class QuadIntegral(sp.Integral):
    """A definite integral kept unevaluated, with fast mpmath numerical evaluation."""

    def _eval_evalf(self, prec: int) -> Any:
        if self.free_symbols:
            return None
        from .numeric import compile_expr

        dps = prec_to_dps(prec)
        try:
            with mpmath.workdps(dps + 8):
                value = compile_expr(self, [], module="mpmath")()
                value = mpmath.mpf(value) if not isinstance(value, mpmath.mpc) else value
        except (NotImplementedError, ZeroDivisionError, TypeError):
            return sp.Integral(*self.args).evalf(dps)
        if isinstance(value, mpmath.mpc):  # pragma: no cover - real integrands only
            return sp.Float(value.real, dps + 8) + sp.I * sp.Float(value.imag, dps + 8)
        return sp.Float(value, dps + 8)

    def doit(self, **hints: Any) -> sp.Expr:
        """Try :func:`sympy.integrate` under the time budget; unchanged on failure/timeout."""
        from .timeout import call_with_budget

        plain = sp.Integral(*self.args)
        result = call_with_budget(_doit_plain, plain, fallback=None)
        if result is None or result.has(sp.Integral):
            return self
        return result


def _doit_plain(integral: sp.Integral) -> sp.Expr:
    return integral.doit()


def as_quad_integrals(expr: sp.Basic) -> sp.Basic:
    """Replace every plain ``Integral`` in ``expr`` by a :class:`QuadIntegral`."""
    return expr.replace(lambda e: isinstance(e, sp.Integral) and not isinstance(e, QuadIntegral),
                        lambda e: QuadIntegral(*e.args))
