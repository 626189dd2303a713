"""What the studio computes, apart from Streamlit: knobs from the schema, the graph,
the shareable state, commands, downloads, the cache, comparisons and knees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.model.windows import disturbances
from sim.studio.cache import BoundedCache
from sim.studio.commands import command
from sim.studio.files import catalogue, results_csv, results_json, story
from sim.studio.graph import graph_dot
from sim.studio.instant import instant_estimate
from sim.studio.knobs import knob_map, knobs
from sim.studio.precise import PRECISE_GROWTH, replication_choice
from sim.studio.state import CUSTOM, PageState, from_query, pack_text, to_query
from sim.studio.summary import capacity_sentence, estimate_table, headline

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"


def short(name: str, **overrides: object) -> sim.Model:
    return sim.load(MODELS / f"{name}.yaml", {"horizon": 120, "warmup": 10, **overrides})


# --- facts and knobs --------------------------------------------------------------------


def test_knobs_cover_the_design_and_the_controls_in_use():
    paths = set(knob_map(sim.load(MODELS / "breaker_saves_pool.yaml")))
    assert {"workload.arrivals.rate", "services.api.workers", "services.api.queue"} <= paths
    assert "services.api.work.mean" in paths  # work time
    breaker = "services.api.classes.recommend.calls.0.circuit_breaker."
    assert breaker + "failure_rate_threshold" in paths
    assert breaker + "wait_duration_in_open_state" in paths  # a default, but in use
    assert "services.api.choice_count" not in paths  # a default of an unused balancer


def test_a_knob_with_an_autoscaler_leaves_replicas_alone():
    paths = set(knob_map(sim.load(MODELS / "autoscale_lag.yaml")))
    assert "services.api.replicas" not in paths
    assert "services.api.autoscaling.max_replicas" in paths


def test_every_knob_span_gives_a_model_or_a_dotted_path_error():
    """Knobs are typed as their fields (no 5.0 workers); a value that clashes with another
    field (an incident starting after its end) is refused with the path, nothing worse."""
    refused = 0
    for path in MODELS.glob("*.yaml"):
        model = sim.load(path)
        data = model.model_dump(mode="json", exclude_none=True)
        for knob in knobs(model):
            for value in (knob.span(4)[0], knob.span(4)[-1]):
                try:
                    sim.from_dict(sim.apply_overrides(data, {knob.path: value}))
                except sim.ModelError as exc:
                    refused += 1
                    assert all(line.startswith(("services.", "workload.")) for line in exc.lines)
                    assert "whole number" not in str(exc)
    assert refused < 5


def test_spans_are_around_the_value_and_within_bounds():
    knob = knob_map(short("default"))["services.api.workers"]
    assert knob.span(10)[0] == 5 and knob.span(10)[-1] == 20 and len(knob.span(10)) == 10
    assert knob_map(short("default"))["services.api.queue"].span(30)[0] == 10
    breaker = knob_map(sim.load(MODELS / "breaker_saves_pool.yaml"))
    threshold = breaker[
        "services.api.classes.recommend.calls.0.circuit_breaker.failure_rate_threshold"
    ]
    assert max(threshold.span(5)) <= 100


# --- graph, windows, summary ------------------------------------------------------------


def test_graph_shows_services_calls_and_colours_after_a_run():
    model = sim.load(MODELS / "retry_storm.yaml")
    dot = graph_dot(model)
    assert '"api" -> "db"' in dot and "timeout" in dot and "clients ->" in dot
    results = sim.run(short("default"), replications=2, executor="inline", progress=False)
    coloured = graph_dot(results.model, results)
    assert "busy" in coloured and "#fc9272" in coloured  # 90 % busy: red


def test_disturbances_are_the_incidents_and_spikes():
    assert [w.label for w in disturbances(sim.load(MODELS / "slow_database.yaml"))] == [
        "db incident"
    ]
    spike = disturbances(sim.load(MODELS / "flash_sale.yaml"))[0]
    assert spike.label.startswith("spike") and spike.stop > spike.start


def test_headline_and_estimate():
    model = short("default")
    results = sim.run(model, replications=3, executor="inline", progress=False)
    line = headline(model, results, sim.studies.check.judge(results, model.slo))
    assert line.startswith("checkout-api at 90 req/s:") and "p99" in line
    table, note = estimate_table(model, results)
    assert "exact at api" in note and not table.disagree.any()
    assert "agrees" in note


@pytest.mark.slow
def test_estimate_disagreement_is_flagged():
    model = short("slow_database", horizon=400)  # the db's slowdown from 300 s
    results = sim.run(model, replications=3, executor="inline", progress=False)
    table, note = estimate_table(model, results)
    assert table.disagree.any() and "outside the estimate's range: incidents" in note
    db = table[(table.service == "db") & table.disagree]
    assert db["likely cause"].str.contains("incidents").all()


def test_no_estimate_is_said_plainly():
    model = sim.load(MODELS / "noisy_neighbour.yaml")
    results = sim.run(
        model.model_copy(update={"horizon": 30.0, "warmup": 5.0}),
        replications=2,
        executor="inline",
        progress=False,
    )
    table, note = estimate_table(model, results)
    assert table is None and note.startswith("No instant estimate")


def test_what_the_estimate_leaves_out_is_named():
    table, note = instant_estimate(sim.load(MODELS / "autoscale_lag.yaml"))
    assert "QNA" in note
    api = table[table.service == "api"].iloc[0]
    assert api.status == "out of range" and "autoscaling" in api.why


@pytest.mark.slow
def test_capacity_sentence():
    model = short("default")
    found = sim.find_capacity(
        model, "services.api.workers", low=6, high=14, replications=5, progress=False
    )
    sentence = capacity_sentence(found, list(model.slo), model)
    assert sentence.startswith("You need services.api.workers = ") and "90 req/s" in sentence


# --- state, commands, files -------------------------------------------------------------


def test_page_state_round_trips_through_the_query():
    state = PageState(CUSTOM, {"services.api.workers": 12, "a.b": "2s"}, 3, 4, "name: x\n")
    again, notes = from_query(to_query(state))
    assert again == state and notes == []


def test_damaged_query_parameters_are_noted_not_fatal():
    state, notes = from_query({"model": CUSTOM, "yaml": "!!!", "set.x": "{{", "seed": "z"})
    assert state.model == "default" and state.seed is None and len(notes) == 2


def test_a_packed_yaml_bomb_is_refused():
    state, notes = from_query({"model": CUSTOM, "yaml": pack_text("a" * 10_000_000)})
    assert state.model == "default" and state.yaml is None
    assert notes and "larger than" in notes[0]


def test_commands_run_as_written(tmp_path):
    line = command(
        "run", str(MODELS / "default.yaml"), {"horizon": 60, "warmup": 5}, replications=2
    )
    out = tmp_path / "r.json"
    words = [*line.split()[2:], "--json", str(out), "--quiet"]
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", *words],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["replications"] == 2
    sweep = command("sweep", "m.yaml", {}, 2, vary={"services.api.workers": [8, 10.5]})
    assert "--vary services.api.workers=8,10.5" in sweep


def test_downloads_equal_what_the_cli_writes(tmp_path):
    json_file, csv_file = tmp_path / "r.json", tmp_path / "s.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            "models/default.yaml",
            "--replications",
            "2",
            "--set",
            "horizon=60",
            "--set",
            "warmup=5",
            "--json",
            str(json_file),
            "--csv",
            str(csv_file),
            "--quiet",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    model = sim.load(MODELS / "default.yaml", {"horizon": 60, "warmup": 5})
    results = sim.run(model, replications=2, progress=False)
    assert results_json(results) == json_file.read_bytes()
    assert results_csv(results) == csv_file.read_bytes()


def test_catalogue_has_every_model_with_its_story():
    shipped = catalogue(MODELS)
    assert next(iter(shipped)) == "default"
    assert set(shipped) == {p.stem for p in MODELS.glob("*.yaml")}
    assert all(s.story for s in shipped.values())
    assert story("# name: what it shows.\nname: x\n") == "what it shows"


# --- cache, comparisons, knees ----------------------------------------------------------


def test_bounded_cache_keeps_the_most_recent():
    cache: BoundedCache[int] = BoundedCache(2)
    calls = []

    def compute(value: int):
        return lambda: calls.append(value) or value

    assert cache.get_or_compute("a", compute(1)) == 1
    assert cache.get_or_compute("a", compute(9)) == 1  # a hit
    cache.get_or_compute("b", compute(2))
    cache.get_or_compute("a", compute(9))  # a is now the most recent
    cache.get_or_compute("c", compute(3))  # b goes
    assert "b" not in cache and "a" in cache and len(cache) == 2 and calls == [1, 2, 3]


def test_until_precise_sets_the_precision_block_the_command_also_sets():
    model = short("default")
    plain = replication_choice(model, 3, precise=False)
    assert (plain.asked, plain.most, plain.overrides, plain.model) == (3, 3, {}, model)
    precise = replication_choice(model, 3, precise=True)
    assert precise.asked == "auto" and precise.most == 3 * PRECISE_GROWTH
    spec = precise.model.precision
    assert (spec.min_replications, spec.max_replications) == (3, precise.most)
    data = model.model_dump(mode="json", exclude_none=True)
    assert precise.model == sim.from_dict(sim.apply_overrides(data, precise.overrides))
    assert "doubled where all.latency_mean is not yet within +/-5%" in precise.text
