"""``savi-tui compare``: the tables on stdout, comparison.png, and one line with exit 2 for bad names;
and the groups in ``savi-tui list``."""

from __future__ import annotations

import pytest

from savi_tui.cli import main
from tests.study_helpers import make_group, make_run


@pytest.fixture
def study(tmp_path):
    root = tmp_path / "experiments"
    make_group(root, "conv", [0.990, 0.991, 0.989])
    make_group(root, "fc", [0.950, 0.953, 0.948], model="ModelFullyConnected")
    make_run(root, "single", accuracy=0.97, learning_rate=0.01)
    return root


def test_compare_prints_the_tables_and_writes_comparison_png(study, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["-ep", str(study), "compare", "conv", "fc", "single"]) == 0
    out = capsys.readouterr().out
    assert "settings that differ" in out and "learning_rate" in out and "0-2" in out
    assert "99.00% ± 0.10% (n=3)" in out
    assert "test accuracy, fc vs conv: Welch's t-test, p = " in out
    assert "the difference is larger than the seeds' spread" in out
    assert "single vs conv: cannot tell" in out
    assert "4 recall" in out
    picture = tmp_path / "comparison.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_out_chooses_where_the_picture_goes(study, tmp_path, capsys):
    out = tmp_path / "pictures" / "study.png"
    out.parent.mkdir()
    assert main(["-ep", str(study), "compare", "conv-s0", "single", "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert f"curves: {out}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("names", "message"),
    [(["conv", "nope"], "no experiment or group named 'nope'"), (["conv"], "two or more")],
    ids=["missing", "one"],
)
def test_a_missing_name_or_a_single_run_is_one_line_and_exit_2(study, tmp_path, capsys, monkeypatch, names, message):
    monkeypatch.chdir(tmp_path)
    assert main(["-ep", str(study), "compare", *names]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err
    assert not (tmp_path / "comparison.png").exists()


def test_list_shows_a_group_as_one_row_with_its_spread_above_its_members(study, capsys):
    assert main(["-ep", str(study), "list"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    first = next(i for i, line in enumerate(lines) if line.split()[:2] == ["conv", "(n=3)"])
    assert "0.9900±0.0010" in lines[first] and "complete" in lines[first]  # the members' F1
    members = lines[first + 1 : first + 4]
    assert [line.split()[0] for line in members] == ["conv-s0", "conv-s1", "conv-s2"]
    indent = lines[first].index("conv")
    assert all(line.index("conv-s") == indent + 2 for line in members)  # indented under their group
    assert any(line.split()[0] == "single" for line in lines)


def test_list_keeps_a_groups_members_together_under_it(tmp_path, capsys):
    root = tmp_path / "experiments"
    make_group(root, "a", [0.97, 0.98])  # a-s0, a-s1
    make_run(root, "a-s0-tuned", accuracy=0.99)  # sorts between them by name
    assert main(["-ep", str(root), "list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()[4:] if line.strip()]
    assert names == ["a", "a-s0", "a-s1", "a-s0-tuned"]
