"""GPU layers "auto": the fit arithmetic on the real Qwen3-30B-A3B and Qwen3-8B layouts.

The layouts are header-only GGUFs (tests/fixtures/synthetic_layout.py: the synthetic-GGUF
recipe of shared/gpu with the real shapes and K-quant mixes, tensor data left as a sparse
hole), read back by twin's own header reader. Each layout is fitted to a 24, 48 and 96 GB
card; the chosen offload is checked to be the largest that fits, against a byte count made
independently by the ``gguf`` package's reader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.synthetic_layout import QWEN3_8B, QWEN3_30B_A3B, write_layout
from twin.core.llm.fit import (
    COMPUTE_BASE,
    GIB,
    GPU_RESERVE,
    MIB,
    Memory,
    ModelLayout,
    choose_gpu_layers,
    compute_bytes,
    cpu_bytes,
    fewer_layers,
    gpu_bytes,
    load_with_fewer_layers,
    model_bytes,
    retry_message,
)
from twin.core.llm.gguf_meta import read_gguf_header

#: nvidia-smi's memory.total of a 24, 48 and 96 GB card (RTX 4090, RTX 6000 Ada, RTX PRO 6000)
CARDS_MIB = {24: 24564, 48: 49140, 96: 97887}
DESKTOP_MIB = 400  # what a desktop session keeps on the card
RAM = 64 * GIB


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("layouts")
    out = {}
    for model, quants in ((QWEN3_30B_A3B, ("Q4_K_M", "Q6_K", "Q8_0")), (QWEN3_8B, ("Q4_K_M", "Q8_0"))):
        for q in quants:
            out[f"{model['name']}-{q}"] = write_layout(d / f"{model['name']}-{q}.gguf", model, q)
    return out


def memory(card_gb: int) -> Memory:
    total = CARDS_MIB[card_gb]
    return Memory(vram_free=(total - DESKTOP_MIB) * MIB, vram_total=total * MIB, gpu_name=f"{card_gb} GB card",
                  ram_total=RAM)


def layout(layouts: dict[str, Path], key: str) -> ModelLayout:
    path = layouts[key]
    return ModelLayout.from_header(read_gguf_header(path), model_bytes(path))


def test_the_layouts_are_the_real_sizes(layouts: dict[str, Path]) -> None:
    q6 = layout(layouts, "Qwen3-30B-A3B-Q6_K")
    # llama.cpp on the synthetic Q6_K: "23.36 GiB, 30.53 B params" (shared/gpu/README.md)
    assert q6.exact and q6.n_layer == 48 and q6.total_layers == 49
    assert 23.3 * GIB < q6.file_bytes < 23.5 * GIB
    assert q6.kv_bytes_per_token("f16") == 96 * 1024  # 96 KiB a token, as measured
    # published sizes of the real files: 18.6 GB (Q4_K_M), 32.5 GB (Q8_0), 8.7 GB (8B Q8_0)
    assert 18.0e9 < layout(layouts, "Qwen3-30B-A3B-Q4_K_M").file_bytes < 19.2e9
    assert 32.0e9 < layout(layouts, "Qwen3-30B-A3B-Q8_0").file_bytes < 33.0e9
    assert 8.4e9 < layout(layouts, "Qwen3-8B-Q8_0").file_bytes < 9.0e9
    q4 = layout(layouts, "Qwen3-30B-A3B-Q4_K_M")
    assert len(set(q4.layer_bytes)) == 2  # the "more bits" layers are bigger, as in llama.cpp's Q4_K_M


def independent_weights(path: Path, k: int, n_layer: int) -> tuple[int, int]:
    """(bytes of the tensors on the GPU with n_gpu_layers = k, bytes of all tensors), counted
    by the gguf package's reader."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    on_gpu = total = 0
    for t in reader.tensors:
        total += int(t.n_bytes)
        if t.name.startswith("blk."):
            if int(t.name.split(".")[1]) >= n_layer - min(k, n_layer):
                on_gpu += int(t.n_bytes)
        elif t.name.startswith("output") and k > n_layer:
            on_gpu += int(t.n_bytes)
    return on_gpu, total


@pytest.mark.parametrize("key", ["Qwen3-30B-A3B-Q4_K_M", "Qwen3-30B-A3B-Q6_K", "Qwen3-30B-A3B-Q8_0",
                                 "Qwen3-8B-Q4_K_M", "Qwen3-8B-Q8_0"])
@pytest.mark.parametrize("card", [24, 48, 96])
def test_auto_picks_the_largest_offload_that_fits(layouts: dict[str, Path], key: str, card: int) -> None:
    lay = layout(layouts, key)
    mem = memory(card)
    n_ctx = 32768
    fit = choose_gpu_layers(lay, mem, n_ctx=n_ctx, kv_type="f16", n_ubatch=2048)
    budget = mem.vram_free - GPU_RESERVE  # type: ignore[operator]
    k = fit.n_gpu_layers
    assert 0 < k <= lay.total_layers
    assert fit.gpu_bytes == gpu_bytes(lay, k, n_ctx, n_ubatch=2048) <= budget
    if k < lay.total_layers:
        assert gpu_bytes(lay, k + 1, n_ctx, n_ubatch=2048) > budget  # one more would not fit
        assert fit.verdict == "partial" and f"{k} of {lay.total_layers} layers" in fit.reason
    else:
        assert fit.verdict == "gpu" and f"all {lay.total_layers} layers" in fit.reason
    # the GPU's share, recounted from the file by the gguf package: weights + KV + compute
    weights, all_tensors = independent_weights(layouts[key], k, lay.n_layer)
    gpu_layers = min(k, lay.n_layer)
    kv = lay.kv_bytes_per_token("f16", gpu_layers) * n_ctx
    compute = compute_bytes(lay, n_ctx, n_ubatch=2048, output_on_gpu=k > lay.n_layer)
    assert fit.gpu_bytes == int(weights + kv) + compute
    # and the CPU keeps every other tensor
    cpu_kv = lay.kv_bytes_per_token("f16", lay.n_layer - gpu_layers) * n_ctx
    assert abs(cpu_bytes(lay, k, n_ctx) - int(cpu_kv) - COMPUTE_BASE + weights - all_tensors) <= 1


def test_fit_results_per_card(layouts: dict[str, Path]) -> None:
    """The expected outcomes at 32k context, f16 KV cache: a 24 GB card takes Qwen3-30B-A3B
    whole only at Q4_K_M, Q6_K and Q8_0 in part; 48 and 96 GB cards take every quant whole."""
    results = {}
    for key in layouts:
        for card in CARDS_MIB:
            fit = choose_gpu_layers(layout(layouts, key), memory(card), n_ctx=32768, n_ubatch=2048)
            results[(key, card)] = (fit.verdict, fit.n_gpu_layers)
    assert results[("Qwen3-30B-A3B-Q4_K_M", 24)] == ("gpu", 49)
    assert results[("Qwen3-30B-A3B-Q6_K", 24)][0] == "partial"
    assert 30 <= results[("Qwen3-30B-A3B-Q6_K", 24)][1] <= 44  # "about 40 of 49" (llm_settings doc)
    assert results[("Qwen3-30B-A3B-Q8_0", 24)][0] == "partial"
    assert results[("Qwen3-30B-A3B-Q8_0", 24)][1] < results[("Qwen3-30B-A3B-Q6_K", 24)][1]
    for key in ("Qwen3-30B-A3B-Q4_K_M", "Qwen3-30B-A3B-Q6_K", "Qwen3-30B-A3B-Q8_0"):
        assert results[(key, 48)] == ("gpu", 49) and results[(key, 96)] == ("gpu", 49)
    for card in CARDS_MIB:
        assert results[("Qwen3-8B-Q8_0", card)] == ("gpu", 37)
    print({f"{k}@{c}GB": v for (k, c), v in results.items()})


def test_a_smaller_cache_or_context_puts_more_on_the_gpu(layouts: dict[str, Path]) -> None:
    lay = layout(layouts, "Qwen3-30B-A3B-Q6_K")
    f16 = choose_gpu_layers(lay, memory(24), n_ctx=32768, kv_type="f16")
    q8 = choose_gpu_layers(lay, memory(24), n_ctx=32768, kv_type="q8_0")
    short = choose_gpu_layers(lay, memory(24), n_ctx=4096, kv_type="f16")
    assert f16.n_gpu_layers < q8.n_gpu_layers <= short.n_gpu_layers
    assert q8.kv_bytes * 2 < f16.kv_bytes * 1.1


def test_no_gpu_and_too_little_ram(layouts: dict[str, Path]) -> None:
    lay = layout(layouts, "Qwen3-30B-A3B-Q8_0")
    cpu = choose_gpu_layers(lay, Memory(ram_total=64 * GIB), n_ctx=8192)
    assert (cpu.verdict, cpu.n_gpu_layers) == ("cpu", 0) and "no GPU" in cpu.reason
    small = choose_gpu_layers(lay, Memory(ram_total=16 * GIB), n_ctx=8192)
    assert small.verdict == "too-big" and not small.fits and "RAM" in small.reason
    built = choose_gpu_layers(lay, memory(96), n_ctx=8192, gpu_supported=False)
    assert built.verdict == "cpu" and "no GPU support" in built.reason
    ctx = choose_gpu_layers(lay, memory(96), n_ctx=10**6)
    assert ctx.n_ctx == 40960  # clamped to the trained context


def test_the_shape_estimate_matches_the_tensor_table(layouts: dict[str, Path]) -> None:
    """A catalog entry (shapes + published size, no file yet) fits like the file itself."""
    for key, model in (("Qwen3-30B-A3B-Q6_K", QWEN3_30B_A3B), ("Qwen3-8B-Q8_0", QWEN3_8B)):
        exact = layout(layouts, key)
        est = ModelLayout.from_shape(
            name=key, n_layer=int(model["layers"]), n_embd=int(model["embd"]), n_head=int(model["heads"]),  # type: ignore[call-overload]
            n_head_kv=int(model["heads_kv"]), head_dim=int(model["head_dim"]), n_vocab=int(model["vocab"]),  # type: ignore[call-overload]
            context_length=int(model["ctx"]), file_bytes=exact.file_bytes, n_ff=int(model["ff"]),  # type: ignore[call-overload]
            n_expert=int(model["experts"]), n_expert_used=int(model["experts_used"]), n_ff_exp=int(model["ff_exp"]))  # type: ignore[call-overload]
        assert abs(est.layer_bytes[0] - exact.layer_bytes[0]) / exact.layer_bytes[0] < 0.02
        for card in CARDS_MIB:
            a = choose_gpu_layers(exact, memory(card), n_ctx=32768).n_gpu_layers
            b = choose_gpu_layers(est, memory(card), n_ctx=32768).n_gpu_layers
            assert abs(a - b) <= 1


def test_a_split_model_counts_all_its_parts(tmp_path: Path) -> None:
    parts = [tmp_path / f"M-Q8_0-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    for i, p in enumerate(parts):
        p.write_bytes(b"x" * (100 * (i + 1)))
    assert model_bytes(parts[0]) == 600
    single = tmp_path / "one.gguf"
    single.write_bytes(b"y" * 7)
    assert model_bytes(single) == 7


# -- out of memory while loading: retried with fewer layers --------------------------------


class FakeLlama:
    """Raises as llama-cpp-python does when llama.cpp cannot allocate (a ValueError; the
    reason is only in llama.cpp's log, which the classifier below stands for)."""

    def __init__(self, fits_up_to: int):
        self.fits_up_to = fits_up_to
        self.calls: list[int] = []

    def __call__(self, n_gpu_layers: int) -> str:
        self.calls.append(n_gpu_layers)
        if n_gpu_layers > self.fits_up_to:
            raise ValueError("Failed to load model from file: /m/x.gguf")
        return f"model with {n_gpu_layers} layers"


def oom(e: BaseException) -> bool:
    return isinstance(e, ValueError) and "Failed to load model" in str(e)


def test_out_of_memory_is_retried_with_fewer_layers() -> None:
    fake = FakeLlama(fits_up_to=30)
    result, k, attempts = load_with_fewer_layers(fake, 49, oom)
    assert fake.calls == [49, 36, 27] and k == 27 and result == "model with 27 layers"
    msg = retry_message(attempts, 49)
    assert "ran out of memory with 49, 36 layers" in msg and "27 of 49 layers" in msg


def test_down_to_the_cpu_then_the_error() -> None:
    fake = FakeLlama(fits_up_to=0)
    _, k, attempts = load_with_fewer_layers(fake, 5, oom)
    assert k == 0 and fake.calls[-1] == 0 and "CPU only" in retry_message(attempts, 49)
    never = FakeLlama(fits_up_to=-1)
    with pytest.raises(ValueError):
        load_with_fewer_layers(never, 3, oom)
    assert never.calls == [3, 2, 1, 0]


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def broken(k: int) -> None:
        calls.append(k)
        raise ValueError("unknown model architecture")

    with pytest.raises(ValueError):
        load_with_fewer_layers(broken, 49, oom)
    assert calls == [49]
    assert [fewer_layers(k) for k in (49, 4, 1, 0)] == [36, 3, 0, 0]
    assert retry_message([], 49) == ""


def test_the_estimate_matches_the_h200_measurement(layouts: dict[str, Path]) -> None:
    """shared/gpu/README.md: Qwen3-30B-A3B Q6_K, full offload, f16 KV, flash attention off
    (llama-cpp-python's default then), n_ubatch 512: 30.7 GB peak at 32k, 25.5 GB at 8k."""
    lay = layout(layouts, "Qwen3-30B-A3B-Q6_K")
    at_32k = gpu_bytes(lay, 49, 32768, n_ubatch=512, flash_attn=False)
    at_8k = gpu_bytes(lay, 49, 8192, n_ubatch=512, flash_attn=False)
    assert abs(at_32k - 30.7e9) < 0.5e9  # 30.8 GB
    assert 25.5e9 <= at_8k < 27.5e9  # 26.8 GB: on the safe side
