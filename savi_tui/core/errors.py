"""Errors a user can act on. Each message is one line that says what is wrong."""


class SaviError(Exception):
    """Base class: the CLI prints the message and exits 2; the app shows it in a modal."""


class ConfigError(SaviError):
    """A training setting is out of range or of the wrong type."""


class DatasetError(SaviError):
    """A dataset is missing, malformed, or does not match its labels."""


class ExperimentError(SaviError):
    """An experiment is missing, already exists, or has a bad name."""


class ExperimentLocked(ExperimentError):
    """Another process is training this experiment."""


class CheckpointError(SaviError):
    """A checkpoint is damaged, unsafe, or does not fit the model."""


class ExportError(SaviError):
    """ONNX export or its check failed."""


def first_line(error: BaseException) -> str:
    """The first non-empty line of an exception's message (its type's name when it has none)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def describe_error(error: BaseException | None) -> str:
    """One line a user can act on: a SaviError's own message, else the exception's type and first line."""
    if error is None:
        return "unknown error"
    if isinstance(error, SaviError):
        return str(error)
    text = first_line(error)
    return text if text == type(error).__name__ else f"{type(error).__name__}: {text}"
