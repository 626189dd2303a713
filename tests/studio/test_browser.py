"""The studio in a real browser: Debian's Chromium driven by Playwright against
``streamlit run app.py`` on a free localhost port. Skipped, with the reason, where
Chromium or Playwright is missing (CI installs Chromium in .ci/run)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.serve import CHROMIUM_FLAGS, ROOT, studio_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "out" / "screenshots"
QUICK = "replications=3&set.horizon=200&set.warmup=20"
WAIT = 120_000  # ms: a first run on a cold server with a spawning process pool

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason="no Chromium at /usr/bin/chromium (apt-get install chromium; CI does)",
    ),
]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The studio on a free localhost port, with a budget that lets a run take minutes."""
    with studio_server({"QUEUEFULL_STUDIO_BUDGET": "1e9"}) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def headline(page) -> str:
    page.wait_for_selector("h3:has-text(' req/s: ')", timeout=WAIT)
    return page.locator("h3:has-text(' req/s: ')").first.inner_text()


def test_the_studio_in_a_real_browser(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/?{QUICK}")
    first = headline(page)
    assert first.startswith("checkout-api at 90 req/s")
    page.wait_for_selector("[data-testid='stMetric']", timeout=WAIT)
    assert page.locator("[data-testid='stMetric']").count() >= 3
    page.wait_for_selector("[data-testid='stGraphVizChart'] svg", timeout=WAIT)
    page.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, .vega-embed", timeout=WAIT)
    page.screenshot(path=str(SHOTS / "run.png"), full_page=True)

    # downloads drawn when clicked, not on every run: the PNG and the JSON still come
    for label, starts in (("Charts PNG", b"\x89PNG"), ("Results JSON", b"{")):
        with page.expect_download(timeout=WAIT) as download:
            page.get_by_role("button", name=label).click()
        assert Path(download.value.path()).read_bytes().startswith(starts), label

    # a knob: the Model tab's workers, 10 -> 14; the headline and the URL follow
    page.get_by_role("tab", name="Model").click()
    workers = page.get_by_role("spinbutton", name="workers (workers)", exact=True)
    workers.fill("14")
    workers.press("Enter")
    page.wait_for_url(re.compile(r"set\.services\.api\.workers=14"), timeout=WAIT)
    page.get_by_role("tab", name="Run").click()
    page.wait_for_function(
        "h => ![...document.querySelectorAll('h3')].some(e => e.innerText === h)",
        arg=first,
        timeout=WAIT,
    )
    changed = headline(page)
    assert changed != first
    page.screenshot(path=str(SHOTS / "knob.png"), full_page=True)

    # a one-knob sweep in the What-if tab
    page.get_by_role("tab", name="What-if").click()
    page.get_by_role("button", name="Run sweep").click()
    page.wait_for_selector("text=The same sweep from a terminal", timeout=WAIT)
    assert page.locator("[data-testid='stVegaLiteChart']").count() >= 2
    page.screenshot(path=str(SHOTS / "sweep.png"), full_page=True)

    # the link, opened in a fresh browser context, shows the same state
    shared = page.url
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(shared)
    assert headline(other) == changed
    other.get_by_role("tab", name="Model").click()
    knob = other.get_by_role("spinbutton", name="workers (workers)", exact=True)
    playwright.expect(knob).to_have_value("14", timeout=WAIT)
    other.screenshot(path=str(SHOTS / "shared.png"), full_page=True)


def test_a_long_run_can_be_cancelled(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    # 200 replications of 20,000 s: some 40 s of work today, and long enough to still be
    # running when the click lands however much faster the engine gets; a short run ends
    # first and takes its Cancel button with it
    page.goto(f"{server}/?replications=200&set.horizon=20000")
    page.wait_for_selector("[data-testid='stProgress']", timeout=WAIT)
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_selector("text=The run was cancelled.", timeout=WAIT)
    assert page.locator("h3:has-text(' req/s: ')").count() == 0
    page.get_by_role("button", name="Run").click()  # and it can be started again
    page.wait_for_selector("[data-testid='stProgress']", timeout=WAIT)
    # and stopped again: left running, it would hold the server's cores for the next test
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_selector("text=The run was cancelled.", timeout=WAIT)


def test_a_sweep_shows_every_points_first_replication_before_the_rest(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    # 1.8M requests a replication, half a second or so on the fast path: the sweep's
    # twelve take long enough for the first four to be seen on their own
    page.goto(f"{server}/?replications=3&set.horizon=20000")
    headline(page)
    page.get_by_role("tab", name="What-if").click()
    points = page.get_by_role("spinbutton", name="points", exact=True)
    points.fill("4")
    points.press("Enter")
    playwright.expect(page.get_by_text("4 points x 3 replications")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name="Run sweep").click()
    page.wait_for_selector("text=So far: 1 replication of every point", timeout=WAIT)
    assert page.locator("[data-testid='stVegaLiteChart']").count() >= 2  # its curves
    page.screenshot(path=str(SHOTS / "sweep_so_far.png"))  # no waiting: it may be gone
    page.wait_for_selector("text=The same sweep from a terminal", timeout=WAIT)
    assert page.locator("text=So far:").count() == 0  # the whole answer replaced it
