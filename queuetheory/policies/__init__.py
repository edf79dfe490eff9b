"""Scheduling policies: rank functions plus optional closed forms.

Each module owns one family of policies and lists them in its ``__all__``.
"""

from . import classic, custom, gittins, misprediction, onebit, prediction, skippredict, trail
from .base import Policy
from .classic import *  # noqa: F401,F403
from .custom import *  # noqa: F401,F403
from .gittins import *  # noqa: F401,F403
from .misprediction import *  # noqa: F401,F403
from .onebit import *  # noqa: F401,F403
from .prediction import *  # noqa: F401,F403
from .rank import NONPREEMPTIBLE, PiecewiseRank
from .skippredict import *  # noqa: F401,F403
from .trail import *  # noqa: F401,F403

__all__ = [
    "Policy",
    "PiecewiseRank",
    "NONPREEMPTIBLE",
    *classic.__all__,
    *prediction.__all__,
    *onebit.__all__,
    *skippredict.__all__,
    *trail.__all__,
    *gittins.__all__,
    *custom.__all__,
    *misprediction.__all__,
]
