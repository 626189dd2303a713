"""The documentation site builds cleanly and its generated pages match the code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim import reference

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


@pytest.mark.parametrize("name", sorted(reference.PAGES))
def test_generated_references_are_up_to_date(name: str):
    committed = (DOCS / "reference" / name).read_text(encoding="utf-8")
    assert committed == reference.PAGES[name](), (
        f"docs/reference/{name} is stale: run `make docs` (python -m sim.reference docs/reference)"
    )


def test_every_field_of_the_model_file_is_described():
    assert reference.undescribed_fields() == []


def test_a_field_without_a_description_is_caught():
    schema = sim.Model.model_json_schema()
    schema["$defs"]["Service"]["properties"]["workers"].pop("description")
    assert reference.undescribed_fields(schema) == ["Service.workers"]


def test_every_block_and_metric_and_command_is_in_the_references():
    schema = sim.Model.model_json_schema()
    model_page = reference.model_reference()
    for block in ["Model", "Workload", "Service", "Call", "CircuitBreakerSpec", "HPASpec"]:
        assert f"\n## {block}\n" in model_page
    assert len(schema["$defs"]) + 1 == model_page.count("\n## ")
    metrics = reference.metric_reference()
    for name in ("latency_p99", "rejected_queue_full", "breaker_opens"):
        assert f"| `{name}` |" in metrics
    cli = reference.cli_reference()
    for command in ("run", "sweep", "check", "capacity", "diagnose", "validate", "schema"):
        assert f"## queuefull {command}\n" in cli


def test_the_models_page_lists_every_model_with_its_story_and_verdict():
    page = (DOCS / "models.md").read_text(encoding="utf-8")
    for path in sorted((ROOT / "models").glob("*.yaml")):
        facts = reference.model_header(path)
        story, verdict = facts["story"], facts["verdict"]
        row = next((r for r in page.splitlines() if r.startswith(f"| `{path.name}` |")), None)
        assert row is not None, f"{path.name} is missing from docs/models.md: run `make figures`"
        assert story in row and verdict in row, f"docs/models.md is stale for {path.name}"


def test_the_readme_fits_on_a_screen_and_links_into_the_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 6000
    for command in ("make run", "make test", "make app"):
        assert command in readme
    for link in ("docs/getting-started.md", "docs/tutorial.md", "docs/architecture.md"):
        assert link in readme and (ROOT / link).exists()


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path):
    """mkdocs --strict: a broken link, anchor, image or nav entry fails the build."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "reference" / "model-file" / "index.html").exists()
