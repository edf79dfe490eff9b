"""Independent high-precision reference values for the prediction-error models.

Run ``python tests/reference/predictions_reference.py`` to regenerate the
``REFERENCE`` dictionary stored in ``tests/test_predictions.py`` (paste the
printed dictionary there). Takes a few minutes.

Independence: nothing here imports queuetheory. Every joint quantity is
computed from its *definition* as an integral over the size x of the
conditional law of Y given X = x (written out from scratch below), with
mpmath's tanh-sinh quadrature at 30 significant digits — not the Bessel-K
closed forms, not Gauss–Kronrod. Each integral's own error estimate must be
below 1e-24 relative, and each value is recomputed with a different splitting
of the range, which must agree to 1e-22.

For exponential sizes (mean m) and exponential predictions the script also
checks the closed forms of formulas.md §9, generalised to mean m:

    ∫ x^n e^{-x/m - y/x} dx = 2 (m y)^{(n+1)/2} K_{n+1}(2 sqrt(y/m)),

against the integrals to 25 digits (``check_bessel``), and the SPRPT old-job
term E[((S − Y + y)^+)^2 1(Y > y)] = (1 − 2/e) 2 y^{3/2} K_3(2 sqrt y) (m = 1) by
a 2-D integral (``sprpt_old_job``).
"""

from __future__ import annotations

from mpmath import mp, mpf

mp.dps = 30
REL_ERR = mpf("1e-24")
AGREE = mpf("1e-22")

Y_EXP = ["1e-6", "0.001", "0.1", "0.5", "1", "3", "10", "40"]
Y_GEN = ["0.01", "0.5", "2", "7"]


# --------------------------------------------------------------- size laws
def exp_pdf(m):
    m = mpf(m)
    return lambda x: mp.exp(-x / m) / m


def weibull_pdf(c, s):
    c, s = mpf(c), mpf(s)
    return lambda x: (c / s) * (x / s) ** (c - 1) * mp.exp(-((x / s) ** c))


# --------------------------------------------------------------- channels
# Each channel gives (cdf(y, x), sf(y, x), pdf(y, x), kinks(y)) of Y given X = x.
def exp_channel():
    return (lambda y, x: -mp.expm1(-y / x), lambda y, x: mp.exp(-y / x),
            lambda y, x: mp.exp(-y / x) / x, lambda y: [y / 10, y, 10 * y])


def uniform_channel(alpha):
    a = mpf(alpha)
    lo, hi = 1 - a, 1 + a

    def cdf(y, x):
        r = y / x
        return mpf(0) if r <= lo else (mpf(1) if r >= hi else (r - lo) / (2 * a))

    def pdf(y, x):
        r = y / x
        return 1 / (2 * a * x) if lo < r < hi else mpf(0)

    kinks = (lambda y: [y / hi, y / lo]) if lo > 0 else (lambda y: [y / hi])
    return cdf, (lambda y, x: 1 - cdf(y, x)), pdf, kinks


def lognormal_channel(sigma, convention):
    s = mpf(sigma)
    shift = mpf(0) if convention == "median" else s**2 / 2

    def u(y, x):
        return (mp.log(y / x) + shift) / s

    return (lambda y, x: mp.ncdf(u(y, x)), lambda y, x: mp.ncdf(-u(y, x)),
            lambda y, x: mp.npdf(u(y, x)) / (s * y),
            lambda y: [y * mp.exp(shift + k * s) for k in (-6, -3, 0, 3, 6)])


def loguniform_channel(beta, alpha):
    b, a = mpf(beta), mpf(alpha)
    width = mp.log(a / b)

    def cdf(y, x):
        r = y / x
        return mpf(0) if r <= b else (mpf(1) if r >= a else mp.log(r / b) / width)

    def pdf(y, x):
        r = y / x
        return 1 / (r * width * x) if b < r < a else mpf(0)

    return cdf, (lambda y, x: 1 - cdf(y, x)), pdf, lambda y: [y / a, y / b]


def band_uniform_channel(beta, alpha):
    b, a = mpf(beta), mpf(alpha)

    def cdf(y, x):
        r = y / x
        return mpf(0) if r <= b else (mpf(1) if r >= a else (r - b) / (a - b))

    def pdf(y, x):
        r = y / x
        return 1 / ((a - b) * x) if b < r < a else mpf(0)

    return cdf, (lambda y, x: 1 - cdf(y, x)), pdf, lambda y: [y / a, y / b]


# --------------------------------------------------------------- integrals
def integrate(f, points, sqrt_sub=False):
    """∫_0^inf f with two different splittings; returns the value after checks.

    ``sqrt_sub`` substitutes x = v^2 (for densities like x^{-1/2} e^{-sqrt x}).
    """
    if sqrt_sub:
        g = f
        f = lambda v: g(v * v) * 2 * v  # noqa: E731
        points = [mp.sqrt(mpf(p)) for p in points]
    pts = sorted({mpf(p) for p in points if 0 < mpf(p) < mp.inf})
    first = [mpf(0), *pts, mp.inf]
    value, err = mp.quad(f, first, error=True, maxdegree=10)
    scale = max(abs(value), mpf("1e-300"))
    assert err <= REL_ERR * scale + mpf("1e-30"), (value, err)
    mids = [(u + v) / 2 for u, v in zip(first[:-2], first[1:-1])]
    second = [mpf(0), *sorted(set(pts) | set(mids)), pts[-1] * 3 if pts else mpf(5), mp.inf]
    second = sorted(set(second), key=lambda t: t)
    value2 = mp.quad(f, second, maxdegree=10)
    assert abs(value2 - value) <= AGREE * scale + mpf("1e-30"), (value, value2)
    return value


def quantities(pdf_x, channel, y, size_points, ks=(0, 1, 2), sqrt_sub=False):
    cdf, sf, pdf, kinks = channel
    y = mpf(y)
    pts = [*kinks(y), *size_points]
    out = {}
    for k in ks:
        for name, fn in (("lower", cdf), ("upper", sf), ("density", pdf)):
            out[f"{name}{k}"] = integrate(lambda x, k=k, fn=fn: x**k * pdf_x(x) * fn(y, x),
                                          pts, sqrt_sub)
    return out


# --------------------------------------------------------------- §9 checks
def bessel_b(nu, t):
    return 2 * t ** (mpf(nu) / 2) * mp.besselk(nu, 2 * mp.sqrt(t))


def check_bessel(values, m, y):
    """The integrals equal the generalised Bessel closed forms (formulas.md §9)."""
    with mp.workdps(60):  # the complements 1 - B_2 etc. cancel for small y
        m, y = mpf(m), mpf(y)
        t = y / m
        expected = _closed_forms(m, t)
    for key, val in expected.items():
        rel = abs(val / values[key] - 1)
        assert rel < mpf("1e-25"), (m, y, key, rel)


def _closed_forms(m, t):
    return {
        "density0": bessel_b(0, t) / m,            # f_Y = (2/m) K_0(2 sqrt(y/m))
        "upper0": bessel_b(1, t),                  # P(Y > y)
        "density1": bessel_b(1, t),                # m_1(y)
        "upper1": m * bessel_b(2, t),              # E[S 1(Y > y)]
        "lower1": m * (1 - bessel_b(2, t)),        # rho'(y) / lambda
        "upper2": m**2 * bessel_b(3, t),           # E[S^2 1(Y > y)]
        "lower2": m**2 * (2 - bessel_b(3, t)),     # M_2'(y)
        "density2": m * bessel_b(2, t),
    }


def sprpt_old_job(y):
    """E[((S − Y + y)^+)^2 1(Y > y)] for S ~ Exp(1), Y | S = x ~ Exp(mean x): 2-D integral."""
    y = mpf(y)

    def inner(x):
        # Y = y + u, 0 < u < x (otherwise (x - u)^+ = 0)
        return mp.quad(lambda u: (x - u) ** 2 * mp.exp(-(y + u) / x) / x, [0, x])

    return integrate(lambda x: mp.exp(-x) * inner(x), [y / 10, y, mp.sqrt(y), 1, 10])


def main() -> None:
    ref: dict = {}
    for m in ("1", "2.5"):
        for y in Y_EXP:
            vals = quantities(exp_pdf(m), exp_channel(), y, [mpf(m) / 10, m, 10 * mpf(m)])
            check_bessel(vals, m, y)
            ref[("exp", m, y)] = vals
    old = {}
    for y in ("0.3", "2"):
        val = sprpt_old_job(y)
        closed = (1 - 2 / mp.e) * bessel_b(3, mpf(y))
        assert abs(val / closed - 1) < mpf("1e-20"), (y, val, closed)
        old[y] = val
    ref["sprpt_old_job"] = old
    cases = {
        ("weibull-exp", "0.5"): (weibull_pdf("0.5", "1"), exp_channel(), [0.01, 1, 10, 100]),
        ("weibull-exp", "2"): (weibull_pdf("2", "1"), exp_channel(), [0.3, 1, 3]),
        ("weibull-uniform0.3", "2"): (weibull_pdf("2", "1"), uniform_channel("0.3"),
                                      [0.3, 1, 3]),
        ("exp-uniform1", "1"): (exp_pdf("1"), uniform_channel("1"), [0.1, 1, 10]),
        ("weibull-lognormal-median", "0.5"): (weibull_pdf("0.5", "1"),
                                              lognormal_channel("0.4", "median"),
                                              [0.01, 1, 10, 100]),
        ("weibull-lognormal-mean", "2"): (weibull_pdf("2", "1"),
                                          lognormal_channel("0.4", "mean"), [0.3, 1, 3]),
        ("exp-loguniform", "1"): (exp_pdf("1"), loguniform_channel("0.5", "2"), [0.1, 1, 10]),
        ("weibull-banduniform", "2"): (weibull_pdf("2", "1"),
                                       band_uniform_channel("0.5", "2"), [0.3, 1, 3]),
    }
    for (name, shape), (pdf_x, channel, spts) in cases.items():
        for y in Y_GEN:
            ref[(name, shape, y)] = quantities(pdf_x, channel, y, spts,
                                               sqrt_sub=shape == "0.5")
    print("REFERENCE = {")
    for key, vals in ref.items():
        print(f"    {key!r}: {{")
        for k, v in vals.items():
            print(f"        {k!r}: {mp.nstr(v, 20)!r},")
        print("    },")
    print("}")


if __name__ == "__main__":
    main()
