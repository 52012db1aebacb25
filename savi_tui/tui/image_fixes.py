"""The one workaround for textual-image: import it in a terminal that reports 0 columns.

textual-image 0.12 measures the cell size at import as pixels / columns, and a terminal that
says it has 0 columns (a fresh pty, some serial consoles) makes that a ZeroDivisionError that
would stop the app from starting. Then we give it its own fallback size (VT340 cells, 10x20
pixels), which it uses for a terminal that does not answer, and import again. The test
tests/tui/test_image_fixes.py fails when a release no longer divides by zero.
"""

from __future__ import annotations

import importlib
from types import ModuleType

FALLBACK_CELL = (10, 20)  # textual-image's own default when the terminal does not say


def import_textual_image_widget() -> ModuleType:
    """``textual_image.widget``, whatever size the terminal reports. Call before Textual starts."""
    try:
        return importlib.import_module("textual_image.widget")
    except ZeroDivisionError:
        from textual_image import _terminal

        _terminal.get_cell_size._result = _terminal.CellSize(*FALLBACK_CELL)
        return importlib.import_module("textual_image.widget")
