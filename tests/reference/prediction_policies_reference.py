"""Independent high-precision reference values for the prediction-based policies.

M/M/1 (S ~ Exp(1)) with exponential predictions (Y | S = s ~ Exp(mean s)),
evaluated with mpmath at 25 significant digits. Written independently of the
queuetheory package (it imports nothing from it): every building block is
derived here by hand and, where a closed form is used, checked against a
direct mpmath quadrature of its definition before use.

Derivations (for this script)
-----------------------------
* Joint density g(s, y) = e^{-s} e^{-y/s} / s.  With
  B(n, y) := ∫_0^∞ s^{n-1} e^{-s - y/s} ds = 2 y^{n/2} K_n(2 √y):
  f_Y = B(0), P(Y > y) = B(1), E[S 1(Y > y)] = B(2), E[S² 1(Y > y)] = B(3),
  m₁(y) = ∫ s g(s, y) ds = B(1).
* 1 − ρ′(y) = 1 − λ + λ B(2, y);  M₂′(y) = 2 − B(3, y).
* SPRPT old-job term: for fixed s, t = y + s v gives
  ∫_y^{y+s} (s − t + y)² e^{-t/s}/s dt = s² e^{-y/s} ∫_0^1 (1 − v)² e^{-v} dv
  = (1 − 2/e) s² e^{-y/s}, so the term is (1 − 2/e) B(3, y).
* P(Y − S >= v) = ∫ e^{-s} e^{-(v + s)/s} ds = B(1, v)/e;  E[(S − Y)⁺] = 1/e.
* TRAIL(c) (formulas.md §8.2): the inner t-integrals over a quadratic times
  e^{-t/s}/s use the antiderivative −e^{-t/s}[q² + 2βs q + 2β²s²], q = α + βt,
  split at t = y/(1 − c); the residence numerator is
  P(max(Y − S, (1 − c)Y) < v < Y) = ∫ e^{-s}[e^{-v/s} − e^{-min(v/(1-c), v+s)/s}] ds;
  E[(S − cY)⁺] = 1 − c + c e^{-1/c}.
* TRAIL-size(c) (§8.4): old-job term (1 − 2c e^{-c}) B(3, y), residence
  numerator (1 − e^{-c}) B(1, v), E[S − min(cS, Y)] = e^{-c}.
* One bit (§5.2): ρ_S, P_L, E[S² 1(short)] from B(·, T) (prediction) or the
  exponential partial moments (size).

Run ``python tests/reference/prediction_policies_reference.py [basic] [onebit] [trail] [cond]``
(``trail=0.75`` for one value of c)
(minutes to an hour for "trail"); it prints ``key = value`` lines, stored in
tests/test_prediction_policies.py, tests/test_trail.py and tests/test_onebit.py.
"""

from __future__ import annotations

import functools

import mpmath as mp

mp.mp.dps = 25
E = mp.e
LAMS = ["0.5", "0.7", "0.8", "0.9", "0.95", "0.99"]
TRAIL_LAMS = ["0.5", "0.9", "0.99"]
TRAIL_CS = ["0.25", "0.5", "0.75"]


@functools.cache
def B(n: int, y):
    """∫_0^∞ s^{n-1} e^{-s-y/s} ds = 2 y^{n/2} K_n(2√y)."""
    y = mp.mpf(y)
    if y == 0:
        return mp.inf if n == 0 else mp.factorial(n - 1)
    return 2 * y ** (mp.mpf(n) / 2) * mp.besselk(n, 2 * mp.sqrt(y))


def check_blocks() -> None:
    for y in (mp.mpf("0.01"), mp.mpf("0.7"), mp.mpf(3)):
        for n in range(4):
            direct = mp.quad(lambda s, n=n, y=y: s ** (n - 1) * mp.exp(-s - y / s),
                             [0, y, 1, mp.inf])
            assert abs(direct / B(n, y) - 1) < mp.mpf(10) ** -20, (n, y)
        # old-job term
        direct = mp.quad(lambda s, y=y: mp.exp(-s) * mp.quad(
            lambda t: (s - t + y) ** 2 * mp.exp(-t / s) / s, [y, y + s]), [0, y, 1, mp.inf])
        assert abs(direct / ((1 - 2 / E) * B(3, y)) - 1) < mp.mpf(10) ** -15


def outer(f):
    """∫_0^∞ f(y) dy with y = w² (log singularity of f_Y at 0)."""
    return mp.quad(lambda w: 2 * w * f(w * w), [0, mp.mpf("0.25"), 1, 2, 4, 8, mp.inf])


def D(lam, y):
    return 1 - lam + lam * B(2, y)


def spjf(lam):
    return 1 + lam * outer(lambda y: B(0, y) / D(lam, y) ** 2)


def pspjf(lam):
    return outer(lambda y: B(1, y) / D(lam, y)
                 + B(0, y) * lam * (2 - B(3, y)) / (2 * D(lam, y) ** 2))


def sprpt(lam):
    wait = outer(lambda y: B(0, y) * lam * (2 - B(3, y) + (1 - 2 / E) * B(3, y))
                 / (2 * D(lam, y) ** 2))
    res = outer(lambda v: (B(1, v) - B(1, v) / E) / D(lam, v)) + 1 / E
    return wait + res


def sprpt_conditional(lam, x, y):
    x, y = mp.mpf(x), mp.mpf(y)
    wait = lam * (2 - B(3, y) + (1 - 2 / E) * B(3, y)) / (2 * D(lam, y) ** 2)
    lo = y - min(x, y)
    res = mp.quad(lambda v: 1 / D(lam, v), [lo, y]) + max(x - y, 0)
    return wait + res


# ------------------------------------------------------------------ TRAIL(c)
def _segment(alpha, beta, s, t0, t1):
    """∫_{t0}^{t1} (alpha + beta t)² e^{-t/s}/s dt (0 if t1 <= t0)."""
    if t1 <= t0:
        return mp.mpf(0)

    def F(t):
        if t == mp.inf:
            return mp.mpf(0)
        q = alpha + beta * t
        return -mp.exp(-t / s) * (q * q + 2 * beta * s * q + 2 * beta * beta * s * s)
    return F(t1) - F(t0)


def trail_phi(s, y, c):
    """∫_y^∞ ((s − min(t − y, c t))⁺)² e^{-t/s}/s dt, split at t = y/(1 − c)."""
    tstar = y / (1 - c)
    a = _segment(s + y, mp.mpf(-1), s, y, min(tstar, y + s))
    b = _segment(s, -c, s, tstar, s / c)
    return a + b


@functools.cache
def trail_old(y, c):
    kappa = y * c / (1 - c)
    return mp.quad(lambda s: mp.exp(-s) * trail_phi(s, y, c), [0, kappa, kappa + 1, mp.inf])


@functools.cache
def trail_rnum(v, c):
    kappa = v * c / (1 - c)
    return mp.quad(lambda s: mp.exp(-s) * (mp.exp(-v / s) - mp.exp(-min(v / (1 - c), v + s) / s)),
                   [0, kappa, kappa + 1, mp.inf])


def check_trail(c) -> None:
    y, s = mp.mpf("0.8"), mp.mpf("1.3")
    direct = mp.quad(lambda t: max(s - min(t - y, c * t), 0) ** 2 * mp.exp(-t / s) / s,
                     sorted([y, y / (1 - c), y + s, s / c]) + [mp.inf])
    assert abs(direct / trail_phi(s, y, c) - 1) < mp.mpf(10) ** -15
    v = mp.mpf("0.6")
    direct = mp.quad(lambda s: mp.exp(-s) * mp.quad(
        lambda t: mp.exp(-t / s) / s if max(t - s, (1 - c) * t) < v else 0,
        [v, min(v / (1 - c), v + s)]), [0, v * c / (1 - c), mp.inf])
    assert abs(direct / trail_rnum(v, c) - 1) < mp.mpf(10) ** -15
    pg = mp.quad(lambda s: mp.exp(-s) * mp.quad(lambda t: (s - c * t) * mp.exp(-t / s) / s,
                                                 [0, s / c]), [0, 1, mp.inf])
    assert abs(pg - (1 - c + c * mp.exp(-1 / c))) < mp.mpf(10) ** -15


def trail(lam, c):
    wait = outer(lambda y: B(0, y) * lam * (2 - B(3, y) + trail_old(y, c)) / (2 * D(lam, y) ** 2))
    res = outer(lambda v: trail_rnum(v, c) / D(lam, v)) + 1 - c + c * mp.exp(-1 / c)
    return wait + res


def trail_conditional(lam, c, x, y):
    x, y = mp.mpf(x), mp.mpf(y)
    wait = lam * (2 - B(3, y) + trail_old(y, c)) / (2 * D(lam, y) ** 2)
    lo = y - min(x, c * y)
    return wait + mp.quad(lambda v: 1 / D(lam, v), [lo, y]) + max(x - c * y, 0)


def trail_size(lam, c):
    wait = outer(lambda y: B(0, y) * lam * (2 - 2 * c * mp.exp(-c) * B(3, y))
                 / (2 * D(lam, y) ** 2))
    res = outer(lambda v: (1 - mp.exp(-c)) * B(1, v) / D(lam, v)) + mp.exp(-c)
    return wait + res


# ------------------------------------------------------------------- one bit
def onebit(lam, T, variant, on):
    T = mp.mpf(T)
    if on == "prediction":
        es_long, p_long, es2_short = B(2, T), B(1, T), 2 - B(3, T)
    else:
        es_long = (1 + T) * mp.exp(-T)
        p_long = mp.exp(-T)
        es2_short = 2 - (T * T + 2 * T + 2) * mp.exp(-T)
    d_s = 1 - lam + lam * es_long
    w0 = lam  # λ E[S²]/2
    if variant == "np":
        return 1 + w0 / d_s * ((1 - p_long) + p_long / (1 - lam))
    long_wait = p_long * w0 / (d_s * (1 - lam))
    if variant == "lcfs":
        return 1 / d_s + long_wait
    return (1 - es_long) + (1 - p_long) * lam * es2_short / (2 * d_s) + es_long / d_s + long_wait


def onebit_optimum(lam, variant, on):
    if on == "size" and variant in ("np", "lcfs"):
        T = mp.findroot(lambda t: (t - 1) * (1 - lam) - lam * mp.exp(-t), (1, 4),
                        solver="anderson")
    else:
        T = mp.findroot(lambda t: mp.diff(lambda u: onebit(lam, u, variant, on), t),
                        (mp.mpf("0.3"), 5), solver="anderson")
    return T, onebit(lam, T, variant, on)


def main(parts: list[str]) -> None:
    """Print ``KEY = value`` lines as they are computed (parts: basic, onebit, trail, cond)."""
    check_blocks()

    def emit(key, val):
        print(f"{key} = {val!r}", flush=True)

    if "basic" in parts:
        for s in LAMS:
            lam = mp.mpf(s)
            emit(f"spjf/{s}", mp.nstr(spjf(lam), 20))
            emit(f"pspjf/{s}", mp.nstr(pspjf(lam), 20))
            emit(f"sprpt/{s}", mp.nstr(sprpt(lam), 20))
            emit(f"trail_size/{s}/0.5", mp.nstr(trail_size(lam, mp.mpf("0.5")), 20))
    if "onebit" in parts:
        for s in LAMS:
            lam = mp.mpf(s)
            for on in ("prediction", "size"):
                for variant in ("np", "lcfs", "fcfs"):
                    emit(f"onebit_T1/{s}/{on}/{variant}", mp.nstr(onebit(lam, 1, variant, on), 20))
                    if s in ("0.5", "0.7", "0.9"):
                        T, v = onebit_optimum(lam, variant, on)
                        emit(f"onebit_opt/{s}/{on}/{variant}", (mp.nstr(T, 20), mp.nstr(v, 20)))
    only = [p.split("=", 1)[1] for p in parts if p.startswith("trail=")]
    if "trail" in parts or only:
        for cs in (only or TRAIL_CS):
            c = mp.mpf(cs)
            check_trail(c)
            for s in TRAIL_LAMS:
                emit(f"trail/{s}/{cs}", mp.nstr(trail(mp.mpf(s), c), 20))
    if "cond" in parts:
        lam = mp.mpf("0.8")
        for x, y in (("1", "0.5"), ("0.5", "2"), ("3", "1")):
            emit(f"sprpt_cond/{x}/{y}", mp.nstr(sprpt_conditional(lam, x, y), 20))
            emit(f"trail_cond/{x}/{y}", mp.nstr(trail_conditional(lam, mp.mpf("0.5"), x, y), 20))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:] or ["basic", "onebit", "trail", "cond"])
