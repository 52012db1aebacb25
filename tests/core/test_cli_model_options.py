"""The model option flags of ``train`` and ``summary``: a variant from the command line, or one line and exit 2."""

import json

import pytest

from savi_tui.cli import main


@pytest.fixture
def roots(tmp_path, tiny_mnist_root):
    return ["-ep", str(tmp_path / "exps"), "--datasets-root", str(tiny_mnist_root)]


def test_a_variant_from_the_flags_is_in_its_config_the_list_and_show(roots, tmp_path, capsys):
    flags = ["--blocks", "3", "--channels", "8", "--batchnorm", "--dropout", "0.5"]
    assert main(["train", "-m", "ModelConvNet", *flags, "-ne", "1", "-bs", "64", "-n", "v", *roots]) == 0
    config = json.loads((tmp_path / "exps" / "v" / "config.json").read_text())
    assert config["model_options"] == {"blocks": 3, "channels": 8, "batchnorm": True, "dropout": 0.5}
    capsys.readouterr()
    assert main(["list", *roots]) == 0
    assert "ConvNet b3 c8 bn p0.5" in capsys.readouterr().out
    assert main(["show", "v", *roots]) == 0
    assert "model: ModelConvNet (blocks=3, channels=8, batchnorm=on, dropout=0.5)" in capsys.readouterr().out


def test_flags_at_the_models_defaults_store_no_options(roots, tmp_path):
    argv = ["train", "-m", "ModelBetterCNN", "--blocks", "2", "--batchnorm", "-ne", "1", "-pe", "0.25", "-n", "d"]
    assert main([*argv, *roots]) == 0
    assert json.loads((tmp_path / "exps" / "d" / "config.json").read_text())["model_options"] == {}


def test_summary_takes_the_same_flags(capsys):
    assert main(["summary", "ModelFullyConnected", "--activation", "tanh", "--hidden", "32"]) == 0
    out = capsys.readouterr().out
    assert "├─Tanh: 1-2" in out and "Total params: 25,450" in out  # 784*32+32 + 32*10+10


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["train", "-m", "ModelConvNet", "--hidden", "64"],
            "--hidden applies to ModelFullyConnected, not ModelConvNet",
        ),
        (
            ["train", "--dropout", "0.5"],
            "--dropout applies to ModelConvNet and ModelBetterCNN, not ModelFullyConnected",
        ),
        (["train", "-m", "ModelConvNet", "--dropout", "1.5"], "dropout must be a number from 0 to 0.9, got 1.5"),
        (["train", "-m", "ModelBetterCNN", "--blocks", "5"], "blocks must be a whole number from 1 to 4, got 5"),
        (["train", "-m", "ModelConvNet", "--channels", "x"], "argument --channels: 'x' is not a whole number"),
        (["train", "--activation", "gelu"], "argument --activation: invalid choice: 'gelu'"),
        (["summary", "ModelConvNet", "--activation", "relu"], "--activation applies to ModelFullyConnected"),
    ],
)
def test_a_bad_or_inapplicable_option_is_one_line_exit_2_and_nothing_on_disk(roots, tmp_path, capsys, argv, message):
    try:
        code = main([*argv, *roots] if argv[0] == "train" else argv)
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "exps").exists() or not any((tmp_path / "exps").iterdir())


def test_options_cannot_change_on_resume(roots, tmp_path, capsys):
    assert main(["train", "-m", "ModelConvNet", "--blocks", "1", "-ne", "1", "-pe", "0.25", "-n", "v", *roots]) == 0
    capsys.readouterr()
    before = (tmp_path / "exps" / "v" / "config.json").read_text()
    assert main(["train", "--resume", "v", "--blocks", "3", "-ne", "2", *roots]) == 2
    err = capsys.readouterr().err
    assert "--blocks: a model's options cannot change on resume" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "exps" / "v" / "config.json").read_text() == before
    assert main(["train", "--resume", "v", "-ne", "2", *roots]) == 0  # without the flag, the variant goes on
    assert json.loads((tmp_path / "exps" / "v" / "config.json").read_text())["model_options"] == {"blocks": 1}
