"""The compiled CPU kernels: the 2x2 max pool is PyTorch's bit for bit in float32 and bfloat16,
ties, NaNs and signed zeros included; ModelConvNet's fused first block computes conv1 then pool1
up to float rounding (in float32, under bf16 autocast too), in an order that does not depend on
the number of threads; everything they do not fit takes PyTorch's path; routing a model changes
none of its parameters."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from savi_tui.core.cpu_kernels import route_to_cpu_kernels
from savi_tui.core.fast_maxpool import FastMaxPool2d, relu_of_pool, route_pool_layers
from savi_tui.core.fused_conv_pool import conv_pool_applies, conv_pool_relu, route_first_block
from savi_tui.core.models import create_model
from savi_tui.core.native_kernels import load_kernels

needs_kernels = pytest.mark.skipif(
    load_kernels("maxpool2x2") is None or load_kernels("conv1_pool") is None, reason="no C compiler here"
)


def _bits(x: torch.Tensor) -> torch.Tensor:
    return x.contiguous().view(torch.int32 if x.element_size() == 4 else torch.int16)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Bit for bit; in bfloat16, a NaN's bits aside, which PyTorch's own conversions do not
    keep alike (its vectorized cast gives 0xFFFF, its scalar one 0x7FC0)."""
    if a.dtype == torch.float32:
        return torch.equal(_bits(a), _bits(b))
    nan = a.isnan()
    return torch.equal(nan, b.isnan()) and torch.equal(_bits(a)[~nan], _bits(b)[~nan])


def _channels_last(*shape, seed=0, dtype=torch.float32) -> torch.Tensor:
    """Small integers, so that windows tie often, and a few NaNs, which win their windows."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(-3, 3, shape, generator=generator).float()
    x.view(-1)[:: max(1, x.numel() // 7)] = float("nan")
    return x.to(dtype).contiguous(memory_format=torch.channels_last)


def _fast_pool() -> FastMaxPool2d:
    pool = nn.MaxPool2d(2)
    assert route_pool_layers(pool) == 1
    return pool


@needs_kernels
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("shape", [(4, 8, 9, 7), (64, 32, 28, 28), (3, 64, 14, 14), (2, 5, 7, 7), (1, 1, 2, 2)])
def test_the_pool_and_its_gradient_are_pytorchs_bit_for_bit(shape, dtype):
    x = _channels_last(*shape, dtype=dtype)
    x_ref, x_fast = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, out_fast = F.max_pool2d(x_ref, 2), _fast_pool()(x_fast)
    assert type(out_fast.grad_fn).__name__ == "_MaxPool2x2FunctionBackward"  # the kernel ran
    assert out_fast.is_contiguous(memory_format=torch.channels_last) and out_fast.dtype == dtype
    assert _same(out_fast, out_ref)

    upstream = torch.randn(out_ref.shape).to(dtype)
    upstream.view(-1)[::5] = -0.0  # PyTorch's zero-fill-then-add gives +0.0 for these
    out_ref.backward(upstream)
    out_fast.backward(upstream)
    assert _same(x_fast.grad, x_ref.grad)


@needs_kernels
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_pool_with_its_relu_is_pytorchs_relu_of_the_pool_bit_for_bit(dtype):
    x = _channels_last(5, 16, 10, 8, dtype=dtype)  # ties at 0, negatives and NaNs
    x.permute(0, 2, 3, 1).view(-1)[1::9] = -0.0  # channels_last: the permuted view is contiguous
    x_ref, x_fast = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, out_fast = F.relu(F.max_pool2d(x_ref, 2)), relu_of_pool(_fast_pool(), x_fast)
    assert type(out_fast.grad_fn).__name__ == "_MaxPool2x2FunctionBackward"  # one pass, no ReLU node
    assert _same(out_fast, out_ref)

    upstream = torch.randn(out_ref.shape).to(dtype)
    out_ref.backward(upstream)
    out_fast.backward(upstream)
    assert _same(x_fast.grad, x_ref.grad)


@needs_kernels
@pytest.mark.parametrize("case", ["NCHW memory", "float64", "float16", "empty batch", "3-d input"])
def test_what_the_pool_kernel_does_not_fit_takes_pytorchs_pool(case):
    x = torch.rand(2, 4, 6, 6)
    if case == "float64":
        x = x.double().contiguous(memory_format=torch.channels_last)
    elif case == "float16":
        x = x.half().contiguous(memory_format=torch.channels_last)
    elif case == "empty batch":
        x = torch.rand(0, 4, 6, 6).contiguous(memory_format=torch.channels_last)
    elif case == "3-d input":
        x = torch.rand(4, 6, 6)
    x.requires_grad_()
    out = _fast_pool()(x)
    assert "MaxPool2x2" not in type(out.grad_fn).__name__
    assert torch.equal(out, F.max_pool2d(x, 2))
    assert torch.equal(relu_of_pool(_fast_pool(), x), F.relu(F.max_pool2d(x, 2)))


def test_only_2x2_pools_of_stride_2_are_routed():
    model = nn.Sequential(nn.MaxPool2d(2), nn.MaxPool2d(3), nn.MaxPool2d(2, stride=1), nn.MaxPool2d(2, ceil_mode=True))
    switched = route_pool_layers(model)
    assert switched in (0, 1)  # 0 where no kernel could be built
    assert [type(m).__name__ for m in model][1:] == ["MaxPool2d"] * 3


def _conv(channels: int, bias: bool = True, seed: int = 0) -> nn.Conv2d:
    torch.manual_seed(seed)
    return nn.Conv2d(1, channels, 3, padding=1, bias=bias)


@needs_kernels
@pytest.mark.parametrize(
    ("batch", "channels", "height", "width", "bias"),
    [(64, 32, 28, 28, True), (3, 5, 9, 7, True), (2, 13, 6, 6, False), (1, 1, 2, 3, True), (7, 64, 28, 28, True)],
)
def test_the_fused_first_block_computes_conv_then_pool_then_relu(batch, channels, height, width, bias):
    conv = _conv(channels, bias)
    x = torch.rand(batch, 1, height, width) - 0.5  # about half of the outputs zeroed by the ReLU
    reference = F.relu(F.max_pool2d(conv(x), 2))
    upstream = torch.randn(reference.shape)
    reference.backward(upstream)
    weight_grad, bias_grad = conv.weight.grad.clone(), None if conv.bias is None else conv.bias.grad.clone()
    conv.zero_grad()

    assert conv_pool_applies(x, conv)
    fused = conv_pool_relu(x, conv)
    assert fused.shape == reference.shape and fused.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fused, reference, rtol=1e-5, atol=1e-5)
    fused.backward(upstream)
    torch.testing.assert_close(conv.weight.grad, weight_grad, rtol=1e-4, atol=1e-4 * batch)
    if bias:
        torch.testing.assert_close(conv.bias.grad, bias_grad, rtol=1e-4, atol=1e-4 * batch)


@needs_kernels
def test_the_fused_blocks_gradient_does_not_depend_on_the_number_of_threads():
    conv, x = _conv(32), torch.rand(37, 1, 28, 28)
    upstream = torch.randn(37, 32, 14, 14)
    threads = torch.get_num_threads()
    gradients = []
    try:
        for count in (1, 2, 3):
            torch.set_num_threads(count)
            conv.zero_grad()
            conv_pool_relu(x, conv).backward(upstream)
            gradients.append((conv.weight.grad.clone(), conv.bias.grad.clone()))
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(g[0], gradients[0][0]) and torch.equal(g[1], gradients[0][1]) for g in gradients)


def _plain_and_routed():
    """Two equal ModelConvNets, the second routed to the kernels, and a batch for both."""
    torch.manual_seed(0)
    plain = create_model("ModelConvNet").to(memory_format=torch.channels_last)
    routed = copy.deepcopy(plain)
    route_to_cpu_kernels(routed)
    return plain, routed, torch.rand(16, 1, 28, 28).contiguous(memory_format=torch.channels_last)


@needs_kernels
def test_a_routed_convnet_trains_as_the_plain_one_does():
    plain, routed, x = _plain_and_routed()
    assert routed.fuse_first_block and type(routed.pool2) is FastMaxPool2d
    assert routed.state_dict().keys() == plain.state_dict().keys()

    labels = torch.randint(0, 10, (16,))
    for model in (plain, routed):
        F.cross_entropy(model(x), labels).backward()
    torch.testing.assert_close(routed(x), plain(x), rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(plain.named_parameters(), routed.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-3, atol=1e-5, msg=name)


@needs_kernels
@pytest.mark.parametrize("channels", [32, 20])  # 20: a partial block of lanes, whether 8 or 16
def test_under_bf16_autocast_the_fused_block_sums_in_float32_and_gives_and_takes_bf16(channels):
    conv, x = _conv(channels), torch.rand(8, 1, 28, 28) - 0.5
    reference = F.relu(F.max_pool2d(conv(x), 2))  # float32
    upstream = torch.randn(reference.shape).bfloat16()
    reference.backward(upstream.float())
    weight_grad = conv.weight.grad.clone()
    conv.zero_grad()
    in_float32 = conv_pool_relu(x, conv).detach()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert conv_pool_applies(x, conv)
        fused = conv_pool_relu(x, conv)
    assert fused.dtype == torch.bfloat16  # what conv2 computes in under autocast: no cast between
    assert _same(fused, in_float32.bfloat16())  # its own float32 sums, rounded once as PyTorch rounds
    torch.testing.assert_close(fused.float(), reference, rtol=1 / 128, atol=1e-5)
    fused.backward(upstream)
    assert conv.weight.grad.dtype == torch.float32
    torch.testing.assert_close(conv.weight.grad, weight_grad, rtol=1e-4, atol=1e-3)


@needs_kernels
def test_the_fused_blocks_bf16_output_rounds_ties_to_even_and_keeps_nans():
    conv = _conv(20)
    with torch.no_grad():  # integer sums: exact in float32, and many halfway between two bf16s
        conv.weight.copy_(torch.randint(0, 6, conv.weight.shape).float())
        conv.bias.zero_()
    x = torch.randint(0, 31, (4, 1, 12, 12)).float()
    x[0, 0, 5, 5] = float("nan")
    reference = F.relu(F.max_pool2d(conv(x), 2))  # exact: every sum is an integer below 2^24
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fused = conv_pool_relu(x, conv)
    halfway = reference.view(torch.int32) & 0xFFFF == 0x8000
    assert halfway.sum() > 10  # the ties this test is about
    assert _same(fused, reference.bfloat16()) and fused.isnan().any()


@needs_kernels
def test_under_bf16_autocast_a_routed_convnet_computes_as_the_plain_one():
    plain, routed, x = _plain_and_routed()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out_plain, out_routed = plain(x), routed(x)
    assert out_routed.dtype == out_plain.dtype == torch.bfloat16
    torch.testing.assert_close(out_routed.float(), out_plain.float(), rtol=0.05, atol=0.02)


@needs_kernels
@pytest.mark.parametrize("case", ["an input that needs a gradient", "float64", "three channels"])
def test_the_fused_block_steps_aside_where_it_does_not_fit(case):
    conv, x = _conv(4), torch.rand(2, 1, 8, 8)
    if case == "an input that needs a gradient":
        assert not conv_pool_applies(x.requires_grad_(), conv)
    elif case == "three channels":
        assert not conv_pool_applies(torch.rand(2, 3, 8, 8), conv)
    else:
        assert not conv_pool_applies(x.double(), conv.double())


@pytest.mark.parametrize(
    ("name", "options"),
    [("ModelConvNet", {"batchnorm": True}), ("ModelBetterCNN", {}), ("ModelFullyConnected", {})],
)
def test_only_a_convnet_without_batchnorm_fuses_its_first_block(name, options):
    model = create_model(name, options)
    assert route_first_block(model) is False
    assert not getattr(model, "fuse_first_block", False)
