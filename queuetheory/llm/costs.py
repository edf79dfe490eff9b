r"""Iteration-time cost models: how long one batched iteration of an LLM server takes.

A cost model maps the composition of a batch to seconds (llm-models.md §4);
it is independent of the scheduler. A batch is summarised by

* the prefill chunks it processes, lengths :math:`l_i` (tokens), and
* the decoding requests, each generating one token with a context of
  :math:`\text{ctx}_i` tokens (its KV length including the new token).

Forms (llm-models.md §4.1):

============================  ==================================================================
:class:`LinearCost`           :math:`\tau = c_0 + c_d B + c_p \sum l_i + c_\text{ctx}\sum
                              \text{ctx}_i` (+ optional quadratic terms, :class:`QuadraticCost`)
:class:`PhaseCost`            DistServe's phase formulas: prefill :math:`a + b\sum l + c\sum l^2`,
                              decode :math:`a + b\sum\text{ctx} + cB` (two coefficient sets
                              split at a batch size)
:class:`RooflineCost`         :math:`\tau = \max(\tau_0, a + bN) + c\sum\text{ctx}`, N = tokens
:class:`TabulatedCost`        linear interpolation (and extrapolation) of measured times against
                              batch tokens, separate prompt and token curves, mixed batches cost
                              the prompt time × 1.1 (Splitwise simulator)
============================  ==================================================================

Presets (each cites its source): :func:`distserve_opt13b`,
:func:`vidur_llama2_7b_a100` and friends, :func:`splitwise_llama2_70b_h100`,
:func:`infercept_profile`, :meth:`RooflineCost.from_hardware`. Use the plain
:class:`LinearCost` with explicit constants for tests (llm-models.md §4.2).

>>> from queuetheory import llm
>>> cost = llm.LinearCost(per_iteration=0.01, per_token=0.001, per_prefill_token=0.0001)
>>> round(cost.iteration_time(prefill=[100], decode_contexts=[50, 60]), 12)
0.022
>>> round(llm.distserve_opt13b().iteration_time(prefill=[512]) * 1e3, 4)  # ms
96.1041
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import (
    ParameterError,
    check_finite,
    check_in_interval,
    check_nonnegative,
    check_positive,
)
from . import _kernel as K

__all__ = [
    "CostModel",
    "LinearCost",
    "QuadraticCost",
    "PhaseCost",
    "RooflineCost",
    "TabulatedCost",
    "distserve_opt13b",
    "vidur_llama2_7b_a100",
    "vidur_llama2_7b_h100",
    "vidur_llama3_8b_a100",
    "vidur_llama2_70b_h100_tp8",
    "splitwise_llama2_70b_h100",
    "infercept_profile",
]

_N_CP = 11


class CostModel:
    """Base class: ``iteration_time(prefill, decode_contexts) -> seconds``.

    Subclasses define ``_spec()`` returning ``(kind, cp, tab)``, the encoding
    the simulator kernel evaluates, so that the Python method and the
    simulator compute the same numbers.
    """

    name = "cost"

    def _spec(self) -> tuple[int, np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def iteration_time(self, prefill: Sequence[int] = (), decode_contexts: Sequence[int] = (),
                       ) -> float:
        """Seconds for one iteration.

        Parameters
        ----------
        prefill : sequence of int
            Lengths of the prefill chunks in the batch (tokens).
        decode_contexts : sequence of int
            Context length (KV tokens, including the token being processed) of each
            decoding request.
        """
        pre = np.asarray(prefill, dtype=np.int64).reshape(-1)
        ctx = np.asarray(decode_contexts, dtype=np.int64).reshape(-1)
        if np.any(pre < 1):
            raise ParameterError("prefill chunk lengths must be >= 1")
        if np.any(ctx < 1):
            raise ParameterError("decode_contexts must be >= 1")
        if pre.size == 0 and ctx.size == 0:
            raise ParameterError("an iteration needs at least one prefill chunk or decode")
        kind, cp, tab = self._spec()
        return float(K.iteration_time(kind, cp, tab, int(pre.sum()),
                                      float(np.sum(pre.astype(float) ** 2)), int(ctx.size),
                                      int(ctx.sum())))

    def prefill_time(self, n_tokens: int) -> float:
        """Seconds to prefill ``n_tokens`` alone (one chunk)."""
        return self.iteration_time(prefill=[int(n_tokens)])

    def decode_time(self, batch_size: int, context: int = 1) -> float:
        """Seconds of a decode-only iteration of ``batch_size`` requests of context ``context``."""
        b = int(batch_size)
        if b < 1:
            raise ParameterError(f"batch_size must be >= 1 (got {batch_size!r})")
        return self.iteration_time(decode_contexts=[int(context)] * b)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._params_repr()})"

    def _params_repr(self) -> str:
        return ""


class LinearCost(CostModel):
    r"""Linear cost, the default for tests (llm-models.md §4.1, "linear").

    .. math::

        \tau = c_0 + c_d\,B_\text{dec} + c_p\sum_i l_i + c_\text{ctx}\sum_i \text{ctx}_i

    Parameters
    ----------
    per_iteration : float
        :math:`c_0`, seconds per iteration.
    per_token : float
        :math:`c_d`, seconds per decode token (one per decoding request).
    per_prefill_token : float, optional
        :math:`c_p`, seconds per prefill token (default: ``per_token``).
    per_context_token : float
        :math:`c_\text{ctx}`, seconds per KV token read by decodes (attention), default 0.

    Examples
    --------
    >>> LinearCost(per_iteration=1.0, per_token=0.0, per_prefill_token=0.0).decode_time(8)
    1.0
    """

    name = "linear"

    def __init__(self, per_iteration: float, per_token: float = 0.0,
                 per_prefill_token: float | None = None, per_context_token: float = 0.0) -> None:
        self.per_iteration = check_nonnegative("per_iteration", per_iteration)
        self.per_token = check_nonnegative("per_token", per_token)
        self.per_prefill_token = (self.per_token if per_prefill_token is None
                                  else check_nonnegative("per_prefill_token", per_prefill_token))
        self.per_context_token = check_nonnegative("per_context_token", per_context_token)
        if self.per_iteration == 0 and self.per_token == 0 and self.per_prefill_token == 0 \
                and self.per_context_token == 0:
            raise ParameterError("a cost model must have at least one positive coefficient")
        if self.per_iteration == 0 and (self.per_token == 0 or self.per_prefill_token == 0) \
                and self.per_context_token == 0:
            raise ParameterError(
                "per_iteration must be > 0 unless per_token, per_prefill_token (or "
                "per_context_token) are all > 0, so that every iteration takes time")
        self._quad = (0.0, 0.0)

    def _spec(self):
        cp = np.zeros(_N_CP)
        cp[:6] = (self.per_iteration, self.per_token, self.per_prefill_token,
                  self.per_context_token, self._quad[0], self._quad[1])
        return K.C_LINEAR, cp, np.zeros(1)

    def _params_repr(self) -> str:
        return (f"per_iteration={self.per_iteration!r}, per_token={self.per_token!r}, "
                f"per_prefill_token={self.per_prefill_token!r}, "
                f"per_context_token={self.per_context_token!r}")


class QuadraticCost(LinearCost):
    r"""Linear cost plus quadratic terms.

    .. math::

        \tau = c_0 + c_d B + c_p \sum l_i + c_\text{ctx}\sum\text{ctx}_i
               + c_{p2}\sum l_i^2 + c_{q2} q^2,\qquad q = \sum l_i + B

    (q = query tokens of the iteration). Used by :func:`infercept_profile`.
    """

    name = "quadratic"

    def __init__(self, per_iteration: float, per_token: float = 0.0,
                 per_prefill_token: float | None = None, per_context_token: float = 0.0,
                 per_prefill_token_squared: float = 0.0,
                 per_query_token_squared: float = 0.0) -> None:
        super().__init__(per_iteration, per_token, per_prefill_token, per_context_token)
        self._quad = (check_nonnegative("per_prefill_token_squared", per_prefill_token_squared),
                      check_nonnegative("per_query_token_squared", per_query_token_squared))

    def _params_repr(self) -> str:
        return (super()._params_repr() + f", per_prefill_token_squared={self._quad[0]!r}, "
                f"per_query_token_squared={self._quad[1]!r}")


class PhaseCost(CostModel):
    r"""DistServe's phase-separated cost model (llm-models.md §4.1, [C, DistServe code]).

    Prefill: :math:`a_p + b_p\sum l_i + c_p\sum l_i^2`. Decode:
    :math:`a + b\sum\text{ctx}_i + c\,B`, with ``decode_small`` = (a, b, c) for
    :math:`B <` ``batch_switch`` and ``decode_large`` otherwise. Coefficients are in
    ``unit`` seconds (default milliseconds, ``unit=1e-3``).

    A mixed batch (vLLM-v1 continuous batching mixes phases; DistServe's
    profile does not) is charged prefill + decode − the decode's fixed term, i.e.
    the fixed overhead once [R, a toolkit convention].
    """

    name = "phase"

    def __init__(self, prefill: Sequence[float], decode_small: Sequence[float],
                 decode_large: Sequence[float] | None = None, batch_switch: float = np.inf,
                 unit: float = 1e-3) -> None:
        self.prefill = tuple(check_finite("prefill", v) for v in prefill)
        self.decode_small = tuple(check_finite("decode_small", v) for v in decode_small)
        self.decode_large = (self.decode_small if decode_large is None
                             else tuple(check_finite("decode_large", v) for v in decode_large))
        for name, c in (("prefill", self.prefill), ("decode_small", self.decode_small),
                        ("decode_large", self.decode_large)):
            if len(c) != 3:
                raise ParameterError(f"{name} must be three coefficients (a, b, c)")
            if c[0] <= 0 or c[1] < 0 or c[2] < 0:
                raise ParameterError(f"{name} must have a > 0 and b, c >= 0 (got {c})")
        self.batch_switch = check_positive("batch_switch", batch_switch, allow_inf=True)
        self.unit = check_positive("unit", unit)

    def _spec(self):
        cp = np.zeros(_N_CP)
        cp[0:3] = self.prefill
        cp[3:6] = self.decode_small
        cp[6:9] = self.decode_large
        cp[9] = self.batch_switch if np.isfinite(self.batch_switch) else 1e300
        cp[10] = self.unit
        return K.C_PHASE, cp, np.zeros(1)

    def _params_repr(self) -> str:
        return (f"prefill={self.prefill}, decode_small={self.decode_small}, "
                f"decode_large={self.decode_large}, batch_switch={self.batch_switch!r}, "
                f"unit={self.unit!r}")


class RooflineCost(CostModel):
    r"""Roofline cost :math:`\tau = \max(\tau_0, a + bN) + c\sum\text{ctx}_i` (llm-models.md §4.1).

    Flat (memory-bound: weights are read once per iteration) up to the knee,
    then linear in the N tokens of the batch (compute-bound); the last term is
    decode attention reading the KV cache. All in seconds.
    """

    name = "roofline"

    def __init__(self, floor: float, intercept: float = 0.0, per_token: float = 0.0,
                 per_context_token: float = 0.0) -> None:
        self.floor = check_positive("floor", floor)
        self.intercept = check_nonnegative("intercept", intercept)
        self.per_token = check_nonnegative("per_token", per_token)
        self.per_context_token = check_nonnegative("per_context_token", per_context_token)

    @classmethod
    def from_hardware(cls, model, *, peak_flops: float, bandwidth: float, mfu: float = 0.45,
                      mbu: float = 0.30, tp: int = 1) -> RooflineCost:
        r"""First-principles roofline [R] (llm-models.md §4.1, last row).

        :math:`\tau_0` = weight bytes / (bandwidth·MBU); per token 2·params FLOPs /
        (peak·MFU); per context token κ / (bandwidth·MBU); all divided over ``tp``
        GPUs. MFU ≈ 0.45 (prefill) and MBU ≈ 0.30 (decode) on H100 are values used by
        an open-source simulator, not from a peer-reviewed source.

        >>> from queuetheory import llm
        >>> c = RooflineCost.from_hardware(llm.LLAMA_2_7B, peak_flops=989e12, bandwidth=3.35e12)
        >>> round(c.floor * 1e3, 2)   # ms to stream 13.5 GB of weights at 30% of 3.35 TB/s
        13.41
        """
        peak = check_positive("peak_flops", peak_flops)
        bw = check_positive("bandwidth", bandwidth)
        mfu = check_in_interval("mfu", mfu, 0.0, 1.0, closed_low=False)
        mbu = check_in_interval("mbu", mbu, 0.0, 1.0, closed_low=False)
        if model.n_params is None:
            raise ParameterError("model.n_params must be set for a first-principles roofline")
        eff_bw = bw * mbu * tp
        eff_fl = peak * mfu * tp
        return cls(floor=model.weight_bytes() / eff_bw, intercept=0.0,
                   per_token=2.0 * model.n_params / eff_fl,
                   per_context_token=float(model.kv_bytes_per_token()) / eff_bw)

    def _spec(self):
        cp = np.zeros(_N_CP)
        cp[:4] = (self.floor, self.intercept, self.per_token, self.per_context_token)
        return K.C_ROOFLINE, cp, np.zeros(1)

    def _params_repr(self) -> str:
        return (f"floor={self.floor!r}, intercept={self.intercept!r}, "
                f"per_token={self.per_token!r}, per_context_token={self.per_context_token!r}")


class TabulatedCost(CostModel):
    """Interpolated measured times (llm-models.md §4.1, the Splitwise simulator's scheme [C]).

    Parameters
    ----------
    prompt_tokens, prompt_times : sequence
        Prompt-only curve: batch prefill tokens -> time.
    decode_batch, decode_times : sequence
        Token-only curve: decode batch size -> time.
    mixed_factor : float
        A batch mixing prefill and decode costs prompt_time(all tokens) × this (1.1).
    per_context_token : float
        Optional attention term added per KV token read by decodes (in ``unit``).
    unit : float
        Seconds per table unit (1e-3 for milliseconds).

    Notes
    -----
    Linear extrapolation beyond the end points.
    """

    name = "tabulated"

    def __init__(self, prompt_tokens, prompt_times, decode_batch, decode_times, *,
                 mixed_factor: float = 1.1, per_context_token: float = 0.0,
                 unit: float = 1e-3) -> None:
        self.prompt = self._curve("prompt", prompt_tokens, prompt_times)
        self.decode = self._curve("decode", decode_batch, decode_times)
        self.mixed_factor = check_positive("mixed_factor", mixed_factor)
        self.per_context_token = check_nonnegative("per_context_token", per_context_token)
        self.unit = check_positive("unit", unit)

    @staticmethod
    def _curve(name, xs, ys):
        x = np.asarray(xs, dtype=float).reshape(-1)
        y = np.asarray(ys, dtype=float).reshape(-1)
        if x.size == 0 or x.size != y.size:
            raise ParameterError(f"{name} table must have equally many (>= 1) points and times")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ParameterError(f"{name} table must be finite")
        if np.any(np.diff(x) <= 0):
            raise ParameterError(f"{name} table points must be strictly increasing")
        if np.any(y <= 0):
            raise ParameterError(f"{name} table times must be > 0")
        return x, y

    def _spec(self):
        (xp, yp), (xd, yd) = self.prompt, self.decode
        tab = np.concatenate([[xp.size], xp, yp, [xd.size], xd, yd]).astype(float)
        cp = np.zeros(_N_CP)
        cp[:3] = (self.mixed_factor, self.per_context_token, self.unit)
        return K.C_TABLE, cp, tab


# ------------------------------------------------------------------ presets
def distserve_opt13b() -> PhaseCost:
    """OPT-13B, TP1, A100-80G under the vLLM engine (DistServe artifact profile data) [C].

    ``prefill_ms = 22.05 + 0.1405·Σl + 8.08e-6·Σl²``;
    ``decode_ms = 23.48 + 5.93e-4·Σctx + 0.0607·B`` (B < 95),
    ``20.21 + 4.91e-4·Σctx + 0.120·B`` (B ≥ 95). KV capacity 66,144 tokens
    (:data:`~queuetheory.llm.DISTSERVE_OPT_13B_A100_CAPACITY_TOKENS`).
    Source: Zhong et al., DistServe (OSDI 2024), artifact; llm-models.md §4.2.
    The artifact also has OPT-66B/175B sets at several TP degrees (not bundled).
    """
    return PhaseCost(prefill=(22.05, 0.1405, 8.08e-6), decode_small=(23.48, 5.93e-4, 0.0607),
                     decode_large=(20.21, 4.91e-4, 0.120), batch_switch=95, unit=1e-3)


def _vidur(t1, t64, t512, t4096, per_context_token):
    pts = [1, 64, 512, 4096]
    times = [t1, t64, t512, t4096]
    return TabulatedCost(pts, times, pts, times, mixed_factor=1.0,
                         per_context_token=per_context_token, unit=1e-3)


def vidur_llama2_7b_a100(per_context_token: float = 0.0) -> TabulatedCost:
    """Llama-2-7B / A100 / TP1, Vidur operator profiles, non-attention operators only [C data].

    Times (ms) at 1, 64, 512, 4096 batch tokens: 9.3, 9.7, 33.4, 258 (sum of
    per-layer median MLP/linear times × layers; no attention, no CPU overhead).
    Add an attention term via ``per_context_token`` (ms per KV token read) before
    use. Source: Agrawal et al., Vidur (MLSys 2024) profiles; llm-models.md §4.2.
    """
    return _vidur(9.3, 9.7, 33.4, 258.0, per_context_token)


def vidur_llama2_7b_h100(per_context_token: float = 0.0) -> TabulatedCost:
    """Llama-2-7B / H100 / TP1, Vidur non-attention profile: 5.6, 5.9, 12.0, 83.5 ms [C data].

    See :func:`vidur_llama2_7b_a100`.
    """
    return _vidur(5.6, 5.9, 12.0, 83.5, per_context_token)


def vidur_llama3_8b_a100(per_context_token: float = 0.0) -> TabulatedCost:
    """Llama-3-8B / A100 / TP1, Vidur non-attention profile: 9.7, 11.2, 34.6, 274 ms [C data].

    See :func:`vidur_llama2_7b_a100`.
    """
    return _vidur(9.7, 11.2, 34.6, 274.0, per_context_token)


def vidur_llama2_70b_h100_tp8(per_context_token: float = 0.0) -> TabulatedCost:
    """Llama-2-70B / H100 / TP8, Vidur non-attention profile: 8.4, 9.0, 17.7, 121.6 ms [C data].

    See :func:`vidur_llama2_7b_a100`.
    """
    return _vidur(8.4, 9.0, 17.7, 121.6, per_context_token)


def splitwise_llama2_70b_h100() -> TabulatedCost:
    """Llama2-70B on DGX-H100, TP8, medians of the Splitwise performance table [C data; R].

    Decode: 30.4 ms at batch 1 to 50.2 ms at batch 64 (linear in between);
    prefill ≈ 10.6 + 0.091·N ms for N ≥ 1024 batch tokens (extrapolated linearly
    below); mixed batches cost the prompt time × 1.1, as in the Splitwise
    simulator. Source: Patel et al., Splitwise (ISCA 2024); llm-models.md §4.2.
    """
    return TabulatedCost([1024, 8192], [10.6 + 0.091 * 1024, 10.6 + 0.091 * 8192],
                         [1, 64], [30.4, 50.2], mixed_factor=1.1, unit=1e-3)


def infercept_profile() -> QuadraticCost:
    """InferCept's iteration profile: ``1.3e-5·q² + 0.328·q + 24.1`` ms, q = query tokens [C code].

    q counts running decodes plus (re)computed prompt tokens. The model is
    probably GPT-J-6B (not confirmed). InferCept's swap (4e-5 s per token
    beyond 640 tokens, overlappable) and free first 128 recomputed tokens are not
    part of this per-iteration cost. Source: Abhyankar et al., InferCept (ICML
    2024) code constants; llm-models.md §4.2.
    """
    return QuadraticCost(per_iteration=24.1e-3, per_token=0.328e-3, per_prefill_token=0.328e-3,
                         per_query_token_squared=1.3e-8)
