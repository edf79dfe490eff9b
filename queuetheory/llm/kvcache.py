r"""KV-cache arithmetic: bytes per token, capacity in tokens and blocks, model configurations.

While a request is resident it holds the keys and values of every token it
has processed. Per token and per GPU this costs (llm-models.md §3.1)

.. math::

    \kappa = \frac{2 \cdot n_\text{layers} \cdot n_\text{kv heads} \cdot d_\text{head}
                   \cdot \text{bytes per element}}{tp \cdot pp}

(the factor 2 counts K and V; for plain multi-head attention
:math:`n_\text{kv heads} d_\text{head}` is the hidden size, which gives
FastServe's :math:`4 l h` in FP16). The KV budget of a GPU is
(llm-models.md §3.3)

.. math::

    \text{capacity}_\text{tokens} = \left\lfloor
        \frac{\text{GPU memory}\cdot u - \text{weights} - \text{activations}}{\kappa} \right\rfloor,
    \qquad \text{capacity}_\text{blocks} = \lfloor \text{capacity}_\text{tokens} / B_\text{blk}
    \rfloor .

>>> from queuetheory import llm
>>> llm.LLAMA_3_8B.kv_bytes_per_token()      # 32 layers x 8 KV heads x 128 x 2 x 2 B
131072
>>> llm.OPT_175B.kv_bytes_per_token() * 513 / 2**30   # FastServe's "2.3 GB" per request
2.25439453125
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import (
    ParameterError,
    check_in_interval,
    check_nonnegative,
    check_positive,
    check_positive_integer,
)

__all__ = [
    "ModelConfig",
    "kv_bytes_per_token",
    "kv_capacity_tokens",
    "kv_capacity_blocks",
    "LLAMA_3_8B",
    "LLAMA_2_7B",
    "LLAMA_2_70B",
    "OPT_13B",
    "OPT_66B",
    "OPT_175B",
    "MODELS",
    "DISTSERVE_OPT_13B_A100_CAPACITY_TOKENS",
]

#: KV capacity of OPT-13B, TP1, A100-80G under vLLM, in tokens, from the DistServe artifact
#: (llm-models.md §3.3, [C]); 4134 blocks of 16 tokens.
DISTSERVE_OPT_13B_A100_CAPACITY_TOKENS = 66_144


@dataclass(frozen=True)
class ModelConfig:
    """The attention shape of a transformer, enough to size its KV cache.

    Parameters
    ----------
    name : str
    n_layers : int
        Number of transformer layers.
    n_kv_heads : int
        Number of key/value heads (= attention heads without grouped-query attention).
    d_head : int
        Dimension of one head.
    bytes_per_elem : int
        2 for FP16/BF16 (default), 1 for FP8.
    n_params : float, optional
        Number of parameters (for weight memory and first-principles roofline costs).
    """

    name: str
    n_layers: int
    n_kv_heads: int
    d_head: int
    bytes_per_elem: int = 2
    n_params: float | None = None

    def __post_init__(self) -> None:
        check_positive_integer("n_layers", self.n_layers)
        check_positive_integer("n_kv_heads", self.n_kv_heads)
        check_positive_integer("d_head", self.d_head)
        check_positive_integer("bytes_per_elem", self.bytes_per_elem)
        if self.n_params is not None:
            check_positive("n_params", self.n_params)

    def kv_bytes_per_token(self, tp: int = 1, pp: int = 1) -> int | float:
        """κ = 2·n_layers·n_kv_heads·d_head·bytes_per_elem / (tp·pp), bytes per token per GPU."""
        return kv_bytes_per_token(self.n_layers, self.n_kv_heads, self.d_head,
                                  self.bytes_per_elem, tp=tp, pp=pp)

    def kv_bytes_per_block(self, block_size: int = 16, tp: int = 1, pp: int = 1) -> int | float:
        """Bytes of one KV block of ``block_size`` tokens on one GPU (llm-models.md §3.1)."""
        return check_positive_integer("block_size", block_size) * self.kv_bytes_per_token(tp, pp)

    def weight_bytes(self) -> float:
        """Weight memory, n_params × bytes_per_elem (requires ``n_params``)."""
        if self.n_params is None:
            raise ParameterError(f"n_params of {self.name} is not set; give it to size weights")
        return float(self.n_params) * self.bytes_per_elem


def kv_bytes_per_token(n_layers: int, n_kv_heads: int, d_head: int, bytes_per_elem: int = 2,
                       *, tp: int = 1, pp: int = 1) -> int | float:
    """KV bytes per token on one GPU: 2·n_layers·n_kv_heads·d_head·bytes_per_elem/(tp·pp).

    Source: llm-models.md §3.1 (the factor 2 is K and V). Returns an int when
    the division by tp·pp is exact.

    >>> kv_bytes_per_token(40, 40, 128)     # OPT-13B, hidden 5120
    819200
    >>> kv_bytes_per_token(80, 8, 128, tp=4)  # Llama-2-70B over 4 GPUs
    81920
    """
    n_layers = check_positive_integer("n_layers", n_layers)
    n_kv_heads = check_positive_integer("n_kv_heads", n_kv_heads)
    d_head = check_positive_integer("d_head", d_head)
    bytes_per_elem = check_positive_integer("bytes_per_elem", bytes_per_elem)
    tp = check_positive_integer("tp", tp)
    pp = check_positive_integer("pp", pp)
    total = 2 * n_layers * n_kv_heads * d_head * bytes_per_elem
    return total // (tp * pp) if total % (tp * pp) == 0 else total / (tp * pp)


def kv_capacity_tokens(kv_bytes_per_token: float, *, gpu_memory: float,
                       utilisation: float = 0.9, weights: float = 0.0,
                       activations: float = 0.0) -> int:
    """KV capacity in tokens, ⌊(gpu_memory·utilisation − weights − activations)/κ⌋.

    Source: llm-models.md §3.3. All memory sizes in bytes; ``weights`` and
    ``activations`` are per GPU. Calibrate against the block count the real
    engine reports (the capacity dominates results once the cache saturates).

    Raises
    ------
    ParameterError
        If nothing is left for the KV cache.

    Examples
    --------
    >>> kv_capacity_tokens(131072, gpu_memory=80e9, utilisation=0.9, weights=16e9)
    427246
    """
    kappa = check_positive("kv_bytes_per_token", kv_bytes_per_token)
    mem = check_positive("gpu_memory", gpu_memory)
    u = check_in_interval("utilisation", utilisation, 0.0, 1.0, closed_low=False)
    w = check_nonnegative("weights", weights)
    a = check_nonnegative("activations", activations)
    budget = mem * u - w - a
    if budget < kappa:
        raise ParameterError(
            f"gpu_memory*utilisation - weights - activations must be >= one token's KV "
            f"({kappa:g} B) (got {budget:g} B)")
    return int(math.floor(budget / kappa))


def kv_capacity_blocks(capacity_tokens: int, block_size: int = 16) -> int:
    """Number of whole KV blocks, ⌊capacity_tokens / block_size⌋ (llm-models.md §3.3).

    >>> kv_capacity_blocks(66_144, 16)
    4134
    """
    cap = check_positive_integer("capacity_tokens", capacity_tokens)
    bs = check_positive_integer("block_size", block_size)
    return cap // bs


# Standard configurations (FP16). Sources: the models' published configurations;
# the κ values and checks are tabulated in llm-models.md §3.2.
LLAMA_3_8B = ModelConfig("Llama-3-8B", n_layers=32, n_kv_heads=8, d_head=128, n_params=8.03e9)
LLAMA_2_7B = ModelConfig("Llama-2-7B", n_layers=32, n_kv_heads=32, d_head=128, n_params=6.74e9)
LLAMA_2_70B = ModelConfig("Llama-2-70B", n_layers=80, n_kv_heads=8, d_head=128, n_params=6.9e10)
OPT_13B = ModelConfig("OPT-13B", n_layers=40, n_kv_heads=40, d_head=128, n_params=1.3e10)
OPT_66B = ModelConfig("OPT-66B", n_layers=64, n_kv_heads=72, d_head=128, n_params=6.6e10)
OPT_175B = ModelConfig("OPT-175B", n_layers=96, n_kv_heads=96, d_head=128, n_params=1.75e11)

#: The configurations above by name.
MODELS = {m.name: m for m in (LLAMA_3_8B, LLAMA_2_7B, LLAMA_2_70B, OPT_13B, OPT_66B, OPT_175B)}
