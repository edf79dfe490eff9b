"""Benchmark: prediction-based policies (closed forms) side by side with alternatives.

Run: ``python benchmarks/bench_prediction.py`` (about a minute; ``--quick`` skips
the slow nested-scipy columns).

1. SPRPT, M/M/1 with exponential predictions, rtol 1e-8, per load: queuetheory
   (Bessel-K closed forms, formulas.md §9) against a plain nested
   ``scipy.integrate.quad`` evaluation of the same Fubini formula (inner
   quantities f_Y, ρ′, M₂′, old-job term and residence numerator integrated over
   the size for every outer node). most-queue has no SPRPT.
   Errors against the mpmath reference values of tests/test_prediction_policies.py.
2. A 50-point λ sweep of the seven Table-1 policies (FIFO, SJF, SPJF, PSJF, PSPJF,
   SRPT, SPRPT) with queuetheory; most-queue (SJF, PSJF, SRPT, SPJF with its
   ExpNoisePredictor) on 5 of the loads, with their errors against queuetheory.
3. All prediction policies on EmpiricalPredictions built from 10^5 pairs.

Targets (issue 3): (1) <= 10 ms per load, (2) <= 2 s for the sweep, (3) <= 1 s.
"""

from __future__ import annotations

import importlib.util
import math
import pathlib
import sys
import time
import warnings

import numpy as np
from scipy import integrate, special

import queuetheory as qt

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _refs():
    spec = importlib.util.spec_from_file_location(
        "tpp", ROOT / "tests" / "test_prediction_policies.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.REF_SPRPT, mod.REF_SPJF


def _timeit(fn, repeat=5):
    best = math.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def mm1(lam, predicted=True):
    return qt.Workload(lam, qt.Exponential(1.0), qt.ExponentialPrediction() if predicted else None)


# --------------------------------------------------------------- nested scipy (same formula)
def sprpt_nested_scipy(lam: float, eps: float = 1e-8) -> float:
    """SPRPT E[T] (formulas.md §3.2–3.3) with every inner quantity a scipy quad over x."""
    opts = dict(epsabs=0.0, epsrel=eps, limit=200)

    def over_x(h):
        return integrate.quad(lambda x: h(x) * math.exp(-x), 0, np.inf, **opts)[0]

    def f_y(y):
        return over_x(lambda x: math.exp(-y / x) / x)

    def one_minus_rho(y):  # 1 − ρ′(y) = 1 − λ + λ E[S 1(Y > y)]
        return 1 - lam + lam * over_x(lambda x: x * math.exp(-y / x))

    def m2(y):
        return over_x(lambda x: x * x * -math.expm1(-y / x))

    def old(y):  # E[((S − (Y − y))⁺)² 1(Y > y)]: inner integral over the prediction
        return over_x(lambda x: integrate.quad(
            lambda t: (x - t + y) ** 2 * math.exp(-t / x) / x, y, y + x, **opts)[0])

    def wait(y):
        d = one_minus_rho(y)
        return f_y(y) * lam * (m2(y) + old(y)) / (2 * d * d)

    def rnum(v):  # P(Y > v) − P(Y − S >= v)
        return over_x(lambda x: math.exp(-v / x) - math.exp(-(v + x) / x))

    w = integrate.quad(lambda u: 2 * u * wait(u * u), 0, np.inf, **opts)[0]
    r = integrate.quad(lambda u: 2 * u * rnum(u * u) / one_minus_rho(u * u), 0, np.inf,
                       **opts)[0]
    pos = over_x(lambda x: integrate.quad(lambda t: (x - t) * math.exp(-t / x) / x, 0, x,
                                          **opts)[0])
    return w + r + pos


# ------------------------------------------------------------------------------ most-queue
def most_queue_value(policy: str, lam: float):
    try:
        from most_queue.theory.srpt import (
            ExpNoisePredictor,
            MG1PsjfCalc,
            MG1SjfCalc,
            MG1SpjfCalc,
            MG1SrptCalc,
        )
    except ImportError:  # pragma: no cover
        return None
    cls = {"SJF": MG1SjfCalc, "PSJF": MG1PsjfCalc, "SRPT": MG1SrptCalc,
           "SPJF": MG1SpjfCalc}.get(policy)
    if cls is None:
        return None
    calc = cls()
    calc.set_sources(lam)
    calc.set_servers(1.0, "M")  # exponential, rate 1
    if policy == "SPJF":
        calc.set_predictor(ExpNoisePredictor())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(calc.run().v[0])


def section1(quick: bool) -> None:
    ref_sprpt, _ = _refs()
    print("\n1. SPRPT, M/M/1 with exponential predictions, rtol = 1e-8 (target <= 10 ms/load)")
    print(f"{'lambda':>7} | {'queuetheory':>18} {'time':>9} {'rel.err':>9} | "
          f"{'nested scipy.quad':>18} {'time':>8} {'rel.err':>9} | most-queue")
    for lam_s, ref in ref_sprpt.items():
        lam = float(lam_s)
        exact = float(ref)
        est, t = _timeit(lambda lam=lam: qt.SPRPT().evaluate(mm1(lam), rtol=1e-8))
        if quick:
            nested, tn = float("nan"), float("nan")
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                nested = sprpt_nested_scipy(lam)
                tn = time.perf_counter() - t0
        print(f"{lam:7.2f} | {est.value:18.12f} {1e3 * t:7.2f}ms {abs(est.value / exact - 1):9.1e}"
              f" | {nested:18.12f} {tn:7.2f}s {abs(nested / exact - 1):9.1e} | n/a (no SPRPT)")


def section2() -> None:
    lams = np.linspace(0.02, 0.99, 50)
    names = ["FCFS", "SJF", "SPJF", "PSJF", "PSPJF", "SRPT", "SPRPT"]
    predicted = {"SPJF", "PSPJF", "SPRPT"}
    print("\n2. 50-point lambda sweep of the seven Table-1 policies, rtol = 1e-8 "
          "(target <= 2 s)")
    values = {}
    t0 = time.perf_counter()
    per = {}
    for name in names:
        t1 = time.perf_counter()
        pol = getattr(qt, name)()
        values[name] = [pol.mean_response_time(mm1(lam, name in predicted), rtol=1e-8)
                        for lam in lams]
        per[name] = time.perf_counter() - t1
    total = time.perf_counter() - t0
    print("   queuetheory: " + ", ".join(f"{n} {1e3 * per[n]:.0f} ms" for n in names)
          + f"  | total {total:.2f} s")
    sub = [0.5, 0.7, 0.8, 0.9, 0.99]
    print(f"   most-queue on {len(sub)} loads (error vs queuetheory; time per evaluation):")
    for name in ("SJF", "PSJF", "SRPT", "SPJF"):
        errs, times = [], []
        for lam in sub:
            t = time.perf_counter()
            v = most_queue_value(name, lam)
            times.append(time.perf_counter() - t)
            if v is None:
                break
            mine = getattr(qt, name)().mean_response_time(mm1(lam, name in predicted))
            errs.append(abs(v / mine - 1))
        if errs:
            print(f"     {name:5s} max rel.err {max(errs):.1e}, mean time "
                  f"{1e3 * np.mean(times):.0f} ms")
    print("     FCFS/PSPJF/SPRPT: n/a in most-queue")


def section3() -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    x = rng.weibull(0.7, n) + 0.01
    y = x * np.exp(rng.normal(0.0, 0.6, n))
    preds = qt.EmpiricalPredictions(x, y)
    w = preds.workload(0.8 / x.mean())
    _ = w.joint
    T = float(np.median(y))
    pols = {"SPJF": qt.SPJF(), "PSPJF": qt.PSPJF(), "SPRPT": qt.SPRPT(),
            "TRAIL(c=0.5)": qt.LimitedPreemptionSPRPT(0.5),
            "TRAIL-size(c=0.5)": qt.LimitedPreemptionSPRPT(0.5, threshold="size"),
            "OneBit preemptive": qt.OneBit(T), "OneBit shorts FCFS": qt.OneBit(T, shorts="fcfs"),
            "OneBit non-preemptive": qt.OneBit(T, preemptive=False),
            "SkipPredict": qt.SkipPredict(T), "SkipPredict bit on size": qt.SkipPredict(
                T, bit_on="size"), "SkipPredict non-preempt.": qt.SkipPredict(
                    T, shorts_preempt=False)}
    print(f"\n3. all prediction policies on EmpiricalPredictions from {n} pairs "
          "(target <= 1 s in total, exact sums)")
    t0 = time.perf_counter()
    for label, p in pols.items():
        t = time.perf_counter()
        v = p.mean_response_time(w)
        print(f"   {label:24s} {v:12.6f}  {1e3 * (time.perf_counter() - t):7.1f} ms")
    print(f"   total {time.perf_counter() - t0:.2f} s  (scipy / most-queue: n/a for "
          "empirical joint laws)")


def main() -> None:
    quick = "--quick" in sys.argv
    # warm-up: imports and first compilation are not part of the measurements
    qt.SPRPT().mean_response_time(mm1(0.5))
    qt.SPRPT().mean_response_time(qt.EmpiricalPredictions([1.0, 2.0], [1.5, 1.0]).workload(0.2))
    print(f"queuetheory {qt.__version__}; special.kv check {special.kv(0, 1.0):.6f}")
    section1(quick)
    section2()
    section3()


if __name__ == "__main__":
    main()
