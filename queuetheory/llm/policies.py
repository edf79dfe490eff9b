r"""Scheduling policies for the LLM-server simulator (llm-models.md §9).

A policy orders the waiting queue (lower key first, ties by arrival), decides
whether a waiting request may *displace* a running one (preemptive policies)
and chooses the victim of a failed block allocation:

========================  ======================================  ==================================
policy                    key (lower first)                       preemption
========================  ======================================  ==================================
:class:`FCFS`             arrival; preempted requests go to the   memory victim: the newest admitted
                          front of the queue (vLLM v1)            (``running.pop()``)
:class:`SPJF`             initial prediction ŷ⁽⁰⁾                 none by priority (``preemptive``
                                                                  option gives PSPJF); memory
                                                                  victim max (key, arrival)
:class:`SPRPT`            predicted remaining ŷ − j (or refined)  displaces the running request with
                                                                  the largest key
:class:`TRAIL`            predicted remaining                     only while j ≤ c·ŷ⁽⁰⁾; past the
                                                                  cutoff never a victim, and sorted
                                                                  last if it waits
:class:`LearningToRank`   a ranking score with Kendall τ to o     displaces (batch = best ranks);
                                                                  starvation promotion
:class:`SkipJoinMLFQ`     (queue level, time entered it)          displaces lower levels; quanta
                                                                  double; skip-join; promotion
:class:`MCSF`             ŷ⁽⁰⁾, admitted only if the future       none (fallback on overflow: the
                          memory check passes (Jaillet et al.)    largest key)
:class:`MemoryTimeRank`   predicted remaining memory×time area    optional; starvation promotion
========================  ======================================  ==================================

A displacement happens at an iteration boundary when the best waiting
request has a strictly smaller (key, arrival) than the worst preemptible
running request and could not be admitted without displacing someone
(batch full, token budget or memory) [R, toolkit rule]; the displaced request
is handled by the server's preemption mode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import (
    ParameterError,
    check_in_interval,
    check_nonnegative,
    check_positive,
    check_positive_integer,
)
from . import _kernel as K

__all__ = [
    "LLMPolicy",
    "FCFS",
    "SPJF",
    "SPRPT",
    "TRAIL",
    "LearningToRank",
    "SkipJoinMLFQ",
    "MCSF",
    "MemoryTimeRank",
]


class LLMPolicy:
    """Base class: fills the kernel's policy slots; subclasses set ``kind``."""

    kind: int = K.P_FCFS
    name: str = "policy"
    preemptive: bool = False
    starvation_threshold: float | None = None
    max_preemptions: int | None = None

    def _fill(self, ip: Any, fp: Any) -> None:
        ip[K.I_POLICY] = self.kind
        ip[K.I_PREEMPTIVE] = int(self.preemptive)
        ip[K.I_MAX_PREEMPT] = -1 if self.max_preemptions is None else self.max_preemptions
        fp[K.F_STARVATION] = (K.BIG if self.starvation_threshold is None
                              else self.starvation_threshold)

    def _static_arrays(self, reqs, server, rng) -> dict[str, np.ndarray]:
        """Per-request inputs (scores, MLFQ levels); defaults: none."""
        return {}

    def _params(self) -> dict:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


def _check_starvation(value):
    return None if value is None else check_positive("starvation_threshold", value)


def _check_max_preemptions(value):
    if value is None:
        return None
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ParameterError(f"max_preemptions must be an integer >= 0 (got {value!r})")
    return int(value)


class FCFS(LLMPolicy):
    """First come, first served with vLLM-v1 semantics (llm-models.md §9.1) [C].

    Waiting requests in arrival order; a preempted request goes to the front of
    the queue; the victim of a failed allocation is the most recently admitted
    running request.
    """

    kind = K.P_FCFS
    name = "FCFS"


class SPJF(LLMPolicy):
    """Shortest predicted job first: key ŷ⁽⁰⁾ (llm-models.md §9.2) [R].

    Non-preemptive by default (only memory preemption applies, victim the
    largest (ŷ⁽⁰⁾, arrival), vLLM's priority rule); ``preemptive=True`` gives
    PSPJF, which displaces running requests predicted longer.
    """

    kind = K.P_SPJF
    name = "SPJF"

    def __init__(self, preemptive: bool = False) -> None:
        self.preemptive = bool(preemptive)

    def _params(self):
        return {"preemptive": self.preemptive}


class SPRPT(LLMPolicy):
    """Shortest predicted remaining processing time: key ŷ − j (llm-models.md §9.2) [R].

    With a :class:`~queuetheory.llm.RefinedPrediction` the key is the latest
    refined remaining prediction counted down by one per token. Preemptive.

    Parameters
    ----------
    margin : float
        Displace only if the newcomer's key is smaller by more than ``margin`` tokens.
    max_preemptions : int, optional
        A request preempted this many times becomes non-preemptible.
    """

    kind = K.P_SPRPT
    name = "SPRPT"
    preemptive = True

    def __init__(self, margin: float = 0.0, max_preemptions: int | None = None) -> None:
        self.margin = check_nonnegative("margin", margin)
        self.max_preemptions = _check_max_preemptions(max_preemptions)

    def _fill(self, ip, fp):
        super()._fill(ip, fp)
        fp[K.F_MARGIN] = self.margin

    def _params(self):
        return {"margin": self.margin, "max_preemptions": self.max_preemptions}


class TRAIL(SPRPT):
    """TRAIL(c): SPRPT with limited preemption (Shahout et al., ICLR 2025; llm-models.md §9.3).

    The key is the predicted remaining length. A running request may be
    preempted only while ``generated ≤ c · initial prediction``; past that
    cutoff it is never chosen as a victim and, if it ever waits, is sorted last.
    c = 0: no preemption once started (SPJF ordering of the queue, as TRAIL's
    launcher default ``TRAIL_C = 0``); c = 1: SPRPT up to the prediction.
    TRAIL's paper reports c = 0.8 working best at high load [S].

    Parameters
    ----------
    c : float
        Cutoff fraction, 0 ≤ c (values above 1 allow preemption past the prediction).
    margin, max_preemptions : see :class:`SPRPT`.
    """

    kind = K.P_TRAIL
    name = "TRAIL"

    def __init__(self, c: float = 0.8, margin: float = 0.0,
                 max_preemptions: int | None = None) -> None:
        super().__init__(margin=margin, max_preemptions=max_preemptions)
        self.c = check_nonnegative("c", c)

    def _fill(self, ip, fp):
        super()._fill(ip, fp)
        fp[K.F_TRAIL_C] = self.c

    def _params(self):
        return {"c": self.c, **super()._params()}


class LearningToRank(LLMPolicy):
    """Learning-to-rank scheduling (Fu et al., NeurIPS 2024; llm-models.md §9.4).

    Each request gets a score whose population Kendall τ with its output length
    is ``kendall_tau`` (:func:`~queuetheory.llm.kendall_tau_scores`, drawn from
    the simulation seed); the batch is the best-ranked requests that fit, so
    a better-ranked newcomer displaces the worst running request.

    Starvation prevention [R; the paper's exact rule is not confirmed]: a
    request that has waited ``starvation_threshold`` seconds since it last
    ran is promoted ahead of all unpromoted requests (FCFS among promoted).

    Parameters
    ----------
    kendall_tau : float
        In [-1, 1]; 1 is a perfect ranking (= SPRPT-like ordering by length).
    preemptive : bool
        Displace running requests (default True).
    starvation_threshold : float, optional
    """

    kind = K.P_LTR
    name = "LTR"

    def __init__(self, kendall_tau: float = 0.6, preemptive: bool = True,
                 starvation_threshold: float | None = None) -> None:
        self.kendall_tau = check_in_interval("kendall_tau", kendall_tau, -1.0, 1.0)
        self.preemptive = bool(preemptive)
        self.starvation_threshold = _check_starvation(starvation_threshold)

    def _static_arrays(self, reqs, server, rng):
        from .requests import kendall_tau_scores
        return {"skey": kendall_tau_scores(reqs.output_tokens, self.kendall_tau, rng)}

    def _params(self):
        return {"kendall_tau": self.kendall_tau, "preemptive": self.preemptive,
                "starvation_threshold": self.starvation_threshold}


class SkipJoinMLFQ(LLMPolicy):
    """FastServe's skip-join multi-level feedback queue (Wu et al. 2023; llm-models.md §9.5) [S].

    ``n_queues`` levels with quanta q_k = ``base_quantum``·2^(k−1) iterations
    (the last level has no limit). Quanta are counted in iterations of the
    request's service; the iteration that completes the initial prefill counts
    ⌈prefill_time(s) / decode_time(1)⌉ units. Skip-join: a new request enters
    the highest-priority level whose quantum is at least its prefill units. A
    request that uses up its quantum moves down a level (FIFO within a level).
    A request that has waited ``starvation_threshold`` seconds (FastServe's
    α = 300 ms) since it last ran is promoted to the top level. Preemptive.
    """

    kind = K.P_MLFQ
    name = "MLFQ"
    preemptive = True

    def __init__(self, n_queues: int = 6, base_quantum: int = 1,
                 starvation_threshold: float | None = 0.3) -> None:
        self.n_queues = check_positive_integer("n_queues", n_queues)
        self.base_quantum = check_positive_integer("base_quantum", base_quantum)
        if self.n_queues > 40:
            raise ParameterError(f"n_queues must be <= 40 (got {self.n_queues})")
        self.starvation_threshold = _check_starvation(starvation_threshold)

    def _fill(self, ip, fp):
        super()._fill(ip, fp)
        ip[K.I_MLFQ_NQ] = self.n_queues
        ip[K.I_MLFQ_Q1] = self.base_quantum

    def _static_arrays(self, reqs, server, rng):
        cost = server.cost
        unit = cost.decode_time(1, 1)
        s = reqs.prompt_tokens
        uniq, inv = np.unique(s, return_inverse=True)
        pre = np.array([cost.prefill_time(int(v)) for v in uniq])[inv]
        units = np.maximum(np.ceil(pre / unit - 1e-12), 1).astype(np.int64)
        quanta = self.base_quantum * (2 ** np.arange(self.n_queues, dtype=np.int64))
        level = np.searchsorted(quanta, units, side="left")
        level = np.minimum(level, self.n_queues - 1).astype(np.int64)
        return {"unit_first": units, "entry_level": level}

    def _params(self):
        return {"n_queues": self.n_queues, "base_quantum": self.base_quantum,
                "starvation_threshold": self.starvation_threshold}


class MCSF(LLMPolicy):
    """Memory-constrained shortest first (Jaillet et al. 2025; llm-models.md §9.7).

    Running requests are kept; waiting requests are admitted in increasing
    predicted output while the future memory check passes: with
    r_i = max(ŷ_i − j_i, 1) the predicted remaining tokens of the running set
    plus the candidate, Mem(u) = Σ_i (s_i + j_i + u)·1(u ≤ r_i) must stay ≤ M
    at every u ∈ {r_i} (M = KV capacity in tokens) [R]. With exact predictions
    no eviction is then needed up to block rounding; otherwise a failed
    allocation evicts the running request with the largest (ŷ⁽⁰⁾, arrival)
    [R, documented fallback; the paper's rule is not confirmed].
    """

    kind = K.P_MCSF
    name = "MC-SF"


class MemoryTimeRank(LLMPolicy):
    """Rank by predicted remaining memory×time area (LAMPS-style; llm-models.md §9.8) [R].

    Key: the KV token-iterations the request will still occupy,
    Σ_{m=0}^{r−1} (s + j + m) = r(s + j) + r(r − 1)/2 with r the predicted remaining
    tokens (≥ 1). Non-preemptive by default; optional starvation promotion. API
    calls are not modelled, so this is LAMPS' ranking without its pause term.
    """

    kind = K.P_MEMTIME
    name = "MemTime"

    def __init__(self, preemptive: bool = False,
                 starvation_threshold: float | None = None) -> None:
        self.preemptive = bool(preemptive)
        self.starvation_threshold = _check_starvation(starvation_threshold)

    def _params(self):
        return {"preemptive": self.preemptive, "starvation_threshold": self.starvation_threshold}


