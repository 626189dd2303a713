"""How fast the studio answers, in a real browser (Debian's Chromium via Playwright).

Measures, on a fresh server with the process pool: the default page from a cold start
(the default model's 8 replications included), the same page once cached (first paint),
a run after a knob change, and a 10-point one-knob sweep at the page's defaults (10 points
x 3 replications). Then a session on ``slow_database``: its page, the What-if
over the api's workers (10 points x 3 replications) and the heatmap by the database's
workers (5 x 5 x 3). A measurement for the README, not a pass/fail test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Page, sync_playwright

from studio.serve import CHROMIUM_FLAGS, studio_server

HEADLINE = "h3:has-text(' req/s: ')"
WAIT = 300_000


def timed(label: str, action) -> float:
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds:6.2f} s")
    return seconds


def main() -> None:
    """Print the timings."""
    with studio_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})

        def open_page() -> None:
            page.goto(url)
            page.wait_for_selector(HEADLINE, timeout=WAIT)

        timed("default page, cold server (runs the model)", open_page)
        timed("default page again, cached (first paint)", open_page)

        def knob() -> None:
            page.get_by_role("tab", name="Model").click()
            workers = page.get_by_role("spinbutton", name="workers (workers)", exact=True)
            workers.fill("12")
            workers.press("Enter")
            page.get_by_role("tab", name="Run").click()
            page.wait_for_selector(f"{HEADLINE}:not(:has-text('0.9'))", timeout=WAIT)
            page.wait_for_selector("h3:has-text('refused')", timeout=WAIT)

        timed("a knob changed (8 replications)", knob)

        def sweep() -> None:
            page.get_by_role("tab", name="What-if").click()
            page.get_by_role("button", name="Run sweep").click()
            page.wait_for_selector("text=The same sweep from a terminal", timeout=WAIT)

        timed("a 10-point sweep (10 x 3 replications)", sweep)
        session(page, url)
        browser.close()


def session(page: Page, url: str) -> None:
    """Time a session on ``slow_database``: the page, a one-knob What-if over the
    api's workers, then the two-knob heatmap by the database's workers."""

    def open_model() -> None:
        page.goto(url + "?model=slow_database")
        page.wait_for_selector(HEADLINE, timeout=WAIT)

    timed("slow_database's page (runs the model)", open_model)
    page.get_by_role("tab", name="What-if").click()

    def choose(box: str, knob: str) -> None:
        page.get_by_role("combobox", name=box).click()
        page.get_by_role("option", name=knob, exact=True).click()

    def run_sweep() -> None:
        page.get_by_role("button", name="Run sweep").click()
        page.wait_for_selector("text=The same sweep from a terminal", timeout=WAIT)

    choose("Knob", "services.api.workers")
    page.wait_for_selector("text=along services.api.workers", timeout=WAIT)
    timed("its What-if over the api's workers (10 x 3)", run_sweep)
    page.get_by_text("two knobs").click()
    choose("Second knob", "services.db.workers")
    page.wait_for_selector("text=25 points x 3 replications", timeout=WAIT)
    timed("the heatmap by the db's workers (5 x 5 x 3)", run_sweep)


if __name__ == "__main__":
    main()
