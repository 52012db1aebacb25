"""``savi-tui show NAME --errors``: the largest confusions of the best checkpoint, one a line."""

from __future__ import annotations

from savi_tui.core.metrics import largest_confusions


def print_largest_confusions(console, statistics: dict | None, limit: int = 10) -> None:
    """``4 → 9: 12 (1.2 % of the 4s)``, largest first, from statistics.json's confusion matrix."""
    if not statistics or not statistics.get("confusion_matrix"):
        console.print("largest confusions: none yet (statistics.json is written when a first epoch ends)")
        return
    cells = largest_confusions(statistics["confusion_matrix"], limit=limit)
    console.print(f"largest confusions of the best checkpoint (epoch {statistics.get('epoch')}, true → predicted):")
    for cell in cells:
        console.print(f"  {cell.describe(with_share=True)}", highlight=False)
    if not cells:
        console.print("  none: every test image is right")
