r"""Queueing formulas for LLM serving (llm-models.md §7).

* :func:`distserve_ttft` — DistServe's TTFT formulas (Zhong et al., OSDI 2024,
  Eqs. 1–3 [S; each re-derived here]): prefill of uniform prompts is M/D/1 and
  the three equations are Pollaczek–Khinchine with service D (one GPU), D/2 as
  the bottleneck of a two-stage pipeline, and D/K with intra-op speed-up K.
* :func:`mg1_ttft`, :func:`prefill_ttft` — the general M/G/1 form, E[TTFT] =
  E[S] + λE[S²]/(2(1 − λE[S])) with S = prefill_time(s).
* :func:`clipped_output_latency` — output-length clipping (Yang, Jiao, Xu,
  WiOpt 2024 [C abstract; form R]): P-K with S = prefill + min(o, o_max)·TPOT.
* :class:`ContinuousBatchingModel` — continuous batching as a birth–death chain
  (§7.3 [R]).
* :func:`memory_time_area` — g(s, o) = o·s + o(o + 1)/2 token-iterations (§7.4).
* :func:`trail_mean_latency` — TRAIL's limited-preemption M/G/1 formula in LLM
  units (§7.5; job size = output tokens × time per token), evaluated by
  :class:`queuetheory.LimitedPreemptionSPRPT` (formulas.md §8.2).
* :class:`IterationLevelPolicy` and :func:`batch1_mean_latency` — the *exact*
  mean latency of a server that runs one request at a time, iteration by
  iteration (the simulator's degenerate configuration): the M/G/1 with sizes
  o·τ in which scheduling decisions happen only at iteration boundaries, i.e.
  the SOAP policy with point ranks at integer ages and rank −∞ in between,
  evaluated exactly by the SOAP engine (:mod:`queuetheory.soap`).

>>> from queuetheory import llm
>>> round(llm.distserve_ttft(rate=2.0, prefill_time=0.1), 6)   # 0.1 + 2*0.01/(2*0.8)
0.1125
>>> round(llm.memory_time_area(100, 10), 1)
1055.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import (
    ParameterError,
    UnstableError,
    check_nonnegative,
    check_positive,
    check_positive_integer,
)
from ..integrate import Estimate
from ..policies.base import Policy
from ..policies.rank import NONPREEMPTIBLE, PiecewiseRank

__all__ = [
    "distserve_ttft",
    "mg1_ttft",
    "prefill_ttft",
    "clipped_output_latency",
    "ContinuousBatchingModel",
    "memory_time_area",
    "trail_mean_latency",
    "IterationLevelPolicy",
    "batch1_mean_latency",
]


def _stable(rho: float, what: str) -> None:
    if not rho < 1:
        raise UnstableError(f"the load {what} = {rho:g} must be < 1 for a steady state")


def distserve_ttft(rate: float, prefill_time: float, *, variant: str = "single",
                   speedup: float = 2.0) -> float:
    r"""DistServe's average TTFT for uniform prompts (M/D/1), Zhong et al. 2024, Eqs. 1–3.

    ``variant="single"`` (one GPU, Eq. 1): :math:`D + RD^2/(2(1 - RD))`.
    ``"pipeline"`` (two-stage inter-op pipeline, stage D/2, Eq. 2):
    :math:`D + RD^2/(4(2 - RD))`.
    ``"intra_op"`` (intra-op parallelism with speed-up K = ``speedup``, Eq. 3):
    :math:`D/K + RD^2/(2K(K - RD))`.
    Each is Pollaczek–Khinchine with deterministic service (the bottleneck
    stage D/2, resp. D/K) [S; re-derived R]. Raises ``UnstableError`` when the
    bottleneck load is >= 1.
    """
    r = check_positive("rate", rate)
    d = check_positive("prefill_time", prefill_time)
    if variant == "single":
        _stable(r * d, "rate * prefill_time")
        return d + r * d * d / (2 * (1 - r * d))
    if variant == "pipeline":
        _stable(r * d / 2, "rate * prefill_time / 2")
        return d + r * d * d / (4 * (2 - r * d))
    if variant == "intra_op":
        k = check_positive("speedup", speedup)
        _stable(r * d / k, "rate * prefill_time / speedup")
        return d / k + r * d * d / (2 * k * (k - r * d))
    raise ParameterError(f"variant must be 'single', 'pipeline' or 'intra_op' (got {variant!r})")


def mg1_ttft(rate: float, mean_service: float, second_moment: float) -> float:
    """Pollaczek–Khinchine mean sojourn E[S] + λE[S²]/(2(1 − λE[S])) (formulas.md §2.1)."""
    r = check_positive("rate", rate)
    m1 = check_positive("mean_service", mean_service)
    m2 = check_positive("second_moment", second_moment, allow_inf=True)
    if m2 < m1 * m1 * (1 - 1e-12):
        raise ParameterError(f"second_moment must be >= mean_service**2 (got {m2!r})")
    _stable(r * m1, "rate * mean_service")
    if math.isinf(m2):
        return math.inf
    return m1 + r * m2 / (2 * (1 - r * m1))


def prefill_ttft(rate: float, cost: Any, prompt_tokens: Any, probs: Any = None) -> float:
    """E[TTFT] of FCFS prefill one prompt at a time: P-K with S = cost.prefill_time(s).

    ``prompt_tokens`` are the possible prompt lengths (with ``probs``, default
    uniform over the given values, e.g. a sample).
    """
    s = np.asarray(prompt_tokens, dtype=np.int64).reshape(-1)
    if s.size == 0 or np.any(s < 1):
        raise ParameterError("prompt_tokens must be a non-empty sequence of integers >= 1")
    if probs is None:
        p = np.full(s.size, 1.0 / s.size)
    else:
        from ..errors import check_probability_vector
        p = check_probability_vector("probs", probs)
        if p.size != s.size:
            raise ParameterError("probs must have one entry per prompt length")
    uniq, inv = np.unique(s, return_inverse=True)
    t = np.array([cost.prefill_time(int(v)) for v in uniq])[inv]
    return mg1_ttft(rate, float(np.dot(p, t)), float(np.dot(p, t * t)))


def clipped_output_latency(rate: float, outputs: Any, probs: Any, *, max_tokens: int,
                           time_per_token: float, prefill_time: float = 0.0) -> float:
    """FCFS mean latency when outputs are clipped at ``max_tokens`` (Yang–Jiao–Xu form [R]).

    P-K with S = prefill_time + min(o, o_max)·TPOT, one request at a time.
    """
    from ..errors import check_probability_vector
    o = np.asarray(outputs, dtype=float).reshape(-1)
    p = check_probability_vector("probs", probs)
    if o.size != p.size or np.any(o < 1):
        raise ParameterError("outputs must be token counts >= 1, one per probability")
    omax = check_positive_integer("max_tokens", max_tokens)
    tau = check_positive("time_per_token", time_per_token)
    pre = check_nonnegative("prefill_time", prefill_time)
    svc = pre + np.minimum(o, omax) * tau
    return mg1_ttft(rate, float(np.dot(p, svc)), float(np.dot(p, svc * svc)))


def memory_time_area(prompt_tokens: Any, output_tokens: Any) -> Any:
    """g(s, o) = Σ_{j=1}^{o} (s + j) = o·s + o(o + 1)/2 token-iterations (llm-models.md §7.4).

    Counts, at step j, the prompt and the j tokens including the one being
    generated; multiply by κ·τ for byte-seconds. The simulator follows vLLM,
    which writes a token's KV when that token is fed back, and records
    o·s + o(o − 1)/2 = g − o per uninterrupted request (``SimulationResult.kv_area``).
    """
    s = np.asarray(prompt_tokens, dtype=float)
    o = np.asarray(output_tokens, dtype=float)
    if np.any(s < 0) or np.any(o < 0):
        raise ParameterError("prompt_tokens and output_tokens must be >= 0")
    g = o * s + o * (o + 1) / 2
    return float(g) if g.ndim == 0 else g


class ContinuousBatchingModel:
    r"""Continuous batching as a birth–death chain (llm-models.md §7.3 [R]).

    State n = requests in the system. Slots k = min(max_batch_size,
    ⌊M/(s̄ + ō)⌋) (each request charged its mean final footprint); running
    m(n) = min(n, k); decode iteration time t(m) = a + c·m; birth rate λ, death
    rate d(n) = m(n)/(E[o]·t(m(n))). Stationary law π_n ∝ Π_{i≤n} λ/d(i),
    geometric with ratio λ/d(k) for n ≥ k; stable iff λ < d(k) = k/(E[o]t(k)).

    Outputs: ``mean_queue`` L_q = Σ (n − k)⁺ π_n, ``waiting`` W_q = L_q/λ,
    ``ttft`` ≈ W_q + prefill_time, ``latency`` ≈ L/λ + prefill_time and the
    token-averaged ``tpot`` = Σ π_n m(n) / Σ π_n m(n)/t(m(n)).

    Validity: a continuous-time approximation of an iteration-level system,
    accurate for geometric output lengths, no memory growth and iterations
    short relative to inter-arrival times (several requests may finish in one
    iteration, and an arrival waits for the current iteration to end).

    >>> m = ContinuousBatchingModel(arrival_rate=1.0, mean_output=10, max_batch_size=1,
    ...                             iteration_time=(0.05, 0.0))
    >>> round(m.latency, 12)   # M/M/1 with mean service 0.5: 0.5 / (1 - 0.5)
    1.0
    """

    def __init__(self, arrival_rate: float, mean_output: float, max_batch_size: int,
                 iteration_time: tuple[float, float], *, kv_capacity_tokens: int | None = None,
                 mean_prompt: float = 0.0, prefill_time: float = 0.0) -> None:
        self.arrival_rate = check_positive("arrival_rate", arrival_rate)
        self.mean_output = check_positive("mean_output", mean_output)
        kb = check_positive_integer("max_batch_size", max_batch_size)
        a, c = iteration_time
        self.a = check_positive("iteration_time[0]", a)
        self.c = check_nonnegative("iteration_time[1]", c)
        self.prefill_time = check_nonnegative("prefill_time", prefill_time)
        mp = check_nonnegative("mean_prompt", mean_prompt)
        if kv_capacity_tokens is not None:
            cap = check_positive("kv_capacity_tokens", kv_capacity_tokens)
            kb = min(kb, int(math.floor(cap / (mp + self.mean_output))))
            if kb < 1:
                raise ParameterError("kv_capacity_tokens must hold at least one mean request")
        self.slots = kb
        self.max_rate = kb / (self.mean_output * self._t(kb))
        if not self.arrival_rate < self.max_rate:
            raise UnstableError(f"arrival_rate must be < k/(E[o] t(k)) = {self.max_rate:g} "
                                f"(got {self.arrival_rate:g})")
        self._solve()

    def _t(self, m: int) -> float:
        return self.a + self.c * m

    def _d(self, n: int) -> float:
        m = min(n, self.slots)
        return m / (self.mean_output * self._t(m))

    def _solve(self) -> None:
        k = self.slots
        lam = self.arrival_rate
        w = [1.0]
        for i in range(1, k + 1):
            w.append(w[-1] * lam / self._d(i))
        q = lam / self._d(k)
        head = np.array(w[:k])          # n = 0..k-1
        wk = w[k]                       # n = k, then wk q^j for n = k + j
        tail_mass = wk / (1 - q)
        z = head.sum() + tail_mass
        n_head = np.arange(k)
        self.pi_head = head / z
        self._pik = wk / z
        self._q = q
        tail_n = self._pik * (k / (1 - q) + q / (1 - q) ** 2)
        self.mean_in_system = float(np.dot(n_head, self.pi_head) + tail_n)
        self.mean_queue = float(self._pik * q / (1 - q) ** 2)
        m_head = n_head.astype(float)
        t_head = self.a + self.c * m_head
        tail_p = self._pik / (1 - q)
        num = float(np.dot(self.pi_head, m_head) + tail_p * k)
        den = float(np.dot(self.pi_head, m_head / t_head) + tail_p * k / self._t(k))
        self.tpot = num / den

    @property
    def waiting(self) -> float:
        """W_q = L_q / λ."""
        return self.mean_queue / self.arrival_rate

    @property
    def ttft(self) -> float:
        """≈ W_q + prefill_time."""
        return self.waiting + self.prefill_time

    @property
    def latency(self) -> float:
        """≈ L/λ + prefill_time (end to end)."""
        return self.mean_in_system / self.arrival_rate + self.prefill_time

    def pmf(self, n: int) -> float:
        """π_n."""
        n = int(n)
        if n < 0:
            raise ParameterError(f"n must be >= 0 (got {n})")
        if n < self.slots:
            return float(self.pi_head[n])
        return float(self._pik * self._q ** (n - self.slots))


def _scaled_workload(arrival_rate, outputs, prediction, time_per_token):
    """The token-unit M/G/1 workload with rate λτ (E[T] scales as τ·E[T](λτ))."""
    from ..distributions.base import SizeDistribution
    from ..workload import Workload

    lam = check_positive("arrival_rate", arrival_rate)
    tau = check_positive("time_per_token", time_per_token)
    if not isinstance(outputs, SizeDistribution):
        raise ParameterError("outputs must be a queuetheory size distribution of output "
                             "tokens (e.g. qt.Discrete, qt.Empirical)")
    return Workload(lam * tau, outputs, prediction), tau


def trail_mean_latency(arrival_rate: float, outputs: Any, prediction: Any = None, *,
                       c: float = 0.8, time_per_token: float = 1.0, rtol: float = 1e-8,
                       ) -> Estimate:
    r"""TRAIL(c) mean latency from the M/G/1 limited-preemption formula (llm-models.md §7.5).

    Mapping: job size = output tokens × ``time_per_token`` (free prefill, one
    request at a time); prediction = predicted output length. The rank is
    y − a up to age c·y and −∞ after (formulas.md §8.2, evaluated by
    :class:`queuetheory.LimitedPreemptionSPRPT`); c = 0 is SPJF and c = 1
    SPRPT. Preemption is continuous in time here; the iteration-level server
    preempts only between iterations, which :func:`batch1_mean_latency`
    models exactly (the two agree as tokens per request grow).

    Parameters
    ----------
    arrival_rate : float
        Requests per second.
    outputs : SizeDistribution
        Law of the output tokens (e.g. ``qt.Discrete``).
    prediction : PredictionModel, optional
        Law of the predicted output given the output (None: exact).
    """
    from ..policies.trail import LimitedPreemptionSPRPT

    w, tau = _scaled_workload(arrival_rate, outputs, prediction, time_per_token)
    est = LimitedPreemptionSPRPT(c=c).evaluate(w, rtol=rtol)
    return Estimate(est.value * tau, est.error * tau)


class IterationLevelPolicy(Policy):
    r"""SPJF / SPRPT / TRAIL(c) with decisions only at whole ages (iteration boundaries).

    A SOAP policy on predictions (formulas.md §4) whose rank is a *point* rank
    at every integer age m (tokens generated) and −∞ on (m, m + 1): an
    iteration, once started, is not interrupted. At age m the rank is

    * SPJF: y at m = 0 only;
    * SPRPT: y − m;
    * TRAIL(c): y − m while m ≤ c·y, −∞ afterwards.

    Evaluated by the SOAP engine (exact sums for atomic laws), it is the exact
    mean response time of a one-request-at-a-time iteration-level server whose
    iterations take one time unit (:func:`batch1_mean_latency`).

    Parameters
    ----------
    kind : {"SPJF", "SPRPT", "TRAIL"}
    c : float
        TRAIL's cutoff (ignored otherwise).
    max_age : int
        Largest size (tokens) of the workload; ranks are given up to this age.
    """

    uses = "prediction"

    def __init__(self, kind: str, *, c: float = 1.0, max_age: int) -> None:
        if kind not in ("SPJF", "SPRPT", "TRAIL"):
            raise ParameterError(f"kind must be 'SPJF', 'SPRPT' or 'TRAIL' (got {kind!r})")
        self.kind = kind
        self.c = check_nonnegative("c", c)
        self.max_age = check_positive_integer("max_age", max_age)
        self.name = f"iteration-level {kind}" + (f"(c={self.c:g})" if kind == "TRAIL" else "")

    def _params(self):
        return {"kind": self.kind, "c": self.c, "max_age": self.max_age}

    def _points(self, y: float) -> int:
        if self.kind == "SPJF":
            return 1
        if self.kind == "SPRPT":
            return self.max_age
        return max(1, min(self.max_age, int(math.floor(self.c * y)) + 1))

    def _rank_segments(self, d: np.ndarray) -> PiecewiseRank:
        d = np.asarray(d, dtype=float)
        npts = np.array([self._points(float(y)) for y in d], dtype=np.int64)
        m = 2 * int(npts.max())
        n = d.size
        start = np.full((n, m), np.inf)
        end = np.full((n, m), np.inf)
        level = np.full((n, m), np.inf)
        value = np.zeros((n, m))
        slope = np.zeros((n, m))
        for j in range(n):
            p = int(npts[j])
            ages = np.arange(p, dtype=float)
            start[j, 0:2 * p:2] = ages
            end[j, 0:2 * p:2] = ages
            level[j, 0:2 * p:2] = 0.0
            value[j, 0:2 * p:2] = d[j] - ages
            start[j, 1:2 * p:2] = ages
            end[j, 1:2 * p:2] = np.append(ages[1:], np.inf)
            level[j, 1:2 * p:2] = NONPREEMPTIBLE
        return PiecewiseRank(start, end, level, value, slope)


def batch1_mean_latency(policy: Any, arrival_rate: float, outputs: Any, prediction: Any = None,
                        *, time_per_token: float = 1.0, rtol: float = 1e-10) -> Estimate:
    r"""Exact mean latency of a one-request-at-a-time iteration-level server.

    Configuration (the simulator's degenerate case): ``max_batch_size=1``, no
    memory limit, free prefill (the prefill iteration emits the first token and
    takes ``time_per_token``), every iteration ``time_per_token`` seconds,
    Poisson arrivals, ``wakeup_latency=0``. A request with o output tokens is a
    job of size o·τ; scheduling decisions happen only between iterations.

    * FCFS and SPJF are non-preemptive, so this is exactly the M/G/1
      (Pollaczek–Khinchine; SPJF with atoms, formulas.md §2.5/§3.2), evaluated by
      :class:`queuetheory.FCFS` / :class:`queuetheory.SPJF`.
    * SPRPT and TRAIL(c) are evaluated as :class:`IterationLevelPolicy` by the
      SOAP engine; they differ from the continuous-time formulas
      (:class:`queuetheory.SPRPT`, :func:`trail_mean_latency`), which preempt at
      arrival instants, by O(τ/E[S]).

    Parameters
    ----------
    policy : llm.FCFS, llm.SPJF, llm.SPRPT or llm.TRAIL (default options)
    arrival_rate : float
    outputs : SizeDistribution
        Law of the output tokens, with integer atoms (``qt.Discrete``,
        ``qt.Empirical``); the predictions' law may be any prediction model (for
        exact values use atomic joint laws, e.g. ``qt.EmpiricalPredictions``).
    prediction : PredictionModel, optional
        None: exact predictions.

    Examples
    --------
    >>> import queuetheory as qt
    >>> from queuetheory import llm
    >>> est = llm.batch1_mean_latency(llm.FCFS(), 0.25, qt.Discrete([1.0, 3.0], [0.5, 0.5]))
    >>> round(est.value, 12)    # 2 + 0.25 * 5 / (2 * 0.5)
    3.25
    """
    from ..policies import FCFS as QFCFS
    from ..policies import SPJF as QSPJF
    from . import policies as P

    w, tau = _scaled_workload(arrival_rate, outputs, prediction, time_per_token)
    vals = outputs.atoms[0]
    if outputs.has_continuous_part or vals.size == 0 or np.any(vals != np.round(vals)) \
            or np.any(vals < 1):
        raise ParameterError("outputs must be a law of whole token counts >= 1 "
                             "(atoms only, e.g. qt.Discrete)")
    max_age = int(vals.max())
    if type(policy) is P.FCFS:
        qpol: Policy = QFCFS()
    elif type(policy) is P.SPJF and not policy.preemptive:
        qpol = QSPJF()
    elif type(policy) is P.SPRPT and policy.margin == 0 and policy.max_preemptions is None:
        qpol = IterationLevelPolicy("SPRPT", max_age=max_age)
    elif type(policy) is P.TRAIL and policy.margin == 0 and policy.max_preemptions is None:
        qpol = IterationLevelPolicy("TRAIL", c=policy.c, max_age=max_age)
    else:
        raise ParameterError("policy must be llm.FCFS(), llm.SPJF(), llm.SPRPT() or "
                             "llm.TRAIL(c) with default options")
    with np.errstate(invalid="ignore"):
        est = qpol.evaluate(w, rtol=rtol)
    return Estimate(est.value * tau, est.error * tau)
