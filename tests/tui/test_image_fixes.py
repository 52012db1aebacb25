"""textual-image in a terminal of 0 columns (a fresh pty): the workaround of tui/image_fixes.py."""

from __future__ import annotations

import os
import pty
import subprocess
import sys


def _in_a_fresh_pty(code: str) -> tuple[int, str]:
    """Run ``code`` with stdin, stdout and stderr on a new pty, which reports 0 rows and 0 columns."""
    main, child = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-c", code], stdin=child, stdout=child, stderr=child)
        os.close(child)
        out = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the pty
                break
            if not chunk:
                break
            out += chunk
        return process.wait(timeout=60), out.decode(errors="replace")
    finally:
        os.close(main)


def test_textual_image_still_divides_by_zero_columns_so_the_workaround_is_needed():
    code, out = _in_a_fresh_pty("import textual_image.widget")
    assert code != 0 and "ZeroDivisionError" in out, "textual-image is fixed: remove tui/image_fixes.py"


def test_the_gallery_imports_in_a_terminal_of_zero_columns_and_draws_with_the_fallback_cells():
    code, out = _in_a_fresh_pty(
        "from savi_tui.tui.screens import gallery\n"
        "from textual_image._terminal import get_cell_size\n"
        "print('cells', tuple(get_cell_size()), gallery.TerminalImage.__name__)"
    )
    assert code == 0, out
    assert "cells (10, 20)" in out
