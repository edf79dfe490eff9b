"""Simulator speed and memory, side by side in one run.

Run ``python benchmarks/bench_simulator.py`` (``--quick`` for a short run).

Target (issue 4): at least 2 million jobs per second for SPRPT on M/M/1 at
rho = 0.9 with exponential predictions, on one core, and 10^7 jobs in under
1 GB. Compared with

(a) a plain pure-Python ``heapq`` event loop for SPRPT written here,
(b) the pip package most-queue (``SizeBasedQsSim``, discipline "SPRPT"),
(c) Ciw, which has no size-based preemptive disciplines: compared on FCFS and PS,

plus queuetheory's own pure-Python engine (the same kernel, not compiled).
Every simulator is run on the same model; the mean response time it reports (for
queuetheory the plain sample mean, like the others) is printed next to the exact
value (SPRPT: 5.0985, formulas.md §3; FCFS and PS: 1/(1 - rho) = 10) so that
speed is not bought with a wrong answer.

Memory for 10^7 jobs is measured in a fresh subprocess: peak traced Python
allocations during ``simulate`` (tracemalloc, includes numpy buffers) and the
process's peak resident set size (``resource.getrusage``, includes the
interpreter, numpy, scipy and numba themselves).
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import io
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

import queuetheory as qt
from queuetheory.policies.rank import PiecewiseRank

LAM = 0.9
SPRPT_EXACT = 5.0985  # M/M/1, rho = 0.9, Y | X ~ Exp(mean X) (published-values.md, Table 1)
FCFS_EXACT = 1.0 / (1.0 - LAM)


class _SPRPT(qt.Policy):
    """SPRPT (rank y - a); used if qt.SPRPT is not available yet."""

    name, uses = "SPRPT", "prediction"

    def _rank_segments(self, d):
        return PiecewiseRank.linear(d, slope=-1.0)


def sprpt_policy() -> qt.Policy:
    return qt.SPRPT() if hasattr(qt, "SPRPT") else _SPRPT()


def workload() -> qt.Workload:
    return qt.Workload(arrival_rate=LAM, size=qt.Exponential(mean=1.0),
                       prediction=qt.ExponentialPrediction())


# --------------------------------------------------------------------- (a) heapq
def heapq_sprpt(n: int, seed: int) -> float:
    """Mean response time of SPRPT by a straightforward heapq event loop."""
    rng = np.random.default_rng(seed)
    arr = np.cumsum(rng.exponential(1.0 / LAM, n)).tolist()
    xs = rng.exponential(1.0, n)
    ys = (xs * rng.exponential(1.0, n)).tolist()
    xs = xs.tolist()
    heap: list[tuple[float, int, float]] = []  # (rank, seq, remaining)
    t = 0.0
    cur = -1  # job in service
    c_rank = c_rem = 0.0
    total = 0.0
    i = 0
    inf = math.inf
    while i < n or cur >= 0:
        ta = arr[i] if i < n else inf
        tc = t + c_rem if cur >= 0 else inf
        if ta < tc:
            if cur >= 0:
                el = ta - t
                c_rem -= el
                c_rank -= el
            t = ta
            if cur < 0:
                cur, c_rank, c_rem = i, ys[i], xs[i]
            elif ys[i] < c_rank:
                heapq.heappush(heap, (c_rank, cur, c_rem))
                cur, c_rank, c_rem = i, ys[i], xs[i]
            else:
                heapq.heappush(heap, (ys[i], i, xs[i]))
            i += 1
        else:
            t = tc
            total += t - arr[cur]
            if heap:
                c_rank, cur, c_rem = heapq.heappop(heap)
            else:
                cur = -1
                c_rem = 0.0
    return total / n


# --------------------------------------------------------------------- (b) most-queue
def most_queue_sprpt(n: int, seed: int) -> float | None:
    try:
        from most_queue.sim.size_based import SizeBasedQsSim
        from most_queue.sim.utils.predictor import ExpNoiseSimPredictor
    except ImportError:
        return None
    sim = SizeBasedQsSim(1, "SPRPT", verbose=False)
    if hasattr(sim, "generator"):
        with contextlib.suppress(Exception):
            sim.generator = np.random.default_rng(seed)
    sim.set_predictor(ExpNoiseSimPredictor())
    sim.set_sources(LAM)
    sim.set_servers(1.0)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        res = sim.run(n)
    return float(res.v[0])


# --------------------------------------------------------------------- (c) Ciw
def ciw_run(n: int, seed: int, ps: bool) -> float | None:
    try:
        import ciw
    except ImportError:
        return None
    # Ciw's PSNode shares among at most number_of_servers jobs: infinity for plain PS
    net = ciw.create_network(arrival_distributions=[ciw.dists.Exponential(LAM)],
                             service_distributions=[ciw.dists.Exponential(1.0)],
                             number_of_servers=[math.inf if ps else 1])
    ciw.seed(seed)
    sim = ciw.Simulation(net, node_class=ciw.PSNode if ps else None)
    sim.simulate_until_max_customers(n, method="Finish")
    recs = sim.get_all_records()
    warm = n // 10
    resp = [r.exit_date - r.arrival_date for r in recs[warm:]]
    return float(np.mean(resp))


def timed(fn, *args, **kwargs):
    """(result, wall seconds, CPU seconds of this process)."""
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t, time.process_time() - c


# --------------------------------------------------------------------- memory (subprocess)
_MEM_SCRIPT = r"""
import json, resource, sys, time, tracemalloc
import queuetheory as qt
sys.path.insert(0, {bench_dir!r})
from bench_simulator import sprpt_policy, workload
p, w = sprpt_policy(), workload()
qt.simulate(p, w, jobs=10_000, seed=0)          # compile / load the kernel
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
c = time.process_time()
r = qt.simulate(p, w, jobs={n}, seed=1)
cpu = time.process_time() - c
cur, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(peak_traced=peak, rss_before=base * 1024, rss_peak=rss * 1024,
                      mean=r.sample_mean_response_time, ci=r.sample_interval,
                      elapsed=r.elapsed, cpu=cpu, arrivals=r.arrivals)))
"""


def memory(n: int) -> dict:
    here = os.path.dirname(os.path.abspath(__file__))
    code = _MEM_SCRIPT.format(bench_dir=here, n=n)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs")
    args = ap.parse_args()
    q = args.quick
    n_qt = 2_000_000 if q else 10_000_000
    n_py = 20_000 if q else 100_000
    n_heap = 200_000 if q else 1_000_000
    n_mq = 20_000 if q else 100_000
    n_ciw = 10_000 if q else 50_000

    w = workload()
    pol = sprpt_policy()
    qt.simulate(pol, w, jobs=10_000, seed=0)  # compile (or load the cached kernel)

    rows = []

    def add(sim, policy, jobs, wall, cpu, mean, exact):
        rows.append((sim, policy, jobs, wall, cpu, mean, exact))

    r, wall, cpu = timed(qt.simulate, pol, w, jobs=n_qt, seed=1)
    add("queuetheory numba", "SPRPT", r.arrivals, wall, cpu, r.sample_mean_response_time,
        SPRPT_EXACT)
    r, wall, cpu = timed(qt.simulate, pol, w, jobs=n_py, seed=1, engine="python")
    add("queuetheory pure Python", "SPRPT", r.arrivals, wall, cpu, r.sample_mean_response_time,
        SPRPT_EXACT)
    m, wall, cpu = timed(heapq_sprpt, n_heap, 1)
    add("(a) heapq loop", "SPRPT", n_heap, wall, cpu, m, SPRPT_EXACT)
    m, wall, cpu = timed(most_queue_sprpt, n_mq, 1)
    if m is not None:
        add("(b) most-queue SizeBasedQsSim", "SPRPT*", n_mq, wall, cpu, m, SPRPT_EXACT)
    for pname, ps, policy in (("FCFS", False, qt.FCFS()), ("PS", True, qt.PS())):
        r, wall, cpu = timed(qt.simulate, policy, w, jobs=n_qt // 2, seed=1)
        add("queuetheory numba", pname, r.arrivals, wall, cpu, r.sample_mean_response_time,
            FCFS_EXACT)
        m, wall, cpu = timed(ciw_run, n_ciw, 1, ps)
        if m is not None:
            add("(c) Ciw", pname, n_ciw, wall, cpu, m, FCFS_EXACT)
    for policy in (qt.SRPT(), qt.FB(), qt.SJF()):
        r, wall, cpu = timed(qt.simulate, policy, w, jobs=n_qt // 2, seed=1)
        add("queuetheory numba", policy.name, r.arrivals, wall, cpu, r.sample_mean_response_time,
            policy.mean_response_time(w))

    ref = {p: n / cpu for (s, p, n, _w, cpu, *_r) in rows if s == "queuetheory numba"}
    print(f"\nM/M/1, rho = {LAM}, Y | X ~ Exp(mean X); one process, one core "
          f"(numba {'on' if qt.simulation.simulator.numba_available() else 'off'}).")
    print("jobs/s = jobs per CPU second of this process (per wall second in brackets: lower when"
          " other processes compete for the cores); ratio = queuetheory numba / this, by CPU.\n")
    print(f"{'simulator':30s} {'policy':7s} {'jobs':>9s} {'CPU s':>7s} {'jobs/s':>9s} "
          f"{'(wall)':>10s} {'ratio':>7s} {'E[T]':>8s} {'exact':>8s}")
    for s_, p, n, wall, cpu, m, exact in rows:
        jps = n / cpu
        ratio = ref.get(p.rstrip("*"), math.nan) / jps
        print(f"{s_:30s} {p:7s} {n:9d} {cpu:7.2f} {jps:9.3g} ({n / wall:8.3g}) {ratio:7.1f} "
              f"{m:8.4f} {exact:8.4f}")
    print("* most-queue's SPRPT clips the predicted remaining size at 0 (rank max(0, y - a)),"
          " a slightly different policy.")

    n_mem = 2_000_000 if q else 10_000_000
    mem = memory(n_mem)
    mib = 1024 * 1024
    print(f"\nmemory, SPRPT, {n_mem:.0e} jobs in a fresh process: peak traced allocations "
          f"during simulate {mem['peak_traced'] / mib:.1f} MiB; peak RSS "
          f"{mem['rss_peak'] / mib:.0f} MiB (before the run: {mem['rss_before'] / mib:.0f} MiB,"
          f" i.e. interpreter + numpy/scipy/numba); {mem['arrivals'] / mem['cpu']:.3g} "
          f"jobs per CPU second ({mem['arrivals'] / mem['elapsed']:.3g} per wall second); "
          f"E[T] = {mem['mean']:.4f} CI {tuple(round(v, 4) for v in mem['ci'])}")


if __name__ == "__main__":
    main()
