"""The ``queuetheory`` command line.

Subcommands
-----------
``evaluate``   policy, size law, prediction model, arrival rate (or load) -> exact E[T] with its
               numerical error estimate.
``simulate``   the same workload simulated, with a confidence interval.
``reproduce``  regenerate the published tables and figures (see :mod:`queuetheory.reproduce`).
``list``       the valid policy, distribution and prediction names.

Names are looked up in :mod:`queuetheory.registry`; parameter values go through a restricted
parser (numbers, booleans, words, ``[a;b]`` lists), never ``eval``.

>>> main(["evaluate", "--policy", "fcfs", "--size", "exponential:mean=1", "--rate", "0.5"])
FCFS() on Workload(arrival_rate=0.5, size=Exponential(mean=1.0)): E[T] = 2 (error estimate ...)
0
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from ._version import __version__
from .errors import QueueTheoryError

__all__ = ["main", "build_parser"]


def _add_workload_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", required=True,
                   help='policy spec, e.g. "srpt" or "onebit:threshold=1,preemptive=true"')
    p.add_argument("--size", default="exponential:mean=1",
                   help='size law, e.g. "weibull:shape=0.5,scale=0.5" (default exponential:mean=1)')
    p.add_argument("--prediction", default=None,
                   help='prediction model, e.g. "exponential" or "uniform:alpha=0.5" '
                        "(default: exact predictions)")
    rate = p.add_mutually_exclusive_group(required=True)
    rate.add_argument("--rate", type=float, help="arrival rate lambda")
    rate.add_argument("--load", type=float, help="load rho = lambda E[S] (sets lambda)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``queuetheory`` command."""
    parser = argparse.ArgumentParser(
        prog="queuetheory",
        description="Exact analysis of queues whose schedulers use predicted job sizes.",
    )
    parser.add_argument("--version", action="version", version=f"queuetheory {__version__}")
    sub = parser.add_subparsers(dest="command")

    ev = sub.add_parser("evaluate", help="exact mean response time of a policy")
    _add_workload_args(ev)
    ev.add_argument("--rtol", type=float, default=1e-10, help="relative accuracy (default 1e-10)")
    ev.add_argument("--method", choices=["auto", "closed_form", "soap"], default="auto",
                    help="closed form, generic SOAP engine, or auto (default)")

    si = sub.add_parser("simulate", help="simulate a policy and report a confidence interval")
    _add_workload_args(si)
    si.add_argument("--jobs", type=int, default=200_000, help="number of jobs (default 200000)")
    si.add_argument("--seed", type=int, default=1, help="random seed (default 1)")

    rep = sub.add_parser("reproduce", help="regenerate the published tables and figures")
    rep.add_argument("--out", default="results", help="output directory (default ./results)")
    rep.add_argument("--with-simulation", action="store_true",
                     help="add simulated columns with confidence intervals (slower)")
    rep.add_argument("--quiet", action="store_true", help="no progress display")

    sub.add_parser("list", help="list the valid policy, distribution and prediction names")
    return parser


def _workload(args: argparse.Namespace):
    from . import registry
    from .workload import Workload

    size = registry.make_distribution(args.size)
    prediction = registry.make_prediction(args.prediction) if args.prediction else None
    if args.rate is not None:
        rate = args.rate
    else:
        if not args.load > 0:
            from .errors import ParameterError

            raise ParameterError(f"load must be > 0 (got {args.load!r})")
        rate = args.load / size.mean()
    return registry.make_policy(args.policy), Workload(rate, size, prediction)


def _fmt(v: float) -> str:
    return "inf" if math.isinf(v) else f"{v:.12g}"


def _evaluate(args: argparse.Namespace) -> dict[str, Any]:
    policy, w = _workload(args)
    est = policy.evaluate(w, method=args.method, rtol=args.rtol)
    return {"policy": repr(policy), "workload": repr(w), "load": w.load,
            "mean_response_time": est.value, "error_estimate": est.error}


def _simulate(args: argparse.Namespace) -> dict[str, Any]:
    from .simulation import simulate

    policy, w = _workload(args)
    r = simulate(policy, w, jobs=args.jobs, seed=args.seed)
    low, high = r.confidence_interval
    return {"policy": repr(policy), "workload": repr(w), "load": w.load, "jobs": args.jobs,
            "seed": args.seed, "mean_response_time": r.mean_response_time,
            "confidence_interval": [low, high], "level": getattr(r, "level", None)}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "list":
            from . import registry

            for kind, table in (("policies", registry.policies()),
                                ("sizes", registry.distributions()),
                                ("predictions", registry.predictions())):
                print(f"{kind}: {', '.join(table)}")
            return 0
        if args.command == "reproduce":
            from .reproduce import reproduce

            reproduce(args.out, with_simulation=args.with_simulation,
                      progress=not args.quiet)
            return 0
        if args.command == "evaluate":
            out = _evaluate(args)
            if args.json:
                print(json.dumps(out))
            else:
                print(f"{out['policy']} on {out['workload']}: E[T] = "
                      f"{_fmt(out['mean_response_time'])} "
                      f"(error estimate {out['error_estimate']:.3g})")
            return 0
        if args.command == "simulate":
            out = _simulate(args)
            if args.json:
                print(json.dumps(out))
            else:
                lo, hi = out["confidence_interval"]
                print(f"{out['policy']} on {out['workload']}: simulated E[T] = "
                      f"{out['mean_response_time']:.6g}, CI [{lo:.6g}, {hi:.6g}] "
                      f"({out['jobs']} jobs, seed {out['seed']})")
            return 0
    except QueueTheoryError as exc:
        print(f"queuetheory: error: {exc}", file=sys.stderr)
        return 2
    return 0  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
