r"""Capacity bounds of one LLM server: compute, memory, batch slots, and their minimum.

**Compute bound** (Li, Dai, Peng 2025; llm-models.md §6.1 [C abstract; formula S]).
With batches of at most b tokens taking t_b seconds and m_p, m_d the mean
prefill and decode tokens per request, one engine is stable only if

.. math::  \lambda (m_p + m_d) < b / t_b ,

and work-conserving batching that mixes prefill and decode reaches it.

**Memory bound** (Nie, Si, Zhou 2026; llm-models.md §6.2 [C abstract; formula S]).
A request's cumulative KV demand is :math:`g(s, o) = o s + o(o+1)/2`
token-iterations (decode-only form, §7.4); with M tokens of KV and iterations
of b̄ seconds,

.. math::  \mu_\text{mem} = \frac{M}{\bar b\, E[g(s, o)]},\qquad
           E[g] = E[o]E[s] + \frac{E[o^2] + E[o]}{2}\ (s, o \text{ independent}).

This is Little's law for memory: throughput × area per request = memory in use ≤ M.

**Slot bound** [R]: with at most k running requests and decode iterations of
t(k) seconds, at most k/(E[o]·t(k)) requests per second complete (the death
rate of the birth–death model at k, llm-models.md §7.3).

**Deployment capacity** (§6.3 [R]): the minimum,
:math:`\lambda^* \approx \min(b/(t_b(m_p + m_d)),\ M/(\bar b E[g]))` (and the slot
bound when given) — the rate at which simulated throughput levels off.

>>> from queuetheory import llm
>>> round(llm.compute_bound(token_budget=512, batch_time=0.05, mean_prompt=400,
...                         mean_output=100), 6)
20.48
>>> round(llm.memory_bound(capacity_tokens=66_144, iteration_time=0.05,
...                        mean_area=llm.mean_memory_area(1000, 200, 200**2 * 2)), 4)
5.5097
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ParameterError, check_nonnegative, check_positive

__all__ = [
    "compute_bound",
    "memory_bound",
    "slot_bound",
    "mean_memory_area",
    "deployment_capacity",
    "CapacityBounds",
]


def compute_bound(token_budget: float, batch_time: float, mean_prompt: float,
                  mean_output: float) -> float:
    """Li–Dai–Peng compute bound b / (t_b (m_p + m_d)) in requests per second.

    Parameters
    ----------
    token_budget : float
        b, tokens per batch.
    batch_time : float
        t_b, seconds per full batch of b tokens.
    mean_prompt, mean_output : float
        m_p and m_d, mean prefill and decode tokens per request.
    """
    b = check_positive("token_budget", token_budget)
    tb = check_positive("batch_time", batch_time)
    mp = check_nonnegative("mean_prompt", mean_prompt)
    md = check_nonnegative("mean_output", mean_output)
    if mp + md <= 0:
        raise ParameterError("mean_prompt + mean_output must be > 0")
    return b / (tb * (mp + md))


def mean_memory_area(mean_prompt: float, mean_output: float,
                     output_second_moment: float) -> float:
    """E[g] = E[o]E[s] + (E[o²] + E[o])/2 token-iterations, s and o independent (§6.2, §7.4)."""
    ms = check_nonnegative("mean_prompt", mean_prompt)
    mo = check_positive("mean_output", mean_output)
    m2 = check_positive("output_second_moment", output_second_moment)
    if m2 < mo * mo * (1 - 1e-12):
        raise ParameterError(f"output_second_moment must be >= mean_output**2 "
                             f"(got {m2!r} < {mo * mo!r})")
    return mo * ms + (m2 + mo) / 2


def memory_bound(capacity_tokens: float, iteration_time: float, mean_area: float) -> float:
    """Nie–Si–Zhou memory bound M / (b̄ E[g]) in requests per second (§6.2).

    ``mean_area`` is E[g] in token-iterations (:func:`mean_memory_area`).
    """
    m = check_positive("capacity_tokens", capacity_tokens)
    b = check_positive("iteration_time", iteration_time)
    g = check_positive("mean_area", mean_area)
    return m / (b * g)


def slot_bound(max_batch_size: int, iteration_time: float, mean_output: float) -> float:
    """k / (E[o] t(k)): completions per second with k requests always running [R]."""
    k = check_positive("max_batch_size", max_batch_size)
    t = check_positive("iteration_time", iteration_time)
    mo = check_positive("mean_output", mean_output)
    return k / (mo * t)


@dataclass(frozen=True)
class CapacityBounds:
    """The bounds of one deployment (requests per second; ``inf`` when not applicable)."""

    compute: float
    memory: float
    slots: float

    @property
    def capacity(self) -> float:
        """The smallest bound: the capacity of this deployment."""
        return min(self.compute, self.memory, self.slots)

    @property
    def binding(self) -> str:
        """Which bound is the smallest ("compute", "memory" or "slots")."""
        vals = {"compute": self.compute, "memory": self.memory, "slots": self.slots}
        return min(vals, key=vals.get)


def deployment_capacity(*, mean_prompt: float, mean_output: float,
                        output_second_moment: float | None = None,
                        token_budget: float | None = None, batch_time: float | None = None,
                        capacity_tokens: float | None = None,
                        iteration_time: float | None = None,
                        max_batch_size: int | None = None,
                        decode_iteration_time: float | None = None) -> CapacityBounds:
    """Compute, memory and slot bounds of a deployment and their minimum (§6.3).

    Each bound is computed when its inputs are given, else reported as ``inf``:
    compute needs ``token_budget`` and ``batch_time``; memory needs
    ``capacity_tokens``, ``iteration_time`` and ``output_second_moment``; slots
    need ``max_batch_size`` and ``decode_iteration_time`` (the iteration time with
    ``max_batch_size`` decodes).

    >>> b = deployment_capacity(mean_prompt=100, mean_output=50, output_second_moment=5000,
    ...                         token_budget=256, batch_time=0.03, capacity_tokens=10_000,
    ...                         iteration_time=0.03)
    >>> b.binding, round(b.compute, 4), round(b.memory, 4)
    ('memory', 56.8889, 44.2968)
    """
    comp = mem = slots = math.inf
    if token_budget is not None or batch_time is not None:
        if token_budget is None or batch_time is None:
            raise ParameterError("token_budget and batch_time must be given together")
        comp = compute_bound(token_budget, batch_time, mean_prompt, mean_output)
    if capacity_tokens is not None:
        if iteration_time is None or output_second_moment is None:
            raise ParameterError("the memory bound needs iteration_time and "
                                 "output_second_moment with capacity_tokens")
        mem = memory_bound(capacity_tokens, iteration_time,
                           mean_memory_area(mean_prompt, mean_output, output_second_moment))
    if max_batch_size is not None:
        if decode_iteration_time is None:
            raise ParameterError("the slot bound needs decode_iteration_time with "
                                 "max_batch_size")
        slots = slot_bound(max_batch_size, decode_iteration_time, mean_output)
    return CapacityBounds(compute=comp, memory=mem, slots=slots)


