"""Exact mean latency of a batch-1 iteration-level LLM server (reference for tests/test_llm_mg1.py).

Independent of the package: exact rational arithmetic (``fractions``) applied to
the SOAP theorem (Scully, Harchol-Balter, Scheller-Wolf 2018) for jobs whose
sizes are whole numbers of iterations.

Model. One request at a time, no memory limit, free prefill, every iteration
takes 1 s and emits one token, so a request with o output tokens needs o
iterations. Scheduling decisions happen only at iteration boundaries. As an
M/G/1 policy this is SOAP with *point ranks* at integer ages: at age m (m tokens
generated) the request has its policy rank R(m); on the open interval (m, m+1)
its rank is -inf (an iteration, once started, is not interrupted):

* FCFS: Pollaczek-Khinchine, E[T] = E[S] + lam E[S^2] / (2 (1 - rho));
* SPJF: R(0) = y, R(m >= 1) = -inf;
* SPRPT: R(m) = y - m;
* TRAIL(c): R(m) = y - m if m <= c y, else -inf.

Ties are broken FCFS (by arrival), as in the simulator. SOAP for tagged (x, y),
with r = max_m R(m):

    E[T | x, y] = lam sum_old E[sum_i X_i^old[r]^2] / (2 (1 - rho_0^old[r]) (1 - rho^new[r]))
                  + sum_{m=0}^{x-1} 1 / (1 - rho^new[r_m]),   r_m = max_{m < m' < x} R(m')

X^new[r] = first point m' with R'(m') >= r (else x'); old r-intervals: X_0 = first
point with R'(m') > r (else x'), and from each such "bad" point b an interval up to
the next bad point (or x'). rho^new = lam E[X^new], rho_0^old = lam E[X_0^old].

Run ``python tests/reference/llm_batch1_soap.py`` to print the values stored in
tests/test_llm_mg1.py.
"""

from fractions import Fraction as F

NEG = None  # -inf


def rank_points(policy, x, y, c=None):
    if policy == "SPJF":
        return [F(y)] + [NEG] * (x - 1)
    if policy == "SPRPT":
        return [F(y) - m for m in range(x)]
    if policy == "TRAIL":
        return [F(y) - m if m <= c * y else NEG for m in range(x)]
    raise ValueError(policy)


def gt(a, b):  # a > b with None = -inf
    if a is None:
        return False
    return b is None or a > b


def ge(a, b):
    if a is None:
        return b is None
    return b is None or a >= b


def x_new(points, x, r):
    for m, v in enumerate(points):
        if ge(v, r):
            return F(m)
    return F(x)


def old_intervals(points, x, r):
    bad = [m for m, v in enumerate(points) if gt(v, r)]
    first = bad[0] if bad else x
    xs = [F(first)]
    for k, b in enumerate(bad):
        nxt = bad[k + 1] if k + 1 < len(bad) else x
        xs.append(F(nxt - b))
    return xs


def soap_mean(jobs, lam, policy, c=None):
    """jobs: list of (x, y, p) with integer x >= 1, rational y, p; returns E[T] as a Fraction."""
    pts = {(x, y): rank_points(policy, x, y, c) for x, y, _ in jobs}

    def rho_new(r):
        if r is None:
            return F(0)
        return lam * sum(p * x_new(pts[(x, y)], x, r) for x, y, p in jobs)

    total = F(0)
    for x, y, p in jobs:
        R = pts[(x, y)]
        r = max(v for v in R if v is not None)
        num = F(0)
        rho0 = F(0)
        for x2, y2, p2 in jobs:
            iv = old_intervals(pts[(x2, y2)], x2, r)
            num += p2 * sum(v * v for v in iv)
            rho0 += p2 * iv[0]
        wait = lam * num / (2 * (1 - lam * rho0) * (1 - rho_new(r)))
        res = F(0)
        for m in range(x):
            later = [v for v in R[m + 1:] if v is not None]
            rm = max(later) if later else None
            res += 1 / (1 - rho_new(rm))
        total += p * (wait + res)
    return total


def fcfs_mean(jobs, lam):
    es = sum(p * x for x, _, p in jobs)
    es2 = sum(p * x * x for x, _, p in jobs)
    return es + lam * es2 / (2 * (1 - lam * es))


# The workload of tests/test_llm_mg1.py: output tokens o in {1, 2, 3, 6, 12},
# prediction y = o (prob 1/2), 2o (1/4), ceil(o/2) (1/4).
SIZES = [(1, F(3, 10)), (2, F(1, 4)), (3, F(1, 5)), (6, F(3, 20)), (12, F(1, 10))]


def joint():
    jobs = {}
    for x, px in SIZES:
        for y, py in ((x, F(1, 2)), (2 * x, F(1, 4)), (-(-x // 2), F(1, 4))):
            jobs[(x, F(y))] = jobs.get((x, F(y)), F(0)) + px * py
    return [(x, y, p) for (x, y), p in sorted(jobs.items())]


if __name__ == "__main__":
    jobs = joint()
    es = sum(p * x for x, _, p in jobs)
    lam = F(7, 10) / es
    print("E[S] =", es, "lambda =", lam, "=", float(lam))
    print("FCFS ", repr(float(fcfs_mean(jobs, lam))))
    print("SPJF ", repr(float(soap_mean(jobs, lam, "SPJF"))))
    print("SPRPT", repr(float(soap_mean(jobs, lam, "SPRPT"))))
    for c in (F(0), F(1, 2), F(1)):
        print(f"TRAIL({c})", repr(float(soap_mean(jobs, lam, "TRAIL", c))))
