"""Job-size distributions: pdf, cdf, moments, partial moments, sampling, symbolic forms."""

from .base import SizeDistribution
from .continuous import *  # noqa: F401,F403
from .continuous import __all__ as _continuous_all

__all__ = ["SizeDistribution", *_continuous_all]
