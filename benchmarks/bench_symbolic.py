"""Time of the symbolic derivations and of evaluating their results.

Run ``python benchmarks/bench_symbolic.py``. For every policy and workload it
prints, side by side:

* ``derive``: seconds for ``qt.symbolic.mean_response_time`` (the rule-based
  derivation of the closed forms; each derivation runs in a fresh
  ``Blocks`` cache, sympy's own cache is warm after the first row);
* ``N(15)``: seconds for ``sp.N(expr.subs(lambda, 7/10), 15)`` (mpmath
  quadrature of the remaining integrals, fast Bessel K);
* ``numpy``: seconds for one call of ``derive(...).lambdify(lambda)`` (double
  precision, queuetheory's vectorized quadrature);
* ``engine``: seconds for the numeric engine ``policy.evaluate(rtol=1e-12)``;
* ``rel.diff``: |N(15) − engine| / engine.

Target (issue 5): each exponential-prediction derivation in <= 10 s.
"""

from __future__ import annotations

import time

import sympy as sp

import queuetheory as qt

LAM = sp.Symbol("lambda", positive=True)
LAM_VALUE = sp.Rational(7, 10)
TARGET_S = 10.0


def cases():
    exp_pred = qt.ExponentialPrediction()
    out = []
    for pol in (qt.SPJF(), qt.PSPJF(), qt.SPRPT(), qt.LimitedPreemptionSPRPT(0.0),
                qt.LimitedPreemptionSPRPT(1.0), qt.LimitedPreemptionSPRPT(0.5),
                qt.LimitedPreemptionSPRPT(0.5, threshold="size"),
                qt.OneBit(1.0, preemptive=True), qt.OneBit(1.0, preemptive=False)):
        out.append(("exp-pred", pol, exp_pred, True))
    for pol in (qt.FCFS(), qt.SJF(), qt.PSJF(), qt.SRPT(), qt.FB()):
        out.append(("M/M/1", pol, None, False))
    for pol in (qt.SPJF(), qt.SPRPT()):
        out.append(("uniform(1/2)", pol, qt.UniformPrediction(0.5), False))
    return out


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    header = (f"{'workload':13s} {'policy':26s} {'derive s':>9s} {'N(15) s':>9s} "
              f"{'numpy s':>9s} {'engine s':>9s} {'E[T] (N15)':>18s} {'rel.diff':>9s} "
              f"{'closed':>6s}")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for label, pol, pred, check_target in cases():
        w = qt.Workload(LAM, qt.Exponential(1.0), pred)
        wn = qt.Workload(float(LAM_VALUE), qt.Exponential(1.0), pred)
        result, t_derive = timed(lambda w=w, pol=pol: qt.symbolic.derive(pol, w))
        expr = result.expr
        nested = any(i.function.has(sp.Integral) for i in expr.atoms(sp.Integral))
        if nested:  # nested quadrature in mpmath takes minutes: skip (numpy path shown)
            v15, t_n = None, float("nan")
        else:
            v15, t_n = timed(lambda expr=expr: sp.N(expr.subs(LAM, LAM_VALUE), 15))
        f = result.lambdify(LAM)
        v_np, t_np = timed(lambda f=f: f(float(LAM_VALUE)))
        ref, t_eng = timed(lambda pol=pol, wn=wn: pol.evaluate(wn, rtol=1e-12).value)
        value = float(v15) if v15 is not None else float(v_np)
        rel = abs(value - ref) / ref
        if check_target:
            worst = max(worst, t_derive)
        shown = str(v15) if v15 is not None else f"{v_np:.13g} (numpy)"
        print(f"{label:13s} {pol.name:26s} {t_derive:9.3f} {t_n:9.3f} {t_np:9.3f} "
              f"{t_eng:9.3f} {shown:>18s} {rel:9.1e} {str(result.has_closed_form):>6s}")
    print()
    status = "OK" if worst <= TARGET_S else "MISSED"
    print(f"slowest exponential-prediction derivation: {worst:.2f} s "
          f"(target <= {TARGET_S:.0f} s): {status}")


if __name__ == "__main__":
    main()
