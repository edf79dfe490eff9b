"""RankPolicy: exact piecewise-linear recovery of user rank functions, and its engine results.

Independent checks used here:

* hand-written piecewise-linear ranks whose breakpoints, levels, values and slopes are
  known in closed form (kinks on and off the age grid, value jumps, level jumps, −∞,
  points at age 0, multi-component descriptors); compared to a few ulps;
* the built-in policies' analytic segments: on atomic workloads the SOAP engine gives the
  same numbers for a RankPolicy and for the built-in policy it re-implements;
* M/M/1 closed forms: FB = PS, E[T] = E[S]/(1 − ρ) (textbook), and the built-in SRPT,
  PSJF and SJF closed forms (Schrage–Miller and Pollaczek–Khinchine type), within the
  error estimates;
* the general cell-by-cell fit against the one-line fast path (identical arrays).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from local_laws import empirical_joint_workload

import queuetheory as qt
from queuetheory import soap
from queuetheory.errors import ParameterError, RankFunctionError
from queuetheory.policies import custom
from queuetheory.policies.rank import NONPREEMPTIBLE

NINF = float("-inf")
THREE = qt.Discrete(values=[1.0, 4.0, 6.0], probs=[0.5, 0.3, 0.2])
#: descriptors: on and off the powers of four of the age grid, tiny and large
DS = [0.37, 1.0, 2.9, math.pi, 13.0, 1e-7, 4.0e5]


def _segments(pr, j):
    """Job j's segments as (start, end, level, value, slope) tuples (padding dropped)."""
    out = []
    for s, e, lv, v, k in zip(pr.start[j], pr.end[j], pr.level[j], pr.value[j], pr.slope[j]):
        if np.isfinite(s):
            out.append((float(s), float(e), float(lv), float(v), float(k)))
    return out


def _assert_segments(got, want, rel):
    """Ages and levels to ``rel``; values to ``rel`` of the rank scale; slopes so that the
    rank is off by at most ``rel`` of the rank scale up to age 2^60 (the grid's end)."""
    assert len(got) == len(want), (got, want)
    scale = max(abs(v) for w in want for v in w[3:4])
    for g, w in zip(got, want):
        for i, (a, b) in enumerate(zip(g, w)):
            if i < 3:  # start, end, level
                ok = a == b if (math.isinf(b) or b == 0.0) else abs(a - b) <= rel * abs(b)
            elif i == 3:
                ok = abs(a - b) <= rel * max(abs(b), scale)
            else:
                ok = abs(a - b) <= rel * abs(b) + rel * scale / 2.0**60
            assert ok, (i, got, want)


def _up(x):
    return float(np.nextafter(x, math.inf))


# -------------------------------------------------------------- exact segments
LINEAR = {
    "SRPT d - a": (lambda d, a: d - a, lambda d: (d, -1.0, 0.0)),
    "FB a": (lambda d, a: a, lambda d: (0.0, 1.0, 0.0)),
    "PSJF d": (lambda d, a: d, lambda d: (d, 0.0, 0.0)),
    "FCFS 0": (lambda d, a: 0.0, lambda d: (0.0, 0.0, 0.0)),
    "2.5 d - 0.5 a": (lambda d, a: 2.5 * d - 0.5 * a, lambda d: (2.5 * d, -0.5, 0.0)),
    "level 2, d - a": (lambda d, a: (2.0, d - a), lambda d: (d, -1.0, 2.0)),
}


@pytest.mark.parametrize("name", sorted(LINEAR))
def test_linear_rank_is_one_exact_segment(name):
    fn, want = LINEAR[name]
    pr = qt.RankPolicy(fn).rank_segments(DS)
    assert pr.start.shape == (len(DS), 1)
    for j, d in enumerate(DS):
        value, slope, level = want(d)
        _assert_segments(_segments(pr, j), [(0.0, math.inf, level, value, slope)], rel=1e-15)
        assert pr.value[j, 0] == value  # the rank at age 0, exactly


def _three_pieces(d, a):
    # slope −1 to 0.6d, flat to 1.3d, then slope 2: two kinks off the grid
    return np.where(a < 0.6 * d, d - a, np.where(a < 1.3 * d, 0.4 * d, 0.4 * d + 2 * (a - 1.3 * d)))


PIECEWISE = {
    # kink on the grid (a = d is a grid age)
    "|d - a|": (lambda d, a: abs(d - a),
                lambda d: [(0, d, 0, d, -1), (d, math.inf, 0, 0, 1)]),
    # kink off the grid, at the intersection 0.7 d
    "max(d - a, 0.3 d)": (lambda d, a: max(d - a, 0.3 * d),
                          lambda d: [(0, 0.7 * d, 0, d, -1), (0.7 * d, math.inf, 0, 0.3 * d, 0)]),
    "three pieces": (_three_pieces,
                     lambda d: [(0, 0.6 * d, 0, d, -1), (0.6 * d, 1.3 * d, 0, 0.4 * d, 0),
                                (1.3 * d, math.inf, 0, 0.4 * d, 2)]),
    # value jumps at one level (right-continuous): located to the last bit
    "jump off the grid": (lambda d, a: np.where(a < 1.7 * d, d - a / 3, 5 * d - a),
                          lambda d: [(0, 1.7 * d, 0, d, -1 / 3),
                                     (1.7 * d, math.inf, 0, 5 * d - 1.7 * d, -1)]),
    "jump on the grid": (lambda d, a: np.where(a < 2 * d, d - a / 3, 5 * d - a),
                         lambda d: [(0, 2 * d, 0, d, -1 / 3), (2 * d, math.inf, 0, 3 * d, -1)]),
    "jump, same slope": (lambda d, a: d - a if a < 1.7 * d else 3 * d - a,
                         lambda d: [(0, 1.7 * d, 0, d, -1),
                                    (1.7 * d, math.inf, 0, 3 * d - 1.7 * d, -1)]),
    "downward jump": (lambda d, a: np.where(a < 0.45 * d, 2 * d + a, a - d),
                      lambda d: [(0, 0.45 * d, 0, 2 * d, 1),
                                 (0.45 * d, math.inf, 0, 0.45 * d - d, 1)]),
    # lexicographic level jump at an irrational age
    "level jump": (lambda d, a: (0.0, d) if a < d / math.e else (1.0, a),
                   lambda d: [(0, d / math.e, 0, d, 0), (d / math.e, math.inf, 1, d / math.e, 1)]),
    # TRAIL(1/2): non-preemptible once a > d/2 (so d/2 itself is still preemptible)
    "d - a, then -inf": (lambda d, a: d - a if a <= 0.5 * d else NINF,
                         lambda d: [(0, _up(0.5 * d), 0, d, -1),
                                    (_up(0.5 * d), math.inf, NINF, 0, 0)]),
    # non-preemptive SJF: a point at age 0, written for Python scalars only
    "point then -inf": (lambda d, a: d if a == 0 else -math.inf,
                        lambda d: [(0, 0, 0, d, 0), (0, math.inf, NINF, 0, 0)]),
    "point then line": (lambda d, a: np.where(a == 0, d, 2 * d - a),
                        lambda d: [(0, 0, 0, d, 0), (0, math.inf, 0, 2 * d, -1)]),
    "tuple with -inf level": (lambda d, a: (0.0, d - a) if a < 0.25 * d else (NINF, 0.0),
                              lambda d: [(0, 0.25 * d, 0, d, -1),
                                         (0.25 * d, math.inf, NINF, 0, 0)]),
}


@pytest.mark.parametrize("name", sorted(PIECEWISE))
def test_piecewise_linear_rank_is_exact(name):
    fn, want = PIECEWISE[name]
    ds = [d for d in DS if d >= 0.1]  # pieces wider than the grid spacing around them
    pr = qt.RankPolicy(fn).rank_segments(ds)
    for j, d in enumerate(ds):
        _assert_segments(_segments(pr, j), want(d), rel=4e-15)


@pytest.mark.parametrize("name", ["jump off the grid", "level jump", "d - a, then -inf"])
def test_jumps_are_located_to_the_last_bit(name):
    fn, want = PIECEWISE[name]
    rng = np.random.default_rng(3)
    ds = np.sort(rng.uniform(0.2, 50.0, 40))
    pr = qt.RankPolicy(fn).rank_segments(ds)
    for j, d in enumerate(ds):
        assert pr.end[j, 0] == want(d)[0][1] == pr.start[j, 1]


def test_random_continuous_piecewise_linear_ranks():
    rng = np.random.default_rng(11)
    for _ in range(12):
        d = float(rng.uniform(0.5, 20.0))
        cuts = np.sort(rng.uniform(0.1, 6.0, 3)) * d
        if np.min(np.diff(cuts)) < 0.3 * d:  # keep pieces wider than the grid spacing
            continue
        slopes = rng.choice([-2.0, -1.0, -0.25, 0.5, 1.5], 4, replace=False)
        # values at the cuts of a continuous function starting from r(0) = d
        starts = np.concatenate([[0.0], cuts])
        vals = [d]
        for i in range(3):
            vals.append(vals[-1] + slopes[i] * (cuts[i] - starts[i]))

        def fn(dd, a, starts=starts, vals=vals, slopes=slopes):
            i = np.searchsorted(starts, a, side="right") - 1
            return np.asarray(vals)[i] + slopes[i] * (a - starts[i])

        pr = qt.RankPolicy(fn, uses="size").rank_segments([d])
        want = [(starts[i], starts[i + 1] if i < 3 else math.inf, 0.0, vals[i], slopes[i])
                for i in range(4)]
        _assert_segments(_segments(pr, 0), want, rel=1e-14)


def test_multi_component_descriptors():
    d = np.array([[3.0, 1.0], [2.0, 0.5], [5.0, 4.5]])
    vec = qt.RankPolicy(lambda d, a: np.maximum(d[:, 0] - a, d[:, 1]))
    scal = qt.RankPolicy(lambda d, a: max(d[0] - a, d[1]))
    for pol in (vec, scal):
        pr = pol.rank_segments(d)
        for j, (x, y) in enumerate(d):
            _assert_segments(_segments(pr, j), [(0, x - y, 0, x, -1), (x - y, math.inf, 0, y, 0)],
                             rel=4e-15)
    assert vec._vectorized is True and scal._vectorized is False


# ---------------------------------------------------------- fast path, chunks
@pytest.mark.parametrize("name", sorted(LINEAR) + ["point then -inf", "point then line"])
def test_one_line_fast_path_matches_the_general_fit(name, monkeypatch):
    fn = LINEAR[name][0] if name in LINEAR else PIECEWISE[name][0]
    ds = DS + [0.0, 1e-300, 1e15, 2.0**62, 1e300]
    fast = qt.RankPolicy(fn).rank_segments(ds)
    monkeypatch.setattr(custom, "_LINE_FAST_PATH", False)
    slow = qt.RankPolicy(fn).rank_segments(ds)
    for f in ("start", "end", "level", "value", "slope"):
        np.testing.assert_array_equal(getattr(fast, f), getattr(slow, f), err_msg=f)


def test_batches_chunks_and_repeats_agree_with_single_descriptors(monkeypatch):
    monkeypatch.setattr(custom, "_CHUNK", 2000)  # ~10 rows per chunk
    # one line for d <= 1, a kink for d > 1: line and general rows mixed in every chunk
    fn = lambda d, a: np.where(d > 1.0, np.maximum(d - a, 0.3 * d), d - a)  # noqa: E731
    rng = np.random.default_rng(2)
    ds = np.concatenate([rng.uniform(0.0, 2.0, 57), [0.5, 1.5, 0.5]])  # unsorted, repeated
    pr = qt.RankPolicy(fn).rank_segments(ds)
    one = qt.RankPolicy(fn)
    for j, d in enumerate(ds):
        assert _segments(pr, j) == _segments(one.rank_segments([d]), 0)
    assert pr.start.shape == (ds.size, 2)


# ------------------------------------------------------------- engine results
def _empirical_joint(rho=0.6):
    return empirical_joint_workload(rho)


class _TrailOnSize(qt.RankPolicy):
    """RankPolicy with the two-component descriptor (y, x) of LimitedPreemptionSPRPT."""

    def descriptor(self, x, y):
        x = np.asarray(x, dtype=float)
        return np.column_stack([np.broadcast_to(y, x.shape), x])


ATOMIC = {
    "SRPT": (lambda: qt.RankPolicy(lambda d, a: d - a, uses="size"), qt.SRPT, "sizes"),
    "FB": (lambda: qt.RankPolicy(lambda d, a: a, uses="nothing"), qt.FB, "sizes"),
    "PSJF": (lambda: qt.RankPolicy(lambda d, a: d, uses="size"), qt.PSJF, "sizes"),
    "FCFS": (lambda: qt.RankPolicy(lambda d, a: 0.0, uses="nothing"), qt.FCFS, "sizes"),
    "SJF (scalar only)": (lambda: qt.RankPolicy(lambda d, a: d if a == 0 else -math.inf),
                          qt.SJF, "sizes"),
    "SPRPT": (lambda: qt.RankPolicy(lambda d, a: d - a, uses="prediction"), qt.SPRPT, "joint"),
    "SPJF": (lambda: qt.RankPolicy(lambda d, a: np.where(a == 0, d, -np.inf),
                                   uses="prediction"), qt.SPJF, "joint"),
    "PSPJF": (lambda: qt.RankPolicy(lambda d, a: d, uses="prediction"), qt.PSPJF, "joint"),
    "TRAIL(0.5)": (lambda: qt.RankPolicy(lambda d, a: d - a if a < 0.5 * d else -math.inf,
                                         uses="prediction"),
                   lambda: qt.LimitedPreemptionSPRPT(c=0.5), "joint"),
    "TRAIL(0.5) on size": (lambda: _TrailOnSize(lambda d, a: d[0] - a if a < 0.5 * d[1]
                                                else -math.inf, uses="prediction"),
                           lambda: qt.LimitedPreemptionSPRPT(c=0.5, threshold="size"), "joint"),
}


@pytest.mark.parametrize("name", sorted(ATOMIC))
def test_engine_matches_builtin_policy_on_atomic_workloads(name):
    make, builtin, kind = ATOMIC[name]
    w = qt.Workload(arrival_rate=0.2, size=THREE) if kind == "sizes" else _empirical_joint()
    mine = soap.mean_response_time(make(), w)
    ref = soap.mean_response_time(builtin(), w)
    # atomic laws: finite sums, no quadrature; identical segments give identical sums
    assert mine.value == pytest.approx(ref.value, rel=1e-14, abs=0)
    x = float(w.size.atoms[0][-1])
    y = float(w.joint.prediction.predicted[0]) if kind == "joint" else None
    if kind == "joint":
        x = float(w.joint.prediction.actual[0])
    a = soap.response_time(make(), w, x, y)
    b = soap.response_time(builtin(), w, x, y)
    assert a.value == pytest.approx(b.value, rel=1e-14, abs=0)


MM1 = {
    "SRPT": (lambda: qt.RankPolicy(lambda d, a: d - a, uses="size"), qt.SRPT),
    "PSJF": (lambda: qt.RankPolicy(lambda d, a: d, uses="size"), qt.PSJF),
    "SJF": (lambda: qt.RankPolicy(lambda d, a: np.where(a == 0, d, -np.inf)), qt.SJF),
    "FB": (lambda: qt.RankPolicy(lambda d, a: a, uses="nothing"), qt.FB),
}


@pytest.mark.parametrize("name", sorted(MM1))
def test_mm1_closed_forms(name):
    make, builtin = MM1[name]
    rho = 0.7
    w = qt.Workload(arrival_rate=rho, size=qt.Exponential(mean=1.0))
    est = make().evaluate(w, rtol=1e-8)
    cf = builtin().evaluate(w, method="closed_form")
    assert est.error <= 1e-8 * est.value
    assert abs(est.value - cf.value) <= est.error + cf.error
    if name == "FB":  # FB = PS for exponential sizes
        assert abs(est.value - 1.0 / (1.0 - rho)) <= est.error + 1e-14


# ---------------------------------------------------------------------- errors
def _age_in(msg):
    m = re.search(r"descriptor d=([^,]+), age a=([^)]+)\)", msg)
    assert m, msg
    return float(m.group(1)), float(m.group(2))


@pytest.mark.parametrize("vectorized", [True, False])
def test_bad_values_name_the_descriptor_and_age(vectorized):
    if vectorized:
        nan = lambda d, a: np.where(a > 2.0, np.nan, d)  # noqa: E731
        pinf = lambda d, a: np.where(a >= 8.0, np.inf, d - a)  # noqa: E731
    else:
        nan = lambda d, a: math.nan if a > 2.0 else d  # noqa: E731
        pinf = lambda d, a: math.inf if a >= 8.0 else d - a  # noqa: E731
    with pytest.raises(RankFunctionError, match="returned NaN") as exc:
        qt.RankPolicy(nan).rank_segments([3.0])
    d, a = _age_in(str(exc.value))
    assert d == 3.0 and a > 2.0
    with pytest.raises(RankFunctionError, match=r"returned \+inf") as exc:
        qt.RankPolicy(pinf).rank_segments([3.0])
    d, a = _age_in(str(exc.value))
    assert d == 3.0 and a >= 8.0


def test_rank_function_errors():
    cases = [
        (lambda d, a: 1 / 0 if a >= 1 else d, r"raised ZeroDivisionError.*age a=1\.0\)"),
        (lambda d, a: "1", "'1', which is not a number"),
        (lambda d, a: None, "None, which is not a number"),
        (lambda d, a: bool(a == 0), "True, which is not a number"),  # Python scalars only
        (lambda d, a: np.array(["x"] * np.size(a)), "not a number"),
        (lambda d, a: (0.0, d, a), "tuple of length 3"),
        (lambda d, a: (1.0, -math.inf), "value of -inf at a finite level"),
        (lambda d, a: (math.nan, d), "returned NaN"),
    ]
    for fn, pattern in cases:
        with pytest.raises(RankFunctionError, match=pattern) as exc:
            qt.RankPolicy(fn, name="mine").rank_segments([2.0])
        assert "rank function of mine" in str(exc.value)
        assert "descriptor d=2.0" in str(exc.value)
    with pytest.raises(ParameterError, match="callable"):
        qt.RankPolicy("d - a")
    with pytest.raises(ParameterError, match="uses must be one of"):
        qt.RankPolicy(lambda d, a: d, uses="oracle")
    with pytest.raises(ParameterError, match="tol must be"):
        qt.RankPolicy(lambda d, a: d, tol=0.0)
    with pytest.raises(ParameterError, match="must not be NaN"):
        qt.RankPolicy(lambda d, a: d).rank_segments([1.0, math.nan])


def test_rank_function_failing_only_on_some_arrays_falls_back_to_scalars():
    calls = {"arrays": 0}

    def fn(d, a):
        if isinstance(a, np.ndarray):
            calls["arrays"] += 1
            if calls["arrays"] > 1:
                raise ValueError("no more arrays")
            return d - a
        return d - a

    pol = qt.RankPolicy(fn)
    first = pol.rank_segments([1.0, 2.0])
    second = pol.rank_segments([3.0, 4.0])  # the array call raises: Python scalars
    assert pol._vectorized is False
    assert _segments(first, 1) == [(0.0, math.inf, 0.0, 2.0, -1.0)]
    assert _segments(second, 1) == [(0.0, math.inf, 0.0, 4.0, -1.0)]


def test_scalar_only_callables():
    # `a == 0` on an array raises "truth value of an array is ambiguous"
    sjf = qt.RankPolicy(lambda d, a: d if a == 0 else -math.inf, uses="size")
    pr = sjf.rank_segments([2.0, 0.5])
    assert sjf._vectorized is False
    assert pr.evaluate(0, 0.0) == (0.0, 2.0) and pr.evaluate(1, 0.0) == (0.0, 0.5)
    assert pr.evaluate(0, 1e-9)[0] == NONPREEMPTIBLE
    # math functions refuse arrays
    fab = qt.RankPolicy(lambda d, a: math.fabs(d - a), uses="size")
    pr = fab.rank_segments([2.0])
    assert fab._vectorized is False
    assert _segments(pr, 0) == [(0.0, 2.0, 0.0, 2.0, -1.0), (2.0, math.inf, 0.0, 0.0, 1.0)]
    w = qt.Workload(arrival_rate=0.2, size=THREE)
    assert sjf.mean_response_time(w) == pytest.approx(qt.SJF().mean_response_time(w),
                                                      rel=1e-13)


def test_too_many_pieces_is_an_error_not_an_out_of_memory(monkeypatch):
    monkeypatch.setattr(custom, "_MAX_CELLS", 20_000)
    # a jump every 1.3 units of age up to 2^60: not representable by finitely many pieces
    with pytest.raises(RankFunctionError, match=r"more than 20,000 linear pieces.*d=1\.0"):
        qt.RankPolicy(lambda d, a: np.mod(a, 1.3) - d).rank_segments([1.0])
    # a smooth rank is approximated: pieces within the limit are fine
    pr = qt.RankPolicy(lambda d, a: d / (1.0 + a), tol=1e-6).rank_segments([3.0])
    assert 10 < pr.start.shape[1] < 20_000
