"""The keys of the screen underneath, generated from its bindings so it never goes stale."""

from __future__ import annotations

from textual import actions
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

NOTES = (
    "Ctrl+C while training: stop after the current batch and save; press it again within "
    "3 s to quit at once (the files on disk stay the last complete ones). With no training, "
    "Ctrl+C quits. q or Ctrl+Q while training asks, then saves before quitting. Ctrl+P opens "
    "the command palette: every action is there too."
)


def key_list(screen: Screen, app: App) -> list[tuple[str, str]]:
    """(keys, description) of the screen's and the app's own bindings that apply now."""
    keys: dict[str, list] = {}
    for node in (screen, app):
        for binding in Binding.make_bindings(type(node).BINDINGS):
            if not (binding.id and binding.description):
                continue
            namespace, action, parameters = actions.parse(binding.action)
            if (app if namespace == "app" else node).check_action(action, parameters) is False:
                continue
            display = binding.key_display or app.get_key_display(binding)
            entry = keys.setdefault(binding.description, [[], binding.description])
            if display not in entry[0]:
                entry[0].append(display)
    listed = [(" ".join(displays), description) for displays, description in keys.values()]
    return [*listed, ("^p", "Command palette: every action, by name")]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close")]

    def __init__(self, underneath: Screen) -> None:
        super().__init__()
        self.underneath = underneath
        self.keys: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        self.keys = key_list(self.underneath, self.app)
        with Vertical(classes="dialog wide"):
            title = self.underneath.title or self.app.title
            yield Static(f"Keys — {title}", classes="dialog-title", markup=False)
            yield DataTable(id="help-keys", cursor_type="none", zebra_stripes=True, show_header=False)
            yield Static(NOTES, classes="dialog-body")
            yield Static("Esc closes", classes="dialog-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action")
        for key, description in self.keys:
            table.add_row(key, description)
        table.focus()

    def action_close(self) -> None:
        self.dismiss()
