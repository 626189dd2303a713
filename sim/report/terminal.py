"""The report as terminal text: the answer first, aligned tables, verdicts in colour when
the output is a terminal (and ``NO_COLOR`` is unset), plain text otherwise."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TextIO

import pandas as pd

from sim.measure.display import format_interval, format_value
from sim.measure.registry import UNITS
from sim.model import SLO
from sim.report.summary import Report, Row, Section
from sim.studies.capacity import Capacity
from sim.studies.check import CheckResult, SLOResult
from sim.studies.verdict import Verdict

_COLOURS = {Verdict.PASS: "32", Verdict.FAIL: "31", Verdict.INCONCLUSIVE: "33"}  # ANSI
_WORDS = {Verdict.PASS: "PASS", Verdict.FAIL: "FAIL", Verdict.INCONCLUSIVE: "INCONCLUSIVE"}
_WORD_WIDTH = max(len(w) for w in _WORDS.values())
_SELF_DESCRIBING = {"fraction", "s"}  # units a formatted value already shows (%, ms, s)


def use_colour(stream: TextIO) -> bool:
    """Colour when ``stream`` is a terminal, unless ``NO_COLOR`` is set (no-color.org);
    ``FORCE_COLOR`` asks for it anyway (CI logs that render ANSI)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def verdict_word(verdict: Verdict, colour: bool = False) -> str:
    """``PASS``, ``FAIL`` or ``INCONCLUSIVE``, padded to one width, in colour if asked."""
    word = _WORDS[verdict]
    padding = " " * (_WORD_WIDTH - len(word))
    if colour:
        return f"\033[1;{_COLOURS[verdict]}m{word}\033[0m{padding}"
    return word + padding


def bounds_text(slo: SLO) -> str:
    """``all.latency_p99 <= 800ms``, the bound in the metric's unit."""
    unit = UNITS.get(slo.metric, "")
    return slo.describe(lambda value: format_value(value, unit))


def verdict_line(result: SLOResult, replications: int | None, colour: bool = False) -> str:
    """``PASS  all.latency_p99 <= 800ms: 526ms [523ms, 530ms]``; an inconclusive verdict
    says how many replications it had and that its interval still straddles the bound."""
    unit = UNITS.get(result.slo.metric, "")
    numbers = format_value(result.mean, unit)
    interval = format_interval(result.ci_low, result.ci_high, unit)
    if interval != "-":
        numbers += f" {interval}"
    text = f"{verdict_word(result.verdict, colour)}  {bounds_text(result.slo)}: {numbers}"
    if result.verdict == Verdict.INCONCLUSIVE:
        if interval == "-":
            text += " (no interval: run at least 2 replications)"
        elif replications is not None:
            text += f" (after {replications} replications the interval still straddles the bound)"
    return text


def _cells(row: Row) -> tuple[str, str, str, str]:
    unit = "" if row.unit in _SELF_DESCRIBING else row.unit
    estimate = ""
    if not math.isnan(row.estimate):
        estimate = format_value(row.estimate, row.unit) + (" !" if row.disagrees else "")
    return (
        format_value(row.mean, row.unit),
        format_interval(row.ci_low, row.ci_high, row.unit),
        estimate,
        unit,
    )


def _table_lines(sections: Sequence[Section]) -> list[str]:
    """Every section's rows in one set of aligned columns: metric, mean, 95 % CI, the
    instant estimate (``!`` where it disagrees), unit."""
    entries: list[tuple[str, tuple[str, str, str, str]] | str] = []
    for index, section in enumerate(sections):
        if index:
            entries.append("")
        entries.append(section.title)
        entries.extend((f"  {row.metric}", _cells(row)) for row in section.rows)
        for edge in section.edges:
            entries.append(f"  {edge.title}")
            entries.extend((f"    {row.metric}", _cells(row)) for row in edge.rows)
    rows = [e for e in entries if isinstance(e, tuple)]
    if not rows:
        return []
    label_width = max(len(label) for label, _ in rows)
    widths = [max(len(cells[i]) for _, cells in rows) for i in range(3)]
    widths[0], widths[1] = max(widths[0], len("mean")), max(widths[1], len("95% CI"))
    if widths[2]:
        widths[2] = max(widths[2], len("estimate"))
    header = f"{'':{label_width}}  {'mean':>{widths[0]}}  {'95% CI':>{widths[1]}}"
    if widths[2]:
        header += f"  {'estimate':>{widths[2]}}"
    lines = ["", header.rstrip()]
    for entry in entries:
        if isinstance(entry, str):
            lines.append(entry)
            continue
        label, (mean, interval, estimate, unit) = entry
        line = f"{label:<{label_width}}  {mean:>{widths[0]}}  {interval:>{widths[1]}}"
        if widths[2]:
            line += f"  {estimate:>{widths[2]}}"
        lines.append(f"{line}  {unit}".rstrip())
    return lines


def render_report(report: Report, colour: bool = False) -> str:
    """The whole report as text: title, the answer, SLO verdicts, tables, what was hidden."""
    lines = [report.title, ""]
    width = max((len(h.label) for h in report.headline), default=0)
    for item in report.headline:
        mean, interval, _, unit = _cells(item.row)
        subject = f"{item.subject} at " if item.subject else ""
        text = f"  {item.label:<{width}}  {subject}{mean} {interval}"
        if unit:
            text += f" {unit}"
        if item.note:
            text += f"  {item.note}"
        lines.append(text)
    if report.verdicts:
        lines.append("")
        lines.append("SLOs")
        lines.extend(
            f"  {verdict_line(result, report.replications, colour)}" for result in report.verdicts
        )
    lines.extend(_table_lines(report.sections))
    if report.hidden_text:
        lines.append(report.hidden_text)
    if report.estimate_notes:
        lines.append("")
        lines.extend(report.estimate_notes)
    lines.extend(f"warning: {warning}" for warning in report.warnings)
    return "\n".join(lines)


def render_checks(checks: Sequence[CheckResult], colour: bool = False) -> str:
    """The verdicts of ``queuefull check``: per model, each SLO, regression and error."""
    lines = []
    for item in checks:
        lines.append(item.source or item.model.name)
        if item.error:
            lines.append(f"  {verdict_word(Verdict.FAIL, colour)}  model: {item.error}")
        replications = item.results.replications if item.results is not None else None
        lines.extend(f"  {verdict_line(r, replications, colour)}" for r in item.slos)
        for reg in item.regressions:
            unit = UNITS.get(reg.metric, "")
            lines.append(
                f"  {verdict_word(Verdict.FAIL, colour)}  baseline {reg.service}.{reg.metric}: "
                f"{format_value(reg.baseline, unit)} -> {format_value(reg.current, unit)} "
                f"(worse, p = {reg.p_value:.2g})"
            )
        if item.results is not None:
            lines.extend(f"  warning: {warning}" for warning in item.results.warnings)
    return "\n".join(lines)


def render_sweep(
    table: pd.DataFrame, knobs: Sequence[str], names: Sequence[str], metrics: Sequence[str]
) -> str:
    """A sweep as one row per point: the knobs' values (and the replications, when the
    points ran different numbers), then each chosen metric of each chosen service or edge
    as ``mean [low, high]`` in its unit. A metric a service or edge does not report is left
    out, and said so."""
    columns = [
        (name, metric)
        for name in names
        for metric in metrics
        if not table[(table.service == name) & (table.metric == metric)].empty
    ]
    missing = [
        f"{name}.{metric}" for name in names for metric in metrics if (name, metric) not in columns
    ]
    counted = "replications" in table and table["replications"].nunique() > 1
    header = [
        *knobs,
        *(["replications"] if counted else []),
        *(metric if len(names) == 1 else f"{name}.{metric}" for name, metric in columns),
    ]
    body = []
    estimated = False  # whether a cell shown has the instant estimate beside it
    point_of = table[list(knobs)].astype(str).agg("\x1f".join, axis=1)  # any value, even a dict
    for key in point_of.unique():
        at = table[point_of == key]
        cells = key.split("\x1f")
        if counted:  # precision-driven: each point ran its own number
            cells.append(str(at["replications"].iloc[0]))
        for name, metric in columns:
            match = at[(at.service == name) & (at.metric == metric)]
            if match.empty:
                cells.append("-")
                continue
            rec = match.iloc[0]
            value = format_value(rec["mean"], rec.unit)
            interval = format_interval(rec.ci_low, rec.ci_high, rec.unit)
            cell = value if interval == "-" else f"{value} {interval}"
            guess = rec.get("estimate", math.nan)
            if guess == guess:  # not NaN: the instant estimate beside it
                cell += f" est {format_value(guess, rec.unit)}"
                estimated = True
            cells.append(cell)
        body.append(cells)
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True))
        for row in [header, *body]
    ]
    if columns:
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append(
            "(each cell: mean [95% CI]" + (", est: the instant estimate)" if estimated else ")")
        )
    if missing:
        lines.append(f"(not reported here: {', '.join(missing)})")
    return "\n".join(lines)


def render_capacity(answer: Capacity, slos: Sequence[SLO], colour: bool = False) -> str:
    """Every point a capacity search tried, in knob order, with its verdict and each SLO
    metric's mean and interval in its unit; then the answer, the values tested on each
    side of it and the replications used."""
    table = answer.evaluations
    lines = []
    width = max((len(f"{value:g}") for value in table[answer.path]), default=0)
    # precision-driven points ran different counts: say how many each ran
    varied = "replications" in table and table["replications"].dropna().nunique() > 1
    for rec in table.to_dict("records"):
        cells = []
        for slo in slos:
            if slo.label not in rec or rec[slo.label] != rec[slo.label]:  # unstable: no numbers
                continue
            unit = UNITS.get(slo.metric, "")
            interval = format_interval(rec[f"{slo.label} low"], rec[f"{slo.label} high"], unit)
            cells.append(
                f"{slo.service}.{slo.metric} {format_value(rec[slo.label], unit)} {interval}"
            )
        note = rec.get("note")
        if isinstance(note, str) and note:
            cells.append(note)
        if varied and rec["replications"] == rec["replications"]:
            cells.append(f"{int(rec['replications'])} replications")
        verdict = verdict_word(Verdict(rec["verdict"]), colour)
        lines.append(f"  {rec[answer.path]:>{width}g}  {verdict}  {'; '.join(cells)}")
    header = f"{answer.path}: {len(table)} points tried"
    return "\n".join([header, *lines, answer.message])
