"""Time per mean-response-time point of the classic policies, queuetheory vs plain scipy.

Run ``python benchmarks/bench_classic.py``. For M/M/1 (rho = 0.9) and the
Weibull(shape 1/2, scale 1/2) workload (E[S] = 1, rho = 0.9) it prints, side by
side, queuetheory's value, time per point and error estimate, and a plain
``scipy.integrate.quad`` evaluation of the same formula (nested for SRPT's
residence time, as in the textbook form T(x) = W(x) + ∫_0^x dt/(1 − ρ(t))),
with its time and the relative difference. Loads ρ(x) and truncated moments
use closed forms (scipy.special) in the scipy baseline, so it is the formula's
integrals, not the building blocks, that are compared.

Target (issue 2): <= 5 ms per point for SRPT.
"""

from __future__ import annotations

import math
import statistics
import time
import warnings

import numpy as np
from scipy import integrate, special

import queuetheory as qt

RHO = 0.9
QUAD = {"epsabs": 0.0, "epsrel": 1e-10, "limit": 500}


# ------------------------------------------------------------------ scipy building blocks
class ExpBlocks:
    """S ~ Exp(1)."""

    name = "M/M/1"

    def pdf(self, x):
        return math.exp(-x)

    def sf(self, x):
        return math.exp(-x)

    def pm(self, k, x):  # E[S^k 1(S <= x)]
        return math.gamma(k + 1) * special.gammainc(k + 1, x)

    def moment(self, k):
        return math.gamma(k + 1)

    def qt(self):
        return qt.Exponential(1.0)


class WeibullBlocks:
    """F̄(x) = exp(-(x/s)^c), c = s = 1/2 (E[S] = 1, E[S²] = 6)."""

    name = "Weibull(1/2)"
    c, s = 0.5, 0.5

    def pdf(self, x):
        z = x / self.s
        return self.c / self.s * z ** (self.c - 1) * math.exp(-(z**self.c)) if x > 0 else 0.0

    def sf(self, x):
        return math.exp(-((x / self.s) ** self.c))

    def pm(self, k, x):
        a = 1 + k / self.c
        return self.s**k * math.gamma(a) * special.gammainc(a, (x / self.s) ** self.c)

    def moment(self, k):
        return self.s**k * math.gamma(1 + k / self.c)

    def qt(self):
        return qt.Weibull(shape=self.c, scale=self.s)


def scipy_mean(policy: str, law, lam: float) -> float:
    """E[T] by plain (nested where the formula nests) scipy.integrate.quad."""
    m1, m2 = law.moment(1), law.moment(2)
    rho = lam * m1
    rho_x = lambda x: lam * law.pm(1, x)  # noqa: E731
    lim = lambda k, x: law.pm(k, x) + x**k * law.sf(x)  # noqa: E731
    if policy in ("FCFS",):
        return m1 + lam * m2 / (2 * (1 - rho))
    if policy in ("PS", "LCFS"):
        return m1 / (1 - rho)
    if policy == "FB":
        def t(x):
            om = 1 - lam * lim(1, x)
            return x / om + lam * lim(2, x) / (2 * om * om)
        return integrate.quad(lambda x: law.pdf(x) * t(x), 0, np.inf, **QUAD)[0]
    if policy == "SJF":
        inner = integrate.quad(lambda x: law.pdf(x) / (1 - rho_x(x)) ** 2, 0, np.inf, **QUAD)[0]
        return m1 + lam * m2 / 2 * inner
    if policy == "PSJF":
        def t(x):
            om = 1 - rho_x(x)
            return x / om + lam * law.pm(2, x) / (2 * om * om)
        return integrate.quad(lambda x: law.pdf(x) * t(x), 0, np.inf, **QUAD)[0]
    if policy == "SRPT":
        def t(x):
            wait = lam * lim(2, x) / (2 * (1 - rho_x(x)) ** 2)
            resid = integrate.quad(lambda u: 1 / (1 - rho_x(u)), 0, x, **QUAD)[0]
            return wait + resid
        return integrate.quad(lambda x: law.pdf(x) * t(x), 0, np.inf, **QUAD)[0]
    if policy in ("NP-priority", "P-priority"):  # two classes split at b = 1
        b = 1.0
        p1, r1 = 1 - law.sf(b), lam * law.pm(1, b)
        if policy == "NP-priority":
            w0 = lam * m2 / 2
            return m1 + p1 * w0 / (1 - r1) + (1 - p1) * w0 / ((1 - r1) * (1 - rho))
        big1 = law.pm(1, b)
        return (big1 + p1 * lam * law.pm(2, b) / 2 / (1 - r1) + (m1 - big1) / (1 - r1)
                + (1 - p1) * lam * m2 / 2 / ((1 - r1) * (1 - rho)))
    raise ValueError(policy)


def per_point(fn, budget: float = 0.3, max_reps: int = 200) -> tuple[float, float]:
    """(value, median seconds per call) over repeated calls within ``budget`` seconds."""
    times, value = [], None
    start = time.perf_counter()
    while len(times) < max_reps and (time.perf_counter() - start < budget or len(times) < 3):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return value, statistics.median(times)


def main() -> None:
    policies = [qt.FCFS(), qt.LCFS(), qt.PS(), qt.FB(), qt.SJF(), qt.PSJF(), qt.SRPT(),
                qt.NonPreemptivePriority([1.0]), qt.PreemptivePriority([1.0])]
    header = (f"{'law':13s} {'policy':12s} {'queuetheory E[T]':>20s} {'time/pt':>10s} "
              f"{'err est':>9s} | {'scipy.quad E[T]':>20s} {'time/pt':>10s} {'rel diff':>9s}")
    print(f"Mean response time per point, rho = {RHO}  (median of repeated calls)")
    print(header)
    print("-" * len(header))
    qt.SRPT().mean_response_time(qt.Workload(RHO, qt.Exponential(1.0)))  # warm-up
    for law in (ExpBlocks(), WeibullBlocks()):
        lam = RHO / law.moment(1)
        for pol in policies:
            size = law.qt()
            val, t_qt = per_point(lambda pol=pol, size=size, lam=lam: pol.evaluate(
                qt.Workload(lam, size)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref, t_sp = per_point(lambda pol=pol, law=law, lam=lam: scipy_mean(
                    pol.name, law, lam),
                                      budget=1.0, max_reps=20)
            rel = abs(val.value - ref) / ref
            print(f"{law.name:13s} {pol.name:12s} {val.value:20.14f} {t_qt * 1e3:8.3f}ms "
                  f"{val.relative_error:9.1e} | {ref:20.14f} {t_sp * 1e3:8.2f}ms {rel:9.1e}")
    print("\nTarget: SRPT <= 5 ms per point.")


if __name__ == "__main__":
    main()
