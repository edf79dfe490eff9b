"""Scheduling policies: rank functions plus optional closed forms."""

from .base import Policy
from .rank import NONPREEMPTIBLE, PiecewiseRank

__all__ = ["Policy", "PiecewiseRank", "NONPREEMPTIBLE"]
