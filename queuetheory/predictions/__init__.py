"""Prediction-error models: the joint law of (size, prediction).

=====================================  ================  ====================================
model                                  ``name``          joint quantities
=====================================  ================  ====================================
:class:`PerfectPrediction`             ``perfect``       the size law's own
:class:`ExponentialPrediction`         ``exponential``   Bessel-K closed forms for exponential
                                                         sizes, quadrature otherwise
:class:`UniformPrediction`             ``uniform``       partial moments + band quadrature
:class:`LognormalPrediction`           ``lognormal``     quadrature
:class:`BoundedMultiplicativePrediction`  ``bounded``    partial moments (+ band quadrature)
:class:`EmpiricalPredictions`          ``empirical``     exact sums (joint mode) / partial
                                                         moments (ratio mode)
=====================================  ================  ====================================
"""

from .base import JointLaw, PredictionModel
from .bounded import *  # noqa: F401,F403
from .bounded import __all__ as _bounded_all
from .empirical import *  # noqa: F401,F403
from .empirical import __all__ as _empirical_all
from .exponential import *  # noqa: F401,F403
from .exponential import __all__ as _exp_all
from .lognormal import *  # noqa: F401,F403
from .lognormal import __all__ as _lognormal_all
from .multiplicative import *  # noqa: F401,F403
from .multiplicative import __all__ as _mult_all
from .perfect import *  # noqa: F401,F403
from .perfect import __all__ as _perfect_all
from .uniform import *  # noqa: F401,F403
from .uniform import __all__ as _uniform_all

__all__ = ["PredictionModel", "JointLaw", *_perfect_all, *_exp_all, *_uniform_all,
           *_lognormal_all, *_bounded_all, *_empirical_all, *_mult_all]

#: Registry of prediction models by their ``name`` (for the CLI).
PREDICTION_MODELS = {cls.name: cls for cls in (
    PerfectPrediction, ExponentialPrediction, UniformPrediction,  # noqa: F405
    LognormalPrediction, BoundedMultiplicativePrediction, EmpiricalPredictions)}  # noqa: F405
