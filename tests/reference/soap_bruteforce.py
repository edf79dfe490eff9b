"""Brute-force SOAP reference values for small atomic workloads (independent of queuetheory).

A direct, deliberately naive implementation of the SOAP theorem (Scully,
Harchol-Balter, Scheller-Wolf 2018; formulas.md §4.2-4.3) for sizes with
finitely many values and no descriptor (or descriptor = the size), written
without importing queuetheory:

* ranks are plain Python functions r(d, a) -> (level, value);
* every supremum / infimum over ages is taken by scanning a dense rational age
  grid of step 1/GRID (all breakpoints and crossing points of the examples
  below lie on this grid, so the scans are exact), with the half-open
  conventions of formulas.md §4.2 (x excluded from r_worst; "new" jobs need a
  strictly smaller rank, "old" jobs win ties);
* the residence integral is integrated with mpmath.quad (30 digits) on the
  grid cells, where rho_new(r_worst(a)) is evaluated pointwise.

Scope and limits of the scans (enough for the examples below, checked by hand):
ranks are piecewise linear with breakpoints on the grid, right-continuous except
for a point value at age 0 (``sjf_np``); a point value inside the age range (a
rank that differs at one single age) is not supported by ``old_intervals``.
Descriptors are arbitrary numbers attached to each atom (size, or a prediction
in ``PAIRS``).

Run ``python tests/reference/soap_bruteforce.py [name ...]`` (all cases: about
5 min of CPU); it prints ``name = value`` lines that are pasted into
tests/test_soap.py (the two-point cases reproduce formulas.md §4.5 exactly:
25.5 and 25.25, a check of this script itself).
"""

from __future__ import annotations

from fractions import Fraction as F

import mpmath as mp

mp.mp.dps = 30
GRID = 8  # ages are scanned on multiples of 1/GRID


H = F(1, 10**12)  # probe offset for one-sided limits of the linear pieces


def rank_cmp(r1, r2):
    """-1, 0, 1 for lexicographic comparison of (level, value) pairs."""
    return (r1 > r2) - (r1 < r2)


def left_limit(rank, d, t):
    """lim_{s -> t-} r(d, s), exact for piecewise-linear ranks (two probes)."""
    l1, v1 = rank(d, t - H)
    l2, v2 = rank(d, t - 2 * H)
    if l1 != l2 or l1 == float("-inf"):
        return (l1, 0 if l1 == float("-inf") else v1)
    return (l1, 2 * v1 - v2)


def norm(r):
    return (r[0], 0) if r[0] == float("-inf") else r


def grid(lo, hi):
    """Grid ages in [lo, hi] (multiples of 1/GRID) plus lo and hi."""
    out = {F(lo), F(hi)}
    i = int(F(lo) * GRID)
    while F(i, GRID) <= hi:
        if F(i, GRID) >= lo:
            out.add(F(i, GRID))
        i += 1
    return sorted(out)


def r_worst(rank, d, x, a):
    """sup{r(d, t): a <= t < x}: values at grid ages in [a, x) and left limits in (a, x]."""
    pts = grid(a, x)
    cands = [norm(rank(d, t)) for t in pts if t < x]
    cands += [norm(left_limit(rank, d, t)) for t in pts if t > a]
    return max(cands)


def c_new(rank, d, r, xmax):
    """inf{a >= 0: r(d, a) >= r} (None if never before xmax), exact on linear pieces."""
    pts = grid(0, xmax)
    for t0, t1 in zip(pts[:-1], pts[1:]):
        if rank_cmp(norm(rank(d, t0)), r) >= 0:
            return t0
        lim = norm(left_limit(rank, d, t1))
        if rank_cmp(lim, r) >= 0:
            # linear on (t0, t1): value v0 + k (t - t0) reaches r's value inside
            l0, v0 = norm(rank(d, t0 + H))
            if l0 != r[0] or l0 != lim[0]:
                return t0
            k = (lim[1] - v0) / (t1 - t0 - H)
            return t0 + H + (r[1] - v0) / k
    return None


def old_intervals(rank, d, r, xmax):
    """Maximal intervals of {a: r(d, a) <= r}: (b, c or None, contains age 0)."""
    pts = grid(0, xmax)
    out = []
    cur = None
    for t0, t1 in zip(pts[:-1], pts[1:]):
        # within (t0, t1) the rank is linear: the set is an interval of it
        inside0 = rank_cmp(norm(rank(d, t0)), r) <= 0
        l_a, v_a = norm(rank(d, t0 + H))
        l_b, v_b = norm(left_limit(rank, d, t1))
        if l_a == l_b and l_a == r[0] and v_a != v_b:
            k = (v_b - v_a) / (t1 - t0 - H)
            cross = t0 + H + (r[1] - v_a) / k
            inside_lo = v_a <= r[1]
            inside_hi = v_b <= r[1]
        else:
            cross = None
            inside_lo = inside_hi = rank_cmp((l_a, v_a), r) <= 0
        segs = []
        if inside0:
            segs.append((t0, t0))
        if inside_lo and inside_hi:
            segs.append((t0, t1))
        elif inside_lo:
            segs.append((t0, cross))
        elif inside_hi:
            segs.append((cross, t1))
        for b, c in segs:
            if cur is not None and b <= cur[1] and (b > t0 or inside0 or cur[1] >= b):
                if cur[1] >= b:
                    cur[1] = max(cur[1], c)
                    continue
            if cur is not None:
                out.append(cur)
            cur = [b, c]
        # a point at t0 that is outside breaks the chain
        if not inside0 and cur is not None and cur[1] <= t0:
            out.append(cur)
            cur = None
    if cur is not None:
        if cur[1] >= pts[-1]:
            cur[1] = None
        out.append(cur)
    return [(b, c, b == 0 and rank_cmp(norm(rank(d, F(0))), r) <= 0) for b, c in out]


def x_old(xs, b, c):
    if xs < b:
        return F(0)
    if c is None or xs < c:
        return xs - b
    return c - b


def mpf(q):
    return mp.mpf(q.numerator) / q.denominator


def soap_T(rank, law, lam, x, d, xmax):
    """E[T | size x, descriptor d] by the SOAP theorem (formulas.md §4.3)."""
    r = r_worst(rank, d, x, F(0))
    rho_new = 0
    rho0 = 0
    q = 0
    for xs, p, ds in law:
        c = c_new(rank, ds, r, xmax)
        rho_new += lam * p * (xs if c is None else min(xs, c))
        for b, cc, zero in old_intervals(rank, ds, r, xmax):
            xo = x_old(xs, b, cc)
            q += lam * p * xo * xo
            if zero:
                rho0 += lam * p * xo
    wait = mpf(q) / (2 * (1 - mpf(rho0)) * (1 - mpf(rho_new)))

    def rn(v):
        tot = 0
        for xs, p, ds in law:
            c = c_new(rank, ds, v, xmax)
            tot += lam * p * (xs if c is None else min(xs, c))
        return mpf(tot)

    def integrand(a):
        af = F(mp.nstr(a, 40)) if not isinstance(a, F) else a
        return 1 / (1 - rn(r_worst(rank, d, x, af)))

    pts = grid(0, x)
    res = mp.mpf(0)
    for a0, a1 in zip(pts[:-1], pts[1:]):
        res += mp.quad(integrand, [mpf(a0), mpf(a1)])
    return wait + res


def mean(rank, law, lam, xmax):
    return sum(mpf(p) * soap_T(rank, law, lam, xs, ds, xmax) for xs, p, ds in law)


# ---------------------------------------------------------------------------- examples
def serpt(d, a):  # X in {2, 14}: 8 - a on [0, 2), 14 - a after
    return (0, 8 - a) if a < 2 else (0, 14 - a)


def gittins(d, a):  # 4 - 2a on [0, 2), 14 - a after
    return (0, 4 - 2 * a) if a < 2 else (0, 14 - a)


def bounce(d, a):  # |2 - a|: falls, then rises (old intervals are always [0, c])
    return (0, abs(2 - a))


def two_level(d, a):  # level 0 falling while a < 2, then level 1 rising (FB-like)
    return (0, 3 - a) if a < 2 else (1, a)


def jump(d, a):  # 5 - a on [0, 3), jumps up to 10 - a: a tagged job of size 1 has
    # r = 5, and old jobs are relevant on [0, 3) and again on [5, inf) (two intervals)
    return (0, 5 - a) if a < 3 else (0, 10 - a)


def sprpt(d, a):  # descriptor = prediction
    return (0, d - a)


def limited(d, a):  # rank d - a while a < d / 2, then non-preemptible
    return (0, d - a) if a < d / 2 else (float("-inf"), 0)


def psjf(d, a):  # descriptor = size
    return (0, d)


def sjf_np(d, a):  # rank d at age 0 only, then -inf
    return (0, d) if a == 0 else (float("-inf"), 0)


TWO = [(F(2), F(1, 2), 0), (F(14), F(1, 2), 0)]
THREE = [(F(1), F(1, 2), 0), (F(4), F(3, 10), 0), (F(6), F(1, 5), 0)]
THREE_SIZED = [(x, p, x) for x, p, _ in THREE]
# (size, probability, prediction): equally likely pairs, as qt.EmpiricalPredictions
PAIRS = [(F(1), F(1, 4), F(2)), (F(4), F(1, 4), F(3)), (F(6), F(1, 4), F(5)),
         (F(2), F(1, 4), F(1))]

CASES = {
    "serpt_two_0.1": (serpt, TWO, F(1, 10)),
    "gittins_two_0.1": (gittins, TWO, F(1, 10)),
    "bounce_three_0.2": (bounce, THREE, F(1, 5)),
    "two_level_three_0.2": (two_level, THREE, F(1, 5)),
    "psjf_three_0.25": (psjf, THREE_SIZED, F(1, 4)),
    "sjf_three_0.25": (sjf_np, THREE_SIZED, F(1, 4)),
    "limited_three_0.25": (limited, THREE_SIZED, F(1, 4)),
    "jump_three_0.2": (jump, THREE, F(1, 5)),
    "sprpt_pairs_0.2": (sprpt, PAIRS, F(1, 5)),
}

if __name__ == "__main__":
    import sys

    for name, (rank, law, lam) in CASES.items():
        if len(sys.argv) > 1 and name not in sys.argv[1:]:
            continue
        print(f"{name} = {mp.nstr(mean(rank, law, lam, 20), 25)}")
