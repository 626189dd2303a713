"""Interactive charts (Altair / Vega-Lite) of results, sweeps and comparisons.

Every band is the 95 % Student-t interval across replications of the mean at that time
or that knob value; incident and spike windows are shaded.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Sequence

import altair as alt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.measure.stats import t_quantile
from sim.model.windows import Window

LayeredChart = alt.LayerChart | alt.FacetChart
"""What the chart builders return: a layered Vega-Lite chart."""

BAND_NOTE = "Bands: 95 % confidence interval of the mean across replications."


def across_replications(timeseries: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Long table (service, time, series, mean, ci_low, ci_high) of ``columns``, averaged
    over replications bin by bin."""
    present = [c for c in columns if c in timeseries.columns]
    if not present:
        return pd.DataFrame(columns=["service", "time", "series", "mean", "ci_low", "ci_high"])
    long = timeseries.melt(
        id_vars=["replication", "service", "time"], value_vars=present, var_name="series"
    ).dropna(subset=["value"])
    grouped = long.groupby(["service", "time", "series"], sort=False)["value"]
    stats = grouped.agg(["mean", "std", "count"]).reset_index()
    half = np.array(
        [
            t_quantile(0.95, int(n) - 1) * s / math.sqrt(n) if n > 1 and np.isfinite(s) else 0.0
            for s, n in zip(stats["std"], stats["count"], strict=True)
        ]
    )
    stats["ci_low"] = stats["mean"] - half
    stats["ci_high"] = stats["mean"] + half
    return stats.drop(columns=["std", "count"])


def _shading(windows: Sequence[Window]) -> alt.Chart | None:
    if not windows:
        return None
    frame = pd.DataFrame([{"start": w.start, "stop": w.stop, "window": w.label} for w in windows])
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_rect(opacity=0.15, color="#d62728")
        .encode(x="start:Q", x2="stop:Q", tooltip=["window", "start", "stop"])
    )
    return chart


def timeseries_chart(
    data: pd.DataFrame,
    title: str,
    unit: str,
    windows: Sequence[Window] = (),
    colour: str = "service",
) -> LayeredChart:
    """Mean line with its band over time, one colour per ``colour`` value, windows shaded."""
    base = alt.Chart(data).encode(
        x=alt.X("time:Q", title="time (s)"),
        color=alt.Color(f"{colour}:N", title=colour),
    )
    band = base.mark_area(opacity=0.2).encode(y="ci_low:Q", y2="ci_high:Q")
    line = base.mark_line().encode(
        y=alt.Y("mean:Q", title=f"{title} ({unit})" if unit else title),
        tooltip=[colour, "time", alt.Tooltip("mean:Q", format=".4g")],
    )
    layers = [layer for layer in (_shading(windows), band, line) if layer is not None]
    return alt.layer(*layers).properties(title=title, height=220)


def refusals_chart(data: pd.DataFrame, windows: Sequence[Window] = ()) -> LayeredChart:
    """Refusals per second stacked by reason (series named ``refused_<reason>``)."""
    frame = data.assign(reason=data.series.str.removeprefix("refused_"))
    area = (
        alt.Chart(frame)
        .mark_area()
        .encode(
            x=alt.X("time:Q", title="time (s)"),
            y=alt.Y("mean:Q", stack="zero", title="refused (req/s)"),
            color=alt.Color("reason:N", title="reason"),
            tooltip=["reason", "time", alt.Tooltip("mean:Q", format=".3g")],
        )
    )
    layers = [layer for layer in (_shading(windows), area) if layer is not None]
    return alt.layer(*layers).properties(title="refusals by reason", height=220)


def sweep_chart(
    rows: pd.DataFrame,
    knob: str,
    metric: str,
    unit: str,
    threshold: float | None = None,
    knee: float | None = None,
) -> LayeredChart:
    """A metric's mean and band along a swept knob, the SLO threshold as a dashed rule and
    the knee as a labelled point."""
    frame = rows.rename(columns={knob: "knob"})
    base = alt.Chart(frame).encode(x=alt.X("knob:Q", title=knob))
    layers: list[alt.Chart] = [
        base.mark_area(opacity=0.2).encode(y="ci_low:Q", y2="ci_high:Q"),
        base.mark_line(point=True).encode(
            y=alt.Y("mean:Q", title=f"{metric} ({unit})"),
            tooltip=["knob", alt.Tooltip("mean:Q", format=".4g"), "ci_low", "ci_high"],
        ),
    ]
    if threshold is not None:
        rule = pd.DataFrame({"y": [threshold], "label": [f"SLO {threshold:g}"]})
        layers.append(alt.Chart(rule).mark_rule(color="#d62728", strokeDash=[6, 4]).encode(y="y:Q"))
    if knee is not None:
        at = frame[frame.knob == knee]
        if not at.empty:
            mark = pd.DataFrame({"knob": [knee], "mean": [float(at["mean"].iloc[0])]})
            point = alt.Chart(mark).encode(x="knob:Q", y="mean:Q")
            layers.append(point.mark_point(size=160, color="#ff7f0e", filled=True))
            layers.append(
                point.mark_text(dy=-14, color="#ff7f0e").encode(text=alt.value(f"knee {knee:g}"))
            )
    return alt.layer(*layers).properties(title=metric, height=260)


def heatmap_chart(
    rows: pd.DataFrame, x: str, y: str, metric: str, unit: str, threshold: float | None
) -> LayeredChart:
    """The metric over a grid of two knobs; cells that meet the SLO threshold are outlined
    and the boundary between passing and failing cells is drawn."""
    frame = rows.rename(columns={x: "x", y: "y"}).copy()
    frame["meets SLO"] = True if threshold is None else frame["mean"] <= threshold
    base = alt.Chart(frame).encode(
        x=alt.X("x:O", title=x), y=alt.Y("y:O", title=y, sort="descending")
    )
    cells = base.mark_rect().encode(
        color=alt.Color("mean:Q", title=f"{metric} ({unit})", scale=alt.Scale(scheme="orangered")),
        tooltip=["x", "y", alt.Tooltip("mean:Q", format=".4g"), "meets SLO"],
    )
    marks = base.mark_text(fontSize=12).encode(
        text=alt.condition("datum['meets SLO']", alt.value("✓"), alt.value("✗"))
    )
    layers: list[alt.Chart] = [cells, marks]
    if threshold is not None:
        boundary = slo_boundary(frame, threshold)
        if not boundary.empty:
            layers.append(
                alt.Chart(boundary)
                .mark_rect(fill=None, stroke="#000000", strokeWidth=2)
                .encode(x="x:O", y=alt.Y("y:O", sort="descending"))
            )
    title = f"{metric}: ✓ meets the SLO" + ("" if threshold is None else f" (<= {threshold:g})")
    return alt.layer(*layers).properties(title=title, height=300)


def slo_boundary(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """The passing cells next to a failing one (or the grid's edge): the SLO boundary."""
    passing = {(r.x, r.y) for r in frame.itertuples() if r.mean <= threshold}
    xs, ys = sorted(frame.x.unique()), sorted(frame.y.unique())
    edge = []
    for i, xv in enumerate(xs):
        for j, yv in enumerate(ys):
            if (xv, yv) not in passing:
                continue
            neighbours = [(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)]
            if any(
                0 <= a < len(xs) and 0 <= b < len(ys) and (xs[a], ys[b]) not in passing
                for a, b in neighbours
            ):
                edge.append({"x": xv, "y": yv})
    return pd.DataFrame(edge, columns=["x", "y"])


def png(figure: Figure) -> bytes:
    """A matplotlib figure as PNG bytes, for a download button."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


_PYPLOT = threading.Lock()


def png_when_clicked(build: Callable[[], Figure]) -> Callable[[], bytes]:
    """A download button's PNG, drawn when the button is clicked instead of on every run
    of the page (drawing a page's figure took longer than simulating it). Clicks are
    served on the server's threads, and pyplot's figures are global: one at a time."""

    def draw() -> bytes:
        with _PYPLOT:
            return png(build())

    return draw
