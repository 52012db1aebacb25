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
