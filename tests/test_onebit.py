"""One bit of advice (formulas.md §5): closed forms, optimal thresholds, semantics.

Independent checks: mpmath evaluations of the §5.2 forms with the Bessel blocks
of §9 (tests/reference/prediction_policies_reference.py, "onebit"), the
Lambert-W closed form of the threshold optimum for exponential sizes (§5.4), a
brute-force minimisation over every value of a discrete classifying variable,
and an independent event simulation (tests/reference/prediction_sim.py) of the
FCFS-shorts and LCFS-PR-shorts semantics.
"""

from __future__ import annotations

import importlib.util
import math
import pathlib

import numpy as np
import pytest
from scipy import special

import queuetheory as qt
from queuetheory.errors import ParameterError, UnstableError

_spec = importlib.util.spec_from_file_location(
    "prediction_sim", pathlib.Path(__file__).parent / "reference" / "prediction_sim.py")
SIM = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(SIM)

VARIANTS = {"np": dict(preemptive=False), "lcfs": dict(preemptive=True, shorts="lcfs"),
            "fcfs": dict(preemptive=True, shorts="fcfs")}

# mpmath (25 digits), M/M/1, exponential predictions; "size" = the THR scheme (bit from S).
REF_T1 = {  # E[T] at threshold 1, key = 'lambda/on/variant'
    '0.5/prediction/np': '1.848898973367047382',
    '0.5/prediction/lcfs': '1.697797946734094764',
    '0.5/prediction/fcfs': '1.7053866171452396183',
    '0.5/size/np': '1.7880584423829145549',
    '0.5/size/lcfs': '1.5761168847658291099',
    '0.5/size/fcfs': '1.565134250908604175',
    '0.7/prediction/np': '2.7655415536140107199',
    '0.7/prediction/lcfs': '2.5222022194485867427',
    '0.7/prediction/fcfs': '2.5344233277110379891',
    '0.7/size/np': '2.5960980705501275315',
    '0.7/size/lcfs': '2.2801401007858964736',
    '0.7/size/fcfs': '2.2637674236422188157',
    '0.8/prediction/np': '3.7971913976972408708',
    '0.8/prediction/lcfs': '3.4964892471215510885',
    '0.8/prediction/fcfs': '3.5115912590899046566',
    '0.8/size/np': '3.5072234285240565306',
    '0.8/size/lcfs': '3.1340292856550706632',
    '0.8/size/fcfs': '3.1146906779989167058',
    '0.9/prediction/np': '6.6860843249472813523',
    '0.9/prediction/lcfs': '6.317871472163645947',
    '0.9/prediction/fcfs': '6.3363640399720041179',
    '0.9/size/np': '6.0904093944345913808',
    '0.9/size/lcfs': '5.6560104382606570898',
    '0.9/size/fcfs': '5.6335002484835370184',
    '0.95/prediction/np': '12.273571797707241254',
    '0.95/prediction/lcfs': '11.866917681797096057',
    '0.95/prediction/fcfs': '11.887340865714131015',
    '0.95/size/np': '11.134203512789483747',
    '0.95/size/lcfs': '10.667582645041561839',
    '0.95/size/fcfs': '10.643402742816464285',
    '0.99/prediction/np': '56.433360026341448884',
    '0.99/prediction/lcfs': '55.993292955900453418',
    '0.99/prediction/fcfs': '56.015394221727634013',
    '0.99/size/np': '51.17036718968986675',
    '0.99/size/lcfs': '50.677138575444309849',
    '0.99/size/fcfs': '50.651579882099457747',
}
REF_OPT = {  # (T*, E[T*]), key = 'lambda/on/variant'
    '0.5/prediction/np': ('0.90481749027628179297', '1.8485812333088955759'),
    '0.5/prediction/lcfs': ('0.90481749027628179297', '1.6971624666177911518'),
    '0.5/prediction/fcfs': ('0.94664207150639586193', '1.7052229245487514836'),
    '0.5/size/np': ('1.2784645427610737951', '1.7821882942801999012'),
    '0.5/size/lcfs': ('1.2784645427610737951', '1.5643765885603998024'),
    '0.5/size/fcfs': ('1.463015279597885725', '1.5399930616918258092'),
    '0.7/prediction/np': ('1.198891288773914945', '2.7617966149840048774'),
    '0.7/prediction/lcfs': ('1.198891288773914945', '2.5168523071200069677'),
    '0.7/prediction/fcfs': ('1.2650979123078840125', '2.5262640900481747129'),
    '0.7/size/np': ('1.5136028459089535818', '2.5415756779527674575'),
    '0.7/size/lcfs': ('1.5136028459089535818', '2.2022509685039535107'),
    '0.7/size/fcfs': ('1.6912819142129643163', '2.1469859213681376096'),
    '0.9/prediction/np': ('2.0827270946772503704', '6.3681323105168208076'),
    '0.9/prediction/lcfs': ('2.0827270946772503704', '5.9645914561298008973'),
    '0.9/prediction/fcfs': ('2.1722330469102836047', '5.9530454755850783602'),
    '0.9/size/np': ('2.1010029972769726631', '5.2836683296808933466'),
    '0.9/size/lcfs': ('2.1010029972769726631', '4.7596314774232148295'),
    '0.9/size/fcfs': ('2.2448853659624456922', '4.5901001643708333658'),
}


def workload(lam: float, on: str) -> qt.Workload:
    pred = qt.ExponentialPrediction() if on == "prediction" else None
    return qt.Workload(lam, qt.Exponential(1.0), pred)


@pytest.mark.parametrize("key", list(REF_T1))
def test_threshold_one_vs_mpmath(key):
    lam, on, variant = key.split("/")
    pol = qt.OneBit(1.0, on=on, **VARIANTS[variant])
    est = pol.evaluate(workload(float(lam), on))
    assert est.value == pytest.approx(float(REF_T1[key]), rel=1e-12)
    assert abs(est.value - float(REF_T1[key])) <= est.error + 1e-14


@pytest.mark.parametrize("key", list(REF_OPT))
def test_optimal_threshold_vs_mpmath(key):
    lam, on, variant = key.split("/")
    T_ref, v_ref = (float(v) for v in REF_OPT[key])
    res = qt.OneBit.optimal_threshold(workload(float(lam), on), on=on, full_output=True,
                                      **VARIANTS[variant])
    assert res.boundary is None
    assert res.mean_response_time == pytest.approx(v_ref, rel=1e-12)
    # FOC-polished thresholds are exact; the FCFS-shorts minimum is only located by
    # Brent's method on a flat objective (error ~ sqrt(machine epsilon))
    assert res.threshold == pytest.approx(T_ref, rel=1e-9 if variant != "fcfs" else 1e-6)
    if variant != "fcfs":
        assert abs(res.foc_residual) < 1e-12


@pytest.mark.parametrize("lam", [0.3, 0.5, 0.8, 0.95])
def test_exponential_threshold_lambert_w(lam):
    # (T − 1)(1 − λ) = λ e^{−T}  ⇔  T = 1 + W(λ/((1 − λ) e))   (formulas.md §5.4)
    T_exact = 1.0 + special.lambertw(lam / ((1.0 - lam) * math.e)).real
    w = qt.Workload(lam, qt.Exponential(1.0))
    for pre in (True, False):
        assert qt.OneBit.optimal_threshold(w, preemptive=pre) == pytest.approx(T_exact,
                                                                               rel=1e-12)


def test_identity_t1_equals_1_plus_lambda_t2():
    # formulas.md §5.3: non-preemptive = 1 + λ · preemptive (LCFS-PR), for any threshold
    for on in ("prediction", "size"):
        w = workload(0.7, on)
        for T in (0.2, 1.0, 3.0):
            t1 = qt.OneBit(T, preemptive=False, on=on).mean_response_time(w)
            t2 = qt.OneBit(T, preemptive=True, on=on).mean_response_time(w)
            assert t1 == pytest.approx(1.0 + 0.7 * t2, rel=1e-13)


def test_discrete_classifier_optimum_is_a_brute_force_minimum():
    rng = np.random.default_rng(3)
    x = np.ceil(rng.exponential(3.0, 60))
    y = np.floor(x * rng.exponential(1.0, 60))
    w = qt.EmpiricalPredictions(x, y).workload(0.7 / x.mean())
    for kw in VARIANTS.values():
        best = min(qt.OneBit(T, **kw).mean_response_time(w) for T in np.unique(y))
        res = qt.OneBit.optimal_threshold(w, full_output=True, **kw)
        assert res.mean_response_time == pytest.approx(min(best, qt.OneBit(
            0.0, **kw).mean_response_time(w)), rel=1e-13)
        assert res.foc_residual is None


@pytest.mark.parametrize("size", [qt.Erlang(k=20, mean=1.0), qt.Uniform(0.5, 1.5),
                                  qt.HyperExponential([0.99, 0.01], [0.5, 50.5])], ids=repr)
def test_optimum_beats_grid_and_boundaries(size):
    w = qt.Workload(0.7 / size.mean(), size)
    for kw in VARIANTS.values():
        res = qt.OneBit.optimal_threshold(w, on="size", full_output=True, **kw)
        grid = [qt.OneBit(T, on="size", **kw).mean_response_time(w)
                for T in np.linspace(0.0, 40.0, 401)]
        limit_inf = qt.OneBit(1e300, on="size", **kw).mean_response_time(w)
        assert res.mean_response_time <= min(min(grid), limit_inf) * (1 + 1e-12)


def test_lcfs_and_fcfs_shorts_semantics():
    w = qt.Workload(0.5, qt.Exponential(1.0))
    lcfs = qt.OneBit.optimal_threshold(w, preemptive=True, full_output=True)
    fcfs = qt.OneBit.optimal_threshold(w, preemptive=True, shorts="fcfs", full_output=True)
    # the published 1.564 (survey Table 2, THR preemptive, λ = 0.5) needs LCFS-PR shorts;
    # FCFS shorts give a visibly lower value (published-values.md §2 note 3)
    assert lcfs.mean_response_time == pytest.approx(1.564, abs=0.0005)
    assert fcfs.mean_response_time < 1.55
    assert qt.OneBit(1.0).is_soap is False and qt.OneBit(1.0).shorts == "lcfs"
    assert qt.OneBit(1.0, shorts="fcfs").is_soap is True
    assert qt.OneBit(1.0, preemptive=False).shorts == "fcfs"
    p = qt.OneBit(1.0)
    assert p.tie_break_for_level(1.0) == "lcfs" and p.tie_break_for_level(2.0) == "fcfs"
    assert qt.OneBit(1.0, shorts="fcfs").tie_break_for_level(1.0) == "fcfs"


def test_conditional_response_times():
    w = workload(0.8, "prediction")
    lam = 0.8
    j = qt.ExponentialPrediction().joint(qt.Exponential(1.0))
    rho_s = lam * float(j.partial_moment_y(1, 1.0))
    w0 = lam * 2.0 / 2
    lcfs = qt.OneBit(1.0)
    assert lcfs.response_time(w, 2.0, 0.5) == pytest.approx(2.0 / (1 - rho_s), rel=1e-12)
    assert lcfs.response_time(w, 2.0, 1.5) == pytest.approx(
        2.0 / (1 - rho_s) + w0 / ((1 - rho_s) * (1 - lam)), rel=1e-12)
    fcfs = qt.OneBit(1.0, shorts="fcfs")
    m2s = float(j.partial_moment_y(2, 1.0))
    assert fcfs.response_time(w, 2.0, 0.5) == pytest.approx(
        2.0 + lam * m2s / (2 * (1 - rho_s)), rel=1e-12)
    np_ = qt.OneBit(1.0, preemptive=False)
    assert np_.response_time(w, 2.0, 1.5) == pytest.approx(
        2.0 + w0 / ((1 - rho_s) * (1 - lam)), rel=1e-12)
    # exact predictions: the bit is the size's, and y defaults to x
    we = workload(0.8, "size")
    assert qt.OneBit(1.0).response_time(we, 0.5) == pytest.approx(
        qt.OneBit(1.0, on="size").response_time(we, 0.5), rel=1e-14)


def test_descriptor_and_ranks():
    p = qt.OneBit(1.0)
    np.testing.assert_array_equal(p.descriptor(np.array([5.0, 0.1]), np.array([0.5, 3.0])),
                                  [1.0, 2.0])
    np.testing.assert_array_equal(qt.OneBit(1.0, on="size").descriptor(
        np.array([5.0, 0.1]), np.array([0.5, 3.0])), [2.0, 1.0])
    assert p.rank(1.0, 3.0) == (1.0, 0.0) and p.rank(2.0, 0.0) == (2.0, 0.0)
    npre = qt.OneBit(1.0, preemptive=False)
    assert npre.rank(2.0, 0.0) == (2.0, 0.0) and npre.rank(2.0, 0.1)[0] == -math.inf


def test_infinite_second_moment():
    pa = qt.Pareto(shape=1.8, scale=1.0)
    w = qt.Workload(0.5 / pa.mean(), pa)
    assert qt.OneBit(2.0, preemptive=False, on="size").mean_response_time(w) == math.inf
    assert qt.OneBit(2.0, on="size").mean_response_time(w) == math.inf  # longs wait
    # LCFS-PR shorts only (threshold above every size is not reachable: P(long) > 0)
    assert qt.OneBit(2.0, on="size").response_time(w, 1.0) < math.inf


def _mm1_exp_predictions(lam, n, *, seed, variant):
    """Arrival gaps, Exp(1) sizes and Exp(mean x) predictions for the test simulator, and
    its tie rule among shorts (LCFS-PR at level 1, or FCFS)."""
    rng = np.random.default_rng(seed)
    gaps, x = rng.exponential(1 / lam, n), rng.exponential(1.0, n)
    y = x * rng.exponential(1.0, n)
    return gaps, x, y, (SIM.lcfs_level1 if variant == "lcfs" else SIM.fcfs_ties)


@pytest.mark.parametrize("variant", ["lcfs", "fcfs"])
def test_preemptive_semantics_vs_simulation(variant):
    lam = 0.6
    gaps, x, y, tie = _mm1_exp_predictions(lam, 60_000, seed=21, variant=variant)
    sim, half = SIM.simulate(SIM.onebit(1.0, True), tie, gaps, x, y)
    exact = qt.OneBit(1.0, **VARIANTS[variant]).mean_response_time(workload(lam, "prediction"))
    assert abs(sim - exact) <= half, (exact, sim, half)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["np", "lcfs", "fcfs"])
@pytest.mark.parametrize("on", ["prediction", "size"])
def test_one_bit_vs_long_simulation(variant, on):
    lam = 0.7
    gaps, x, y, tie = _mm1_exp_predictions(lam, 1_500_000, seed=5, variant=variant)
    sim, half = SIM.simulate(SIM.onebit(1.0, variant != "np", on), tie, gaps, x, y)
    exact = qt.OneBit(1.0, on=on, **VARIANTS[variant]).mean_response_time(
        workload(lam, "prediction"))
    assert abs(sim - exact) <= half, (exact, sim, half)


def test_bad_input():
    with pytest.raises(ParameterError, match="threshold must be >= 0"):
        qt.OneBit(-1.0)
    with pytest.raises(ParameterError, match="threshold must be finite"):
        qt.OneBit(float("nan"))
    with pytest.raises(ParameterError, match="shorts must be one of"):
        qt.OneBit(1.0, shorts="random")
    with pytest.raises(ParameterError, match="on must be one of"):
        qt.OneBit(1.0, on="oracle")
    with pytest.raises(ParameterError, match="preemptive must be True or False"):
        qt.OneBit(1.0, preemptive="yes")
    with pytest.raises(UnstableError):
        qt.OneBit(1.0).mean_response_time(workload(1.2, "prediction"))
    with pytest.raises(UnstableError):
        qt.OneBit.optimal_threshold(workload(1.0, "size"))
    with pytest.raises(ParameterError, match="workload must be"):
        qt.OneBit.optimal_threshold("M/M/1")
