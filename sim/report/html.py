"""The report as one self-contained HTML page (inline styles, plots as embedded PNG): the
answer, the SLO verdicts, every service's table, the plots, the model and the command that
reproduces it, for a design review or a pull request."""

from __future__ import annotations

import base64
import io
import math
from html import escape

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from sim.measure.display import format_interval, format_value
from sim.measure.registry import UNITS
from sim.report.summary import Report, Row, Section
from sim.report.terminal import bounds_text
from sim.studies.verdict import Verdict

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
table { border-collapse: collapse; margin: .3rem 0 1rem; }
th, td { padding: .2rem .8rem; text-align: right; border-bottom: 1px solid #eaeef2; }
th:first-child, td:first-child { text-align: left; }
td.edge { padding-left: 2rem; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #cf222e; font-weight: 600; }
.inconclusive { color: #9a6700; font-weight: 600; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; font-size: 13px; }
img { max-width: 100%; } .muted { color: #57606a; }
"""


def figure_png(fig: Figure) -> str:
    """A figure as a ``data:`` URI (PNG), so the page needs no other file; closes it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _row_cells(row: Row, css: str = "") -> str:
    unit = "" if row.unit in ("fraction", "s") else escape(row.unit)
    cls = f' class="{css}"' if css else ""
    estimate = "" if math.isnan(row.estimate) else format_value(row.estimate, row.unit)
    if row.disagrees:
        estimate = f'<span class="fail">{estimate} !</span>'
    return (
        f"<tr><td{cls}>{escape(row.metric)}</td><td>{format_value(row.mean, row.unit)}</td>"
        f"<td>{format_interval(row.ci_low, row.ci_high, row.unit)}</td><td>{estimate}</td>"
        f"<td>{unit}</td></tr>"
    )


def _section(section: Section) -> str:
    parts = [f'<h3 id="service-{escape(section.name)}">{escape(section.title)}</h3>']
    parts.append(
        "<table><tr><th>metric</th><th>mean</th><th>95 % CI</th><th>estimate</th><th>unit</th></tr>"
    )
    parts.extend(_row_cells(row) for row in section.rows)
    for edge in section.edges:
        parts.append(f'<tr><th colspan="5">{escape(edge.title)}</th></tr>')
        parts.extend(_row_cells(row, "edge") for row in edge.rows)
    parts.append("</table>")
    return "\n".join(parts)


def _verdicts(report: Report) -> str:
    if not report.verdicts:
        return '<p class="muted">The model has no <code>slo</code> block.</p>'
    rows = []
    for result in report.verdicts:
        unit = UNITS.get(result.slo.metric, "")
        word = result.verdict.value
        note = ""
        if result.verdict == Verdict.INCONCLUSIVE:
            note = f"after {report.replications} replications the interval straddles the bound"
        rows.append(
            f'<tr><td class="{word}">{word.upper()}</td><td>{escape(bounds_text(result.slo))}</td>'
            f"<td>{format_value(result.mean, unit)}</td>"
            f"<td>{format_interval(result.ci_low, result.ci_high, unit)}</td>"
            f"<td>{escape(note)}</td></tr>"
        )
    header = "<tr><th>verdict</th><th>SLO</th><th>mean</th><th>95 % CI</th><th></th></tr>"
    return "<table>" + header + "".join(rows) + "</table>"


def html_page(
    report: Report, figures: list[tuple[str, Figure]], model_text: str, command: str
) -> str:
    """The whole page. ``figures`` are (caption, figure) pairs, embedded as PNG;
    ``model_text`` is the model file as written; ``command`` reproduces the run."""
    answer = []
    for item in report.headline:
        subject = f"{escape(item.subject)} at " if item.subject else ""
        interval = format_interval(item.row.ci_low, item.row.ci_high, item.row.unit)
        note = f' <span class="muted">{escape(item.note)}</span>' if item.note else ""
        answer.append(
            f"<tr><th>{escape(item.label)}</th><td>{subject}"
            f"{format_value(item.row.mean, item.row.unit)}</td><td>{interval}</td>"
            f"<td>{note}</td></tr>"
        )
    plots = "".join(
        f'<figure><img alt="{escape(caption)}" src="{figure_png(fig)}">'
        f'<figcaption class="muted">{escape(caption)}</figcaption></figure>'
        for caption, fig in figures
    )
    warnings = "".join(f'<p class="muted">warning: {escape(w)}</p>' for w in report.warnings)
    hidden = f'<p class="muted">{escape(report.hidden_text)}</p>' if report.hidden_text else ""
    hidden += "".join(f"<p>{escape(line)}</p>" for line in report.estimate_notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(report.model.name)}: queuefull report</title>
<style>{_STYLE}</style></head>
<body>
<h1>{escape(report.model.name)}</h1>
<p class="muted">{escape(report.title)}</p>
<section id="summary"><h2>Summary</h2><table>{"".join(answer)}</table>{warnings}</section>
<section id="slos"><h2>SLO verdicts</h2>{_verdicts(report)}</section>
<section id="services"><h2>Services</h2>{"".join(_section(s) for s in report.sections)}
{hidden}</section>
<section id="plots"><h2>Over time</h2>{plots}</section>
<section id="model"><h2>The model</h2><pre>{escape(model_text)}</pre></section>
<section id="reproduce"><h2>Reproduce</h2><pre>{escape(command)}</pre>
<p class="muted">Same model, seed and replications give the same numbers.</p></section>
</body></html>
"""
