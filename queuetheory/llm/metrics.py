r"""Results of an LLM-server simulation and the metrics of llm-models.md §2.5.

Per request: TTFT (arrival → first token), TPOT = (latency − TTFT)/(o − 1)
(o ≥ 2), end-to-end latency (arrival → last token), normalized latency =
latency / o (seconds per token, the vLLM and learning-to-rank metric), the
largest inter-token gap, queueing delay (arrival → first scheduled),
preemptions, recomputed tokens (KV discarded and computed again), swapped bytes
(out + in), and the request's KV area in token-iterations.

Per system: throughput (requests/s, tokens/s), goodput and attainment under
(TTFT, TPOT) SLOs, the per-iteration KV-use time series with its peak and
time average, and the memory–time area. Confidence intervals use batch means
over requests in arrival order (:meth:`SimulationResult.mean_ci`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, check_in_interval, check_positive, check_positive_integer

__all__ = ["SimulationResult", "RequestResult", "batch_means_ci"]


@dataclass(frozen=True)
class RequestResult:
    """One request's outcome (times in seconds)."""

    arrival: float
    prompt_tokens: int
    output_tokens: int
    predicted_output: float
    first_token_time: float
    finish_time: float
    ttft: float
    latency: float
    tpot: float
    normalized_latency: float
    max_token_gap: float
    queueing_delay: float
    preemptions: int
    recomputed_tokens: int
    swapped_bytes: float
    kv_area: int


def batch_means_ci(values: np.ndarray, batches: int = 20, level: float = 0.95,
                   ) -> tuple[float, float]:
    """Mean and confidence half-width by the method of batch means (Student t).

    ``values`` in arrival order are cut into ``batches`` contiguous batches of
    equal size (the remainder at the end is dropped); the batch means are
    treated as i.i.d. normal.
    """
    from scipy import stats

    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    b = check_positive_integer("batches", batches)
    if b < 2:
        raise ParameterError(f"batches must be >= 2 (got {b})")
    level = check_in_interval("level", level, 0.0, 1.0, closed_low=False, closed_high=False)
    size = v.size // b
    if size < 1:
        raise ParameterError(f"need at least {b} values for {b} batches (got {v.size})")
    means = v[: size * b].reshape(b, size).mean(axis=1)
    half = stats.t.ppf(0.5 + level / 2, b - 1) * means.std(ddof=1) / math.sqrt(b)
    return float(means.mean()), float(half)


class SimulationResult:
    """Everything :func:`~queuetheory.llm.simulate` measured.

    Per-request arrays follow the input: the order of a list of
    :class:`~queuetheory.llm.Request`, or the (arrival-sorted) order of a
    :class:`~queuetheory.llm.RequestSet`. Attributes:
    ``arrival, prompt_tokens, output_tokens, predicted_output,
    first_token_time, finish_time, ttft, latency, tpot, normalized_latency,
    max_token_gap, queueing_delay, preemptions, recomputed_tokens,
    swapped_bytes, kv_area``; per iteration (when ``record_kv``) ``kv_time`` (start),
    ``kv_blocks``, ``kv_tokens`` (KV in use), ``batch_size`` (requests scheduled) and
    ``iteration_tokens`` (tokens processed); counters ``n_iterations`` (model
    iterations) and ``n_steps`` (loop steps actually executed: fewer with event skipping),
    ``memory_preemptions, priority_preemptions``; ``end_time``.
    """

    def __init__(self, *, arrival, prompt_tokens, output_tokens, predicted_output,
                 first_token_time, finish_time, preemptions, recomputed_tokens,
                 swapped_tokens, max_token_gap, kv_area, first_scheduled, token_times,
                 kv_time, kv_blocks, kv_tokens, batch_size, counters, end_time,
                 iteration_tokens=None,
                 kv_bytes_per_token, block_size, policy_name="", engine="") -> None:
        self.arrival = arrival
        self.prompt_tokens = prompt_tokens
        self.output_tokens = output_tokens
        self.predicted_output = predicted_output
        self.first_token_time = first_token_time
        self.finish_time = finish_time
        self.preemptions = preemptions
        self.recomputed_tokens = recomputed_tokens
        self.swapped_bytes = swapped_tokens * float(kv_bytes_per_token)
        self.kv_area = kv_area
        self.ttft = first_token_time - arrival
        self.latency = finish_time - arrival
        with np.errstate(invalid="ignore", divide="ignore"):
            o = output_tokens.astype(float)
            self.tpot = np.where(o >= 2, (self.latency - self.ttft) / (o - 1), np.nan)
            self.max_token_gap = np.where(o >= 2, max_token_gap, np.nan)
        self.normalized_latency = self.latency / output_tokens
        self.queueing_delay = first_scheduled - arrival
        self.token_times = token_times
        self.kv_time = kv_time
        self.kv_blocks = kv_blocks
        self.kv_tokens = kv_tokens
        self.batch_size = batch_size
        self.iteration_tokens = (np.zeros(0, np.int64) if iteration_tokens is None
                                 else iteration_tokens)
        self.n_iterations = int(counters[0])
        self.n_steps = int(counters[1])
        self.memory_preemptions = int(counters[2])
        self.priority_preemptions = int(counters[3])
        self.discarded_preserved = int(counters[6])
        self.end_time = float(end_time)
        self.kv_bytes_per_token = float(kv_bytes_per_token)
        self.block_size = int(block_size)
        self.policy_name = policy_name
        self.engine = engine

    # ----------------------------------------------------------- requests
    def __len__(self) -> int:
        return int(self.arrival.size)

    @property
    def requests(self) -> list[RequestResult]:
        """Per-request results as a list of :class:`RequestResult` (input order)."""
        cols = (self.arrival, self.prompt_tokens, self.output_tokens, self.predicted_output,
                self.first_token_time, self.finish_time, self.ttft, self.latency, self.tpot,
                self.normalized_latency, self.max_token_gap, self.queueing_delay,
                self.preemptions, self.recomputed_tokens, self.swapped_bytes, self.kv_area)
        out = []
        for row in zip(*(c.tolist() for c in cols)):
            out.append(RequestResult(*row))
        return out

    def token_gaps(self) -> np.ndarray:
        """All inter-token gaps (seconds), pooled over requests (needs ``record_token_times``)."""
        if self.token_times is None:
            raise ParameterError("token times were not recorded: simulate with "
                                 "record_token_times=True")
        gaps = [np.diff(t) for t in self.token_times if t.size > 1]
        return np.concatenate(gaps) if gaps else np.zeros(0)

    # ---------------------------------------------------------- summaries
    def mean(self, metric: str = "latency", *, warmup: float = 0.0) -> float:
        """Mean of a per-request metric over requests after the first ``warmup`` fraction."""
        v = self._metric(metric, warmup)
        return float(np.nanmean(v)) if v.size else math.nan

    def mean_ci(self, metric: str = "latency", *, batches: int = 20, warmup: float = 0.1,
                level: float = 0.95) -> tuple[float, float]:
        """(mean, half-width) of a per-request metric by batch means (arrival order)."""
        return batch_means_ci(self._metric(metric, warmup), batches, level)

    def _metric(self, metric: str, warmup: float) -> np.ndarray:
        names = ("latency", "ttft", "tpot", "normalized_latency", "max_token_gap",
                 "queueing_delay", "preemptions", "recomputed_tokens", "swapped_bytes",
                 "kv_area")
        if metric not in names:
            raise ParameterError(f"metric must be one of {names} (got {metric!r})")
        w = check_in_interval("warmup", warmup, 0.0, 1.0, closed_high=False)
        order = np.argsort(self.arrival, kind="stable")
        v = np.asarray(getattr(self, metric), dtype=float)[order]
        return v[int(w * v.size):]

    def throughput(self, *, start: float | None = None, end: float | None = None) -> float:
        """Completed requests per second in [start, end] (default: first arrival to last finish)."""
        t0 = float(self.arrival.min()) if start is None else float(start)
        t1 = float(np.nanmax(self.finish_time)) if end is None else float(end)
        if not t1 > t0:
            raise ParameterError(f"end must be > start (got start={t0}, end={t1})")
        done = np.sum((self.finish_time > t0) & (self.finish_time <= t1))
        return float(done) / (t1 - t0)

    def token_throughput(self, *, start: float | None = None, end: float | None = None) -> float:
        """Output tokens per second of the requests completed in [start, end]."""
        t0 = float(self.arrival.min()) if start is None else float(start)
        t1 = float(np.nanmax(self.finish_time)) if end is None else float(end)
        if not t1 > t0:
            raise ParameterError(f"end must be > start (got start={t0}, end={t1})")
        m = (self.finish_time > t0) & (self.finish_time <= t1)
        return float(self.output_tokens[m].sum()) / (t1 - t0)

    def processed_token_rate(self, *, start: float | None = None,
                             end: float | None = None) -> float:
        """Tokens processed (prefill + decode) per second by iterations starting in [start, end).

        The quantity the compute bound caps at b/t_b (needs ``record_kv``).
        """
        if self.kv_time.size == 0:
            raise ParameterError("the iteration series was not recorded (record_kv=False)")
        t0 = float(self.kv_time[0]) if start is None else float(start)
        t1 = self.end_time if end is None else float(end)
        if not t1 > t0:
            raise ParameterError(f"end must be > start (got start={t0}, end={t1})")
        d = self._durations()
        m = (self.kv_time >= t0) & (self.kv_time < t1)
        busy = d[m].sum()
        return float(self.iteration_tokens[m].sum()) / (t1 - t0) if busy > 0 else 0.0

    def slo_attainment(self, ttft: float = math.inf, tpot: float = math.inf) -> float:
        """Fraction of requests with TTFT ≤ ``ttft`` and TPOT ≤ ``tpot`` (o = 1: TTFT only)."""
        ok = self._slo_ok(ttft, tpot)
        return float(ok.mean())

    def goodput(self, ttft: float = math.inf, tpot: float = math.inf) -> float:
        """Requests per second meeting both SLOs, over first arrival to last finish.

        DistServe's goodput is the highest rate at which 90% of requests meet the
        SLOs; sweep the arrival rate and use :meth:`slo_attainment` for that.
        """
        ok = self._slo_ok(ttft, tpot)
        span = float(np.nanmax(self.finish_time) - self.arrival.min())
        return float(ok.sum()) / span

    def _slo_ok(self, ttft, tpot):
        a = check_positive("ttft", ttft, allow_inf=True)
        b = check_positive("tpot", tpot, allow_inf=True)
        tp = np.where(np.isnan(self.tpot), 0.0, self.tpot)
        return (self.ttft <= a) & (tp <= b)

    # ------------------------------------------------------------- memory
    def _durations(self) -> np.ndarray:
        if self.kv_time.size == 0:
            raise ParameterError("the KV time series was not recorded (record_kv=False)")
        return np.diff(np.concatenate([self.kv_time, [self.end_time]]))

    @property
    def kv_peak_tokens(self) -> int:
        """Peak number of KV tokens in use (over iterations)."""
        return int(self.kv_tokens.max()) if self.kv_tokens.size else 0

    @property
    def kv_peak_blocks(self) -> int:
        """Peak number of KV blocks allocated."""
        return int(self.kv_blocks.max()) if self.kv_blocks.size else 0

    def kv_time_average(self, unit: str = "tokens") -> float:
        """Time-average KV use over busy time (``unit`` = "tokens" or "blocks")."""
        d = self._durations()
        v = self.kv_tokens if unit == "tokens" else self.kv_blocks
        if unit not in ("tokens", "blocks"):
            raise ParameterError(f"unit must be 'tokens' or 'blocks' (got {unit!r})")
        return float(np.dot(v, d) / d.sum())

    def memory_time_area(self) -> float:
        """KV byte-seconds used: Σ over iterations of tokens in use × κ × iteration time."""
        d = self._durations()
        return float(np.dot(self.kv_tokens.astype(float), d)) * self.kv_bytes_per_token

    def summary(self) -> dict:
        """Headline numbers as a dict."""
        return {
            "policy": self.policy_name,
            "requests": len(self),
            "mean_latency": self.mean("latency"),
            "mean_ttft": self.mean("ttft"),
            "mean_tpot": self.mean("tpot"),
            "mean_normalized_latency": self.mean("normalized_latency"),
            "throughput": self.throughput(),
            "token_throughput": self.token_throughput(),
            "preemptions": int(self.preemptions.sum()),
            "recomputed_tokens": int(self.recomputed_tokens.sum()),
            "swapped_bytes": float(self.swapped_bytes.sum()),
            "kv_peak_tokens": self.kv_peak_tokens,
            "iterations": self.n_iterations,
            "steps": self.n_steps,
        }

    def __repr__(self) -> str:
        return (f"SimulationResult(policy={self.policy_name!r}, n={len(self)}, "
                f"mean_latency={self.mean('latency'):.6g}, iterations={self.n_iterations}, "
                f"steps={self.n_steps})")
