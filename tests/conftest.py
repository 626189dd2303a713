"""Fixtures shared by every test module; helpers live in tests/helpers.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

import sim

# Property tests draw the same examples on every run, so a run's length and verdict do not
# depend on luck, and no example fails for being slow on a loaded machine (a first call
# that builds the schema's validators can take half a second); QUEUEFULL_HYPOTHESIS=explore
# draws new ones (and keeps failures found).
settings.register_profile("fixed", derandomize=True, database=None, deadline=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("QUEUEFULL_HYPOTHESIS", "fixed"))


@pytest.fixture
def default_model() -> sim.Model:
    """The shipped default model at a test-sized horizon."""
    return sim.load("models/default.yaml", {"horizon": 300, "warmup": 30, "replications": 3})
