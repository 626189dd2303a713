"""The studio's main flows, driven without a browser by Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

import sim
from sim.studies.budget import estimate_work
from sim.studies.sweep import build, sweep_work
from sim.studio.knobs import knob_map
from studio import whatif_tab
from studio.runtime import budget

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
QUICK = {"replications": "3", "set.horizon": "120", "set.warmup": "20"}
"""A short run, so each flow takes seconds."""
SHORT = {"horizon": float(QUICK["set.horizon"]), "warmup": float(QUICK["set.warmup"])}
"""QUICK's run lengths, as overrides of a model loaded outside the page."""


@pytest.fixture(autouse=True)
def inline(monkeypatch):
    """Replications in the test's process: the same numbers as the pool, bit for bit."""
    monkeypatch.setenv("QUEUEFULL_STUDIO_EXECUTOR", "inline")
    monkeypatch.delenv("QUEUEFULL_STUDIO_BUDGET", raising=False)


def open_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def params(at: AppTest) -> dict[str, str]:
    """The page's query parameters, one value each."""
    return {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}


def set_numbers(at: AppTest, values: dict[str, float]) -> None:
    """Set number inputs by key (without rerunning)."""
    for key, value in values.items():
        at.number_input(key=key).set_value(value)


def summary_value(at: AppTest, metric: str, service: str = "all") -> float:
    for frame in at.dataframe:
        table = frame.value
        if {"service", "metric", "mean"} <= set(table.columns):
            row = table[(table.service == service) & (table.metric == metric)]
            if not row.empty:
                return float(row["mean"].iloc[0])
    raise AssertionError(f"no {service}.{metric} in the page's tables")


def test_default_page_shows_the_default_model_run():
    at = open_page()
    assert not at.exception
    headline = at.subheader[0].value
    assert headline.startswith("checkout-api at 90 req/s:")
    assert "refused (queue full)" in headline and "all SLOs pass" in headline
    labels = [m.label for m in at.metric]
    assert {"throughput", "rejection_rate", "latency_p99"} <= set(labels)
    assert 0.3 < summary_value(at, "latency_p99") < 0.8
    assert params(at)["model"] == "default"
    assert any("exact fast path" in caption.value for caption in at.caption)


def test_more_workers_lowers_p99_and_refusals():
    at = open_page(QUICK)
    p99, refused = summary_value(at, "latency_p99"), summary_value(at, "rejection_rate")
    at.number_input(key="knob:services.api.workers").set_value(14).run()
    assert not at.exception
    assert summary_value(at, "latency_p99") < p99
    assert summary_value(at, "rejection_rate") < refused
    assert params(at)["set.services.api.workers"] == "14"
    assert "workers: 14" in at.text_area(key="yaml_editor").value  # the editor follows


def test_editing_the_yaml_moves_the_knobs():
    at = open_page(QUICK)
    text = at.text_area(key="yaml_editor").value.replace("workers: 10", "workers: 12")
    at.text_area(key="yaml_editor").set_value(text).run()
    assert not at.exception and not at.error
    assert at.number_input(key="knob:services.api.workers").value == 12
    assert params(at)["model"] == "custom"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: x\nworkload: {arrivals: {process: poisson, rate: 10}}\n"
            "services: {api: {workers: 0, work: {distribution: exponential, mean: 0.1}}}\n",
            "services.api.workers",
        ),
        (
            "name: x\nworkload: {arrivals: {process: poisson, rate: 10}}\n"
            "services: {api: {wokers: 2, work: {distribution: exponential, mean: 0.1}}}\n",
            "did you mean 'workers'",
        ),
        ("services: [unclosed\n", "line"),
    ],
)
def test_bad_yaml_shows_the_dotted_path_not_a_traceback(text, expected):
    at = open_page(QUICK)
    at.text_area(key="yaml_editor").set_value(text).run()
    assert not at.exception
    messages = " ".join(e.value for e in at.error)
    assert expected in messages
    assert "Traceback" not in messages
    assert at.text_area(key="yaml_editor").value == text  # the draft stays for fixing


@pytest.mark.slow
def test_one_knob_sweep_produces_its_table(monkeypatch):
    shown = []
    real = whatif_tab._show_so_far

    def spy(holder, table, *args):
        shown.append(table)
        real(holder, table, *args)

    monkeypatch.setattr(whatif_tab, "_show_so_far", spy)
    at = open_page(QUICK)
    set_numbers(
        at,
        {
            "whatif_low0:services.api.workers:10": 8,
            "whatif_high0:services.api.workers:10": 12,
            "whatif_n0:services.api.workers:10": 3,
            "whatif_reps": 2,
        },
    )
    at.button(key="run_sweep").click().run()
    assert not at.exception
    tables = [f.value for f in at.dataframe if "services.api.workers" in f.value.columns]
    assert tables, "no sweep table"
    table = tables[0]
    assert sorted(table["services.api.workers"].unique()) == [8, 10, 12]
    p99 = table[table.metric == "latency_p99"].sort_values("services.api.workers")["mean"]
    assert p99.is_monotonic_decreasing  # common random numbers: a smooth curve
    assert any("queuefull sweep models/default.yaml" in c.value for c in at.code)
    # the first replication of every point was drawn while the second ran
    assert [set(t.replications) for t in shown] == [{1}]
    assert sorted(shown[0]["services.api.workers"].unique()) == [8, 10, 12]
    assert not any("So far:" in c.value for c in at.caption)  # replaced by the answer


@pytest.mark.slow
def test_a_sweep_until_precise_runs_more_where_the_intervals_are_wide():
    at = open_page({**QUICK, "set.horizon": "200"})  # where 8 workers need twice the runs
    set_numbers(
        at,
        {
            "whatif_low0:services.api.workers:10": 8,
            "whatif_high0:services.api.workers:10": 12,
            "whatif_n0:services.api.workers:10": 2,
            "whatif_reps": 3,
        },
    )
    at.checkbox(key="whatif_auto").check().run()
    assert any("doubled where all.latency_mean" in c.value for c in at.caption)
    at.button(key="run_sweep").click().run()
    assert not at.exception
    (table,) = [f.value for f in at.dataframe if "services.api.workers" in f.value.columns]
    counts = table.groupby("services.api.workers")["replications"].first().to_dict()
    assert counts == {8: 6, 12: 3}  # as `queuefull sweep ... --replications auto` gives
    (cli,) = [c.value for c in at.code if "queuefull sweep" in c.value]
    assert "precision.max_replications=12" in cli and "--replications auto" in cli


@pytest.mark.slow
def test_compare_shows_both_variants_with_differences():
    at = open_page(QUICK)
    at.text_area(key="compare_text0").set_value("services.api.workers: 14\n")
    at.button(key="run_compare").click().run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**baseline**" in text and "**variant 1**" in text
    frames = [f.value for f in at.dataframe if "significant" in f.value.columns]
    assert frames
    diffs = frames[0]
    p99 = diffs[(diffs.metric == "latency_p99") & (diffs.service == "all")]
    assert bool(p99.significant.iloc[0]) and p99.better.iloc[0] == "better"


@pytest.mark.slow
def test_a_comparison_until_precise_doubles_both_variants_together():
    at = open_page(QUICK)
    at.text_area(key="compare_text0").set_value("services.api.workers: 8\n")
    at.number_input(key="compare_reps").set_value(3)
    at.checkbox(key="compare_auto").check().run()
    assert any("doubled for every variant while all.latency_mean" in c.value for c in at.caption)
    at.button(key="run_compare").click().run()
    assert not at.exception
    model = sim.load(
        ROOT / "models" / "default.yaml",
        {
            **SHORT,
            "precision.min_replications": 3,
            "precision.max_replications": 12,
        },
    )
    alone = [
        sim.run(build(model, changes), replications="auto", executor="inline").replications
        for changes in ({}, {"services.api.workers": 8})
    ]
    assert alone[1] == 6  # the smaller pool is the noisier variant
    (ran,) = [c.value for c in at.caption if c.value.startswith("Each variant ran")]
    assert ran.startswith(f"Each variant ran {max(alone)} replications")
    (cli,) = [c.value for c in at.code if "variant_1.json" in c.value]
    assert cli.count(f"--replications {max(alone)}") == 2


@pytest.mark.slow
def test_capacity_answers_in_one_click():
    at = open_page(QUICK)
    set_numbers(
        at,
        {
            "capacity_low:services.api.workers:10": 6,
            "capacity_high:services.api.workers:10": 14,
            "capacity_reps": 5,
        },
    )
    at.button(key="run_capacity").click().run()
    assert not at.exception
    sentence = [s.value for s in at.subheader if s.value.startswith("You need")]
    assert sentence and "services.api.workers" in sentence[0] and "at 90 req/s" in sentence[0]


@pytest.mark.slow
def test_url_state_round_trips():
    query = {
        "model": "slow_database",
        "set.services.api.workers": "30",
        **QUICK,
    }
    at = open_page(query)
    assert not at.exception
    assert at.selectbox(key="model_choice").value == "slow_database"
    assert at.number_input(key="knob:services.api.workers").value == 30
    assert at.number_input(key="replications_input").value == 3
    assert params(at) == query
    # an edited model travels in the link too
    edited = at.text_area(key="yaml_editor").value.replace("name: slow-database", "name: mine")
    at.text_area(key="yaml_editor").set_value(edited).run()
    shared = params(at)
    again = open_page(shared)
    assert again.text_area(key="yaml_editor").value == edited
    assert again.subheader[0].value.startswith("mine at 100 req/s")


def test_a_damaged_link_still_opens():
    at = open_page({"model": "no_such_model", "set.services.api.workers": "{{", **QUICK})
    assert not at.exception
    notes = " ".join(w.value for w in at.warning)
    assert "no_such_model" in notes and "set.services.api.workers" in notes


def test_over_budget_action_is_refused_with_the_command(monkeypatch):
    monkeypatch.setenv("QUEUEFULL_STUDIO_BUDGET", "1000")
    at = open_page({"set.services.api.workers": "12"})
    assert not at.exception
    assert any("over the page's budget" in w.value for w in at.warning)
    commands = [c.value for c in at.code]
    assert any(
        c.startswith("queuefull run models/default.yaml --set services.api.workers=12")
        and "--budget" in c
        for c in commands
    )
    assert not at.metric  # nothing was simulated


def test_a_knob_moved_too_far_names_the_field_and_can_be_moved_back():
    start = "services.recommendations.incidents.0.start"
    at = open_page({"model": "breaker_saves_pool", f"set.{start}": "700", **QUICK})
    assert not at.exception
    assert "services.recommendations.incidents.0.end" in " ".join(e.value for e in at.error)
    knob = at.number_input(key=f"knob:{start}")
    assert knob.value == 700
    knob.set_value(300.0).run()
    assert not at.exception and not at.error
    assert at.subheader[0].value.startswith("breaker-saves-pool at 100 req/s")


def test_a_sweep_is_weighed_against_the_budget_at_each_points_own_load(monkeypatch):
    rate = "workload.arrivals.rate"
    page = sim.load(ROOT / "models" / "default.yaml", SHORT)
    vary = {rate: [90, 225, 360]}
    work = sweep_work(page, vary=vary, replications=3)
    assert work > 1.5 * 3 * estimate_work(page, 3)  # far more than three points at 90 req/s
    monkeypatch.setenv("QUEUEFULL_STUDIO_BUDGET", f"{0.9 * work:.0f}")
    at = open_page(QUICK)
    at.selectbox(key="whatif_knob").set_value(rate).run()
    set_numbers(
        at,
        {f"whatif_low0:{rate}:90": 90, f"whatif_high0:{rate}:90": 360, f"whatif_n0:{rate}:90": 3},
    )
    at.button(key="run_sweep").click().run()
    assert not at.exception
    (warning,) = [w.value for w in at.warning if "over the page's budget" in w.value]
    assert f"about {work:.3g} request visits" in warning
    assert not [f for f in at.dataframe if rate in f.value.columns]  # nothing ran


def test_every_shipped_model_runs_and_a_sessions_sweeps_fit_the_page_budget():
    """The studio opens every shipped model with its run, and runs the sweeps of a
    typical session (slow_database: the api's workers over their span, then by the
    database's workers on a 5 x 5 grid, three replications) instead of sending them to a
    terminal."""
    for path in sorted((ROOT / "models").glob("*.yaml")):
        model = sim.load(path)
        assert estimate_work(model, model.replications) <= budget() / 2, path.name
    model = sim.load(ROOT / "models" / "slow_database.yaml")
    knobs = knob_map(model)

    def span(path: str, points: int) -> list[float]:  # as the What-if tab suggests
        return sorted({knobs[path].clamp(v) for v in knobs[path].span(points)})

    api, db = "services.api.workers", "services.db.workers"
    assert sweep_work(model, vary={api: span(api, 10)}, replications=3) <= budget()
    assert sweep_work(model, vary={api: span(api, 5), db: span(db, 5)}, replications=3) <= budget()


def test_switching_to_two_knobs_suggests_a_5_by_5_grid():
    at = open_page(QUICK)
    assert any(c.value.startswith("10 points x 3 replications") for c in at.caption)
    at.radio(key="whatif_mode").set_value("two knobs").run()
    assert any(c.value.startswith("25 points x 3 replications") for c in at.caption)
    at.radio(key="whatif_mode").set_value("one knob").run()
    assert any(c.value.startswith("10 points x 3 replications") for c in at.caption)


@pytest.mark.slow
def test_two_knob_sweep_draws_a_heatmap():
    at = open_page(QUICK)
    at.radio(key="whatif_mode").set_value("two knobs").run()
    at.selectbox(key="whatif_knob2").set_value("services.api.queue").run()
    set_numbers(
        at,
        {
            "whatif_low0:services.api.workers:10": 9,
            "whatif_high0:services.api.workers:10": 11,
            "whatif_grid_n0:services.api.workers:10": 2,
            "whatif_low1:services.api.queue:20": 10,
            "whatif_high1:services.api.queue:20": 30,
            "whatif_grid_n1:services.api.queue:20": 2,
            "whatif_reps": 2,
        },
    )
    at.button(key="run_sweep").click().run()
    assert not at.exception
    tables = [f.value for f in at.dataframe if "services.api.queue" in f.value.columns]
    assert tables
    grid = tables[0][["services.api.workers", "services.api.queue"]].drop_duplicates()
    assert len(grid) == 4


@pytest.mark.slow
def test_diagnose_tab_names_the_bottleneck_and_ranks_fixes():
    at = open_page({**QUICK, "set.workload.arrivals.rate": "130"})
    at.number_input(key="diagnose_reps").set_value(2)
    at.button(key="run_diagnose").click().run()
    assert not at.exception
    headings = [s.value for s in at.subheader]
    assert any(h.startswith("checkout-api: ") and "FAIL" in h for h in headings)
    text = " ".join(m.value for m in at.markdown)
    assert "**Where it fills**: api" in text
    fixes = [f.value for f in at.dataframe if "effect" in f.value.columns]
    assert fixes and fixes[0].effect.iloc[0] == "helps"
    assert any(c.value.startswith("queuefull diagnose models/default.yaml") for c in at.code)
