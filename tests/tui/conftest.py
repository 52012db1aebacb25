"""Fixtures of the app's tests (helpers that are not fixtures live in tui_helpers.py)."""

from __future__ import annotations

import time

import pytest


@pytest.fixture
def fixed_timezone(monkeypatch):
    """Dates in snapshots do not depend on the machine's time zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
