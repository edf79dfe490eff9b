"""Independent high-precision reference values for the classic M/G/1 policies.

Run ``python tests/reference/classic_reference.py`` to regenerate the table that
``tests/test_classic_reference.py`` stores (paste the printed ``REFERENCE``
dictionary there).

Independence: nothing here imports queuetheory. Densities, tails and partial
moments are written out from their textbook formulas (mpmath special
functions, 30 significant digits), the policy formulas are those of
formulas.md §2 written again from scratch, and integrals use mpmath's
tanh-sinh quadrature (not Gauss–Kronrod). Every integral's own error estimate
is checked to be below 1e-25 relative, and each value is recomputed with a
different splitting of the integration range, which must agree to 1e-24.

Discrete laws are evaluated in exact rational arithmetic (``fractions``).

SRPT's mean uses the Fubini form; ``check_fubini()`` confirms it against the
nested form E[T] = ∫ f(x) (W(x) + ∫_0^x dt / (1 − ρ(t))) dx at 20 digits.

FCFS's second moment (Takács) is checked against E[T²] computed by
differentiating the Pollaczek–Khinchine transform T*(s) = W*(s) S*(s) with
W*(s) = (1 − ρ) s / (s − λ (1 − S*(s))) (``fcfs_second_moment_lst``).
"""

from __future__ import annotations

from fractions import Fraction

from mpmath import mp, mpf

mp.dps = 30

INF = mp.inf


# ------------------------------------------------------------------ size laws
class Law:
    """f, F̄, partial moments m_k(x) = E[S^k 1(S <= x)], moments, integration splits."""

    heavy = False  # power-law tail: integrate the last interval in log x

    def pdf(self, x): ...
    def sf(self, x): ...
    def pm(self, k, x): ...
    def moment(self, k): ...

    def limited(self, k, x):  # E[min(S, x)^k]
        return self.pm(k, x) + x**k * self.sf(x)


class Exp(Law):
    def __init__(self, mean):
        self.m = mpf(mean)
        self.splits = [0, 1, 2, 4, 8, 12, 16, 24, 32, 64, 128, INF]
        self.splits = [s * self.m for s in self.splits]
        self.splits2 = [0, 0.5, 3, 6, 10, 20, 40, 90, INF]

    def pdf(self, x):
        return mp.exp(-x / self.m) / self.m

    def sf(self, x):
        return mp.exp(-x / self.m)

    def pm(self, k, x):  # m^k Γ(k+1) P(k+1, x/m)
        return self.m**k * mp.gamma(k + 1) * mp.gammainc(k + 1, 0, x / self.m, regularized=True)

    def moment(self, k):
        return self.m**k * mp.factorial(k)


class Weib(Law):
    """F̄(x) = exp(-(x/scale)^shape)."""

    def __init__(self, shape, scale):
        self.k, self.s = mpf(shape), mpf(scale)
        self.splits = [0, mpf("1e-4"), mpf("0.01"), mpf("0.1"), 1, 3, 10, 30, 100, 300, 1000,
                       3000, INF]
        self.splits2 = [0, mpf("0.001"), mpf("0.05"), mpf("0.5"), 2, 7, 20, 60, 200, 700,
                        2000, INF]

    def pdf(self, x):
        z = x / self.s
        return self.k / self.s * z ** (self.k - 1) * mp.exp(-(z**self.k))

    def sf(self, x):
        return mp.exp(-((x / self.s) ** self.k))

    def pm(self, j, x):  # s^j Γ(1 + j/k) P(1 + j/k, (x/s)^k)
        a = 1 + mpf(j) / self.k
        return self.s**j * mp.gamma(a) * mp.gammainc(a, 0, (x / self.s) ** self.k,
                                                     regularized=True)

    def moment(self, j):
        return self.s**j * mp.gamma(1 + mpf(j) / self.k)


class H2(Law):
    def __init__(self, probs, means):
        self.ps = [mpf(p) for p in probs]
        self.comps = [Exp(m) for m in means]
        top = max(c.m for c in self.comps)
        self.splits = [0, mpf("0.25"), 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 40 * top, INF]
        self.splits2 = [0, mpf("0.7"), 3, 9, 27, 81, 243, 729, INF]

    def pdf(self, x):
        return sum(p * c.pdf(x) for p, c in zip(self.ps, self.comps))

    def sf(self, x):
        return sum(p * c.sf(x) for p, c in zip(self.ps, self.comps))

    def pm(self, k, x):
        return sum(p * c.pm(k, x) for p, c in zip(self.ps, self.comps))

    def moment(self, k):
        return sum(p * c.moment(k) for p, c in zip(self.ps, self.comps))


class BPareto(Law):
    """Density α L^α x^{-α-1} / (1 - (L/H)^α) on [L, H]."""

    def __init__(self, shape, low, high):
        self.a, self.L, self.H = mpf(shape), mpf(low), mpf(high)
        self.c = self.a * self.L**self.a / (1 - (self.L / self.H) ** self.a)
        self.splits = [self.L * r for r in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)] + [self.H]
        self.splits = [s for s in self.splits if s <= self.H]
        self.splits2 = [self.L, self.L * 3, self.L * 10, self.L * 100, self.H]

    def pdf(self, x):
        if x < self.L or x > self.H:
            return mpf(0)
        return self.c * x ** (-self.a - 1)

    def sf(self, x):
        if x <= self.L:
            return mpf(1)
        if x >= self.H:
            return mpf(0)
        return (self.c / self.a) * (x ** (-self.a) - self.H ** (-self.a))

    def pm(self, k, x):
        x = min(max(x, self.L), self.H)
        return self.c * (x ** (k - self.a) - self.L ** (k - self.a)) / (k - self.a)

    def moment(self, k):
        return self.pm(k, self.H)


class Par(Law):
    """F̄(x) = (scale/x)^α for x >= scale."""

    def __init__(self, shape, scale):
        self.a, self.xm = mpf(shape), mpf(scale)
        self.heavy = True
        self.splits = [self.xm * 10**j for j in range(0, 13)] + [INF]
        self.splits2 = [self.xm * 3**j for j in range(0, 20)] + [INF]

    def pdf(self, x):
        return mpf(0) if x < self.xm else self.a * self.xm**self.a * x ** (-self.a - 1)

    def sf(self, x):
        return mpf(1) if x <= self.xm else (self.xm / x) ** self.a

    def pm(self, k, x):
        if x <= self.xm:
            return mpf(0)
        return self.a * self.xm**self.a * (x ** (k - self.a) - self.xm ** (k - self.a)) / (
            k - self.a)

    def moment(self, k):
        return INF if k >= self.a else self.a * self.xm**k / (self.a - k)


# ------------------------------------------------------------------ integration
def integrate(func, law, lo=0, hi=None):
    """∫ func over the law's splits (optionally cut to [lo, hi]) twice, checked."""
    vals = []
    for splits in (law.splits, law.splits2):
        s = [mpf(p) if p != INF else INF for p in splits]
        if hi is not None:
            s = [p for p in s if p < hi] + [mpf(hi)]
        s = [p for p in s if p > lo]
        s = [mpf(lo)] + s if (not s or s[0] != lo) else s
        s = sorted(set(s), key=lambda v: float(v) if v != INF else float("inf"))
        val, err = mpf(0), mpf(0)
        for a, b in zip(s[:-1], s[1:]):
            if a == 0:  # x = u^2 removes x^(-1/2) singularities at 0 (Weibull shape 1/2)
                v, e = mp.quad(lambda u: func(u * u) * 2 * u, [0, mp.sqrt(b)], error=True,
                               maxdegree=10)
            elif b == INF and law.heavy:  # x = e^u turns power tails into exponential decay
                v, e = mp.quad(lambda u: func(mp.exp(u)) * mp.exp(u), [mp.log(a), INF],
                               error=True, maxdegree=10)
            else:
                v, e = mp.quad(func, [a, b], error=True, maxdegree=10)
            val, err = val + v, err + e
        if err > mpf("1e-25") * max(abs(val), mpf(1)):
            raise RuntimeError(f"quadrature error {err} too large for {val}")
        vals.append(val)
    if abs(vals[0] - vals[1]) > mpf("1e-24") * abs(vals[0]):
        raise RuntimeError(f"splittings disagree: {vals}")
    return vals[0]


# ------------------------------------------------------------------ policies
def policies(law, lam, boundary, xs):
    """Reference values for one workload (continuous law)."""
    lam = mpf(lam)
    m1, m2 = law.moment(1), law.moment(2)
    rho = lam * m1
    out = {}
    rho_le = lambda x: lam * law.pm(1, x)  # noqa: E731
    rbar = lambda x: lam * law.limited(1, x)  # noqa: E731
    fcfs_wait = lam * m2 / (2 * (1 - rho)) if m2 != INF else INF
    out["FCFS"] = m1 + fcfs_wait if m2 != INF else INF
    out["PS"] = m1 / (1 - rho)

    def t_fb(x):
        om = 1 - rbar(x)
        return x / om + lam * law.limited(2, x) / (2 * om**2)

    def t_psjf(x):
        om = 1 - rho_le(x)
        return x / om + lam * law.pm(2, x) / (2 * om**2)

    def w_srpt(x):
        om = 1 - rho_le(x)
        return lam * law.limited(2, x) / (2 * om**2)

    out["FB"] = integrate(lambda x: law.pdf(x) * t_fb(x), law)
    out["PSJF"] = integrate(lambda x: law.pdf(x) * t_psjf(x), law)
    if m2 != INF:
        out["SJF"] = m1 + lam * m2 / 2 * integrate(
            lambda x: law.pdf(x) / (1 - rho_le(x)) ** 2, law)
    else:
        out["SJF"] = INF
    out["SRPT"] = integrate(lambda x: law.pdf(x) * w_srpt(x), law) + integrate(
        lambda t: law.sf(t) / (1 - rho_le(t)), law)
    # Cobham, two classes (0, b] and (b, inf)
    b = mpf(boundary)
    p1 = 1 - law.sf(b)
    p2 = law.sf(b)
    r1 = lam * law.pm(1, b)
    if m2 != INF:
        w0 = lam * m2 / 2
        out["NP[b]"] = m1 + p1 * w0 / (1 - r1) + p2 * w0 / ((1 - r1) * (1 - rho))
    else:
        out["NP[b]"] = INF
    big1 = law.pm(1, b)
    rr1 = lam * law.pm(2, b) / 2
    rr2 = lam * m2 / 2
    out["P[b]"] = (big1 + p1 * rr1 / (1 - r1) + (m1 - big1) / (1 - r1)
                   + p2 * rr2 / ((1 - r1) * (1 - rho)))
    # conditional means
    for x in xs:
        x = mpf(x)
        resid = integrate(lambda t: 1 / (1 - rho_le(t)), law, 0, x)
        out[f"SRPT|{x}"] = w_srpt(x) + resid
        out[f"FB|{x}"] = t_fb(x)
        out[f"PSJF|{x}"] = t_psjf(x)
        out[f"SJF|{x}"] = (x + lam * m2 / (2 * (1 - rho_le(x)) ** 2)) if m2 != INF else INF
    return out


def discrete_policies(values, probs, lam, xs):
    """Exact rational values for a discrete law (atom-aware formulas, formulas.md §2.5)."""
    v = [Fraction(a) for a in values]
    p = [Fraction(a) for a in probs]
    lam = Fraction(lam)
    m1 = sum(pi * vi for pi, vi in zip(p, v))
    m2 = sum(pi * vi * vi for pi, vi in zip(p, v))
    rho = lam * m1

    def pm(k, x, strict=False):
        return sum(pi * vi**k for pi, vi in zip(p, v) if (vi < x if strict else vi <= x))

    def sf(x):
        return sum(pi for pi, vi in zip(p, v) if vi > x)

    def limited(k, x):
        return pm(k, x) + x**k * sf(x)

    def w_srpt(x):
        return lam * limited(2, x) / (2 * (1 - lam * pm(1, x, True)) * (1 - lam * pm(1, x)))

    def residence(x):  # ∫_0^x dt / (1 - rho(t)), rho piecewise constant
        edges = [Fraction(0)] + v
        total = Fraction(0)
        for i, e in enumerate(edges):
            nxt = edges[i + 1] if i + 1 < len(edges) else None
            right = x if nxt is None else min(nxt, x)
            if right > e:
                total += (right - e) / (1 - lam * pm(1, e))
        return total

    def t_psjf(x):
        lt, le = 1 - lam * pm(1, x, True), 1 - lam * pm(1, x)
        return x / lt + lam * pm(2, x) / (2 * lt * le)

    def t_sjf(x):
        lt, le = 1 - lam * pm(1, x, True), 1 - lam * pm(1, x)
        return x + lam * m2 / (2 * lt * le)

    def t_fb(x):
        om = 1 - lam * limited(1, x)
        return x / om + lam * limited(2, x) / (2 * om * om)

    out = {
        "FCFS": m1 + lam * m2 / (2 * (1 - rho)),
        "PS": m1 / (1 - rho),
        "FB": sum(pi * t_fb(vi) for pi, vi in zip(p, v)),
        "SJF": sum(pi * t_sjf(vi) for pi, vi in zip(p, v)),
        "PSJF": sum(pi * t_psjf(vi) for pi, vi in zip(p, v)),
        "SRPT": sum(pi * (w_srpt(vi) + residence(vi)) for pi, vi in zip(p, v)),
    }
    for x in xs:
        x = Fraction(x)
        out[f"SRPT|{float(x)}"] = w_srpt(x) + residence(x)
        out[f"PSJF|{float(x)}"] = t_psjf(x)
        out[f"SJF|{float(x)}"] = t_sjf(x)
        out[f"FB|{float(x)}"] = t_fb(x)
    return {k: mpf(val.numerator) / val.denominator for k, val in out.items()}


# ------------------------------------------------------------------ side checks
def check_fubini():
    """Nested SRPT form agrees with the Fubini form (M/M/1, λ = 0.7, 20 digits)."""
    with mp.workdps(20):
        law, lam = Exp(1), mpf("0.7")
        rho_le = lambda x: lam * law.pm(1, x)  # noqa: E731
        w = lambda x: lam * law.limited(2, x) / (2 * (1 - rho_le(x)) ** 2)  # noqa: E731
        nested = mp.quad(lambda x: law.pdf(x) * (w(x) + mp.quad(
            lambda t: 1 / (1 - rho_le(t)), [0, x], maxdegree=6)), [0, 2, 8, 40, INF],
            maxdegree=6)
        fubini = mp.quad(lambda x: law.pdf(x) * w(x), [0, 2, 8, 40, INF]) + mp.quad(
            lambda t: law.sf(t) / (1 - rho_le(t)), [0, 2, 8, 40, INF])
        assert abs(nested - fubini) < mpf("1e-15") * fubini, (nested, fubini)
        return nested, fubini


def fcfs_second_moment_lst(law_lst, lam, m1):
    """E[T²] of FCFS from the second derivative of T*(s) at 0 (one-sided, 90 digits)."""
    with mp.workdps(90):
        lam = mpf(lam)
        rho = lam * m1

        def tstar(s):
            if s == 0:
                return mpf(1)
            ss = law_lst(s)
            return (1 - rho) * s / (s - lam * (1 - ss)) * ss

        return mp.diff(tstar, 0, 2, direction=1, h=mpf("1e-28"))


def h2_lst(probs, means):
    return lambda s: sum(mpf(p) / (1 + mpf(m) * s) for p, m in zip(probs, means))


# ------------------------------------------------------------------ main
CASES = {
    # name: (law, law spec for the package, boundary, conditional sizes, arrival rates)
    "exp": (Exp(1), "Exponential(mean=1.0)", 1.0, (0.5, 2.0),
            ("0.5", "0.9", "0.99", "0.999")),
    "weibull": (Weib("0.5", "0.5"), "Weibull(shape=0.5, scale=0.5)", 1.0, (0.5, 2.0),
                ("0.5", "0.9")),
    "hyperexp": (H2(("0.9", "0.1"), ("0.5", "5.5")),
                 "HyperExponential(probs=[0.9, 0.1], means=[0.5, 5.5])", 1.0, (0.5, 2.0),
                 ("0.5", "0.9")),
    "bpareto": (BPareto("1.5", "1", "1000"), "BoundedPareto(shape=1.5, low=1.0, high=1000.0)",
                3.0, (2.0, 50.0), ("rho0.5", "rho0.9")),
    "pareto": (Par("1.5", "1"), "Pareto(shape=1.5, scale=1.0)", 3.0, (2.0, 50.0),
               ("rho0.5", "rho0.9")),
}


def main():
    check_fubini()
    table = {}
    rates_used = {}
    for name, (law, _spec, boundary, xs, rates) in CASES.items():
        for r in rates:
            # The package receives a double: evaluate at exactly that binary value of λ.
            if r.startswith("rho"):
                lam = float(mpf(r[3:]) / law.moment(1))
            else:
                lam = float(r)
            rates_used[(name, r)] = lam
            vals = policies(law, mpf(lam), boundary, xs)
            for k, val in vals.items():
                table[(name, r, k)] = val
    # discrete law: values 1, 2, 5 with probs .5, .3, .2 (E[S] = 2.1), rho = 0.8
    dvals = discrete_policies([1, 2, 5], [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)],
                              Fraction(float(Fraction(8, 21))), (1.0, 2.0, 3.0, 5.0))
    for k, val in dvals.items():
        table[("discrete", "rho0.8", k)] = val
    # deterministic (M/D/1): every size-based policy equals FCFS
    ddet = discrete_policies([2], [1], Fraction(0.4), (2.0,))
    for k, val in ddet.items():
        table[("deterministic", "0.4", k)] = val
    # FCFS second moments from the transform (independent of Takács)
    for lam in ("0.5", "0.9"):
        table[("hyperexp", lam, "FCFS_T2")] = fcfs_second_moment_lst(
            h2_lst(("0.9", "0.1"), ("0.5", "5.5")), mpf(float(lam)), mpf(1))
    table[("exp", "0.9", "FCFS_T2")] = fcfs_second_moment_lst(h2_lst(("1",), ("1",)),
                                                             mpf(float("0.9")), mpf(1))
    rates_used[("discrete", "rho0.8")] = float(Fraction(8, 21))
    rates_used[("deterministic", "0.4")] = 0.4
    print("# generated by tests/reference/classic_reference.py (mpmath, mp.dps = 30)")
    print("REFERENCE = {")
    for key, val in table.items():
        sval = "inf" if val == INF else mp.nstr(val, 25, min_fixed=-5, max_fixed=5)
        print(f"    {key!r}: {sval!r},")
    print("}")
    print("RATES = {")
    for key, lam in rates_used.items():
        print(f"    {key!r}: {lam!r},")
    print("}")


if __name__ == "__main__":
    main()
