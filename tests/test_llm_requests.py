"""Workloads: arrivals, length laws, predictions, Kendall-tau scores, trace replay."""

import math
import pathlib

import numpy as np
import pytest

import queuetheory as qt
from queuetheory import llm
from queuetheory.errors import ParameterError

DATA = pathlib.Path(__file__).parent / "data" / "llm_trace_sample.csv"


def test_generate_requests_is_reproducible_and_sorted():
    kw = dict(rate=5.0, prompt=llm.LogNormalLength(300, 0.9), output=llm.GeometricLength(40),
              prediction=llm.LogNormalPrediction(0.6))
    a = llm.generate_requests(500, seed=11, **kw)
    b = llm.generate_requests(500, seed=11, **kw)
    c = llm.generate_requests(500, seed=12, **kw)
    for f in ("arrival", "prompt_tokens", "output_tokens", "predicted_output"):
        assert np.array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(a.arrival, c.arrival)
    assert np.all(np.diff(a.arrival) >= 0)
    assert a.prompt_tokens.min() >= 1 and a.output_tokens.min() >= 1


def test_arrival_processes():
    rng = np.random.default_rng(0)
    n = 40_000
    gaps = np.diff(np.concatenate([[0.0], llm.poisson_arrivals(2.0, n, rng)]))
    # mean 1/rate and SCV 1, within ~4 standard errors
    assert abs(gaps.mean() - 0.5) < 4 * 0.5 / math.sqrt(n)
    gaps = np.diff(np.concatenate([[0.0], llm.gamma_arrivals(2.0, n, shape=0.25, rng=rng)]))
    assert abs(gaps.mean() - 0.5) < 4 * gaps.std() / math.sqrt(n)
    scv = gaps.var() / gaps.mean() ** 2
    assert scv == pytest.approx(4.0, rel=0.1)          # 1/beta; bursty
    with pytest.raises(ParameterError, match="shape"):
        llm.gamma_arrivals(1.0, 10, shape=0.0)


def test_length_laws():
    rng = np.random.default_rng(1)
    geo = llm.GeometricLength(30)
    x = geo.sample(rng, 50_000)
    assert abs(x.mean() - geo.mean()) < 4 * x.std() / math.sqrt(x.size)
    assert abs((x**2).mean() - geo.moment(2)) < 4 * (x**2).std() / math.sqrt(x.size)
    ln = llm.LogNormalLength(200, 1.5, maximum=2000)
    y = ln.sample(rng, 50_000)
    assert y.max() <= 2000 and y.min() >= 1
    assert abs(y.mean() - ln.mean()) < 4 * y.std() / math.sqrt(y.size)
    emp = llm.EmpiricalLength([5, 10, 10, 20])
    assert emp.mean() == pytest.approx(11.25)
    assert set(emp.sample(rng, 100).tolist()) <= {5, 10, 20}
    # a queuetheory distribution is rounded up to whole tokens
    reqs = llm.generate_requests(200, rate=1.0, prompt=qt.Exponential(50.0), output=7, seed=2)
    assert reqs.prompt_tokens.dtype.kind == "i" and np.all(reqs.output_tokens == 7)
    with pytest.raises(ParameterError, match="prompt"):
        llm.generate_requests(3, rate=1.0, prompt="long", output=7)
    with pytest.raises(ParameterError, match="mean must be >= 1"):
        llm.GeometricLength(0.5)


def test_prediction_models():
    rng = np.random.default_rng(3)
    o = np.full(40_000, 100)
    y = llm.LogNormalPrediction(0.7).predict(rng, o, o)
    r = y / o
    assert abs(r.mean() - 1.0) < 4 * r.std() / math.sqrt(r.size)       # unbiased in mean
    binned = llm.BinnedPrediction(confidence=50.0, noise=0.0).predict(rng, np.array([10, 300]),
                                                                      None)
    assert binned.tolist() == pytest.approx([25.6, 281.6])  # bin midpoints (width 51.2)
    assert np.all(llm.ExactPrediction().predict(rng, o, o) == 100)
    q = llm.QTPrediction(qt.UniformPrediction(0.5)).predict(rng, o.astype(float), o)
    assert q.min() >= 50 and q.max() <= 150


def test_refined_predictions_with_no_error_equal_exact_predictions():
    ref = llm.RefinedPrediction(llm.ExactPrediction(), every=4, sigma=0.0)
    reqs = llm.generate_requests(300, rate=30.0, prompt=20, output=llm.GeometricLength(25),
                                 prediction=ref, seed=4)
    every, off, vals = reqs.refinement
    assert every == 4
    counts = np.diff(off)
    assert np.array_equal(counts, np.maximum((reqs.output_tokens - 1) // 4, 0))
    # the q-th value predicts the remaining length after 4q tokens
    i = int(np.argmax(counts))
    assert vals[off[i]:off[i + 1]].tolist() == \
        [float(reqs.output_tokens[i] - 4 * q) for q in range(1, counts[i] + 1)]
    plain = llm.RequestSet(reqs.arrival, reqs.prompt_tokens, reqs.output_tokens)
    server = llm.Server(max_batch_size=3, cost=llm.LinearCost(0.01, 0.001))
    a = llm.simulate(reqs, server, llm.SPRPT(), engine="python")
    b = llm.simulate(plain, server, llm.SPRPT(), engine="python")
    assert np.array_equal(a.finish_time, b.finish_time)
    # noisy refinements change the schedule
    noisy = llm.generate_requests(300, rate=30.0, prompt=20, output=llm.GeometricLength(25),
                                  prediction=llm.RefinedPrediction(llm.ExactPrediction(), 4, 1.0),
                                  seed=4)
    c = llm.simulate(noisy, server, llm.SPRPT(), engine="python")
    assert not np.array_equal(a.finish_time, c.finish_time)


@pytest.mark.parametrize("tau", [0.2, 0.6, 0.9])
def test_kendall_tau_scores_hit_the_target(tau):
    from scipy import stats

    rng = np.random.default_rng(5)
    o = rng.permutation(3000) + 1                       # distinct lengths: exact population tau
    s = llm.kendall_tau_scores(o, tau, rng)
    est = stats.kendalltau(o, s).statistic
    # standard error of Kendall's tau is below sqrt(2 (2n + 5) / (9 n (n - 1))) ~ 0.015
    assert abs(est - tau) < 4 * math.sqrt(2 * (2 * 3000 + 5) / (9 * 3000 * 2999))


def test_trace_csv_replay():
    reqs = llm.load_trace_csv(str(DATA))
    # 20 rows in the synthetic sample, one with 0 generated tokens (dropped)
    assert len(reqs) == 19
    assert reqs.arrival[0] == 0.0
    assert reqs.arrival[1] == pytest.approx(46.5104312 - 46.2830117, abs=1e-6)
    assert reqs.prompt_tokens[0] == 2055 and reqs.output_tokens[0] == 358
    fast = llm.load_trace_csv(str(DATA), time_scale=0.5, limit=5)
    assert len(fast) == 5 and fast.arrival[1] == pytest.approx(reqs.arrival[1] / 2, abs=1e-6)
    with pytest.raises(ParameterError, match="column"):
        llm.load_trace_csv(str(DATA), time_column="time")
    with pytest.raises(ParameterError, match="cannot be read"):
        llm.load_trace_csv(str(DATA) + ".missing")


def test_trace_with_numeric_seconds(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("arrival,prompt,output\n2.5,10,3\n1.0,20,4\n")
    reqs = llm.load_trace_csv(str(p), time_column="arrival", prompt_column="prompt",
                              output_column="output")
    assert reqs.arrival.tolist() == [0.0, 1.5]
    assert reqs.prompt_tokens.tolist() == [20, 10]     # sorted by arrival


def test_request_set_validation_and_order():
    rs = llm.RequestSet([2.0, 1.0, 1.0], [5, 6, 7], [1, 2, 3], [1.5, 2.5, 3.5])
    assert rs.prompt_tokens.tolist() == [6, 7, 5]      # stable sort by arrival
    assert [r.prompt_tokens for r in rs.to_requests()] == [6, 7, 5]
    res = llm.simulate(rs, llm.Server(max_batch_size=2, cost=llm.LinearCost(1.0)), llm.FCFS())
    assert res.prompt_tokens.tolist() == [6, 7, 5]     # aligned with the RequestSet's arrays
    reqs = [llm.Request(2.0, 5, 1), llm.Request(1.0, 6, 2)]
    res = llm.simulate(reqs, llm.Server(max_batch_size=2, cost=llm.LinearCost(1.0)), llm.FCFS())
    assert res.prompt_tokens.tolist() == [5, 6]        # input order, not arrival order
    for bad, match in (([[1.0], [0], [1]], "prompt_tokens"), ([[1.0], [1], [1.5]], "output"),
                       ([[np.nan], [1], [1]], "arrival")):
        with pytest.raises(ParameterError, match=match):
            llm.RequestSet(*bad)
    with pytest.raises(ParameterError, match="predicted_output"):
        llm.RequestSet([1.0], [1], [1], [-2.0])
