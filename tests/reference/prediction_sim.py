"""A small independent event simulation of M/G/1 rank policies (test helper).

Written independently of queuetheory's rank representation and simulator: each
policy is a plain Python rank function ``rank(job, age) -> (level, value)``
(lower is served first), with a per-level tie-break ("fcfs" or "lcfs").

Restriction (valid for every policy simulated here: SPRPT, TRAIL, SPJF,
one-bit, SkipPredict): the rank of the job in service never increases with its
age, and waiting jobs keep the rank they had when they stopped. Then a
preemption can only happen at an arrival, so the events are arrivals and
completions only. Ties: the incumbent (older) job wins under "fcfs"; under
"lcfs" the newer job wins (one-bit shorts served LCFS preemptive-resume).

Confidence intervals by batch means over the jobs (after a warm-up).
"""

from __future__ import annotations

import heapq
import math

import numpy as np

NEG_INF = -math.inf


def simulate(rank, tie, gaps, sizes, preds, warmup=0.1, batches=20):
    """Mean response time and a 99% batch-means half-width.

    Parameters
    ----------
    rank : callable (x, y, age) -> (level, value)
    tie : callable level -> "fcfs" | "lcfs"
    gaps, sizes, preds : arrays of interarrival times, sizes and predictions.
    """
    n = len(sizes)
    arrival = np.cumsum(gaps)
    resp = np.empty(n)
    waiting: list = []  # heap of (level, value, order_key, job, age)
    cur = -1
    cur_age = 0.0
    cur_since = 0.0
    t = 0.0
    i = 0
    while i < n or cur >= 0 or waiting:
        next_arr = arrival[i] if i < n else math.inf
        if cur >= 0:
            done_at = cur_since + (sizes[cur] - cur_age)
        else:
            done_at = math.inf
        if done_at <= next_arr:
            t = done_at
            resp[cur] = t - arrival[cur]
            cur = -1
            if waiting:
                lev, val, _, j, age = heapq.heappop(waiting)
                cur, cur_age, cur_since = j, age, t
            continue
        t = next_arr
        j = i
        i += 1
        new_rank = rank(sizes[j], preds[j], 0.0)
        if cur < 0:
            cur, cur_age, cur_since = j, 0.0, t
            continue
        cur_age += t - cur_since
        cur_since = t
        cur_rank = rank(sizes[cur], preds[cur], cur_age)
        lcfs = tie(new_rank[0]) == "lcfs"
        if new_rank < cur_rank or (lcfs and new_rank == cur_rank):
            key = -arrival[cur] if tie(cur_rank[0]) == "lcfs" else arrival[cur]
            heapq.heappush(waiting, (cur_rank[0], cur_rank[1], key, cur, cur_age))
            cur, cur_age, cur_since = j, 0.0, t
        else:
            key = -arrival[j] if lcfs else arrival[j]
            heapq.heappush(waiting, (new_rank[0], new_rank[1], key, j, 0.0))
    kept = resp[int(warmup * n):]
    means = np.array([b.mean() for b in np.array_split(kept, batches)])
    half = 2.861 * means.std(ddof=1) / math.sqrt(batches)  # t_{0.995, 19}
    return float(kept.mean()), float(half)


# ------------------------------------------------------------- rank functions
def sprpt(x, y, a):
    return (0.0, y - a)


def trail(c):
    def r(x, y, a):
        return (0.0, y - a) if a < c * y else (NEG_INF, 0.0)
    return r


def trail_size(c):
    def r(x, y, a):
        return (0.0, y - a) if a < c * x else (NEG_INF, 0.0)
    return r


def spjf(x, y, a):
    return (0.0, y) if a == 0.0 else (NEG_INF, 0.0)


def onebit(T, preemptive, on="prediction"):
    def r(x, y, a):
        v = y if on == "prediction" else x
        lev = 1.0 if v <= T else 2.0
        if preemptive or a == 0.0:
            return (lev, 0.0)
        return (NEG_INF, 0.0)
    return r


def skippredict(T, shorts_preempt=True, bit_on="prediction"):
    def r(x, y, a):
        v = y if bit_on == "prediction" else x
        short = v <= T
        if shorts_preempt:
            return (1.0, 0.0) if short else (2.0, y - a)
        if a > 0.0:
            return (NEG_INF, 0.0)
        return (1.0, 0.0) if short else (2.0, y)
    return r


def fcfs_ties(level):
    return "fcfs"


def lcfs_level1(level):
    return "lcfs" if level == 1.0 else "fcfs"
