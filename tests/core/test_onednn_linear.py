"""Linear layers on oneDNN: the same function and gradients as nn.Linear (up to the order of
float32 sums), the same parameters and state dict, and the usual path wherever oneDNN's
float32 product does not apply."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from savi_tui.core import onednn_linear
from savi_tui.core.models import create_model
from savi_tui.core.onednn_linear import OneDNNLinear, onednn_linear_available, route_linear_layers

needs_onednn = pytest.mark.skipif(not onednn_linear_available(), reason="no oneDNN linear on this machine")


def _pair(in_features=784, out_features=128, bias=True, seed=0):
    torch.manual_seed(seed)
    reference = nn.Linear(in_features, out_features, bias=bias)
    routed = copy.deepcopy(reference)
    routed.__class__ = OneDNNLinear
    return reference, routed


@needs_onednn
@pytest.mark.parametrize(
    ("batch", "in_features", "out_features", "bias"),
    [(512, 784, 128, True), (512, 128, 10, True), (37, 3136, 128, True), (5, 16, 3, False)],
)
def test_forward_and_every_gradient_match_nn_linear(batch, in_features, out_features, bias):
    reference, routed = _pair(in_features, out_features, bias)
    x = torch.rand(batch, in_features)
    x_ref, x_routed = x.clone().requires_grad_(), x.clone().requires_grad_()
    upstream = torch.randn(batch, out_features)

    out_ref, out_routed = reference(x_ref), routed(x_routed)
    assert out_routed.shape == out_ref.shape and out_routed.dtype == torch.float32
    torch.testing.assert_close(out_routed, out_ref, rtol=1e-5, atol=1e-4)

    (out_ref * upstream).sum().backward()
    (out_routed * upstream).sum().backward()
    torch.testing.assert_close(x_routed.grad, x_ref.grad, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(routed.weight.grad, reference.weight.grad, rtol=1e-5, atol=1e-3)
    if bias:
        torch.testing.assert_close(routed.bias.grad, reference.bias.grad, rtol=1e-5, atol=1e-4)


@needs_onednn
def test_an_input_without_grad_gets_no_input_gradient_computed(monkeypatch):
    calls = []
    original = onednn_linear._onednn_linear
    monkeypatch.setattr(onednn_linear, "_onednn_linear", lambda *a: calls.append(a[0].shape) or original(*a))
    _, routed = _pair(784, 128)
    routed(torch.rand(8, 784)).sum().backward()  # the first layer: images need no gradient
    assert calls == [(8, 784), (128, 8)]  # the product and the weight gradient, nothing else


@needs_onednn
def test_the_routed_kernel_is_really_used_for_float32_batches(monkeypatch):
    calls = []
    original = onednn_linear._onednn_linear
    monkeypatch.setattr(onednn_linear, "_onednn_linear", lambda *a: calls.append(1) or original(*a))
    _, routed = _pair(16, 4)
    with torch.inference_mode():  # evaluation takes it too
        routed(torch.rand(3, 16))
    assert calls == [1]


@pytest.mark.parametrize("case", ["bf16 autocast", "3-d input", "float64"])
def test_everything_else_takes_the_usual_path_exactly(case, monkeypatch):
    monkeypatch.setattr(onednn_linear, "_onednn_linear", lambda *a: pytest.fail("oneDNN path taken"))
    reference, routed = _pair(16, 4)
    x = torch.rand(3, 16)
    if case == "bf16 autocast":
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert torch.equal(routed(x), reference(x))
        return
    if case == "3-d input":
        x = torch.rand(2, 3, 16)
    else:
        reference, routed, x = reference.double(), routed.double(), x.double()
    assert torch.equal(routed(x), reference(x))


@needs_onednn
@pytest.mark.parametrize("name", ["ModelFullyConnected", "ModelConvNet", "ModelBetterCNN"])
def test_routing_a_model_keeps_its_parameters_and_state_dict(name, monkeypatch):
    monkeypatch.setattr(onednn_linear, "mkl_takes_its_best_path", lambda: False)  # as on an AMD CPU
    torch.manual_seed(0)
    model = create_model(name)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    linears = sum(type(m) is nn.Linear for m in model.modules())
    parameters = list(model.parameters())

    assert route_linear_layers(model) == linears > 0
    assert all(type(m) is not nn.Linear for m in model.modules())
    assert list(model.parameters()) == parameters  # the same Parameter objects, for the optimizer
    after = model.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(after[key], before[key]) for key in before)
    fresh = create_model(name)
    fresh.load_state_dict(after)  # checkpoints of a routed model load into a plain one


def test_nothing_is_routed_where_onednn_is_missing(monkeypatch):
    monkeypatch.setattr(onednn_linear, "onednn_linear_available", lambda: False)
    model = create_model("ModelFullyConnected")
    assert route_linear_layers(model) == 0
    assert all(type(m) is nn.Linear for m in model.modules() if isinstance(m, nn.Linear))


@needs_onednn
def test_on_an_intel_cpu_the_linear_layers_stay_on_mkl(monkeypatch):
    monkeypatch.setattr(onednn_linear, "mkl_takes_its_best_path", lambda: True)
    model = create_model("ModelFullyConnected")
    assert route_linear_layers(model) == 0
    assert all(type(m) is nn.Linear for m in model.modules() if isinstance(m, nn.Linear))


def test_availability_is_false_off_x86(monkeypatch):
    onednn_linear.onednn_linear_available.cache_clear()
    monkeypatch.setattr(onednn_linear.platform, "machine", lambda: "aarch64")
    try:
        assert onednn_linear.onednn_linear_available() is False
    finally:
        onednn_linear.onednn_linear_available.cache_clear()


@needs_onednn
def test_an_empty_batch_takes_the_usual_path():
    reference, routed = _pair(16, 4)
    x = torch.rand(0, 16)
    assert routed(x).shape == reference(x).shape == (0, 4)


@needs_onednn
def test_a_second_derivative_is_refused_not_silently_wrong():
    _, routed = _pair(16, 4)
    x = torch.rand(3, 16, requires_grad=True)
    (grad,) = torch.autograd.grad(routed(x).pow(2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):
        grad.sum().backward()
