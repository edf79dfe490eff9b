"""Benchmark: the generic SOAP engine against the closed forms, side by side.

Run: ``python benchmarks/bench_soap.py`` (a few minutes; ``--quick`` runs a short
subset at the default rtol with a 20 s limit per case).

One table. For each (policy, workload):

* the closed-form value and its time (``Policy.evaluate(method="closed_form")``,
  best of 3; for SERPT/Gittins on the two-point law the closed form is the exact
  rational function of formulas.md §4.5, written out below);
* the SOAP-engine value, its reported error estimate and its time
  (``queuetheory.soap.mean_response_time``, one run on a fresh workload, so no
  cached tables are reused);
* the actual difference |engine − closed form|, and ``ok`` when it is within the
  sum of the two error estimates plus 8 ulps;
* where an mpmath reference exists (tests/test_prediction_policies.py,
  tests/test_trail.py, tests/test_onebit.py; loaded as bench_prediction.py
  does), the errors of both against it.

Workloads: classic policies on M/M/1 and Weibull(shape 0.5) at ρ = 0.9;
SPJF, PSPJF, SPRPT, TRAIL(c = 0.5), OneBit(1) on M/M/1 with exponential
predictions at λ = 0.9; SERPT and Gittins on X ∈ {2, 14} at λ = 0.1; and
``RankPolicy(lambda d, a: d - a, uses="prediction")`` (SPRPT written as a rank
function, no closed form of its own: compared with SPRPT's).

A case that runs longer than the per-case limit (60 s; 20 s with ``--quick``)
prints ``timeout``.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import pathlib
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import queuetheory as qt
from queuetheory import soap

ROOT = pathlib.Path(__file__).resolve().parents[1]
EPS = float(np.finfo(float).eps)


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _references() -> dict[str, float]:
    """mpmath reference values (25 digits) of the test files, keyed by case label."""
    out: dict[str, float] = {}
    try:
        tpp = _load("test_prediction_policies")
        out["SPJF/mm1-pred"] = float(tpp.REF_SPJF["0.9"])
        out["PSPJF/mm1-pred"] = float(tpp.REF_PSPJF["0.9"])
        out["SPRPT/mm1-pred"] = float(tpp.REF_SPRPT["0.9"])
        out["RankPolicy(d-a)/mm1-pred"] = float(tpp.REF_SPRPT["0.9"])
    except Exception as exc:  # pragma: no cover - reference files missing
        print(f"(no prediction references: {exc})")
    try:
        out["TRAIL(0.5)/mm1-pred"] = float(_load("test_trail").REF_TRAIL["0.9/0.5"])
    except Exception as exc:  # pragma: no cover
        print(f"(no TRAIL references: {exc})")
    try:
        ob = _load("test_onebit").REF_T1
        out["OneBit(1,np)/mm1-pred"] = float(ob["0.9/prediction/np"])
        out["OneBit(1,p,fcfs)/mm1-pred"] = float(ob["0.9/prediction/fcfs"])
    except Exception as exc:  # pragma: no cover
        print(f"(no OneBit references: {exc})")
    return out


# ------------------------------------------------------------------------------ cases
TWO = qt.Discrete(values=[2.0, 14.0], probs=[0.5, 0.5])


def _two_point(kind: str, lam: float) -> float:
    """formulas.md §4.5: exact E[T] of SERPT / Gittins for X ∈ {2, 14}."""
    if kind == "SERPT":
        t2 = 18 * lam / (1 - 2 * lam) + 2
        t14 = 50 * lam / ((1 - 8 * lam) * (1 - 2 * lam)) + 6 / (1 - 2 * lam) + 8
    else:
        t2 = 6 * lam / (1 - 2 * lam) + 2
        t14 = 50 * lam / ((1 - 8 * lam) * (1 - 2 * lam)) + 10 / (1 - 2 * lam) + 4
    return 0.5 * (t2 + t14)


@dataclass
class Case:
    label: str
    policy: Callable[[], qt.Policy]
    workload: Callable[[], qt.Workload]
    #: (workload, rtol) -> Estimate; default: the policy's own closed form
    closed: Callable[[qt.Workload, float], qt.Estimate] | None = None
    slow: bool = False  # skipped with --quick
    timed: bool = True  # False: the closed form is written out here (no package time)


def _classic(law_name: str, law_factory: Callable[[], qt.SizeDistribution]) -> list[Case]:
    def wl():
        size = law_factory()
        return qt.Workload(0.9 / size.mean(), size)

    median = float(law_factory().ppf(0.5))
    pols = {"FCFS": qt.FCFS, "FB": qt.FB, "SJF": qt.SJF, "PSJF": qt.PSJF, "SRPT": qt.SRPT,
            "P-priority(med)": lambda: qt.PreemptivePriority([median]),
            "NP-priority(med)": lambda: qt.NonPreemptivePriority([median])}
    return [Case(f"{n}/{law_name}", p, wl, slow=law_name != "mm1") for n, p in pols.items()]


def _mm1_pred() -> qt.Workload:
    return qt.Workload(0.9, qt.Exponential(1.0), qt.ExponentialPrediction())


def _two_point_case(kind: str) -> Case:
    pol = qt.SERPT if kind == "SERPT" else qt.Gittins

    def closed(w: qt.Workload, rtol: float) -> qt.Estimate:
        v = _two_point(kind, w.arrival_rate)
        return qt.Estimate(v, 4 * EPS * v)

    return Case(f"{kind}/two-point", pol, lambda: qt.Workload(0.1, TWO), closed, timed=False)


def _rank_sprpt_closed(w: qt.Workload, rtol: float) -> qt.Estimate:
    return qt.SPRPT().evaluate(w, method="closed_form", rtol=rtol)  # SPRPT's closed form


def cases() -> list[Case]:
    out = _classic("mm1", lambda: qt.Exponential(1.0))
    out += _classic("weibull", lambda: qt.Weibull(shape=0.5, scale=1.0))
    out += [
        Case("SPJF/mm1-pred", qt.SPJF, _mm1_pred),
        Case("PSPJF/mm1-pred", qt.PSPJF, _mm1_pred),
        Case("SPRPT/mm1-pred", qt.SPRPT, _mm1_pred, slow=True),
        Case("TRAIL(0.5)/mm1-pred", lambda: qt.TRAIL(0.5), _mm1_pred, slow=True),
        Case("OneBit(1,np)/mm1-pred", lambda: qt.OneBit(1.0, preemptive=False), _mm1_pred),
        Case("OneBit(1,p,fcfs)/mm1-pred",
             lambda: qt.OneBit(1.0, preemptive=True, shorts="fcfs"), _mm1_pred),
        _two_point_case("SERPT"),
        _two_point_case("Gittins"),
        Case("RankPolicy(d-a)/mm1-pred",
             lambda: qt.RankPolicy(lambda d, a: d - a, uses="prediction"), _mm1_pred,
             _rank_sprpt_closed, slow=True),
    ]
    return out


# ----------------------------------------------------------------------------- running
class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout


def _limited(fn: Callable[[], object], seconds: float):
    """(result, seconds) or (None, None) on timeout."""
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    t = time.perf_counter()
    try:
        out = fn()
        return out, time.perf_counter() - t
    except _Timeout:
        return None, None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _fmt(v: float | None, spec: str) -> str:
    """``format(v, spec)``, or a dash right-aligned to the same width."""
    width = int("".join(ch for ch in spec.split(".")[0] if ch.isdigit()) or 0)
    return f"{'—':>{width}s}" if v is None else format(v, spec)


def _bound(policy: qt.Policy, w: qt.Workload) -> qt.Policy:
    """SERPT/Gittins need the size law: bind them (as Policy.evaluate does)."""
    return policy.for_workload(w) if hasattr(policy, "for_workload") else policy


def run(quick: bool, rtol: float, limit: float) -> None:
    refs = _references()
    todo = [c for c in cases() if not (quick and c.slow)]
    hdr = (f"{'case':27s} {'closed form':>19s} {'t_cf':>8s} {'SOAP engine':>19s} "
           f"{'err est':>8s} {'t_soap':>8s} {'|diff|':>8s} {'ok':>3s} "
           f"{'cf-ref':>8s} {'soap-ref':>8s}")
    print(f"SOAP engine vs closed forms, rtol = {rtol:g}, per-case limit {limit:g} s")
    print(hdr)
    print("-" * len(hdr))
    for c in todo:
        # closed form: best of 3 on fresh workloads
        cf, t_cf = None, math.inf
        for _ in range(3):
            w = c.workload()
            fn = (lambda w=w, c=c: c.closed(w, rtol)) if c.closed else (
                lambda w=w, c=c: c.policy().evaluate(w, method="closed_form", rtol=rtol))
            est, dt = _limited(fn, limit)
            if est is None:
                t_cf = None
                break
            cf, t_cf = est, min(t_cf, dt)
        if not c.timed:
            t_cf = None  # written out here, not the package's: no time reported
        w = c.workload()
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            eng, t_soap = _limited(
                lambda w=w, c=c: soap.mean_response_time(_bound(c.policy(), w), w, rtol=rtol),
                limit)
        ref = refs.get(c.label)
        diff = ok = None
        if eng is not None and cf is not None:
            diff = abs(eng.value - cf.value)
            ok = diff <= eng.error + cf.error + 8 * EPS * abs(cf.value)
        row = (f"{c.label:27s} {_fmt(cf.value if cf else None, '19.15g')} "
               f"{_fmt(t_cf, '8.4f')} "
               f"{_fmt(eng.value, '19.15g') if eng else 'timeout':>19s} "
               f"{_fmt(eng.error if eng else None, '8.1e')} {_fmt(t_soap, '8.3f')} "
               f"{_fmt(diff, '8.1e')} {('yes' if ok else 'NO') if ok is not None else '—':>3s} "
               f"{_fmt(abs(cf.value - ref) if cf and ref else None, '8.1e')} "
               f"{_fmt(abs(eng.value - ref) if eng and ref else None, '8.1e')}")
        if rec:
            row += f"  [{len(rec)} warning(s): {str(rec[0].message)[:60]}]"
        print(row, flush=True)
    if quick:
        print("(--quick: Weibull rows, SPRPT, TRAIL and RankPolicy skipped)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short subset, 20 s limit per case")
    ap.add_argument("--rtol", type=float, default=1e-8, help="requested relative accuracy")
    args = ap.parse_args()
    run(args.quick, args.rtol, 20.0 if args.quick else 60.0)


if __name__ == "__main__":
    main()
