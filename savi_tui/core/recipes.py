"""Optimizer and learning-rate schedule for a config.

``default`` is the course's recipe: the chosen optimizer at a constant learning
rate. ``fast`` adds a one-cycle schedule that peaks at the configured rate.
"""

from __future__ import annotations

from savi_tui.core.config import TrainConfig


def build_optimizer(config: TrainConfig, model):
    import torch

    params = model.parameters()
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.learning_rate)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.learning_rate)
    return torch.optim.SGD(params, lr=config.learning_rate, momentum=0.9, nesterov=True)


def build_scheduler(config: TrainConfig, optimizer, steps_per_epoch: int):
    """None for the default recipe; a per-batch one-cycle schedule for ``fast``."""
    import torch

    if config.recipe != "fast":
        return None
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=config.learning_rate,
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
    )
