"""savi-tui: train image classifiers from the terminal, and keep every experiment safe on disk."""

__version__ = "0.1.0"
