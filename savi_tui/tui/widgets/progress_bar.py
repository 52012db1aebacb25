"""Textual's ProgressBar, without the redraw its own timer makes every second."""

from __future__ import annotations

from textual.widgets import ProgressBar as TextualProgressBar


class ProgressBar(TextualProgressBar):
    """Textual's ProgressBar (8.2), redrawn only when its progress or total changes.

    Textual's bar calls ``update()`` once a second from a timer of its own, to keep its ETA
    current; that sets the ETA, and the bar repaints, even with ``show_eta=False``. The
    training screen shows its own ETAs, and two bars on their own timers came to two
    extra frames a second beside the screen's one, each holding the GIL that the training
    thread needs. Here that timer's bare ``update()`` does nothing.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("show_eta", False)
        if kwargs["show_eta"]:
            raise ValueError("this ProgressBar shows no ETA of its own")
        super().__init__(*args, **kwargs)

    def update(self, **changes) -> None:
        if changes:  # a new total, progress or advance; the timer's call passes none
            super().update(**changes)
