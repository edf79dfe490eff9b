"""The ``queuetheory`` command line (skeleton; subcommands are filled in by later modules)."""

from __future__ import annotations

import argparse
import sys

from ._version import __version__

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="queuetheory",
        description="Exact analysis of queues whose schedulers use predicted job sizes.",
    )
    parser.add_argument("--version", action="version", version=f"queuetheory {__version__}")
    sub = parser.add_subparsers(dest="command")
    rep = sub.add_parser("reproduce", help="regenerate the published tables and figures")
    rep.add_argument("--out", default="results", help="output directory (default ./results)")
    rep.add_argument("--with-simulation", action="store_true",
                     help="add simulated columns with confidence intervals")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "reproduce":
        print("queuetheory reproduce: regenerates the published tables and figures "
              f"into {args.out}/ (not yet implemented)")
        return 0
    return 0  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
