"""KV-cache arithmetic (llm-models.md §3) and iteration cost models (§4)."""

import pytest

from queuetheory import llm
from queuetheory.errors import ParameterError


@pytest.mark.parametrize("model, kappa", [
    (llm.LLAMA_3_8B, 131_072), (llm.LLAMA_2_7B, 524_288), (llm.LLAMA_2_70B, 327_680),
    (llm.OPT_13B, 819_200), (llm.OPT_66B, 2_359_296), (llm.OPT_175B, 4_718_592)])
def test_kv_bytes_per_token_table(model, kappa):
    # llm-models.md §3.2: 2 * layers * kv_heads * d_head * 2 bytes
    assert model.kv_bytes_per_token() == kappa
    assert model.kv_bytes_per_token() == 2 * model.n_layers * model.n_kv_heads * model.d_head * 2


def test_published_kv_checks():
    # DistServe: a 512-token OPT-66B prefill needs ~1.13 GB of KV
    assert llm.OPT_66B.kv_bytes_per_token() * 512 / 2**30 == pytest.approx(1.125)
    # FastServe: OPT-175B, s + t = 513 tokens -> ~2.3 GB
    assert llm.OPT_175B.kv_bytes_per_token() * 513 / 2**30 == pytest.approx(2.2544, abs=1e-4)
    # FastServe's 4 l h form for plain multi-head attention in FP16
    assert llm.OPT_175B.kv_bytes_per_token() == 4 * 96 * 12288
    # the circulating 0.625 MB/token for Llama-2-70B is wrong (GQA with 8 KV heads: 320 KiB)
    assert llm.LLAMA_2_70B.kv_bytes_per_token() == 320 * 1024
    # sharding over tensor and pipeline parallelism divides the per-GPU cost
    assert llm.LLAMA_2_70B.kv_bytes_per_token(tp=8) == 40_960
    assert llm.LLAMA_2_70B.kv_bytes_per_block(16, tp=4, pp=2) == 16 * 40_960


def test_kv_capacity():
    # DistServe artifact: OPT-13B, TP1, A100-80G -> 66,144 tokens = 4134 blocks of 16
    assert llm.DISTSERVE_OPT_13B_A100_CAPACITY_TOKENS == 66_144
    assert llm.kv_capacity_blocks(66_144, 16) == 4134
    server = llm.Server(kv_capacity_tokens=66_144, cost=llm.distserve_opt13b())
    assert server.capacity_blocks == 4134
    # floor((80e9 * 0.9 - 26e9 - 2e9) / 819200)
    assert llm.kv_capacity_tokens(819_200, gpu_memory=80e9, utilisation=0.9, weights=26e9,
                                  activations=2e9) == 53_710
    with pytest.raises(ParameterError, match="gpu_memory"):
        llm.kv_capacity_tokens(819_200, gpu_memory=10e9, weights=26e9)
    with pytest.raises(ParameterError, match="utilisation"):
        llm.kv_capacity_tokens(819_200, gpu_memory=80e9, utilisation=1.5)
    with pytest.raises(ParameterError, match="n_layers"):
        llm.kv_bytes_per_token(0, 8, 128)
    with pytest.raises(ParameterError, match="n_params"):
        llm.ModelConfig("x", 2, 2, 64).weight_bytes()


def test_linear_cost():
    cost = llm.LinearCost(per_iteration=0.01, per_token=0.002, per_prefill_token=0.0005,
                          per_context_token=1e-6)
    t = cost.iteration_time(prefill=[100, 30], decode_contexts=[10, 20, 30])
    assert t == pytest.approx(0.01 + 0.002 * 3 + 0.0005 * 130 + 1e-6 * 60, rel=1e-14)
    assert cost.prefill_time(40) == pytest.approx(0.01 + 0.02)
    assert cost.decode_time(4, 100) == pytest.approx(0.01 + 0.008 + 4e-4)
    assert llm.LinearCost(1.0, 0.5).per_prefill_token == 0.5
    with pytest.raises(ParameterError, match="per_iteration"):
        llm.LinearCost(per_iteration=-1.0)
    with pytest.raises(ParameterError, match="per_iteration must be > 0"):
        llm.LinearCost(per_iteration=0.0, per_token=1.0, per_prefill_token=0.0)
    with pytest.raises(ParameterError, match="at least one prefill chunk or decode"):
        cost.iteration_time()


def test_distserve_phase_cost():
    cost = llm.distserve_opt13b()
    ms = 1e-3
    lens = [512, 300]
    pre = 22.05 + 0.1405 * 812 + 8.08e-6 * (512**2 + 300**2)
    assert cost.iteration_time(prefill=lens) == pytest.approx(pre * ms, rel=1e-13)
    ctx = [700] * 10
    dec_small = 23.48 + 5.93e-4 * 7000 + 0.0607 * 10
    assert cost.iteration_time(decode_contexts=ctx) == pytest.approx(dec_small * ms, rel=1e-13)
    ctx = [700] * 95                                    # B >= 95: the other coefficient set
    dec_large = 20.21 + 4.91e-4 * 700 * 95 + 0.120 * 95
    assert cost.iteration_time(decode_contexts=ctx) == pytest.approx(dec_large * ms, rel=1e-13)
    # mixed batch: prefill + decode without the decode's fixed term (toolkit convention)
    mixed = pre + 5.93e-4 * 7000 + 0.0607 * 10
    assert cost.iteration_time(prefill=lens, decode_contexts=[700] * 10) == \
        pytest.approx(mixed * ms, rel=1e-13)


def test_tabulated_and_roofline_costs():
    sw = llm.splitwise_llama2_70b_h100()
    assert sw.decode_time(1) == pytest.approx(30.4e-3)
    assert sw.decode_time(64) == pytest.approx(50.2e-3)
    assert sw.decode_time(32) == pytest.approx((30.4 + (50.2 - 30.4) * 31 / 63) * 1e-3)
    assert sw.prefill_time(2048) == pytest.approx((10.6 + 0.091 * 2048) * 1e-3)
    assert sw.prefill_time(512) == pytest.approx((10.6 + 0.091 * 512) * 1e-3)  # extrapolated
    # a mixed batch costs the prompt time of all its tokens x 1.1
    assert sw.iteration_time(prefill=[2000], decode_contexts=[5] * 48) == \
        pytest.approx(1.1 * (10.6 + 0.091 * 2048) * 1e-3)
    vid = llm.vidur_llama2_7b_a100(per_context_token=1e-4)
    assert vid.prefill_time(512) == pytest.approx(33.4e-3)
    assert vid.decode_time(64, 10) == pytest.approx((9.7 + 1e-4 * 640) * 1e-3)
    roof = llm.RooflineCost(floor=0.02, intercept=0.001, per_token=1e-4, per_context_token=1e-7)
    assert roof.decode_time(10, 100) == pytest.approx(0.02 + 1e-7 * 1000)
    assert roof.prefill_time(1000) == pytest.approx(0.001 + 0.1)
    ic = llm.infercept_profile()
    assert ic.prefill_time(100) == pytest.approx((1.3e-5 * 100**2 + 0.328 * 100 + 24.1) * 1e-3)
    with pytest.raises(ParameterError, match="strictly increasing"):
        llm.TabulatedCost([1, 1], [1, 2], [1], [1])
    with pytest.raises(ParameterError, match="prefill"):
        llm.PhaseCost(prefill=(1.0, 2.0), decode_small=(1.0, 0.0, 0.0))
