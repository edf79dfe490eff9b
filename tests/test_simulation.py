"""Tests of the event-driven simulator (queuetheory.simulation).

Three kinds of independent truth:

* hand-computed schedules of small traces (exact completion times) for every
  rank feature: preemption, constant ranks with FCFS/LCFS ties, rising ranks
  that must share the server (FB, unequal slopes), point segments
  (non-preemptive), segment boundaries to -inf, per-level tie-breaking, PS;
* exact M/M/1 results (E[T] = 1/(mu - lambda) for FCFS, PS, LCFS-PR, FB;
  Pollaczek-Khinchine) against the 99.9% interval, and invariants that hold
  sample path by sample path (work in system is the same for every
  work-conserving policy under common random numbers; Little's law on the
  measurement window);
* the pure-Python and the numba engine give bit-identical records.

The policies are small local Policy subclasses so that these tests exercise the
simulator alone, independently of queuetheory.policies.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import queuetheory as qt
from queuetheory.errors import ParameterError, RankFunctionError
from queuetheory.policies.rank import NONPREEMPTIBLE, PiecewiseRank
from queuetheory.simulation import UnstableSimulationWarning
from queuetheory.simulation.simulator import numba_available


# ---------------------------------------------------------------- local policies
class LSRPT(qt.Policy):
    name, uses = "SRPT*", "size"

    def _rank_segments(self, d):
        return PiecewiseRank.linear(d, slope=-1.0)


class LSPRPT(qt.Policy):
    name, uses = "SPRPT*", "prediction"

    def _rank_segments(self, d):
        return PiecewiseRank.linear(d, slope=-1.0)


class LFCFS(qt.Policy):
    name = "FCFS*"

    def _rank_segments(self, d):
        return PiecewiseRank.linear(np.zeros(d.shape[0]))


class LLCFS(LFCFS):
    name, tie_break, is_soap = "LCFS*", "lcfs", False


class LFB(qt.Policy):
    name = "FB*"

    def _rank_segments(self, d):
        return PiecewiseRank.linear(np.zeros(d.shape[0]), slope=1.0)


class LPS(qt.Policy):
    name, processor_sharing, is_soap = "PS*", True, False


class LSJF(qt.Policy):
    """Non-preemptive SJF: point (0, x) at age 0, then non-preemptible."""

    name, uses = "SJF*", "size"

    def _rank_segments(self, d):
        n = d.shape[0]
        return PiecewiseRank(
            start=np.zeros((n, 2)), end=np.column_stack([np.zeros(n), np.full(n, np.inf)]),
            level=np.column_stack([np.zeros(n), np.full(n, NONPREEMPTIBLE)]),
            value=np.column_stack([d, np.zeros(n)]), slope=np.zeros((n, 2)))


class LTrail(qt.Policy):
    """Limited preemption: rank y - a for a < c*y, non-preemptible afterwards."""

    name, uses = "TRAIL*", "prediction"

    def __init__(self, c):
        self.c = c

    def _rank_segments(self, d):
        n = d.shape[0]
        b = self.c * d
        return PiecewiseRank(
            start=np.column_stack([np.zeros(n), b]), end=np.column_stack([b, np.full(n, np.inf)]),
            level=np.column_stack([np.zeros(n), np.full(n, NONPREEMPTIBLE)]),
            value=np.column_stack([d, np.zeros(n)]),
            slope=np.column_stack([np.full(n, -1.0), np.zeros(n)]))


class LSlope(qt.Policy):
    """Rank value 0 rising with slope y (the prediction): tests rate-1/s sharing."""

    name, uses = "slope*", "prediction"

    def _rank_segments(self, d):
        return PiecewiseRank(start=np.zeros((d.size, 1)), end=np.full((d.size, 1), np.inf),
                             level=np.zeros((d.size, 1)), value=np.zeros((d.size, 1)),
                             slope=d.reshape(-1, 1).copy())


class LRiseVsConst(qt.Policy):
    """Prediction 0: rank = age (rising); prediction y > 0: constant rank y."""

    name, uses = "rise*", "prediction"

    def _rank_segments(self, d):
        return PiecewiseRank.linear(d, slope=(d == 0).astype(float))


class LOneBit(qt.Policy):
    """Shorts (y <= 1) at level 1, longs at level 2; constant ranks."""

    name, uses = "onebit*", "prediction"

    def __init__(self, shorts="lcfs"):
        self.shorts = shorts

    def _rank_segments(self, d):
        return PiecewiseRank.linear(np.zeros(d.shape[0]), level=np.where(d <= 1.0, 1.0, 2.0))

    def tie_break_for_level(self, level):
        return self.shorts if level == 1.0 else "fcfs"


class LMidPoint(qt.Policy):
    """Rank 0 on [0, 1), a point of rank 20 at age 1, then 0 again: a checkpoint."""

    name = "midpoint*"

    def _rank_segments(self, d):
        n = d.shape[0]
        return PiecewiseRank.from_segments(
            [[(0.0, 1.0, 0.0, 0.0, 0.0), (1.0, 1.0, 0.0, 20.0, 0.0),
              (1.0, np.inf, 0.0, 0.0, 0.0)]] * n)


def completions(policy, t, x, y=None, **kw):
    r = qt.simulate_trace(policy, t, x, y, batches=2, records=True, **kw)
    return r.records.completion


# ---------------------------------------------------------------- exact schedules
@pytest.mark.parametrize("engine", ["numba", "python"])
class TestTraces:
    def test_srpt(self, engine):
        c = completions(LSRPT(), [0.0, 1.0, 2.0], [3.0, 1.0, 1.0], engine=engine)
        assert c.tolist() == [5.0, 2.0, 3.0]

    def test_fcfs(self, engine):
        c = completions(LFCFS(), [0.0, 1.0, 2.0], [3.0, 1.0, 1.0], engine=engine)
        assert c.tolist() == [3.0, 4.0, 5.0]

    def test_lcfs_preemptive_resume(self, engine):
        c = completions(LLCFS(), [0.0, 0.5, 1.0], [2.0, 2.0, 2.0], engine=engine)
        assert c.tolist() == [6.0, 4.5, 3.0]

    def test_fb_shares_between_equal_ages(self, engine):
        assert completions(LFB(), [0.0, 1.0], [2.0, 2.0], engine=engine).tolist() == [4.0, 4.0]
        # A alone to age 1; B then C catch up; B and C share until age 1 (B leaves at t=3);
        # C and A share until C leaves at t=5; A alone until t=6.
        c = completions(LFB(), [0.0, 1.0, 1.5], [3.0, 1.0, 2.0], engine=engine)
        assert c.tolist() == [6.0, 3.0, 5.0]

    def test_ps(self, engine):
        assert completions(LPS(), [0.0, 1.0], [2.0, 2.0], engine=engine).tolist() == [3.0, 4.0]
        c = completions(LPS(), [0.0, 0.0, 0.0], [1.0, 2.0, 3.0], engine=engine)
        np.testing.assert_allclose(c, [3.0, 5.0, 6.0], rtol=1e-14)

    def test_sjf_point_then_nonpreemptible(self, engine):
        c = completions(LSJF(), [0.0, 0.5, 0.6], [2.0, 3.0, 1.0], engine=engine)
        assert c.tolist() == [2.0, 6.0, 3.0]

    def test_limited_preemption_boundary(self, engine):
        # A (size 4) preemptible up to age 2; B preempts at t=1; after B, A passes age 2
        # at t=3 and becomes non-preemptible, so C (arriving at 3.5, rank 0.5) waits.
        c = completions(LTrail(0.5), [0.0, 1.0, 3.5], [4.0, 1.0, 0.5], engine=engine)
        assert c.tolist() == [5.0, 2.0, 5.5]

    def test_unequal_slopes_share_at_rates_inverse_to_slopes(self, engine):
        # slopes 1 and 2 tied at rank 0: rates 2/3 and 1/3; A done at t=3, B at t=4.
        c = completions(LSlope(), [0.0, 0.0], [2.0, 2.0], [1.0, 2.0], engine=engine)
        np.testing.assert_allclose(c, [3.0, 4.0], rtol=1e-14)

    def test_rising_rank_yields_to_equal_constant_rank(self, engine):
        # A: rank = age; B: constant rank 1 arriving at 0.5. A reaches rank 1 at t=1,
        # where B (whose rank would not rise) takes over; A resumes at t=2.
        c = completions(LRiseVsConst(), [0.0, 0.5], [3.0, 1.0], [0.0, 1.0], engine=engine)
        assert c.tolist() == [4.0, 2.0]

    def test_per_level_tie_break(self, engine):
        t, x, y = [0.0, 0.5, 1.0, 1.2], [2.0, 2.0, 1.0, 1.0], [5.0, 0.5, 0.5, 5.0]
        assert completions(LOneBit("lcfs"), t, x, y, engine=engine).tolist() == [
            5.0, 3.5, 2.0, 6.0]
        assert completions(LOneBit("fcfs"), t, x, y, engine=engine).tolist() == [
            5.0, 2.5, 3.5, 6.0]

    def test_point_inside_the_rank(self, engine):
        # A reaches age 1 at t=1 and waits there at rank 20: B (rank 0) runs until its own
        # age 1 at t=2. Both wait at rank 20; A (earlier) is chosen, moves past the point
        # and finishes at t=3; then B at t=4. Without the point: 2 and 4.
        c = completions(LMidPoint(), [0.0, 0.5], [2.0, 2.0], engine=engine)
        assert c.tolist() == [3.0, 4.0]

    def test_simultaneous_arrivals_fcfs_order(self, engine):
        c = completions(LFCFS(), [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], engine=engine)
        assert c.tolist() == [1.0, 2.0, 3.0]


def test_trace_keyword_of_simulate_matches_simulate_trace():
    t, x = np.cumsum(np.full(50, 0.7)), np.linspace(0.1, 1.3, 50)
    a = qt.simulate(LSRPT(), trace=(t, x), batches=5, records=True)
    b = qt.simulate_trace(LSRPT(), t, x, batches=5, records=True)
    assert np.array_equal(a.records.completion, b.records.completion)
    assert a.stable is None and a.workload == "trace"


# ---------------------------------------------------------------- engines agree
@pytest.mark.skipif(not numba_available(), reason="numba not installed")
@pytest.mark.parametrize("policy", [LSPRPT(), LFB(), LSJF(), LPS(), LLCFS(), LTrail(0.5),
                                    LOneBit("lcfs"), LSlope()], ids=lambda p: p.name)
def test_python_and_numba_engines_identical(policy):
    w = qt.Workload(0.85, qt.Exponential(1.0), prediction=qt.ExponentialPrediction())
    a = qt.simulate(policy, w, jobs=3000, seed=11, engine="python", records=True,
                    chunk_size=700)
    b = qt.simulate(policy, w, jobs=3000, seed=11, engine="numba", records=True,
                    chunk_size=700)
    assert np.array_equal(a.records.completion, b.records.completion)
    assert a.mean_response_time == b.mean_response_time
    assert a.mean_work_in_system == b.mean_work_in_system
    assert a.confidence_interval == b.confidence_interval


# ---------------------------------------------------------------- reproducibility, CRN
def test_same_seed_same_numbers_and_different_seed_differs():
    w = qt.Workload(0.8, qt.Exponential(1.0), prediction=qt.ExponentialPrediction())
    a = qt.simulate(LSPRPT(), w, jobs=20_000, seed=5)
    b = qt.simulate(LSPRPT(), w, jobs=20_000, seed=5)
    c = qt.simulate(LSPRPT(), w, jobs=20_000, seed=6)
    assert a.mean_response_time == b.mean_response_time
    assert a.confidence_interval == b.confidence_interval
    assert np.array_equal(a.buckets.mean_response_time, b.buckets.mean_response_time,
                          equal_nan=True)
    assert a.mean_response_time != c.mean_response_time
    assert a.seed == 5
    ss = np.random.SeedSequence(5)
    d = qt.simulate(LSPRPT(), w, jobs=20_000, seed=ss)
    e = qt.simulate(LSPRPT(), w, jobs=20_000, seed=ss)  # a SeedSequence is not consumed
    assert d.mean_response_time == e.mean_response_time == a.mean_response_time


def test_common_random_numbers_across_policies():
    w = qt.Workload(0.8, qt.HyperExponential.from_mean_cv2(mean=1.0, cv2=4.0),
                    prediction=qt.ExponentialPrediction())
    runs = [qt.simulate(p, w, jobs=30_000, seed=3, records=True)
            for p in (LSPRPT(), LFCFS(), LFB(), LPS(), LSJF(), LTrail(0.5))]
    ref = runs[0].records
    for r in runs[1:]:
        assert np.array_equal(r.records.arrival, ref.arrival)
        assert np.array_equal(r.records.size, ref.size)
        assert np.array_equal(r.records.prediction, ref.prediction)
        # the unfinished work is the same sample path for every work-conserving policy
        assert r.mean_work_in_system == pytest.approx(runs[0].mean_work_in_system, rel=1e-9)
        assert r.utilization == pytest.approx(runs[0].utilization, rel=1e-9)
    # ... while the response times differ
    assert len({r.mean_response_time for r in runs}) == len(runs)


def test_records_and_buckets_are_consistent():
    w = qt.Workload(0.7, qt.Exponential(1.0))
    r = qt.simulate(LSRPT(), w, jobs=20_000, seed=2, warmup=1000, records=True)
    rec = r.records
    assert len(rec) == 20_000 and rec.warmup == 1000
    assert np.all(rec.completion >= rec.arrival + rec.size * (1 - 1e-12))
    resp = rec.response[rec.measured]
    assert r.jobs == resp.size == 19_000
    assert r.sample_mean_response_time == pytest.approx(resp.mean(), rel=1e-12)
    assert r.mean_slowdown == pytest.approx(rec.slowdown[rec.measured].mean(), rel=1e-12)
    b = r.buckets
    assert b.count.sum() == r.jobs and len(b.count) == len(b.edges) + 1 == 10
    assert np.nansum(b.mean_response_time * b.count) / r.jobs == pytest.approx(
        r.sample_mean_response_time, rel=1e-12)
    idx = np.searchsorted(b.edges, rec.size[rec.measured], side="right")
    for k in range(len(b.count)):
        sel = resp[idx == k]
        assert b.count[k] == sel.size
        assert b.mean_response_time[k] == pytest.approx(sel.mean(), rel=1e-12)
    # SRPT serves small jobs faster
    assert np.all(np.diff(b.mean_response_time) > 0)


def test_custom_size_buckets():
    w = qt.Workload(0.5, qt.Exponential(1.0))
    r = qt.simulate(LFCFS(), w, jobs=5000, seed=1, size_buckets=[1.0])
    assert r.buckets.count.sum() == r.jobs and r.buckets.count.size == 2
    with pytest.raises(ParameterError, match="size_buckets"):
        qt.simulate(LFCFS(), w, jobs=5000, seed=1, size_buckets=[2.0, 1.0])


# ---------------------------------------------------------------- against exact results
MM1 = qt.Workload(0.8, qt.Exponential(1.0))  # E[T] = 1/(1 - 0.8) = 5 for all four policies


@pytest.mark.parametrize("policy", [LFCFS(), LPS(), LLCFS(), LFB()], ids=lambda p: p.name)
def test_mm1_policies_with_mean_five(policy):
    r = qt.simulate(policy, MM1, jobs=400_000, seed=21, level=0.999)
    low, high = r.confidence_interval
    assert low < 5.0 < high
    assert r.relative_half_width < 0.08
    # Little's law on the measurement window, and the mean work lambda E[S^2]/(2(1-rho)) = 4
    assert r.mean_number_in_system == pytest.approx(
        r.arrival_rate * r.sample_mean_response_time, rel=2e-3)
    # the plain batch-means interval covers the exact value too
    assert r.sample_interval[0] < 5.0 < r.sample_interval[1]
    assert r.mean_work_in_system == pytest.approx(4.0, rel=0.1)
    assert r.utilization == pytest.approx(0.8, rel=0.01)


def test_pollaczek_khinchine_hyperexponential():
    size = qt.HyperExponential(probs=[0.9, 0.1], means=[0.5, 5.5])
    w = qt.Workload(0.6, size)
    rho, m2 = 0.6, size.moment(2)
    expected = 1.0 + 0.6 * m2 / (2 * (1 - rho))
    r = qt.simulate(LFCFS(), w, jobs=300_000, seed=4, level=0.999)
    assert r.confidence_interval[0] < expected < r.confidence_interval[1]
    # PS is insensitive: E[T] = E[S]/(1 - rho) = 2.5
    r = qt.simulate(LPS(), w, jobs=300_000, seed=4, level=0.999)
    assert r.confidence_interval[0] < 2.5 < r.confidence_interval[1]


def test_srpt_beats_everything_pathwise_in_mean():
    w = qt.Workload(0.8, qt.Weibull(shape=0.5, scale=0.5))
    means = {p.name: qt.simulate(p, w, jobs=50_000, seed=8).mean_response_time
             for p in (LSRPT(), LFCFS(), LFB(), LPS(), LSJF())}
    assert min(means, key=means.get) == "SRPT*"


def test_replications_interval():
    r = qt.simulate(LPS(), qt.Workload(0.5, qt.Exponential(1.0)), jobs=20_000, seed=3,
                    replications=8, level=0.999)
    assert r.method == "replications" and r.batches == 8
    assert r.confidence_interval[0] < 2.0 < r.confidence_interval[1]
    assert r.jobs == 8 * 18_000
    with pytest.raises(ParameterError, match="replications"):
        qt.simulate(LPS(), MM1, jobs=1000, replications=1)


def test_level_changes_the_width():
    a = qt.simulate(LSRPT(), MM1, jobs=20_000, seed=1, level=0.9)
    b = qt.simulate(LSRPT(), MM1, jobs=20_000, seed=1, level=0.999)
    assert a.mean_response_time == b.mean_response_time
    assert b.half_width > a.half_width > 0


def test_result_summary_and_repr():
    r = qt.simulate(LSRPT(), MM1, jobs=5000, seed=1)
    s = str(r)
    assert "SRPT*" in s and "95% CI" in s
    assert r.jobs_per_second > 0 and r.engine in ("numba", "python")
    assert math.isfinite(r.batch_autocorrelation)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("jobs", [0, -5, 1.5, "10"])
def test_bad_job_counts(jobs):
    with pytest.raises(ParameterError, match="jobs"):
        qt.simulate(LSRPT(), MM1, jobs=jobs)


@pytest.mark.parametrize("kw, match", [
    (dict(warmup=-1), "warmup"), (dict(warmup=1000), "warmup"), (dict(level=1.0), "level"),
    (dict(level=0.0), "level"), (dict(batches=1), "batches"), (dict(batches=2000), "batches"),
    (dict(engine="gpu"), "engine"), (dict(seed=-1), "seed"), (dict(seed="x"), "seed"),
])
def test_bad_parameters(kw, match):
    with pytest.raises(ParameterError, match=match):
        qt.simulate(LSRPT(), MM1, jobs=1000, **kw)


def test_bad_policy_and_workload():
    with pytest.raises(ParameterError, match="policy"):
        qt.simulate("SRPT", MM1, jobs=100)
    with pytest.raises(ParameterError, match="workload"):
        qt.simulate(LSRPT(), None, jobs=100)
    with pytest.raises(ParameterError, match="either"):
        qt.simulate(LSRPT(), MM1, trace=([0.0], [1.0]))


def test_bad_traces():
    with pytest.raises(ParameterError, match="non-decreasing"):
        qt.simulate_trace(LSRPT(), [1.0, 0.0, 2.0], [1.0, 1.0, 1.0], batches=2)
    with pytest.raises(ParameterError, match="sizes"):
        qt.simulate_trace(LSRPT(), [0.0, 1.0, 2.0], [1.0, 0.0, 1.0], batches=2)
    with pytest.raises(ParameterError, match="equal length"):
        qt.simulate_trace(LSRPT(), [0.0, 1.0], [1.0], batches=2)
    with pytest.raises(ParameterError, match="NaN"):
        qt.simulate_trace(LSRPT(), [0.0, 1.0], [1.0, 1.0], [np.nan, 1.0], batches=2)


def test_unstable_load_warns_and_is_flagged():
    w = qt.Workload(1.2, qt.Exponential(1.0))
    with pytest.warns(UnstableSimulationWarning, match="no steady state"):
        r = qt.simulate(LSRPT(), w, jobs=5000, seed=1)
    assert r.stable is False and r.warnings and "WARNING" in r.summary()
    assert math.isfinite(r.mean_response_time)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert qt.simulate(LSRPT(), MM1, jobs=2000, seed=1).stable is True


class Broken(qt.Policy):
    name, uses = "broken", "size"

    def __init__(self, mode):
        self.mode = mode

    def _rank_segments(self, d):
        n = d.shape[0]
        if self.mode == "raise":
            raise ZeroDivisionError("boom")
        if self.mode == "nan":
            return PiecewiseRank.linear(np.where(d > 1, np.nan, d))
        if self.mode == "gap":
            return PiecewiseRank.from_segments([[(0.0, 1.0, 0, 1.0, 0), (2.0, np.inf, 0, 1.0, 0)]]
                                               * n)
        if self.mode == "short":
            return PiecewiseRank.from_segments([[(0.0, 0.5, 0, 1.0, 0)]] * n)
        if self.mode == "start":
            return PiecewiseRank.from_segments([[(1.0, np.inf, 0, 1.0, 0)]] * n)
        if self.mode == "shape":
            return PiecewiseRank.linear(d[:-1])
        if self.mode == "type":
            return d
        if self.mode == "tie":
            return PiecewiseRank.linear(d)
        raise AssertionError


@pytest.mark.parametrize("mode, match", [
    ("raise", "ZeroDivisionError: boom"), ("nan", "invalid rank segment"),
    ("gap", "contiguous"), ("short", "defined only up to age"), ("start", "age 0"),
    ("shape", "shapes"), ("type", "PiecewiseRank"),
])
def test_failing_rank_function(mode, match):
    with pytest.raises(RankFunctionError, match=match):
        qt.simulate(Broken(mode), MM1, jobs=1000, seed=1)


def test_bad_tie_break_rule():
    p = Broken("tie")
    p.tie_break = "random"
    with pytest.raises(RankFunctionError, match="tie_break"):
        qt.simulate(p, MM1, jobs=1000, seed=1)
    q = LOneBit("sometimes")
    with pytest.raises(RankFunctionError, match="tie_break_for_level"):
        qt.simulate(q, qt.Workload(0.5, qt.Exponential(1.0), qt.ExponentialPrediction()),
                    jobs=1000, seed=1)


def test_progress_bar_runs(capsys):
    pytest.importorskip("tqdm")
    r = qt.simulate(LSRPT(), MM1, jobs=3000, seed=1, progress=True)
    assert r.jobs == 2700


def test_control_variates():
    # FCFS: T = (work found at arrival) + (own size) on every path, so the controlled
    # estimate is the Pollaczek-Khinchine mean up to rounding
    r = qt.simulate(LFCFS(), MM1, jobs=50_000, seed=9)
    assert r.estimator == "control variates"
    assert r.mean_response_time == pytest.approx(5.0, rel=1e-8)
    assert r.confidence_interval[0] <= r.mean_response_time <= r.confidence_interval[1]
    # SRPT: a valid and much narrower interval around the exact mean 2.35277...
    r = qt.simulate(LSRPT(), MM1, jobs=200_000, seed=9, level=0.999)
    lo, hi = r.confidence_interval
    assert lo < qt.SRPT().mean_response_time(MM1) < hi
    assert hi - lo < 0.5 * (r.sample_interval[1] - r.sample_interval[0])
    assert r.sample_mean_response_time != r.mean_response_time
    # not available without a finite E[S^2], for traces, or for unstable loads
    heavy = qt.Workload(0.5, qt.Pareto(shape=1.5, scale=1.0 / 3.0))
    r = qt.simulate(LSRPT(), heavy, jobs=20_000, seed=1)
    assert r.estimator == "batch means"
    assert r.mean_response_time == r.sample_mean_response_time
    assert r.confidence_interval == r.sample_interval
    t = qt.simulate_trace(LSRPT(), np.arange(100.0), np.ones(100), batches=4)
    assert t.estimator == "batch means"
    with pytest.warns(UnstableSimulationWarning):
        u = qt.simulate(LSRPT(), qt.Workload(1.1, qt.Exponential(1.0)), jobs=2000, seed=1)
    assert u.estimator == "batch means"


@pytest.mark.slow
@pytest.mark.parametrize("policy", [LPS(), LSRPT(), LFB(), LSJF()], ids=lambda p: p.name)
def test_control_variate_interval_coverage(policy):
    """Over 60 seeds the 90% control-variate intervals cover the exact mean 80-98% of the time
    (a binomial(60, 0.9) count lies in [48, 59] with probability > 0.999)."""
    w = qt.Workload(0.7, qt.Weibull(shape=0.5, scale=0.5))
    exact = {"PS*": 1.0 / 0.3, "SRPT*": qt.SRPT().mean_response_time(w),
             "FB*": qt.FB().mean_response_time(w), "SJF*": qt.SJF().mean_response_time(w)}
    hits = sum(lo < exact[policy.name] < hi for lo, hi in (
        qt.simulate(policy, w, jobs=100_000, seed=s, level=0.9).confidence_interval
        for s in range(60)))
    assert 48 <= hits <= 59


def _reference_sprpt(t, x, y):
    """Independent preemptive SPRPT event loop (heapq), completion times by job."""
    import heapq

    n = len(t)
    done = np.empty(n)
    heap = []
    cur, c_rank, c_rem, now, i = -1, 0.0, 0.0, 0.0, 0
    while i < n or cur >= 0:
        ta = t[i] if i < n else math.inf
        tc = now + c_rem if cur >= 0 else math.inf
        if tc <= ta:
            now = tc
            done[cur] = now
            cur = -1
            if heap:
                c_rank, _, cur, c_rem = heapq.heappop(heap)
        else:
            if cur >= 0:
                c_rem -= ta - now
                c_rank -= ta - now
            now = ta
            if cur < 0:
                cur, c_rank, c_rem = i, y[i], x[i]
            elif y[i] < c_rank:
                heapq.heappush(heap, (c_rank, cur, cur, c_rem))
                cur, c_rank, c_rem = i, y[i], x[i]
            else:
                heapq.heappush(heap, (y[i], i, i, x[i]))
            i += 1
    return done


def test_sprpt_matches_an_independent_event_loop():
    rng = np.random.default_rng(42)
    n = 20_000
    t = np.cumsum(rng.exponential(1 / 0.9, n))
    x = rng.exponential(1.0, n)
    y = x * rng.exponential(1.0, n)
    c = qt.simulate_trace(LSPRPT(), t, x, y, records=True).records.completion
    np.testing.assert_allclose(c, _reference_sprpt(t, x, y), rtol=1e-9, atol=1e-9)
