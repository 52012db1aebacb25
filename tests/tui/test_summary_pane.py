"""The summary pane's compact table: torchinfo's rows in the width a narrow pane has."""

from __future__ import annotations

from tui_helpers import FC_MODEL_SUMMARY

from savi_tui.tui.widgets.summary_pane import compact_table


def test_with_room_each_layer_takes_one_line_with_its_shape_and_parameters():
    lines = compact_table(FC_MODEL_SUMMARY, 60).splitlines()
    assert lines[0].split() == ["Layer", "Output", "shape", "Params"]
    assert [line.split() for line in lines[2:5]] == [
        ["Linear", "[1,", "128]", "100,480"],
        ["Sigmoid", "[1,", "128]", "--"],
        ["Linear", "[1,", "10]", "1,290"],
    ]
    assert lines[-2:] == [
        "Total params" + "101,770".rjust(len(lines[0]) - 12),
        "Trainable" + "101,770".rjust(len(lines[0]) - 9),
    ]


def test_in_an_80_column_terminals_pane_the_shape_goes_under_its_layer_and_every_line_fits():
    width = 21  # the new-experiment pane at 80 columns, beside its vertical scrollbar
    lines = compact_table(FC_MODEL_SUMMARY, width).splitlines()
    assert max(map(len, lines)) <= width
    assert [line.split() for line in lines[3:9]] == [
        ["Linear", "100,480"],
        ["[1,", "128]"],
        ["Sigmoid", "--"],
        ["[1,", "128]"],
        ["Linear", "1,290"],
        ["[1,", "10]"],
    ]
    assert lines[-2].split()[-1] == lines[-1].split()[-1] == "101,770"
