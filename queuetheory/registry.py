"""Name registries for the command line: policies, size distributions, prediction models.

Names are looked up in dictionaries built from the package's own classes; command-line
parameter values are parsed by a small restricted parser (:func:`parse_value`) that
accepts only numbers, booleans and bracketed lists of numbers — never ``eval``.

>>> from queuetheory.registry import parse_spec
>>> parse_spec("weibull:shape=0.5,scale=0.5")
('weibull', {'shape': 0.5, 'scale': 0.5})
>>> parse_spec("discrete:values=[2;14],probs=[0.5;0.5]")
('discrete', {'values': [2.0, 14.0], 'probs': [0.5, 0.5]})
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from .errors import ParameterError

__all__ = [
    "policies",
    "distributions",
    "predictions",
    "parse_value",
    "parse_spec",
    "make_policy",
    "make_distribution",
    "make_prediction",
]

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?inf$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_MAX_SPEC_LENGTH = 10_000


def parse_value(text: str) -> Any:
    """Parse one parameter value: a number, ``true``/``false``, a bare word, or ``[a;b;...]``.

    >>> parse_value("1e-3"), parse_value("true"), parse_value("[1;2.5]"), parse_value("lcfs")
    (0.001, True, [1.0, 2.5], 'lcfs')
    """
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1].strip()
        if not inner:
            return []
        items = [s.strip() for s in re.split(r"[;\s]+", inner) if s.strip()]
        bad = [s for s in items if not _NUMBER.match(s)]
        if bad:
            raise ParameterError(f"list items must be numbers (got {bad[0]!r} in {text!r})")
        return [float(s) for s in items]
    if _NUMBER.match(t):
        return float(t)
    if _NAME.match(t):
        return t
    raise ParameterError(
        f"parameter value {text!r} is not a number, true/false, a word or a [a;b] list"
    )


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name:key=value,key=value"`` into a name and keyword arguments."""
    if len(spec) > _MAX_SPEC_LENGTH:
        raise ParameterError(f"specification is longer than {_MAX_SPEC_LENGTH} characters")
    name, _, rest = spec.partition(":")
    name = name.strip().lower()
    if not _NAME.match(name or "?"):
        raise ParameterError(f"{spec!r} does not start with a name")
    kwargs: dict[str, Any] = {}
    if rest.strip():
        for part in _split_top_level(rest):
            key, eq, value = part.partition("=")
            key = key.strip()
            if not eq or not _NAME.match(key or "?"):
                raise ParameterError(f"parameter {part!r} in {spec!r} is not of the form key=value")
            kwargs[key] = parse_value(value)
    return name, kwargs


def _split_top_level(text: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def _collect(module: Any, base: type) -> dict[str, type]:
    table: dict[str, type] = {}
    for obj in vars(module).values():
        if inspect.isclass(obj) and issubclass(obj, base) and obj is not base:
            if obj.__name__.startswith("_") or inspect.isabstract(obj):
                continue
            if obj.__name__ not in getattr(module, "__all__", ()):
                continue
            table.setdefault(obj.__name__.lower(), obj)
    return dict(sorted(table.items()))


def policies() -> dict[str, type]:
    """Policy classes by lower-case class name (e.g. ``"srpt"``, ``"onebit"``)."""
    from . import policies as mod
    from .policies.base import Policy

    return _collect(mod, Policy)


def distributions() -> dict[str, type]:
    """Size-distribution classes by lower-case class name (e.g. ``"weibull"``)."""
    from . import distributions as mod
    from .distributions.base import SizeDistribution

    table = _collect(mod, SizeDistribution)
    table.pop("scipydistribution", None)  # needs a Python object, not a name
    table.pop("empirical", None)  # needs data
    return table


def predictions() -> dict[str, type]:
    """Prediction-model classes by lower-case name without the ``prediction(s)`` suffix."""
    from . import predictions as mod
    from .predictions.base import PredictionModel

    table = {}
    for key, cls in _collect(mod, PredictionModel).items():
        short = re.sub(r"predictions?$", "", key) or key
        table[short] = cls
    table.pop("empirical", None)  # needs data
    return table


def _make(kind: str, table: dict[str, type], spec: str) -> Any:
    name, kwargs = parse_spec(spec)
    if name not in table:
        raise ParameterError(
            f"unknown {kind} {name!r}; valid {kind} names: {', '.join(table)}"
        )
    cls = table[name]
    try:
        return cls(**kwargs)
    except TypeError as exc:
        sig = inspect.signature(cls)
        raise ParameterError(f"bad parameters for {kind} {name!r}: {exc}; "
                             f"expected {name}{sig}") from None


def make_policy(spec: str) -> Any:
    """Build a policy from ``"name:key=value,..."``, e.g. ``"onebit:threshold=1"``."""
    return _make("policy", policies(), spec)


def make_distribution(spec: str) -> Any:
    """Build a size distribution from ``"name:key=value,..."``, e.g. ``"exponential:mean=1"``."""
    return _make("size distribution", distributions(), spec)


def make_prediction(spec: str) -> Any:
    """Build a prediction model from ``"name:key=value,..."``, e.g. ``"uniform:alpha=0.5"``."""
    return _make("prediction model", predictions(), spec)
