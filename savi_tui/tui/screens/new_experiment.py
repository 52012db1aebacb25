"""Choose a model (its torchinfo summary follows the highlight) and the settings, then Start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import Screen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from savi_tui.core.config import DATASETS, DEVICES, OPTIMIZERS, RECIPES, TrainConfig
from savi_tui.core.errors import SaviError
from savi_tui.core.experiments import validate_name
from savi_tui.core.models import MODELS
from savi_tui.core.recipes import recipe_defaults
from savi_tui.tui.messages import StartTraining, SummaryReady
from savi_tui.tui.screens.summary import LOADING
from savi_tui.tui.textual_fixes import Footer
from savi_tui.tui.widgets.summary_pane import SummaryPane


class CoreCheck(Validator):
    """Parse the text, then let the core refuse it: the message is the core's own."""

    def __init__(self, check: Callable[[str], object]) -> None:
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        try:
            self.check(value.strip())
        except (SaviError, ValueError) as error:
            return self.failure(str(error))
        return self.success()


def _parse(kind: type, label: str, value: str):
    try:
        return kind(value)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{label} must be {what}, got {value!r}") from None


# field id → (label, TrainConfig attribute, parser)
NUMERIC_FIELDS = {
    "epochs": ("Epochs", "epochs", int),
    "batch_size": ("Batch size", "batch_size", int),
    "learning_rate": ("Learning rate", "learning_rate", float),
    "percentage": ("Fraction", "percentage", float),
    "seed": ("Seed", "seed", int),
}


def _numeric_check(field_id: str) -> Callable[[str], None]:
    label, attribute, kind = NUMERIC_FIELDS[field_id]

    def check(value: str) -> None:
        TrainConfig(**{attribute: _parse(kind, label.lower(), value)}).validate()

    return check


class NewExperimentScreen(Screen):
    TITLE = "New experiment"
    # From 120 columns the summary pane fits torchinfo's whole table (app.tcss); narrower, it shows the rows.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", tooltip="Start training with these settings", id="new.start"),
        Binding("escape", "cancel", "Cancel", tooltip="Cancel: back to the experiments", id="new.cancel"),
        Binding(
            "ctrl+t", "focus_summary", "Summary", tooltip="Focus the model summary (to scroll it)", id="new.summary"
        ),
    ]

    def __init__(self, name_for: Callable[[str], str], defaults: TrainConfig | None = None) -> None:
        """``name_for(model)`` generates the name the form starts with (it follows the model until edited)."""
        super().__init__()
        self.name_for = name_for
        self.defaults = defaults or TrainConfig()
        self.generated_name = name_for(self.defaults.model)
        self._recipe = self.defaults.recipe

    def compose(self) -> ComposeResult:
        d = self.defaults
        yield Header()
        with Horizontal(id="new-body"):
            with Vertical(id="new-left"):
                yield OptionList(
                    *[Option(f"{spec.name}  ({spec.parameters:,} params)", id=spec.name) for spec in MODELS.values()],
                    id="models",
                )
                with Grid(id="form"):
                    yield Label("Name", id="name-label")
                    yield Input(self.generated_name, id="name", compact=True, validators=[CoreCheck(self._check_name)])
                    yield Label("Dataset")
                    yield Select(
                        [(n, n) for n in DATASETS], value=d.dataset, allow_blank=False, id="dataset", compact=True
                    )
                    yield Label("Data folder", id="data-folder-label")
                    yield Input(
                        d.data_folder or "", id="data_folder", compact=True, placeholder="folder with train/ and test/"
                    )
                    yield Label("Recipe")
                    yield self._select("recipe", RECIPES, d.recipe)
                    for field_id, (label, attribute, _) in NUMERIC_FIELDS.items():
                        if field_id == "percentage":
                            yield Label("Optimizer")
                            yield self._select("optimizer", OPTIMIZERS, d.optimizer)
                        yield Label(label)
                        yield Input(
                            str(getattr(d, attribute)),
                            id=field_id,
                            compact=True,
                            validators=[CoreCheck(_numeric_check(field_id))],
                        )
                    yield Label("Device")
                    yield self._select("device", DEVICES, d.device)
                yield Static(id="form-error", markup=False)
                with Horizontal(id="form-buttons"):
                    yield Button("Start (Ctrl+S)", id="start", variant="success", compact=True)
                    yield Button("Cancel (Esc)", id="cancel", compact=True)
            with Vertical(id="new-right"):
                yield Static(id="model-description", markup=False)
                yield SummaryPane(LOADING, id="model-summary")
        yield Footer(compact=True)

    @staticmethod
    def _select(field_id: str, choices, value: str) -> Select:
        return Select([(c, c) for c in choices], value=value, allow_blank=False, id=field_id, compact=True)

    def on_mount(self) -> None:
        models = self.query_one("#models", OptionList)
        models.highlighted = list(MODELS).index(self.defaults.model)
        models.focus()
        self._show_data_folder(self.defaults.dataset == "folder")

    # -- the summary follows the highlight -----------------------------------

    @on(OptionList.OptionHighlighted, "#models")
    def _model_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        spec = MODELS[event.option.id]
        self.query_one("#model-description", Static).update(f"{spec.name}: {spec.description}")
        self.query_one("#model-summary", SummaryPane).set_text(LOADING)
        self.app.request_summary(spec.name, self)
        name = self.query_one("#name", Input)
        if name.value == self.generated_name:
            self.generated_name = name.value = self.name_for(spec.name)

    @on(OptionList.OptionSelected, "#models")
    def _model_selected(self) -> None:
        self.query_one("#name", Input).focus()

    def on_summary_ready(self, message: SummaryReady) -> None:
        if message.key == self.selected_model:
            self.query_one("#model-summary", SummaryPane).set_summary(message.summary)

    @property
    def selected_model(self) -> str:
        models = self.query_one("#models", OptionList)
        index = models.highlighted if models.highlighted is not None else 0
        return models.get_option_at_index(index).id

    # -- the form ------------------------------------------------------------

    def _check_name(self, value: str) -> None:
        validate_name(value)
        if (Path(self.app.experiments_root) / value).exists():
            raise ValueError(f"experiment {value!r} already exists; choose another name")

    @on(Select.Changed, "#dataset")
    def _dataset_changed(self, event: Select.Changed) -> None:
        self._show_data_folder(event.value == "folder")

    @on(Select.Changed, "#recipe")
    def _recipe_changed(self, event: Select.Changed) -> None:
        """A recipe comes with its own epochs, batch size and rate; values the user typed are kept."""
        new = recipe_defaults(event.value)
        old = recipe_defaults(self._recipe)
        self._recipe = event.value
        for attribute, value in new.items():
            widget = self.query_one(f"#{attribute}", Input)
            kind = NUMERIC_FIELDS[attribute][2]
            try:
                unchanged = kind(widget.value.strip()) == old[attribute]
            except ValueError:
                unchanged = False
            if unchanged:
                widget.value = str(value)

    def _show_data_folder(self, show: bool) -> None:
        self.query_one("#data-folder-label").display = show
        self.query_one("#data_folder").display = show

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        self._show_validation(event.input, event.validation_result)

    def _show_validation(self, widget: Input, result: ValidationResult | None) -> None:
        error = self.query_one("#form-error", Static)
        if result is not None and not result.is_valid:
            error.update(Text(f"✗ {result.failure_descriptions[0]}", style="bold red"))
        elif widget.id is not None:
            error.update("")

    def read_config(self) -> TrainConfig | None:
        """The form as a ``TrainConfig``, or None after showing the first problem inline."""
        for field_id in ("name", *NUMERIC_FIELDS):
            widget = self.query_one(f"#{field_id}", Input)
            result = widget.validate(widget.value)
            if result is not None and not result.is_valid:
                widget.focus()
                self._show_validation(widget, result)
                return None
        dataset = self.query_one("#dataset", Select).value
        values = {
            attribute: kind(self.query_one(f"#{field_id}", Input).value.strip())
            for field_id, (_, attribute, kind) in NUMERIC_FIELDS.items()
        }
        config = TrainConfig(
            model=self.selected_model,
            dataset=dataset,
            data_folder=self.query_one("#data_folder", Input).value.strip() or None,
            optimizer=self.query_one("#optimizer", Select).value,
            recipe=self.query_one("#recipe", Select).value,
            device=self.query_one("#device", Select).value,
            **values,
        )
        try:
            config.validate()
        except SaviError as error:
            self.query_one("#form-error", Static).update(Text(f"✗ {error}", style="bold red"))
            return None
        return config

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.focus_next()

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        config = self.read_config()
        if config is not None:
            self.post_message(StartTraining(config, self.query_one("#name", Input).value.strip()))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss()

    def action_focus_summary(self) -> None:
        self.query_one("#model-summary", SummaryPane).focus()
