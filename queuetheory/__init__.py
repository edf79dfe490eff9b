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
from .simulation import *  # noqa: F401,F403
from .simulation import __all__ as _sim_all
from .workload import Workload, as_size_distribution

_LAZY_SUBMODULES = ("symbolic", "llm", "soap", "reproduce", "cli")


def __getattr__(name: str):
    """Import the heavier submodules (sympy-based, LLM) on first use."""
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'queuetheory' has no attribute {name!r}")

__all__ = [
    "__version__",
    "Workload",
    "as_size_distribution",
    "Estimate",
    "QueueTheoryError",
    "ParameterError",
    "UnstableError",
    "IntegrationError",
    "RankFunctionError",
    *_dist_all,
    *_pred_all,
    *_pol_all,
    *_sim_all,
]
