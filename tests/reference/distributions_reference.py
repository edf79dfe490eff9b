"""Independent 30-digit reference values for tests/test_distributions.py.

Run:  python tests/reference/distributions_reference.py > /tmp/ref.txt
and paste the printed ``REFERENCE = {...}`` literal into tests/test_distributions.py.

Independence: nothing from queuetheory is imported. Each law is given here
only by its *density*, written out from its textbook definition; every
quantity is computed from that density with mpmath quadrature at 40 working
digits:

* partial moments  E[S^k 1(S <= x)] = ∫_lo^x t^k f(t) dt        (k = 0, 1, 2)
* CDF              F(x) = partial moment with k = 0
* survival         P(S > x) = ∫_x^hi f(t) dt                     (integrated, not 1 - F)
* raw moments      E[S^k] = ∫_lo^hi t^k f(t) dt; a moment that diverges is
                   recorded as "inf" from the tail exponent of the density
                   (the only fact not obtained by integration)
* quantiles        ppf(q): the root of F(x) = q, by mpmath's bracketing
                   Anderson–Björk solver on a bracket found by bisection.

Infinite ranges are integrated after the substitution t = a e^u (power tails
become exponential), and every integral is computed twice (tanh-sinh and
Gauss–Legendre); the script aborts if the two disagree beyond 1e-25
relative, so every printed digit up to ~25 is trustworthy.
"""

from __future__ import annotations

import mpmath as mp

mp.mp.dps = 40
INF = mp.inf


def _integrate(g, a, b, breaks=(), tail="direct", scale=1):
    """∫_a^b g with two quadrature rules (tanh-sinh and Gauss–Legendre); b may be inf.

    An infinite range is cut at c = max(a, breaks) and the tail [c, inf) is
    integrated either directly on [c, c + s, c + 4s, ..., inf) (``tail="direct"``,
    for exponential-type tails of scale s), or after t = c e^u on
    [0, 1, 4, 16, 64, inf) (``tail="log"``, for power and lognormal tails).
    """
    a = mp.mpf(a)
    pts = sorted({mp.mpf(p) for p in breaks if a < p < b})
    s = mp.mpf(scale)

    def piece(u, v, method):
        """∫_u^v g, cut geometrically (u, 8u, 64u, ...) so steep power laws near u resolve."""
        if u == 0:
            # t = w^10 smooths algebraic singularities t^(c-1) of the density at 0
            return mp.quad(lambda w: g(w**10) * 10 * w**9, [0, v ** mp.mpf("0.1")],
                           method=method)
        cuts = [u]
        while cuts[-1] * 8 < v:
            cuts.append(cuts[-1] * 8)
        cuts.append(v)
        return mp.fsum(mp.quad(g, [cuts[i], cuts[i + 1]], method=method)
                       for i in range(len(cuts) - 1))

    def finite(lo, hi, method):
        if lo >= hi:
            return mp.mpf(0)
        nodes = [lo] + [p for p in pts if lo < p < hi] + [hi]
        return mp.fsum(piece(nodes[i], nodes[i + 1], method) for i in range(len(nodes) - 1))

    def both(method):
        if b == INF:
            c = max([a, *pts])
            head = finite(a, c, method)
            if tail == "log":
                if c <= 0:
                    c = s
                    head = finite(a, c, method)

                def h(u):
                    t = c * mp.exp(u)
                    return g(t) * t

                rest = mp.quad(h, [0, 1, 4, 16, 64, INF], method=method)
            else:
                ends = [c + s * m for m in (0, 1, 4, 16, 64, 256)]
                rest = mp.fsum(piece(ends[i], ends[i + 1], method) for i in range(len(ends) - 1))
                rest += mp.quad(g, [ends[-1], INF], method=method)
            return head + rest
        return finite(a, mp.mpf(b), method)

    v1 = both("tanh-sinh")
    v2 = both("gauss-legendre")
    ref = max(abs(v1), mp.mpf(10) ** -300)
    if abs(v1 - v2) > mp.mpf(10) ** -25 * ref:
        raise RuntimeError(f"quadrature rules disagree: {v1} vs {v2}")
    return v1


class Law:
    def __init__(self, name, ctor, pdf, lo, hi, xs, divergent_from=None, breaks=(),
                 qs=(0.01, 0.5, 0.99), tail="direct", scale=1):
        self.name, self.ctor, self.pdf = name, ctor, pdf
        self.lo, self.hi = mp.mpf(lo), (INF if hi == INF else mp.mpf(hi))
        self.xs = [mp.mpf(x) for x in xs]
        self.divergent_from = divergent_from  # moments k >= this are infinite
        self.breaks = [mp.mpf(b) for b in breaks]
        self.qs = qs
        self.tail, self.scale = tail, scale

    def _int(self, g, a, b):
        return _integrate(g, a, b, self.breaks, self.tail, self.scale)

    def partial(self, k, x):
        if x <= self.lo:
            return mp.mpf(0)
        up = min(x, self.hi)
        return self._int(lambda t: t**k * self.pdf(t), self.lo, up)

    def sf(self, x):
        if x >= self.hi:
            return mp.mpf(0)
        start = max(x, self.lo)
        return self._int(self.pdf, start, self.hi)

    def moment(self, k):
        if self.divergent_from is not None and k >= self.divergent_from:
            return INF
        return self._int(lambda t: t**k * self.pdf(t), self.lo, self.hi)

    def ppf(self, q):
        q = mp.mpf(q)
        a = self.lo
        b = self.hi if self.hi != INF else max(self.lo * 2, mp.mpf(1))
        while self.hi == INF and self.partial(0, b) < q:
            b *= 4
        for _ in range(12):  # shrink the bracket a little by bisection
            m = (a + b) / 2
            if self.partial(0, m) < q:
                a = m
            else:
                b = m
        return mp.findroot(lambda x: self.partial(0, x) - q, (a, b), solver="anderson",
                           tol=mp.mpf(10) ** -32)


G = mp.gamma


def gamma_pdf(shape, scale):
    shape, scale = mp.mpf(shape), mp.mpf(scale)
    return lambda t: t ** (shape - 1) * mp.exp(-t / scale) / (G(shape) * scale**shape)


def weibull_pdf(c, lam):
    c, lam = mp.mpf(c), mp.mpf(lam)
    return lambda t: (c / lam) * (t / lam) ** (c - 1) * mp.exp(-((t / lam) ** c))


def lognormal_pdf(mu, sigma):
    mu, sigma = mp.mpf(mu), mp.mpf(sigma)
    return lambda t: mp.exp(-((mp.log(t) - mu) ** 2) / (2 * sigma**2)) / (
        t * sigma * mp.sqrt(2 * mp.pi))


def pareto_pdf(alpha, s):
    alpha, s = mp.mpf(alpha), mp.mpf(s)
    return lambda t: alpha * s**alpha / t ** (alpha + 1)


def bounded_pareto_pdf(alpha, lo, hi):
    alpha, lo, hi = mp.mpf(alpha), mp.mpf(lo), mp.mpf(hi)
    norm = 1 - (lo / hi) ** alpha
    return lambda t: alpha * lo**alpha / t ** (alpha + 1) / norm


def hyperexp_pdf(ps, ms):
    ps = [mp.mpf(p) for p in ps]
    ms = [mp.mpf(m) for m in ms]
    return lambda t: mp.fsum(p / m * mp.exp(-t / m) for p, m in zip(ps, ms))


LAWS = [
    Law("exponential", "Exponential(2.0)", lambda t: mp.exp(-t / 2) / 2, 0, INF,
        [0.01, 0.5, 2, 7, 40], scale=2),
    Law("erlang", "Erlang(3, 2.0)", gamma_pdf(3, mp.mpf(2) / 3), 0, INF,
        [0.01, 0.5, 2, 7, 40], scale=1),
    Law("erlang_1", "Erlang(1, 0.5)", gamma_pdf(1, 0.5), 0, INF, [0.1, 1, 10], scale=0.5),
    Law("hyperexponential", "HyperExponential([0.3, 0.7], [0.5, 3.0])",
        hyperexp_pdf(["0.3", "0.7"], ["0.5", "3.0"]), 0, INF, [0.01, 0.5, 2, 7, 60], scale=3),
    Law("weibull_half", "Weibull(0.5, 0.5)", weibull_pdf("0.5", "0.5"), 0, INF,
        [1e-6, 0.01, 0.5, 2, 20, 300], scale=10),
    Law("weibull_2p5", "Weibull(2.5, 1.3)", weibull_pdf("2.5", "1.3"), 0, INF,
        [0.05, 0.5, 1.3, 2, 4], scale=1),
    Law("lognormal", "Lognormal(0.2, 0.8)", lognormal_pdf("0.2", "0.8"), 0, INF,
        [0.05, 0.5, 1.2, 3, 20], tail="log"),
    Law("lognormal_wide", "Lognormal(-1.0, 2.0)", lognormal_pdf(-1, 2), 0, INF,
        [1e-3, 0.1, 1, 10, 1000], tail="log"),
    Law("pareto_1p5", "Pareto(1.5, 1.0)", pareto_pdf("1.5", 1), 1, INF,
        [0.5, 1.0, 1.5, 4, 100, 1e6], divergent_from=2, tail="log"),
    Law("pareto_2", "Pareto(2.0, 0.5)", pareto_pdf(2, "0.5"), "0.5", INF,
        [0.7, 1, 10, 1e4], divergent_from=2, tail="log"),
    Law("pareto_3p5", "Pareto(3.5, 2.0)", pareto_pdf("3.5", 2), 2, INF,
        [1, 2.5, 5, 50], divergent_from=4, tail="log"),
    Law("pareto_0p8", "Pareto(0.8, 1.0)", pareto_pdf("0.8", 1), 1, INF,
        [2, 50], divergent_from=1, tail="log"),
    Law("bounded_pareto", "BoundedPareto(1.1, 0.3, 50.0)", bounded_pareto_pdf("1.1", "0.3", 50),
        "0.3", 50, [0.1, 0.31, 1, 10, 49.9, 60], breaks=[1, 10]),
    Law("bounded_pareto_2", "BoundedPareto(2.0, 1.0, 100.0)", bounded_pareto_pdf(2, 1, 100),
        1, 100, [1.5, 10, 99, 100], breaks=[10]),
    Law("uniform", "Uniform(0.5, 3.0)", lambda t: mp.mpf(1) / mp.mpf("2.5"), "0.5", 3,
        [0.2, 0.5, 0.51, 1.7, 2.99, 3.5]),
    Law("scipy_gamma", "ScipyDistribution(scipy.stats.gamma(2.5, scale=0.4))",
        gamma_pdf("2.5", "0.4"), 0, INF, [0.05, 0.5, 1, 3, 8], scale=0.4),
    Law("scipy_weibull", "ScipyDistribution(scipy.stats.weibull_min(0.7, scale=1.5))",
        weibull_pdf("0.7", "1.5"), 0, INF, [0.01, 0.5, 2, 10], scale=3),
    Law("scipy_lomax", "ScipyDistribution(scipy.stats.lomax(1.8))",
        lambda t: mp.mpf("1.8") / (1 + t) ** mp.mpf("2.8"), 0, INF, [0.1, 1, 10, 1000],
        divergent_from=2, tail="log"),
]


def fmt(v):
    return '"inf"' if v == INF else f'"{mp.nstr(v, 25, min_fixed=-30, max_fixed=30)}"'


def main() -> None:
    import sys

    only = set(sys.argv[1:])
    print("REFERENCE = {")
    for law in LAWS:
        if only and law.name not in only:
            continue
        print(f"    {law.name!r}: {{")
        print(f"        'ctor': {law.ctor!r},")
        print("        'partial': {")
        for k in (0, 1, 2):
            for x in law.xs:
                print(f"            ({k}, {float(x)!r}): {fmt(law.partial(k, x))},")
        print("        },")
        print("        'sf': {")
        for x in law.xs:
            print(f"            {float(x)!r}: {fmt(law.sf(x))},")
        print("        },")
        print("        'moment': {")
        for k in (1, 2, 3):
            print(f"            {k}: {fmt(law.moment(k))},")
        print("        },")
        print("        'ppf': {")
        for q in law.qs:
            print(f"            {q!r}: {fmt(law.ppf(q))},")
        print("        },")
        print("    },")
    print("}")


if __name__ == "__main__":
    main()
