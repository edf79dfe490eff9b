"""Configuration of one batched LLM inference server (llm-models.md §2, §5, §8, §10).

>>> from queuetheory import llm
>>> server = llm.Server(max_batch_size=64, kv_capacity_tokens=66_144,
...                     cost=llm.distserve_opt13b())
>>> server.capacity_blocks
4134
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import (
    ParameterError,
    check_in_interval,
    check_nonnegative,
    check_positive,
    check_positive_integer,
)
from . import _kernel as K
from .costs import CostModel

__all__ = ["Server", "BATCHING_MODES", "PREEMPTION_MODES"]

#: Batching modes (llm-models.md §8).
BATCHING_MODES = {"vllm-v1": K.MODE_V1, "vllm-v0": K.MODE_V0, "sarathi": K.MODE_SARATHI,
                  "static": K.MODE_STATIC}
#: Preemption modes (llm-models.md §2.4, §5).
PREEMPTION_MODES = {"recompute": K.PM_RECOMPUTE, "swap": K.PM_SWAP, "preserve": K.PM_PRESERVE}


class Server:
    """One batched LLM server.

    Parameters
    ----------
    max_batch_size : int
        Largest number of running requests (vLLM ``max_num_seqs``).
    kv_capacity_tokens : int or None
        KV-cache capacity in tokens (None: unlimited). Rounded down to whole
        blocks. See :func:`~queuetheory.llm.kv_capacity_tokens`.
    cost : CostModel
        Iteration-time model (:mod:`queuetheory.llm.costs`).
    block_size : int
        Tokens per KV block (vLLM's PagedAttention default 16).
    max_batched_tokens : int or None
        Token budget of one iteration (vLLM ``max_num_batched_tokens``); None is
        unlimited. Sarathi batching defaults to 512.
    batching : {"vllm-v1", "vllm-v0", "sarathi", "static"}
        ``"vllm-v1"`` (default): running requests first, then admissions, prefill
        and decode mixed in one iteration, chunked prefill when the budget binds.
        ``"vllm-v0"``: an iteration is either new prefills only (admitted while
        blocks fit above the watermark and the padded budget
        count × longest prompt allows) or decodes only; prefill first; the
        victim of a failed decode allocation is the latest arrival.
        ``"sarathi"``: a token budget per iteration, decodes first, then at most
        ``max_partial_prefills`` continuing prefill chunk(s), then new prefill
        chunks filling the budget ("stall-free").
        ``"static"``: request-level batching (FasterTransformer): a batch is
        formed when the server is empty, with the full s + o tokens reserved per
        request, and runs until its last request finishes.
    preemption : {"recompute", "swap", "preserve"}
        What happens to a request preempted by the *scheduler* (a priority
        displacement). ``"recompute"`` frees its blocks and it later prefills its
        s + j tokens again; ``"swap"`` moves its KV to CPU memory, charging
        κ·tokens/``swap_bandwidth`` out and again in; ``"preserve"`` keeps its KV
        on the GPU (reclaimed, worst rank first, when memory runs out). A
        *memory* preemption (a failed block allocation) must free memory: it
        recomputes, or swaps in ``"swap"`` mode.
    kv_bytes_per_token : float
        κ, used for swap times and swapped bytes (default: Llama-3-8B's 131,072).
    swap_bandwidth : float
        Bytes per second of the CPU-GPU link (default 25e9, PCIe 4.0 ×16 order).
    swap_overlap : bool
        False (default): swap traffic is added to the iteration in which it
        happens (blocking). True: charged to a copy engine fully overlapped with
        compute (an idealisation of FastServe's proactive swapping: no time cost).
    cpu_swap_capacity_tokens : int or None
        CPU swap space in tokens; a swap that does not fit recomputes instead.
    head_of_line : bool
        True (vLLM): admission stops at the first waiting request that does not
        fit. False: skip it and try the next ones.
    chunked_prefill : bool
        Split prefills to fill the token budget (vLLM v1 default). Without it a
        prefill must fit the remaining budget whole.
    max_prefill_chunk : int or None
        Cap on one prefill chunk (vLLM ``long_prefill_token_threshold``).
    max_partial_prefills : int
        Sarathi: continuing prefill chunks per iteration (1).
    watermark : float or None
        Fraction of blocks kept free when admitting new prefills (vLLM V0 default
        0.01; default 0 for the other modes).
    wakeup_latency : float
        Seconds between an arrival to an *idle* server and its first iteration
        (default 1 µs, an engine-loop tick). Requests arriving in that window
        join the same step, which is how near-simultaneous arrivals are batched.
        Set 0 for the exact M/G/1 correspondence.
    """

    def __init__(self, max_batch_size: int = 256, kv_capacity_tokens: int | None = None,
                 cost: CostModel | None = None, *, block_size: int = 16,
                 max_batched_tokens: int | None = None, batching: str = "vllm-v1",
                 preemption: str = "recompute", kv_bytes_per_token: float = 131072.0,
                 swap_bandwidth: float = 25e9, swap_overlap: bool = False,
                 cpu_swap_capacity_tokens: int | None = None, head_of_line: bool = True,
                 chunked_prefill: bool = True, max_prefill_chunk: int | None = None,
                 max_partial_prefills: int = 1, watermark: float | None = None,
                 wakeup_latency: float = 1e-6) -> None:
        self.max_batch_size = check_positive_integer("max_batch_size", max_batch_size)
        self.block_size = check_positive_integer("block_size", block_size)
        if kv_capacity_tokens is None:
            self.kv_capacity_tokens = None
        else:
            self.kv_capacity_tokens = check_positive_integer("kv_capacity_tokens",
                                                             kv_capacity_tokens)
            if self.kv_capacity_tokens < self.block_size:
                raise ParameterError(f"kv_capacity_tokens must be >= block_size "
                                     f"({self.block_size}) (got {self.kv_capacity_tokens})")
        if cost is None:
            raise ParameterError("cost must be given (a queuetheory.llm cost model, "
                                 "e.g. llm.LinearCost(...))")
        if not isinstance(cost, CostModel):
            raise ParameterError(f"cost must be a queuetheory.llm CostModel "
                                 f"(got {type(cost).__name__})")
        self.cost = cost
        if batching not in BATCHING_MODES:
            raise ParameterError(f"batching must be one of {sorted(BATCHING_MODES)} "
                                 f"(got {batching!r})")
        self.batching = batching
        if preemption not in PREEMPTION_MODES:
            raise ParameterError(f"preemption must be one of {sorted(PREEMPTION_MODES)} "
                                 f"(got {preemption!r})")
        self.preemption = preemption
        if max_batched_tokens is None and batching == "sarathi":
            max_batched_tokens = 512
        self.max_batched_tokens = (None if max_batched_tokens is None else
                                   check_positive_integer("max_batched_tokens",
                                                          max_batched_tokens))
        self.kv_bytes_per_token = check_positive("kv_bytes_per_token", kv_bytes_per_token)
        self.swap_bandwidth = check_positive("swap_bandwidth", swap_bandwidth)
        self.swap_overlap = bool(swap_overlap)
        self.cpu_swap_capacity_tokens = (
            None if cpu_swap_capacity_tokens is None else
            int(check_nonnegative("cpu_swap_capacity_tokens", cpu_swap_capacity_tokens)))
        self.head_of_line = bool(head_of_line)
        self.chunked_prefill = bool(chunked_prefill)
        self.max_prefill_chunk = (None if max_prefill_chunk is None else
                                  check_positive_integer("max_prefill_chunk", max_prefill_chunk))
        self.max_partial_prefills = check_positive_integer("max_partial_prefills",
                                                           max_partial_prefills)
        if watermark is None:
            watermark = 0.01 if batching == "vllm-v0" else 0.0
        self.watermark = check_in_interval("watermark", watermark, 0.0, 1.0, closed_high=False)
        self.wakeup_latency = check_nonnegative("wakeup_latency", wakeup_latency)

    @property
    def capacity_blocks(self) -> int | None:
        """Whole KV blocks, ⌊kv_capacity_tokens / block_size⌋ (None if unlimited)."""
        if self.kv_capacity_tokens is None:
            return None
        return self.kv_capacity_tokens // self.block_size

    def _fill(self, ip: Any, fp: Any) -> None:
        cap = self.capacity_blocks
        ip[K.I_MAX_BATCH] = self.max_batch_size
        ip[K.I_BUDGET] = K.INF_I if self.max_batched_tokens is None else self.max_batched_tokens
        ip[K.I_BLOCK] = self.block_size
        ip[K.I_CAP_BLOCKS] = -1 if cap is None else cap
        ip[K.I_WATERMARK] = 0 if cap is None else int(math.floor(self.watermark * cap))
        ip[K.I_MODE] = BATCHING_MODES[self.batching]
        ip[K.I_HOL] = int(self.head_of_line)
        ip[K.I_CHUNKED] = int(self.chunked_prefill)
        ip[K.I_CHUNK_CAP] = K.INF_I if self.max_prefill_chunk is None else self.max_prefill_chunk
        ip[K.I_PMODE] = PREEMPTION_MODES[self.preemption]
        ip[K.I_SWAP_BLOCKING] = int(not self.swap_overlap)
        ip[K.I_CPU_CAP] = (-1 if self.cpu_swap_capacity_tokens is None
                           else self.cpu_swap_capacity_tokens)
        ip[K.I_MAX_PARTIAL] = self.max_partial_prefills
        ip[K.I_MCSF_CAP] = K.INF_I if cap is None else cap * self.block_size
        fp[K.F_WAKEUP] = self.wakeup_latency
        fp[K.F_SWAP_RATE] = self.kv_bytes_per_token / self.swap_bandwidth

    def __repr__(self) -> str:
        return (f"Server(max_batch_size={self.max_batch_size}, "
                f"kv_capacity_tokens={self.kv_capacity_tokens}, cost={self.cost!r}, "
                f"batching={self.batching!r}, preemption={self.preemption!r})")
