"""Prediction-error models: the joint law of (size, prediction)."""

from .base import JointLaw, PredictionModel
from .exponential import *  # noqa: F401,F403
from .exponential import __all__ as _exp_all
from .perfect import *  # noqa: F401,F403
from .perfect import __all__ as _perfect_all

__all__ = ["PredictionModel", "JointLaw", *_perfect_all, *_exp_all]
