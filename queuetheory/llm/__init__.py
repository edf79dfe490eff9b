"""LLM inference serving: memory-aware models and a fast batched-server simulator.

Analytic part: KV-cache arithmetic (:mod:`~queuetheory.llm.kvcache`), iteration
cost models with sourced presets (:mod:`~queuetheory.llm.costs`), compute and
memory capacity bounds (:mod:`~queuetheory.llm.bounds`) and queueing formulas
(:mod:`~queuetheory.llm.queueing`). Simulator: requests and workloads
(:mod:`~queuetheory.llm.requests`), policies (:mod:`~queuetheory.llm.policies`),
the server configuration (:mod:`~queuetheory.llm.server`), :func:`simulate`
(:mod:`~queuetheory.llm.simulator`) and its results
(:mod:`~queuetheory.llm.metrics`). Background: ``docs/background/llm.md`` and
llm-models.md.

>>> from queuetheory import llm
>>> server = llm.Server(max_batch_size=1, kv_capacity_tokens=None,
...                     cost=llm.LinearCost(per_iteration=1.0, per_token=0.0))
>>> res = llm.simulate([llm.Request(0.0, 1, 3)], server, llm.FCFS())
>>> round(float(res.latency[0]), 6)
3.000001
"""

from . import bounds, costs, kvcache, metrics, policies, queueing, requests, server, simulator
from .bounds import *  # noqa: F401,F403
from .costs import *  # noqa: F401,F403
from .kvcache import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
from .policies import *  # noqa: F401,F403
from .queueing import *  # noqa: F401,F403
from .requests import *  # noqa: F401,F403
from .server import *  # noqa: F401,F403
from .simulator import *  # noqa: F401,F403

__all__ = [
    *kvcache.__all__,
    *costs.__all__,
    *bounds.__all__,
    *queueing.__all__,
    *requests.__all__,
    *policies.__all__,
    *server.__all__,
    *simulator.__all__,
    *metrics.__all__,
]
