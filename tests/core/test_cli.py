"""The command line, run in-process: the course's flags and the other commands."""

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from savi_tui.cli import main


@pytest.fixture
def roots(tmp_path, tiny_mnist_root):
    return ["-ep", str(tmp_path / "exps"), "--datasets-root", str(tiny_mnist_root)]


def test_train_with_the_course_flags_then_list_show_and_export(roots, tmp_path, capsys):
    code = main(["train", "-m", "ModelFullyConnected", "-bs", "32", "-ne", "2", "-pe", "0.5", "-n", "fc", *roots])
    assert code == 0
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "global precision" in err
    config = json.loads((tmp_path / "exps" / "fc" / "config.json").read_text())
    assert (config["batch_size"], config["epochs"], config["percentage"]) == (32, 2, 0.5)

    assert main(["list", *roots]) == 0
    listing = capsys.readouterr().out
    assert "fc" in listing and "complete" in listing and "2/2" in listing

    assert main(["show", "fc", *roots]) == 0
    shown = capsys.readouterr().out
    assert "global" in shown and "macro" in shown and "selected on the test set" in shown

    assert main(["export", "fc", *roots]) == 0
    exported = capsys.readouterr().out
    assert "model.onnx" in exported and "netron.app" in exported
    assert (tmp_path / "exps" / "fc" / "model.onnx").is_file()


def test_bare_rt_resumes_the_latest_interrupted_experiment(roots, tmp_path, capsys):
    from savi_tui.core.config import TrainConfig
    from savi_tui.core.runs import new_run

    trainer = new_run(TrainConfig(epochs=3, batch_size=64), root=tmp_path / "exps", name="half", datasets_root=roots[3])
    trainer.on_event = lambda e: trainer.request_stop() if type(e).__name__ == "EpochFinished" else None
    assert trainer.run() == "stopped"
    assert main(["train", "-rt", *roots]) == 0
    err = capsys.readouterr().err
    assert "resuming at epoch 2 batch 0" in err and "epoch 3/3" in err and "epoch 1/3" not in err


def test_train_on_the_courses_jpg_folder(tmp_path, capsys):
    for split, count in (("train", 20), ("test", 10)):
        images = tmp_path / "course" / split / "images"
        images.mkdir(parents=True)
        lines = []
        for index in range(count):
            Image.new("L", (28, 28), color=(index % 10) * 25).save(images / f"{index:05d}.jpg")
            lines.append(f"{index:05d}.jpg {index % 10}")
        (tmp_path / "course" / split / "labels.txt").write_text("\n".join(lines) + "\n")
    code = main(
        ["train", "-df", str(tmp_path / "course"), "-ne", "1", "-bs", "8", "-n", "jpg", "-ep", str(tmp_path / "e")]
    )
    assert code == 0
    assert json.loads((tmp_path / "e" / "jpg" / "config.json").read_text())["dataset"] == "folder"


def test_summary_prints_the_torchinfo_table(capsys):
    assert main(["summary", "ModelConvNet"]) == 0
    out = capsys.readouterr().out
    assert "Conv2d" in out and "421,642" in out


def test_data_import_installs_idx_files(tmp_path, capsys):
    from tests.conftest import write_tiny_idx

    source = write_tiny_idx(tmp_path / "src", train=10, test=10)
    assert main(["data", "import", str(source), "--datasets-root", str(tmp_path / "ds")]) == 0
    assert (tmp_path / "ds" / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    assert "imported mnist" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "-m", "Nope"], "unknown model 'Nope'"),
        (["train", "-bs", "0"], "batch size must be a whole number from 1 to"),
        (["train", "-n", "../escape"], "invalid experiment name"),
        (["train", "--resume", "ghost"], "no experiment 'ghost'"),
        (["show", "ghost"], "no experiment 'ghost'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(roots, tmp_path, capsys, argv, message):
    try:
        code = main([*argv, *roots])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "exps").exists() or not any((tmp_path / "exps").iterdir())


def test_resume_can_move_a_gpu_run_to_the_cpu(roots, tmp_path, capsys):
    import torch

    from savi_tui.core.config import TrainConfig
    from savi_tui.core.experiments import create_experiment

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the refusal below cannot happen")
    create_experiment(tmp_path / "exps", "gpu-run", TrainConfig(epochs=1, batch_size=64, device="cuda"))
    assert main(["train", "--resume", "gpu-run", *roots]) == 2
    assert "use --device cpu" in capsys.readouterr().err
    assert main(["train", "--resume", "gpu-run", "--device", "cpu", *roots]) == 0
    assert json.loads((tmp_path / "exps" / "gpu-run" / "config.json").read_text())["device"] == "cpu"


def test_fast_recipe_brings_its_own_defaults_unless_flags_say_otherwise(roots, tmp_path):
    assert main(["train", "-m", "ModelConvNet", "--recipe", "fast", "-n", "fast", "-pe", "0.25", *roots]) == 0
    config = json.loads((tmp_path / "exps" / "fast" / "config.json").read_text())
    assert (config["batch_size"], config["epochs"], config["learning_rate"]) == (128, 1, 8e-3)
    assert main(["train", "--recipe", "fast", "-bs", "32", "-n", "mine", "-pe", "0.25", *roots]) == 0
    assert json.loads((tmp_path / "exps" / "mine" / "config.json").read_text())["batch_size"] == 32


def test_the_folders_may_come_before_or_after_the_command(roots, tmp_path, capsys):
    assert main([*roots, "train", "-ne", "1", "-n", "before"]) == 0  # savi-tui -ep DIR train …
    assert (tmp_path / "exps" / "before" / "status.pkl").is_file()
    capsys.readouterr()
    assert main([*roots, "list"]) == 0
    assert "before" in capsys.readouterr().out
    assert main(["list", *roots]) == 0
    assert "before" in capsys.readouterr().out
    elsewhere = ["-ep", str(tmp_path / "elsewhere")]
    assert main([*elsewhere, "list", *roots]) == 0  # the command's own -ep wins
    assert "before" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flag", "text", "field", "value"),
    [
        ("-bs", "0", "batch_size", 0),
        ("-bs", "2000000", "batch_size", 2_000_000),
        ("-ne", "0", "epochs", 0),
        ("-lr", "11", "learning_rate", 11.0),
        ("-pe", "0", "percentage", 0.0),
        ("--seed", "-1", "seed", -1),
    ],
)
def test_a_setting_out_of_range_gets_the_cores_message(roots, tmp_path, capsys, flag, text, field, value):
    from savi_tui.core.config import TrainConfig
    from savi_tui.core.errors import ConfigError

    with pytest.raises(ConfigError) as core:
        TrainConfig(**{field: value}).validate()
    try:
        code = main(["train", flag, text, *roots])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    assert capsys.readouterr().err == f"savi-tui: error: {core.value}\n"
    assert not (tmp_path / "exps").exists()


def test_the_defaults_are_the_cores(roots, tmp_path):
    from savi_tui.core.config import TrainConfig

    assert main(["train", "-pe", "0.25", "-ne", "1", "-n", "plain", *roots]) == 0
    config = json.loads((tmp_path / "exps" / "plain" / "config.json").read_text())
    assert config == {**TrainConfig().to_dict(), "percentage": 0.25, "epochs": 1}


def test_resume_cannot_extend_past_the_epochs_range(roots, tmp_path):
    from savi_tui.core.config import TrainConfig
    from savi_tui.core.errors import ConfigError
    from savi_tui.core.experiments import create_experiment
    from savi_tui.core.runs import resume_run

    create_experiment(tmp_path / "exps", "short", TrainConfig(epochs=2, batch_size=64))
    with pytest.raises(ConfigError, match=r"^epochs must be a whole number from 1 to 100000, got 100001$"):
        resume_run("short", root=tmp_path / "exps", epochs=100_001, datasets_root=roots[3])


def test_data_import_prints_the_cores_warning_for_files_it_does_not_know(tmp_path, capsys):
    from tests.conftest import write_tiny_idx

    source = write_tiny_idx(tmp_path / "src", train=10, test=10)
    assert main(["data", "import", str(source), "--datasets-root", str(tmp_path / "ds"), "--dataset", "kmnist"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("imported kmnist")
    assert err == (
        "savi-tui: warning: these files do not match KMNIST's official checksums "
        "(only KMNIST's .gz files are known); imported as kmnist anyway\n"
    )


FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not Path(FASHION).is_dir(), reason=f"{FASHION} is absent: apt-get install dataset-fashion-mnist")
def test_data_import_refuses_fashion_mnist_as_mnist_and_keeps_the_installed_mnist(tiny_mnist_root, tmp_path, capsys):
    datasets = tmp_path / "ds"
    shutil.copytree(tiny_mnist_root, datasets)
    before = {p.name: p.read_bytes() for p in (datasets / "MNIST" / "raw").iterdir()}
    assert main(["data", "import", FASHION, "--dataset", "mnist", "--datasets-root", str(datasets)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "savi-tui: error: these are Fashion-MNIST's files, not MNIST's; use --dataset fashion-mnist\n"
    assert {p.name: p.read_bytes() for p in (datasets / "MNIST" / "raw").iterdir()} == before
    assert sorted(p.name for p in datasets.iterdir()) == ["MNIST"]
