"""Choose a model and its options (the torchinfo summary follows both) and the settings, then Start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from savi_tui.core.config import DATASETS, DEVICES, OPTIMIZERS, RECIPES, TrainConfig
from savi_tui.core.errors import SaviError
from savi_tui.core.experiments import validate_name
from savi_tui.core.models import MODELS, ModelOption, resolve_options, variant_key, variant_options
from savi_tui.core.recipes import recipe_defaults
from savi_tui.core.seed_groups import parse_seeds
from savi_tui.tui.messages import QueueGroup, StartTraining, SummaryReady
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


# a model option's label in the form (the flag's name on the command line)
OPTION_LABELS = {
    "hidden": "Hidden units",
    "activation": "Activation",
    "blocks": "Conv blocks",
    "channels": "Channels",
    "batchnorm": "Batch norm",
    "dropout": "Dropout",
}
SUMMARY_DEBOUNCE = 0.2  # seconds of no typing before a variant's summary is asked for


def _option_id(model: str, option: ModelOption) -> str:
    return f"opt-{model}-{option.name}"


def _option_check(model: str, option: ModelOption) -> Callable[[str], None]:
    def check(value: str) -> None:
        resolve_options(model, {option.name: _parse(option.kind, option.name, value)})

    return check


def _numeric_check(field_id: str) -> Callable[[str], None]:
    label, attribute, kind = NUMERIC_FIELDS[field_id]

    def check(value: str) -> None:
        TrainConfig(**{attribute: _parse(kind, label.lower(), value)}).validate()

    return check


def _seeds(value: str) -> None:
    if value:
        parse_seeds(value)


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
        self._summary_timer: Timer | None = None  # the debounce of a model option's change

    def compose(self) -> ComposeResult:
        d = self.defaults
        yield Header()
        with Horizontal(id="new-body"):
            with Vertical(id="new-left"):
                # the model and the fields scroll (a model's options add rows); the message and buttons stay.
                # Not a stop of its own for Tab: the field with the focus is scrolled into view, and Tab
                # goes from field to field in the same order at every terminal size.
                with VerticalScroll(id="new-fields", can_focus=False):
                    yield OptionList(
                        *[
                            Option(f"{spec.name}  ({spec.parameters:,} params)", id=spec.name)
                            for spec in MODELS.values()
                        ],
                        id="models",
                    )
                    with Grid(id="form"):
                        yield from self._option_fields()
                        yield Label("Name", id="name-label")
                        yield Input(
                            self.generated_name, id="name", compact=True, validators=[CoreCheck(self._check_name)]
                        )
                        yield Label("Dataset")
                        yield Select(
                            [(n, n) for n in DATASETS], value=d.dataset, allow_blank=False, id="dataset", compact=True
                        )
                        yield Label("Data folder", id="data-folder-label")
                        yield Input(
                            d.data_folder or "",
                            id="data_folder",
                            compact=True,
                            placeholder="folder with train/ and test/",
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
                        yield Label("Seeds")  # empty: one run with the Seed above; "0-4": a group, queued
                        yield Input(
                            "",
                            id="seeds",
                            compact=True,
                            placeholder="0-4: a group",
                            validators=[CoreCheck(_seeds)],
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

    def _option_fields(self) -> ComposeResult:
        """Each model's options, a label and a field each; only the highlighted model's are shown."""
        d = self.defaults
        for spec in MODELS.values():
            given = resolve_options(spec.name, d.model_options if spec.name == d.model else None)
            for option in spec.options:
                label = Label(OPTION_LABELS.get(option.name, option.name), classes=f"model-option {spec.name}")
                field = self._option_field(spec.name, option, given[option.name])
                label.display = field.display = spec.name == d.model
                yield label
                yield field

    @staticmethod
    def _option_field(model: str, option: ModelOption, value) -> Input | Select:
        field_id, classes = _option_id(model, option), f"model-option {model}"
        if option.kind in (bool, str):
            choices = [("on", True), ("off", False)] if option.kind is bool else [(c, c) for c in option.choices]
            return Select(choices, value=value, allow_blank=False, id=field_id, classes=classes, compact=True)
        check = CoreCheck(_option_check(model, option))
        return Input(f"{value:g}", id=field_id, classes=classes, compact=True, validators=[check])

    @staticmethod
    def _select(field_id: str, choices, value: str) -> Select:
        return Select([(c, c) for c in choices], value=value, allow_blank=False, id=field_id, compact=True)

    def on_mount(self) -> None:
        models = self.query_one("#models", OptionList)
        models.highlighted = list(MODELS).index(self.defaults.model)
        models.focus()
        self._show_data_folder(self.defaults.dataset == "folder")

    # -- the summary follows the highlight and the model's options -------------

    @on(OptionList.OptionHighlighted, "#models")
    def _model_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        spec = MODELS[event.option.id]
        self.query_one("#model-description", Static).update(f"{spec.name}: {spec.description}")
        for widget in self.query(".model-option"):
            widget.display = widget.has_class(spec.name)
        self.query_one("#model-summary", SummaryPane).set_text(LOADING)
        self._request_summary()
        name = self.query_one("#name", Input)
        if name.value == self.generated_name:
            self.generated_name = name.value = self.name_for(spec.name)

    @on(OptionList.OptionSelected, "#models")
    def _model_selected(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Changed, ".model-option")
    @on(Select.Changed, ".model-option")
    def _option_changed(self) -> None:
        if self._summary_timer is not None:
            self._summary_timer.stop()
        self._summary_timer = self.set_timer(SUMMARY_DEBOUNCE, self._request_summary)

    def _request_summary(self) -> None:
        options = self.model_options()
        if options is not None:  # an invalid value is shown inline; the last summary stays
            self.app.request_summary(self.selected_model, self, options=options)

    def on_summary_ready(self, message: SummaryReady) -> None:
        options = self.model_options()
        if options is None or message.key != variant_key(self.selected_model, options):
            return  # an answer for another model or variant, overtaken by the user
        self.query_one("#model-summary", SummaryPane).set_summary(message.summary)
        if message.summary.total_params is not None:  # the variant's own count, torchinfo's
            self.query_one("#models", OptionList).replace_option_prompt(
                self.selected_model, f"{self.selected_model}  ({message.summary.total_params:,} params)"
            )

    def model_options(self, model: str | None = None) -> dict | None:
        """The options of ``model`` (the highlighted one) that differ from its defaults; None if one is invalid."""
        spec = MODELS[model or self.selected_model]
        given = {}
        for option in spec.options:
            widget = self.query_one(f"#{_option_id(spec.name, option)}")
            if isinstance(widget, Input):
                try:
                    given[option.name] = _parse(option.kind, option.name, widget.value.strip())
                except ValueError:
                    return None
            else:
                given[option.name] = widget.value
        try:
            return variant_options(spec.name, given)
        except SaviError:
            return None

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
        spec = MODELS[self.selected_model]
        option_ids = [_option_id(spec.name, o) for o in spec.options if o.kind in (int, float)]
        for field_id in (*option_ids, "name", *NUMERIC_FIELDS):
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
            model_options=self.model_options() or {},
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
        if config is None:
            return
        name, seeds = self.query_one("#name", Input).value.strip(), self.query_one("#seeds", Input)
        if not seeds.value.strip():
            self.post_message(StartTraining(config, name))
            return
        result = seeds.validate(seeds.value)
        if result is not None and not result.is_valid:
            seeds.focus()
            self._show_validation(seeds, result)
        else:
            self.post_message(QueueGroup(config, name, parse_seeds(seeds.value)))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss()

    def action_focus_summary(self) -> None:
        self.query_one("#model-summary", SummaryPane).focus()
