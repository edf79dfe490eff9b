"""Exceptions and argument validation shared by the whole package.

Every user-facing error raised for bad input is a :class:`ParameterError`, a
subclass of :class:`ValueError`, whose message names the offending parameter
and the rule it broke.

>>> from queuetheory.errors import check_positive
>>> check_positive("mean", -1.0)
Traceback (most recent call last):
...
queuetheory.errors.ParameterError: mean must be > 0 (got -1.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "QueueTheoryError",
    "ParameterError",
    "UnstableError",
    "IntegrationError",
    "RankFunctionError",
    "check_positive",
    "check_nonnegative",
    "check_finite",
    "check_in_interval",
    "check_probability_vector",
    "check_positive_integer",
]


class QueueTheoryError(Exception):
    """Base class of every exception raised by queuetheory."""


class ParameterError(QueueTheoryError, ValueError):
    """A parameter broke a rule; the message names the parameter and the rule."""


class UnstableError(ParameterError):
    """The load is rho >= 1, so the queue has no steady state."""


class IntegrationError(QueueTheoryError, ArithmeticError):
    """A numerical integral did not reach the requested accuracy or was not finite."""


class RankFunctionError(ParameterError):
    """A user-supplied rank function raised, or returned something that is not a rank."""


def check_finite(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real number (got {value!r})") from None
    if not np.isfinite(v):
        raise ParameterError(f"{name} must be finite (got {v!r})")
    return v


def check_positive(name: str, value: Any, *, allow_inf: bool = False) -> float:
    """Return ``value`` as a float, or raise unless it is > 0 (and finite unless ``allow_inf``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real number > 0 (got {value!r})") from None
    if np.isnan(v) or v <= 0:
        raise ParameterError(f"{name} must be > 0 (got {v!r})")
    if np.isinf(v) and not allow_inf:
        raise ParameterError(f"{name} must be finite (got {v!r})")
    return v


def check_nonnegative(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise unless it is finite and >= 0."""
    v = check_finite(name, value)
    if v < 0:
        raise ParameterError(f"{name} must be >= 0 (got {v!r})")
    return v


def check_in_interval(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    closed_low: bool = True,
    closed_high: bool = True,
) -> float:
    """Return ``value`` as a float, or raise unless it lies in the stated interval."""
    v = check_finite(name, value)
    ok_low = v >= low if closed_low else v > low
    ok_high = v <= high if closed_high else v < high
    if not (ok_low and ok_high):
        lb = "[" if closed_low else "("
        rb = "]" if closed_high else ")"
        raise ParameterError(f"{name} must lie in {lb}{low}, {high}{rb} (got {v!r})")
    return v


def check_positive_integer(name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise unless it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ParameterError(f"{name} must be an integer >= 1 (got {value!r})")
    if value < 1:
        raise ParameterError(f"{name} must be an integer >= 1 (got {value!r})")
    return int(value)


def check_probability_vector(name: str, probs: Any, *, atol: float = 1e-9) -> np.ndarray:
    """Return ``probs`` as a float array, or raise unless entries are >= 0 and sum to 1."""
    p = np.asarray(probs, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise ParameterError(f"{name} must be a non-empty 1-D sequence of probabilities")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ParameterError(f"{name} must contain finite probabilities >= 0 (got {p.tolist()})")
    total = float(p.sum())
    if abs(total - 1.0) > atol:
        raise ParameterError(f"{name} must sum to 1 (sums to {total!r})")
    return p / total
