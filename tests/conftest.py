"""Fixtures shared by every test module; helpers live in tests/helpers.py."""

from __future__ import annotations

import pytest

import sim


@pytest.fixture
def default_model() -> sim.Model:
    """The shipped default model at a test-sized horizon."""
    return sim.load("models/default.yaml", {"horizon": 300, "warmup": 30, "replications": 3})
