"""What every studio page shares on the server: the budget, the process pool, the
results cache, the progress bar and the over-budget notice."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import streamlit as st

import sim
from sim.model import Model
from sim.studies.parallel import new_pool
from sim.studio.cache import BoundedCache
from sim.studio.files import catalogue

ROOT = Path(__file__).resolve().parent.parent
MODELS = catalogue(ROOT / "models")
DEFAULT_BUDGET = 2e7
"""Request visits one page action may simulate: about a minute on two cores when every
one is simulated. It lets a typical session's sweeps run (``slow_database``'s
What-if over the api's workers, 6.8e6, and its 5 x 5 heatmap by the database's workers,
1.7e7) while a run of any shipped model stays under half of it (the dearest,
``noisy_neighbour``, is 7.3e6)."""


def budget() -> float:
    """Request visits one page action may simulate: ``QUEUEFULL_STUDIO_BUDGET``, or
    :data:`DEFAULT_BUDGET`."""
    text = os.environ.get("QUEUEFULL_STUDIO_BUDGET", "")
    try:
        value = float(text) if text else DEFAULT_BUDGET
    except ValueError:
        value = DEFAULT_BUDGET
    return value if value > 0 else DEFAULT_BUDGET


CACHE_ENTRIES = 64
SWEEP_METRICS = ["latency_p99", "rejection_rate", "throughput", "latency_mean", "utilization"]


@st.cache_resource(validate=lambda pool: not getattr(pool, "_broken", False))
def process_pool() -> Any:
    """One process pool per server, shared by every session (recreated if it broke)."""
    return new_pool("spawn")


def executor() -> Any:
    """Where replications run: the server's pool, or this process in tests."""
    inline = os.environ.get("QUEUEFULL_STUDIO_EXECUTOR") == "inline"
    return "inline" if inline else process_pool()


class Bar:
    """A progress bar with the time left, fed by the library's progress callback."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.widget = st.progress(0.0, text=f"{label}: starting")
        self.start = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.start
        left = elapsed / done * (total - done) if done else math.nan
        text = f"{self.label}: {done}/{total} replications"
        if done < total and math.isfinite(left):
            text += f", about {left:.0f} s left"
        self.widget.progress(min(done / max(total, 1), 1.0), text=text)

    def close(self) -> None:
        """Remove the bar."""
        self.widget.empty()


@st.cache_resource
def results_cache() -> BoundedCache[sim.Results]:
    """One results cache per server, shared by every session."""
    return BoundedCache(CACHE_ENTRIES)


def is_cached(canonical: str, replications: int, seed: int) -> bool:
    """Whether :func:`simulate` would answer at once."""
    return (canonical, replications, seed) in results_cache()


def simulate(canonical: str, replications: int, seed: int, progress: Any = None) -> sim.Results:
    """A run of the model whose canonical JSON is ``canonical``, computed once per server
    for the same model, replications and seed (``progress`` is told only on a miss)."""

    def compute() -> sim.Results:
        model = Model.model_validate_json(canonical)
        return sim.run(
            model, replications, seed, executor=executor(), progress=progress, budget=math.inf
        )

    return results_cache().get_or_compute((canonical, replications, seed), compute)


def over_budget(work: float, cli: str) -> bool:
    """Say so and show the command when ``work`` is over the page's budget."""
    limit = budget()
    if work <= limit:
        return False
    st.warning(
        f"This would simulate about {work:.3g} request visits, over the page's budget of "
        f"{limit:.3g}. Run it from a terminal instead:"
    )
    st.code(cli, language="bash")
    return True


def cancel_button(key: str) -> None:
    """A cancel button shown while a study runs: clicking it stops the run (Streamlit
    stops the script at its next progress update) and sets ``key + "_hit"``."""
    st.button("Cancel", key=key, on_click=lambda: st.session_state.update({key + "_hit": True}))


@contextmanager
def running(label: str, cancel_key: str) -> Iterator[Bar]:
    """A progress bar and a cancel button while the body runs; both go when it ends."""
    holder = st.empty()
    with holder.container():
        bar = Bar(label)
        cancel_button(cancel_key)
    try:
        yield bar
    finally:
        holder.empty()
