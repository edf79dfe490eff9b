r"""Requests and workloads: arrivals, prompt/output length laws, output-length predictions.

A :class:`Request` is one inference request (llm-models.md §2.1): arrival
time :math:`A`, prompt tokens :math:`s`, output tokens :math:`o` (unknown to
the scheduler) and a prediction :math:`\hat y` of :math:`o`. A
:class:`RequestSet` holds many requests as numpy arrays (the simulator's
input; build one with :func:`generate_requests` or :func:`load_trace_csv`).

Arrivals (llm-models.md §10): Poisson; gamma inter-arrival times with shape
β and scale 1/(rate·β) (vLLM's benchmark; mean 1/rate, squared coefficient of
variation 1/β, β = 1 is Poisson); trace replay from CSV.

Output-length predictions (llm-models.md §9.6): exact; log-normal
multiplicative noise :math:`\hat y = o\,e^{\sigma\varepsilon - \sigma^2/2}`
(unbiased in mean); TRAIL-style binned predictions (10 equal bins over
[0, 512], expected value of a noisy class distribution); any
:class:`queuetheory.PredictionModel`; and refinement as tokens are generated
(:class:`RefinedPrediction`): every ``every`` tokens the remaining length is
re-predicted with an error that shrinks, counting down by one per token in
between (TRAIL).

>>> from queuetheory import llm
>>> reqs = llm.generate_requests(5, rate=2.0, prompt=100, output=llm.GeometricLength(20), seed=1)
>>> reqs.prompt_tokens.tolist()
[100, 100, 100, 100, 100]
>>> len(reqs), bool(reqs.arrival[0] > 0)
(5, True)
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError, check_nonnegative, check_positive, check_positive_integer

__all__ = [
    "Request",
    "RequestSet",
    "LengthDistribution",
    "FixedLength",
    "GeometricLength",
    "LogNormalLength",
    "EmpiricalLength",
    "OutputPredictor",
    "ExactPrediction",
    "LogNormalPrediction",
    "BinnedPrediction",
    "QTPrediction",
    "RefinedPrediction",
    "poisson_arrivals",
    "gamma_arrivals",
    "generate_requests",
    "load_trace_csv",
    "kendall_tau_scores",
]


@dataclass
class Request:
    """One inference request.

    Parameters
    ----------
    arrival : float
        Arrival time in seconds (>= 0).
    prompt_tokens : int
        Prompt length s >= 1.
    output_tokens : int
        Output length o >= 1 (the number of tokens the request will generate).
    predicted_output : float, optional
        The scheduler's prediction of ``output_tokens`` (default: exact).
    """

    arrival: float
    prompt_tokens: int
    output_tokens: int
    predicted_output: float | None = None


class RequestSet:
    """Requests as arrays, sorted by arrival (ties keep input order).

    Simulation results for a RequestSet are in this sorted order (aligned with
    its attributes); for a list of :class:`Request` they follow the list.

    Attributes
    ----------
    arrival, prompt_tokens, output_tokens, predicted_output : numpy.ndarray
    refinement : tuple or None
        ``(every, offsets, values)``: ``values[offsets[i] + q - 1]`` is the
        predicted remaining output of request i after ``q * every`` tokens.
    order : numpy.ndarray
        Position of each stored request in the caller's input order.
    """

    def __init__(self, arrival: Any, prompt_tokens: Any, output_tokens: Any,
                 predicted_output: Any = None, *, refinement: Any = None) -> None:
        a = np.asarray(arrival, dtype=float).reshape(-1)
        s = _as_tokens("prompt_tokens", prompt_tokens, a.size)
        o = _as_tokens("output_tokens", output_tokens, a.size)
        if a.size == 0:
            raise ParameterError("requests must contain at least one request")
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ParameterError("arrival times must be finite and >= 0")
        if predicted_output is None:
            y = o.astype(float)
        else:
            y = np.asarray(predicted_output, dtype=float).reshape(-1)
            if y.size != a.size:
                raise ParameterError("predicted_output must have one entry per request")
            if not np.all(np.isfinite(y)) or np.any(y < 0):
                raise ParameterError("predicted_output must be finite and >= 0")
        order = np.argsort(a, kind="stable")
        self.order = order
        self.arrival = a[order]
        self.prompt_tokens = s[order]
        self.output_tokens = o[order]
        self.predicted_output = y[order]
        self.refinement = None
        if refinement is not None:
            every, off, vals = refinement
            every = check_positive_integer("refinement every", every)
            off = np.asarray(off, dtype=np.int64)
            vals = np.asarray(vals, dtype=float)
            if off.size != a.size + 1:
                raise ParameterError("refinement offsets must have n + 1 entries")
            counts = np.diff(off)[order]
            starts = off[:-1][order]
            new_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            idx = np.concatenate([np.arange(st, st + c) for st, c in zip(starts, counts)]) \
                if counts.sum() else np.empty(0, np.int64)
            self.refinement = (every, new_off, vals[idx.astype(np.int64)])

    @classmethod
    def from_requests(cls, requests: Sequence[Request]) -> RequestSet:
        """Build from a sequence of :class:`Request`."""
        reqs = list(requests)
        if not reqs:
            raise ParameterError("requests must contain at least one request")
        for r in reqs:
            if not isinstance(r, Request):
                raise ParameterError(f"requests must be llm.Request objects (got {type(r)!r})")
        y = [r.output_tokens if r.predicted_output is None else r.predicted_output for r in reqs]
        return cls([r.arrival for r in reqs], [r.prompt_tokens for r in reqs],
                   [r.output_tokens for r in reqs], y)

    def __len__(self) -> int:
        return int(self.arrival.size)

    def to_requests(self) -> list[Request]:
        """The requests as :class:`Request` objects (sorted by arrival)."""
        return [Request(float(a), int(s), int(o), float(y)) for a, s, o, y in
                zip(self.arrival, self.prompt_tokens, self.output_tokens, self.predicted_output)]

    @property
    def duration(self) -> float:
        """Time between the first and the last arrival."""
        return float(self.arrival[-1] - self.arrival[0])

    def __repr__(self) -> str:
        return (f"RequestSet(n={len(self)}, mean prompt={self.prompt_tokens.mean():.1f}, "
                f"mean output={self.output_tokens.mean():.1f})")


def _as_tokens(name: str, values: Any, n: int) -> np.ndarray:
    v = np.asarray(values)
    if v.ndim == 0:
        v = np.full(n, v)
    v = v.reshape(-1)
    if v.size != n:
        raise ParameterError(f"{name} must have one entry per request ({n}), got {v.size}")
    try:
        vf = v.astype(float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be integers >= 1") from None
    if not np.all(np.isfinite(vf)) or np.any(vf < 1) or np.any(vf != np.round(vf)):
        raise ParameterError(f"{name} must be integers >= 1")
    return vf.astype(np.int64)


# ----------------------------------------------------------- length laws
class LengthDistribution:
    """A law of token counts (integers >= 1). ``sample(rng, n)``, ``mean()``, ``moment(k)``."""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def mean(self) -> float:
        return self.moment(1)

    def moment(self, k: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


class FixedLength(LengthDistribution):
    """Every request has ``n`` tokens."""

    def __init__(self, n: int) -> None:
        self.n = check_positive_integer("n", n)

    def sample(self, rng, n):
        return np.full(n, self.n, dtype=np.int64)

    def moment(self, k):
        return float(self.n) ** k

    def __repr__(self):
        return f"FixedLength({self.n})"


class GeometricLength(LengthDistribution):
    """Geometric on {1, 2, ...} with the given mean: P(o = k) = p(1 − p)^{k−1}, p = 1/mean.

    Memoryless in tokens: every generated token is the last with probability p.

    >>> GeometricLength(4.0).moment(2)    # (2 - p)/p^2 with p = 1/4
    28.0
    """

    def __init__(self, mean: float) -> None:
        m = check_positive("mean", mean)
        if m < 1:
            raise ParameterError(f"mean must be >= 1 token (got {m!r})")
        self.m = m
        self.p = 1.0 / m

    def sample(self, rng, n):
        return rng.geometric(self.p, n).astype(np.int64)

    def moment(self, k):
        p = self.p
        if k == 1:
            return 1.0 / p
        if k == 2:
            return (2.0 - p) / p**2
        if k == 3:
            return (p * p - 6 * p + 6) / p**3
        raise ParameterError("GeometricLength.moment supports k = 1, 2, 3")

    def pmf(self, k):
        k = np.asarray(k)
        return np.where(k >= 1, self.p * (1 - self.p) ** (k - 1.0), 0.0)

    def __repr__(self):
        return f"GeometricLength(mean={self.m!r})"


class LogNormalLength(LengthDistribution):
    """⌈X⌉ with X log-normal of the given mean and squared coefficient of variation.

    Optionally capped at ``maximum`` tokens (e.g. a ``max_tokens`` limit).
    Moments are computed from the exact discrete law by summation (capped) or
    from a large-sample estimate otherwise; use :meth:`sample` for simulation.
    """

    def __init__(self, mean: float, scv: float = 1.0, maximum: int | None = None) -> None:
        self.m = check_positive("mean", mean)
        self.scv = check_positive("scv", scv)
        self.maximum = None if maximum is None else check_positive_integer("maximum", maximum)
        self.sigma2 = math.log1p(self.scv)
        self.mu = math.log(self.m) - self.sigma2 / 2

    def sample(self, rng, n):
        x = np.ceil(rng.lognormal(self.mu, math.sqrt(self.sigma2), n)).astype(np.int64)
        x = np.maximum(x, 1)
        if self.maximum is not None:
            x = np.minimum(x, self.maximum)
        return x

    def moment(self, k):
        from scipy import stats

        hi = self.maximum if self.maximum is not None else int(
            math.ceil(math.exp(self.mu + 12 * math.sqrt(self.sigma2))))
        ks = np.arange(1, hi + 1, dtype=float)
        law = stats.lognorm(s=math.sqrt(self.sigma2), scale=math.exp(self.mu))
        cdf = law.cdf(ks)
        probs = np.diff(np.concatenate([[0.0], cdf]))
        if self.maximum is not None:
            probs[-1] += law.sf(ks[-1])
        return float(np.sum(probs * ks**k))

    def __repr__(self):
        return f"LogNormalLength(mean={self.m!r}, scv={self.scv!r}, maximum={self.maximum!r})"


class EmpiricalLength(LengthDistribution):
    """Sample token counts from given values (with optional weights), e.g. from a trace."""

    def __init__(self, values: Any, weights: Any = None) -> None:
        v = np.asarray(values, dtype=float).reshape(-1)
        if v.size == 0 or np.any(v < 1) or np.any(v != np.round(v)):
            raise ParameterError("values must be a non-empty sequence of integers >= 1")
        self.values = v.astype(np.int64)
        if weights is None:
            self.probs = np.full(v.size, 1.0 / v.size)
        else:
            from ..errors import check_probability_vector
            w = np.asarray(weights, dtype=float)
            if w.size != v.size:
                raise ParameterError("weights must have one entry per value")
            self.probs = check_probability_vector("weights", w / w.sum() if w.sum() > 0 else w)

    def sample(self, rng, n):
        return rng.choice(self.values, size=n, p=self.probs)

    def moment(self, k):
        return float(np.sum(self.probs * self.values.astype(float) ** k))

    def __repr__(self):
        return f"EmpiricalLength(n_values={self.values.size})"


def _lengths(name: str, law: Any, rng: np.random.Generator, n: int) -> np.ndarray:
    if isinstance(law, (int, np.integer)) and not isinstance(law, bool):
        return np.full(n, check_positive_integer(name, law), dtype=np.int64)
    if isinstance(law, LengthDistribution):
        return law.sample(rng, n)
    from ..distributions.base import SizeDistribution
    if isinstance(law, SizeDistribution):
        return np.maximum(np.ceil(law.sample(rng, n)), 1).astype(np.int64)
    raise ParameterError(f"{name} must be an int, an llm LengthDistribution or a queuetheory "
                         f"SizeDistribution (got {type(law).__name__})")


# ------------------------------------------------------------ predictions
class OutputPredictor:
    """A law of the prediction ŷ of the output length given o (and the prompt s)."""

    refine_every: int = 0

    def predict(self, rng: np.random.Generator, output: np.ndarray,
                prompt: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def refinements(self, rng, output, initial):
        """None, or ``(every, offsets, values)`` of refined remaining predictions."""
        return None


class ExactPrediction(OutputPredictor):
    """ŷ = o (perfect predictions)."""

    def predict(self, rng, output, prompt):
        return output.astype(float)

    def __repr__(self):
        return "ExactPrediction()"


class LogNormalPrediction(OutputPredictor):
    """ŷ = o·exp(σε − σ²/2), ε ~ N(0, 1): unbiased multiplicative noise (llm-models.md §9.6)."""

    def __init__(self, sigma: float) -> None:
        self.sigma = check_nonnegative("sigma", sigma)

    def predict(self, rng, output, prompt):
        eps = rng.standard_normal(output.size)
        return output * np.exp(self.sigma * eps - self.sigma**2 / 2)

    def __repr__(self):
        return f"LogNormalPrediction(sigma={self.sigma!r})"


class BinnedPrediction(OutputPredictor):
    """TRAIL-style binned prediction (llm-models.md §9.3, §9.6) [R].

    The range [0, ``max_tokens``] is cut into ``n_bins`` equal bins. A noisy
    class distribution is drawn — softmax of (``confidence`` on the true bin,
    0 elsewhere) plus Gumbel noise of scale ``noise`` — and the prediction is
    its expected value over bin midpoints (the scheduler uses the expectation).
    """

    def __init__(self, n_bins: int = 10, max_tokens: int = 512, confidence: float = 3.0,
                 noise: float = 1.0) -> None:
        self.n_bins = check_positive_integer("n_bins", n_bins)
        self.max_tokens = check_positive_integer("max_tokens", max_tokens)
        self.confidence = check_nonnegative("confidence", confidence)
        self.noise = check_nonnegative("noise", noise)

    def predict(self, rng, output, prompt):
        width = self.max_tokens / self.n_bins
        mids = (np.arange(self.n_bins) + 0.5) * width
        true_bin = np.minimum((output / width).astype(np.int64), self.n_bins - 1)
        logits = np.zeros((output.size, self.n_bins))
        logits[np.arange(output.size), true_bin] = self.confidence
        logits += self.noise * rng.gumbel(size=logits.shape)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        return p @ mids

    def __repr__(self):
        return (f"BinnedPrediction(n_bins={self.n_bins}, max_tokens={self.max_tokens}, "
                f"confidence={self.confidence!r}, noise={self.noise!r})")


class QTPrediction(OutputPredictor):
    """Use a :class:`queuetheory.PredictionModel` (the M/G/1 joint law g(x, y)) for ŷ given o."""

    def __init__(self, model: Any) -> None:
        from ..predictions.base import PredictionModel
        if not isinstance(model, PredictionModel):
            raise ParameterError("model must be a queuetheory PredictionModel")
        self.model = model

    def predict(self, rng, output, prompt):
        return self.model.sample(rng, output.astype(float))

    def __repr__(self):
        return f"QTPrediction({self.model!r})"


class RefinedPrediction(OutputPredictor):
    """An initial predictor plus re-predictions of the remaining length as tokens are generated.

    After every ``every`` generated tokens (j = every, 2·every, ...) the
    remaining length :math:`o - j` is re-predicted as
    :math:`(o - j)\\,e^{\\sigma_j\\varepsilon - \\sigma_j^2/2}` with
    :math:`\\sigma_j = \\sigma\\cdot\\text{decay}^{j/\\text{every}}` (an error that
    shrinks as the request runs [R]); in between, the estimate counts down by one
    per token (TRAIL refreshes every 8 decode steps, llm-models.md §9.3).
    """

    def __init__(self, initial: OutputPredictor, every: int = 8, sigma: float = 0.5,
                 decay: float = 0.8) -> None:
        if not isinstance(initial, OutputPredictor):
            raise ParameterError("initial must be an llm OutputPredictor")
        self.initial = initial
        self.refine_every = check_positive_integer("every", every)
        self.sigma = check_nonnegative("sigma", sigma)
        self.decay = check_positive("decay", decay)

    def predict(self, rng, output, prompt):
        return self.initial.predict(rng, output, prompt)

    def refinements(self, rng, output, initial):
        k = self.refine_every
        counts = np.maximum((output - 1) // k, 0).astype(np.int64)
        off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        total = int(off[-1])
        owner = np.repeat(np.arange(output.size), counts)
        q = np.arange(total) - off[owner] + 1
        jj = q * k
        rem = (output[owner] - jj).astype(float)
        sig = self.sigma * self.decay ** q
        vals = rem * np.exp(sig * rng.standard_normal(total) - sig**2 / 2)
        return k, off, vals

    def __repr__(self):
        return (f"RefinedPrediction({self.initial!r}, every={self.refine_every}, "
                f"sigma={self.sigma!r}, decay={self.decay!r})")


# ---------------------------------------------------------------- arrivals
def poisson_arrivals(rate: float, n: int, rng: Any = None) -> np.ndarray:
    """Arrival times of a Poisson process of ``rate`` per second (first arrival after one gap)."""
    rate = check_positive("rate", rate)
    n = check_positive_integer("n", n)
    rng = np.random.default_rng(rng)
    return np.cumsum(rng.exponential(1.0 / rate, n))


def gamma_arrivals(rate: float, n: int, shape: float, rng: Any = None) -> np.ndarray:
    """Gamma renewal arrivals: gaps Gamma(shape β, scale 1/(rate·β)) (vLLM's benchmark).

    Mean gap 1/rate and squared coefficient of variation 1/β; β = 1 is Poisson,
    β < 1 is bursty (llm-models.md §10).
    """
    rate = check_positive("rate", rate)
    n = check_positive_integer("n", n)
    beta = check_positive("shape", shape)
    rng = np.random.default_rng(rng)
    return np.cumsum(rng.gamma(beta, 1.0 / (rate * beta), n))


def generate_requests(n: int, rate: float, prompt: Any, output: Any, *,
                      prediction: OutputPredictor | None = None, burstiness: float = 1.0,
                      seed: Any = None) -> RequestSet:
    """Draw ``n`` requests: arrivals, prompt and output lengths, predictions.

    Parameters
    ----------
    n : int
    rate : float
        Mean arrival rate (requests per second).
    prompt, output : int, LengthDistribution or queuetheory SizeDistribution
        Token-count laws (continuous laws are rounded up, minimum 1).
    prediction : OutputPredictor, optional
        Default :class:`ExactPrediction`.
    burstiness : float
        Gamma shape β of the inter-arrival times (1 = Poisson).
    seed : int or Generator
        The same seed gives the same requests (common random numbers across
        policies: simulate one RequestSet under each policy).
    """
    n = check_positive_integer("n", n)
    rng = np.random.default_rng(seed)
    beta = check_positive("burstiness", burstiness)
    arr = (poisson_arrivals(rate, n, rng) if beta == 1.0
           else gamma_arrivals(rate, n, beta, rng))
    s = _lengths("prompt", prompt, rng, n)
    o = _lengths("output", output, rng, n)
    pred = prediction if prediction is not None else ExactPrediction()
    if not isinstance(pred, OutputPredictor):
        raise ParameterError("prediction must be an llm OutputPredictor "
                             "(wrap a queuetheory PredictionModel in llm.QTPrediction)")
    y = np.asarray(pred.predict(rng, o, s), dtype=float)
    ref = pred.refinements(rng, o, y)
    return RequestSet(arr, s, o, y, refinement=ref)


def load_trace_csv(path: str, *, time_column: str = "TIMESTAMP",
                   prompt_column: str = "ContextTokens", output_column: str = "GeneratedTokens",
                   limit: int | None = None, time_scale: float = 1.0,
                   prediction: OutputPredictor | None = None, seed: Any = None) -> RequestSet:
    """Replay a CSV trace with one row per request (llm-models.md §10, §12).

    The defaults read the Azure LLM inference trace 2023
    (``AzureLLMInferenceTrace_conv.csv`` / ``_code.csv``; CC-BY, Patel et al.,
    Splitwise, ISCA 2024 — attribute when you use it). The time column may hold
    seconds (numbers) or ISO date-times such as ``2023-11-16 18:15:46.6805900``;
    times are shifted so that the first request arrives at 0 and multiplied by
    ``time_scale`` (< 1 replays faster). Rows with 0 prompt or output tokens are
    dropped (the simulator needs at least one of each).
    """
    ts, ss, os_ = [], [], []
    try:
        fh = open(path, newline="")
    except OSError as exc:
        raise ParameterError(f"path {path!r} cannot be read: {exc}") from None
    with fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        for c in (time_column, prompt_column, output_column):
            if c not in cols:
                raise ParameterError(f"column {c!r} not in the CSV header {cols}")
        for row in reader:
            ts.append(row[time_column].strip())
            ss.append(row[prompt_column])
            os_.append(row[output_column])
            if limit is not None and len(ts) >= limit:
                break
    if not ts:
        raise ParameterError(f"{path!r} has no rows")
    t = _parse_times(ts) * check_positive("time_scale", time_scale)
    s = np.asarray(ss, dtype=float)
    o = np.asarray(os_, dtype=float)
    keep = (s >= 1) & (o >= 1)
    t, s, o = t[keep], s[keep].astype(np.int64), o[keep].astype(np.int64)
    t = t - t.min()
    rng = np.random.default_rng(seed)
    pred = prediction if prediction is not None else ExactPrediction()
    y = np.asarray(pred.predict(rng, o, s), dtype=float)
    return RequestSet(t, s, o, y, refinement=pred.refinements(rng, o, y))


def _parse_times(values: list[str]) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except ValueError:
        pass
    out = np.empty(len(values))
    for k, v in enumerate(values):
        v = v.replace(" ", "T")
        if "." in v:
            head, frac = v.split(".", 1)
            v = head + "." + frac[:9]
        try:
            out[k] = np.datetime64(v, "ns").astype(np.int64) / 1e9
        except ValueError:
            raise ParameterError(f"time value {values[k]!r} is neither seconds nor an ISO "
                                 f"date-time") from None
    return out


def kendall_tau_scores(output: Any, tau: float, rng: Any = None) -> np.ndarray:
    r"""Ranking scores whose Kendall τ with the output lengths is ``tau`` (llm-models.md §9.4).

    score = r·Z + √(1 − r²)·ε with Z = Φ⁻¹(F(o)), ε ~ N(0, 1) independent and
    r = sin(πτ/2): for a bivariate normal, Kendall's τ = (2/π) arcsin r (Kruskal
    1958), and τ is invariant under the monotone map o ↦ Z. F is the empirical
    distribution of the given outputs with ties broken at random, so the
    population τ is exact for distinct lengths and ties lower it slightly.
    Lower score = predicted shorter.
    """
    from scipy.special import ndtri

    from ..errors import check_in_interval
    tau = check_in_interval("tau", tau, -1.0, 1.0)
    o = np.asarray(output, dtype=float).reshape(-1)
    rng = np.random.default_rng(rng)
    n = o.size
    tie = rng.random(n)
    ranks = np.empty(n)
    ranks[np.lexsort((tie, o))] = np.arange(n)
    z = ndtri((ranks + 0.5) / n)
    r = math.sin(math.pi * tau / 2)
    return r * z + math.sqrt(max(0.0, 1 - r * r)) * rng.standard_normal(n)
