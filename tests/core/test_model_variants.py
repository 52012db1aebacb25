"""Model variants: each option changes the network as the registry says, the defaults change nothing,
and a variant travels with its experiment (config.json, resume, summary.txt, ONNX)."""

import json

import numpy as np
import pytest
import torch
import torchinfo
from torch import nn

from savi_tui.core.checkpoint import load_checkpoint
from savi_tui.core.config import TrainConfig
from savi_tui.core.errors import ConfigError
from savi_tui.core.experiments import open_experiment
from savi_tui.core.models import (
    ACTIVATIONS,
    MODELS,
    count_parameters,
    create_model,
    describe_variant,
    summarize_model,
    variant_key,
    variant_options,
)
from savi_tui.core.runs import new_run, resume_run

# what the networks were before they had options: checkpoints of existing experiments hold these
DEFAULT_STATE = {
    "ModelFullyConnected": [("fc1.weight", (128, 784)), ("fc1.bias", (128,)), ("fc2.weight", (10, 128)),
                            ("fc2.bias", (10,))],
    "ModelConvNet": [("conv1.weight", (32, 1, 3, 3)), ("conv1.bias", (32,)), ("conv2.weight", (64, 32, 3, 3)),
                     ("conv2.bias", (64,)), ("fc1.weight", (128, 3136)), ("fc1.bias", (128,)),
                     ("fc2.weight", (10, 128)), ("fc2.bias", (10,))],
    "ModelBetterCNN": [
        *(
            (f"features.{b}.{i}.{p}", shape)
            for b, c_in, c in ((0, 1, 32), (1, 32, 64))
            for i, p, shape in (
                (0, "weight", (c, c_in, 3, 3)), (1, "weight", (c,)), (1, "bias", (c,)), (1, "running_mean", (c,)),
                (1, "running_var", (c,)), (1, "num_batches_tracked", ()), (3, "weight", (c, c, 3, 3)),
                (4, "weight", (c,)), (4, "bias", (c,)), (4, "running_mean", (c,)), (4, "running_var", (c,)),
                (4, "num_batches_tracked", ()),
            )
        ),
        ("classifier.2.weight", (128, 3136)), ("classifier.2.bias", (128,)), ("classifier.5.weight", (10, 128)),
        ("classifier.5.bias", (10,)),
    ],
}  # fmt: skip


def kinds(model) -> list[str]:
    return [type(m).__name__ for m in model.modules()]


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("options", [None, {}, "explicit defaults"], ids=["none", "empty", "explicit"])
def test_default_options_give_exactly_the_networks_existing_checkpoints_hold(name, options):
    if options == "explicit defaults":
        options = {o.name: o.default for o in MODELS[name].options}
    state = create_model(name, options).state_dict()
    assert [(k, tuple(v.shape)) for k, v in state.items()] == DEFAULT_STATE[name]
    assert variant_options(name, options) == {} and variant_key(name, options) == name


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_each_activation_is_in_the_network_and_its_torchinfo_summary(activation):
    layer = {"sigmoid": "Sigmoid", "relu": "ReLU", "tanh": "Tanh", "identity": "Identity"}[activation]
    model = create_model("ModelFullyConnected", {"activation": activation, "hidden": 64})
    summary = summarize_model("ModelFullyConnected", {"activation": activation, "hidden": 64})
    assert [row.layer for row in summary.rows if row.depth == 1] == ["Linear", layer, "Linear"]
    assert f"├─{layer}: 1-2" in summary.text
    assert summary.total_params == count_parameters(model) == 784 * 64 + 64 + 64 * 10 + 10
    x = torch.linspace(-3, 3, 784 * 2).reshape(2, 1, 28, 28)
    hidden = model.fc1(x.reshape(2, -1))
    expected = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh, "identity": lambda t: t}
    torch.testing.assert_close(model(x), model.fc2(expected[activation](hidden)))


@pytest.mark.parametrize("name", ["ModelConvNet", "ModelBetterCNN"])
@pytest.mark.parametrize("blocks", [1, 2, 3, 4])
def test_blocks_set_the_convolutions_and_channels_double_per_block(name, blocks):
    model = create_model(name, {"blocks": blocks, "channels": 8})
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    per_block = 1 if name == "ModelConvNet" else 2
    assert len(convs) == blocks * per_block
    assert [c.out_channels for c in convs[::per_block]] == [8 * 2**i for i in range(blocks)]
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == blocks
    assert model.eval()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    summary = summarize_model(name, {"blocks": blocks, "channels": 8})
    assert summary.total_params == count_parameters(model)


@pytest.mark.parametrize("name", ["ModelConvNet", "ModelBetterCNN"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_batchnorm_adds_one_batchnorm_per_convolution_and_takes_the_conv_bias(name, batchnorm):
    model = create_model(name, {"batchnorm": batchnorm, "blocks": 3})
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == (len(convs) if batchnorm else 0)
    assert all((c.bias is None) == batchnorm for c in convs)


@pytest.mark.parametrize("name", ["ModelConvNet", "ModelBetterCNN"])
@pytest.mark.parametrize("p", [0.0, 0.5, 0.9])
def test_dropout_sets_p_before_each_linear_layer_and_zero_means_none(name, p):
    model = create_model(name, {"dropout": p})
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert [d.p for d in dropouts] == ([p] * (2 if name == "ModelBetterCNN" else 1) if p else [])
    stats = torchinfo.summary(model, input_size=(1, 1, 28, 28), verbose=0, device="cpu")
    order = [layer.class_name for layer in stats.summary_list if layer.class_name in ("Dropout", "Linear")]
    assert order == (["Dropout", "Linear", "Dropout", "Linear"] if p else ["Linear", "Linear"])


def test_convnet_variant_keeps_the_relu_after_pool_trick_exact():
    """With BatchNorm before the pool, relu(pool(bn(conv))) still equals pool(relu(bn(conv)))."""
    torch.manual_seed(0)
    model = create_model("ModelConvNet", {"blocks": 3, "batchnorm": True}).eval()
    x = torch.rand(4, 1, 28, 28)
    y = x
    for i in (1, 2, 3):
        y = getattr(model, f"pool{i}")(torch.relu(getattr(model, f"bn{i}")(getattr(model, f"conv{i}")(y))))
    expected = model.fc2(torch.relu(model.fc1(torch.flatten(y, 1))))
    assert torch.equal(model(x), expected)


@pytest.mark.parametrize(
    ("model", "options", "message"),
    [
        ("ModelConvNet", {"dropout": 1.5}, "dropout must be a number from 0 to 0.9, got 1.5"),
        ("ModelConvNet", {"blocks": 5}, "blocks must be a whole number from 1 to 4, got 5"),
        ("ModelConvNet", {"blocks": 2.0}, "blocks must be a whole number from 1 to 4, got 2.0"),
        ("ModelConvNet", {"channels": 0}, "channels must be a whole number from 1 to 256, got 0"),
        ("ModelConvNet", {"batchnorm": 1}, "batchnorm must be true or false, got 1"),
        ("ModelFullyConnected", {"activation": "gelu"}, "activation must be one of sigmoid, relu, tanh, identity"),
        ("ModelFullyConnected", {"hidden": True}, "hidden must be a whole number"),
        ("ModelConvNet", {"hidden": 64}, "option hidden applies to ModelFullyConnected, not ModelConvNet"),
        ("ModelFullyConnected", {"depth": 3}, "unknown option 'depth' for ModelFullyConnected"),
    ],
)
def test_a_bad_option_is_refused_in_one_line_by_the_config(model, options, message):
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(")) as caught:
        TrainConfig(model=model, model_options=options).validate()
    assert "\n" not in str(caught.value)


def test_an_older_config_without_model_options_reads_as_the_default_network():
    data = TrainConfig(model="ModelConvNet").to_dict()
    del data["model_options"]
    assert TrainConfig.from_dict(data).model_options == {}
    with pytest.raises(ConfigError, match="model_options"):
        TrainConfig.from_dict({**data, "model_options": [1]})


@pytest.mark.parametrize(
    ("model", "options", "text"),
    [
        ("ModelConvNet", {}, "ConvNet"),
        ("ModelConvNet", {"blocks": 3, "batchnorm": True, "dropout": 0.5}, "ConvNet b3 c32 bn p0.5"),
        ("ModelBetterCNN", {"batchnorm": False}, "BetterCNN b2 c32 p0.3"),
        ("ModelFullyConnected", {"activation": "relu"}, "FullyConnected h128 relu"),
        ("ModelFullyConnected", None, "FullyConnected"),
        ("?", None, "?"),
    ],
)
def test_a_variant_is_described_compactly_with_every_option_once_one_differs(model, options, text):
    assert describe_variant(model, options) == text


def _train(tmp_path, tiny_mnist_root, name, **config):
    cfg = TrainConfig(epochs=1, batch_size=64, **config)
    return new_run(cfg, root=tmp_path, name=name, datasets_root=tiny_mnist_root)


def test_a_variant_trains_resumes_and_exports_as_itself(tmp_path, tiny_mnist_root):
    import onnxruntime

    options = {"blocks": 3, "channels": 8, "batchnorm": True, "dropout": 0.5}
    trainer = _train(tmp_path, tiny_mnist_root, "v", model="ModelConvNet", model_options=options)
    trainer.on_event = lambda e: trainer.request_stop() if type(e).__name__ == "BatchProgress" else None
    assert trainer.run() == "stopped"
    config = json.loads((tmp_path / "v" / "config.json").read_text())
    assert config["model_options"] == options
    expected = summarize_model("ModelConvNet", options)
    assert (tmp_path / "v" / "summary.txt").read_text() == expected.text + "\n"

    resumed = resume_run("v", root=tmp_path, datasets_root=tiny_mnist_root)
    assert resumed.run() == "finished"
    assert count_parameters(resumed.model) == expected.total_params
    assert sum(isinstance(m, nn.BatchNorm2d) for m in resumed.model.modules()) == 3

    from savi_tui.core.export import export_onnx

    result = export_onnx(open_experiment(tmp_path, "v"))
    reference = create_model("ModelConvNet", options).eval()
    reference.load_state_dict(load_checkpoint(tmp_path / "v" / "best.pkl").model_state_dict)
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    images = torch.rand(5, 1, 28, 28)
    (logits,) = session.run(None, {"image": images.numpy()})
    with torch.inference_mode():
        np.testing.assert_allclose(logits, reference(images).numpy(), atol=1e-4)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_each_activation_trains_as_itself_and_its_summary_says_so(tmp_path, tiny_mnist_root, activation):
    import torch.nn.functional as F

    from savi_tui.core.data import load_data

    options = {"activation": activation}
    trainer = _train(tmp_path, tiny_mnist_root, activation, model="ModelFullyConnected", model_options=options)
    assert trainer.run() == "finished"
    summary = (tmp_path / activation / "summary.txt").read_text()
    assert summary == summarize_model("ModelFullyConnected", options).text + "\n"
    assert {"sigmoid": "Sigmoid", "relu": "ReLU", "tanh": "Tanh", "identity": "Identity"}[activation] in summary
    # the best weights, in this activation's network, give the test loss the trainer measured
    best = load_checkpoint(tmp_path / activation / "best.pkl")
    model = create_model("ModelFullyConnected", options).eval()
    model.load_state_dict(best.model_state_dict)
    test = load_data("mnist", root=tiny_mnist_root).test
    with torch.inference_mode():
        loss = F.cross_entropy(model(test.images.float() / 255), test.labels).item()
    assert loss == pytest.approx(best.best_test_loss, rel=1e-5)
