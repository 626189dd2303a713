"""Regenerate the documentation's figures and its table of shipped models.

``make figures`` runs this: every figure is drawn from a shipped model with its own seed,
and docs/models.md gets one row per model (its story, its verdict and what ``diagnose``
finds). It runs the full models and every diagnosis, so it takes a few minutes; the
output is committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import sim
from sim.plots import sweep_figure, timeseries_figure
from sim.reference import model_header

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
FIGURES = ROOT / "docs" / "figures"


def diagnosis_headline(path: Path) -> str:
    """The root cause and the best fix ``diagnose`` finds, in one line."""
    found = sim.diagnose(sim.load(path), progress=False)
    if found.healthy:
        return f"healthy; fills first at {found.bottleneck.service}"
    helpful = [t for t in found.fixes if t.effect == "helps"]
    best = f"; best fix: {helpful[0].fix.name}" if helpful else ""
    return f"{found.root.text}{best}"


def models_page() -> str:
    """docs/models.md: the story library."""
    rows = ["| model | the story | verdict | what `diagnose` finds |", "|---|---|---|---|"]
    for path in sorted(MODELS.glob("*.yaml")):
        print("diagnosing", path.name, file=sys.stderr)
        facts = model_header(path)
        cells = [f"`{path.name}`", facts["story"], facts["verdict"], diagnosis_headline(path)]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(
        [
            "# The shipped models\n",
            "Each model in `models/` is a real overload story. Its comment header says what it "
            "shows, what to look at, which knob fixes it and the verdict `queuefull check` "
            "gives; the test suite asserts each headline claim and each verdict. Run one with "
            "`queuefull run models/NAME.yaml`, ask why with `queuefull diagnose`, or open it in "
            "the studio's model picker.\n",
            "\n".join(rows) + "\n",
            "The last column is `queuefull diagnose` on the model as shipped: the root cause "
            "it names, and the fix that helped most when it simulated each candidate. "
            "`make figures` regenerates this table.\n",
        ]
    )


def save(fig: plt.Figure, name: str) -> None:
    """Write one figure as PNG."""
    fig.savefig(FIGURES / name, dpi=110)
    plt.close(fig)
    print("wrote", name, file=sys.stderr)


def draw() -> None:
    """Every figure the docs show."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    default = sim.load(MODELS / "default.yaml")
    save(timeseries_figure(sim.run(default, progress=False)), "default-timeseries.png")
    sweep = sim.sweep(default, {"workload.arrivals.rate": list(range(50, 141, 10))}, progress=False)
    save(
        sweep_figure(sweep, "workload.arrivals.rate", ["latency_p99", "rejection_rate"]),
        "default-sweep.png",
    )
    slow = sim.run(sim.load(MODELS / "slow_database.yaml"), progress=False)
    save(timeseries_figure(slow), "slow-database.png")
    save(herd_figure(), "thundering-herd.png")


def herd_figure() -> plt.Figure:
    """Refusals after the outage, with and without jitter."""
    fig, ax = plt.subplots(figsize=(8, 3.2), constrained_layout=True)
    for jitter in ("none", "full"):
        model = sim.load(MODELS / "thundering_herd.yaml", {"workload.retries.jitter": jitter})
        ts = sim.run(model, progress=False).timeseries
        ts = ts[ts.service == "sessions"].groupby("time").mean(numeric_only=True)
        window = ts[(ts.index >= 280) & (ts.index < 500)]
        ax.plot(window.index, window.rejections, label=f"jitter: {jitter}")
    ax.axvspan(300, 360, color="red", alpha=0.1, label="sessions hangs")
    ax.set(xlabel="time (s)", ylabel="refused per second", title="thundering_herd.yaml")
    ax.legend()
    return fig


if __name__ == "__main__":
    draw()
    (ROOT / "docs" / "models.md").write_text(models_page(), encoding="utf-8")
