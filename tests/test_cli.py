"""The command line and the name registry: lookups, the restricted parser, errors, JSON."""

import json
import math
import subprocess
import sys

import pytest

import queuetheory as qt
from queuetheory import registry
from queuetheory.cli import main
from queuetheory.errors import ParameterError


@pytest.mark.parametrize(
    "text, expected",
    [("1", 1.0), ("-2.5e-3", -2.5e-3), ("true", True), ("False", False), ("inf", math.inf),
     ("[1;2;3]", [1.0, 2.0, 3.0]), ("[0.5 0.5]", [0.5, 0.5]), ("lcfs", "lcfs")],
)
def test_parse_value_accepts_literals(text, expected):
    assert registry.parse_value(text) == expected


@pytest.mark.parametrize("text", ["__import__('os')", "1+1", "[1;os]", "a.b", "x()", "'s'"])
def test_parse_value_rejects_code(text):
    with pytest.raises(ParameterError):
        registry.parse_value(text)


def test_unknown_names_list_valid_ones():
    with pytest.raises(ParameterError, match="valid policy names: .*srpt"):
        registry.make_policy("shortest")
    with pytest.raises(ParameterError, match="valid size distribution names: .*exponential"):
        registry.make_distribution("normalish:mean=1")


def test_bad_keyword_names_the_signature():
    with pytest.raises(ParameterError, match="bad parameters for size distribution"):
        registry.make_distribution("exponential:rate=2")


def test_registry_builds_the_right_objects():
    assert isinstance(registry.make_policy("srpt"), qt.SRPT)
    d = registry.make_distribution("weibull:shape=0.5,scale=0.5")
    assert d.mean() == pytest.approx(1.0, rel=1e-12)
    assert isinstance(registry.make_prediction("exponential"), qt.ExponentialPrediction)


def test_evaluate_json_matches_the_library(capsys):
    rc = main(["evaluate", "--policy", "srpt", "--size", "exponential:mean=1", "--rate", "0.9",
               "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    w = qt.Workload(0.9, qt.Exponential(mean=1.0))
    assert out["mean_response_time"] == qt.SRPT().mean_response_time(w)
    assert 0 <= out["error_estimate"] < 1e-9 * out["mean_response_time"]


def test_evaluate_load_option_and_prediction(capsys):
    rc = main(["evaluate", "--policy", "sprpt", "--prediction", "exponential", "--load", "0.8",
               "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mean_response_time"] == pytest.approx(3.1375239891, rel=1e-9)


def test_evaluate_infinite_answer(capsys):
    rc = main(["evaluate", "--policy", "fcfs", "--size", "pareto:shape=1.5,scale=1",
               "--rate", "0.1"])
    assert rc == 0
    assert "E[T] = inf" in capsys.readouterr().out


def test_errors_exit_2_with_message(capsys):
    rc = main(["evaluate", "--policy", "fcfs", "--rate", "1.5"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "rho" in err and "must be < 1" in err
    rc = main(["evaluate", "--policy", "nosuch", "--rate", "0.5"])
    assert rc == 2
    assert "valid policy names" in capsys.readouterr().err


def test_simulate_json(capsys):
    rc = main(["simulate", "--policy", "fcfs", "--rate", "0.5", "--jobs", "20000", "--seed", "3",
               "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    lo, hi = out["confidence_interval"]
    assert lo < out["mean_response_time"] < hi
    # M/M/1 FCFS at load 0.5: E[T] = 2; a 20000-job run is within 25% of it (CI half-width
    # there is about 3%), so this only guards against a grossly wrong workload.
    assert abs(out["mean_response_time"] - 2.0) < 0.5


def test_list_and_version():
    assert main(["list"]) == 0
    res = subprocess.run([sys.executable, "-m", "queuetheory.cli", "--version"],
                         capture_output=True, text=True, check=True)
    assert res.stdout.strip() == f"queuetheory {qt.__version__}"
