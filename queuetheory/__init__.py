"""queuetheory: exact analysis of queues whose schedulers use predicted job sizes.

>>> import queuetheory as qt
>>> w = qt.Workload(arrival_rate=0.5, size=qt.Exponential(mean=1.0))
>>> w.load
0.5
"""

from ._version import __version__
from .distributions import *  # noqa: F401,F403
from .distributions import __all__ as _dist_all
from .errors import (
    IntegrationError,
    ParameterError,
    QueueTheoryError,
    RankFunctionError,
    UnstableError,
)
from .integrate import Estimate
from .policies import *  # noqa: F401,F403
from .policies import __all__ as _pol_all
from .predictions import *  # noqa: F401,F403
from .predictions import __all__ as _pred_all
from .workload import Workload

__all__ = [
    "__version__",
    "Workload",
    "Estimate",
    "QueueTheoryError",
    "ParameterError",
    "UnstableError",
    "IntegrationError",
    "RankFunctionError",
    *_dist_all,
    *_pred_all,
    *_pol_all,
]
