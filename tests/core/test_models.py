"""The model registry: the course's two networks, layer for layer, and ours."""

import pytest
import torchinfo

from savi_tui.core.errors import ConfigError
from savi_tui.core.models import MODELS, SummaryRow, count_parameters, create_model, model_summary, summarize_model


def summary_rows(name):
    stats = torchinfo.summary(create_model(name), input_size=(1, 1, 28, 28), verbose=0, device="cpu")
    return [(layer.class_name, layer.output_size, layer.num_params) for layer in stats.summary_list if layer.depth == 1]


def test_fully_connected_matches_the_course_layer_for_layer():
    assert summary_rows("ModelFullyConnected") == [
        ("Linear", [1, 128], 100_480),
        ("Sigmoid", [1, 128], 0),
        ("Linear", [1, 10], 1_290),
    ]
    assert count_parameters(create_model("ModelFullyConnected")) == 101_770


def test_convnet_matches_the_course_layer_for_layer():
    assert summary_rows("ModelConvNet") == [
        ("Conv2d", [1, 32, 28, 28], 320),
        ("MaxPool2d", [1, 32, 14, 14], 0),
        ("Conv2d", [1, 64, 14, 14], 18_496),
        ("MaxPool2d", [1, 64, 7, 7], 0),
        ("Linear", [1, 128], 401_536),
        ("Linear", [1, 10], 1_290),
    ]
    assert count_parameters(create_model("ModelConvNet")) == 421_642


@pytest.mark.parametrize("name", list(MODELS))
def test_registry_states_the_true_parameter_count_and_output_shape(name):
    import torch

    model = create_model(name)
    assert count_parameters(model) == MODELS[name].parameters
    assert model.eval()(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_better_cnn_has_batchnorm_and_dropout_before_the_classifier():
    kinds = [type(m).__name__ for m in create_model("ModelBetterCNN").modules()]
    assert "BatchNorm2d" in kinds
    first_linear = kinds.index("Linear")
    assert "Dropout" in kinds[:first_linear]


def test_summary_text_lists_totals():
    text = model_summary("ModelConvNet")
    assert "Total params: 421,642" in text


def test_the_structured_summary_is_torchinfos_rows_and_totals():
    summary = summarize_model("ModelFullyConnected")
    assert summary.text == model_summary("ModelFullyConnected")
    assert summary.rows == (
        SummaryRow("ModelFullyConnected", 0, (1, 10), 0),
        SummaryRow("Linear", 1, (1, 128), 100_480),
        SummaryRow("Sigmoid", 1, (1, 128), 0),
        SummaryRow("Linear", 1, (1, 10), 1_290),
    )
    assert summary.total_params == summary.trainable_params == 101_770


@pytest.mark.parametrize("name", list(MODELS))
def test_the_summary_rows_are_the_rows_of_its_text(name):
    """Row for row what the text shows: a container's parameters are counted in its children only."""
    summary = summarize_model(name)
    lines = summary.text.splitlines()
    dividers = [i for i, line in enumerate(lines) if set(line) == {"="}]
    table = lines[dividers[1] + 1 : dividers[2]]
    assert len(table) == len(summary.rows)
    for line, row in zip(table, summary.rows, strict=True):
        assert row.layer in line and str(list(row.output_shape)) in line, (line, row)
        assert line.split()[-1] == (f"{row.params:,}" if row.params else "--"), (line, row)
    assert summary.total_params == sum(row.params for row in summary.rows) == MODELS[name].parameters


def test_unknown_model_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="ModelConvNet"):
        create_model("ResNet1000")


def test_convnet_computes_the_courses_function_relu_then_pool_bit_for_bit():
    """Our forward pools before the ReLU (faster); outputs and gradients equal the course's order."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    model = create_model("ModelConvNet")
    images = torch.rand(16, 1, 28, 28)

    def course_forward(x):
        x = model.pool1(F.relu(model.conv1(x)))
        x = model.pool2(F.relu(model.conv2(x)))
        return model.fc2(F.relu(model.fc1(torch.flatten(x, 1))))

    ours, theirs = model(images), course_forward(images)
    assert torch.equal(ours, theirs)
    grads_ours = torch.autograd.grad(ours.square().sum(), list(model.parameters()))
    grads_theirs = torch.autograd.grad(theirs.square().sum(), list(model.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(grads_ours, grads_theirs, strict=True))
