"""The written HTML report in headless Chromium: charts render, no console error, no network.

Skipped with a reason where Chromium or Playwright is missing; fails instead when $CI is set
(the CI image installs Chromium, so a skip there would hide a broken report).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from inspector.report import write_report

CHROMIUM = os.environ.get("INSPECTOR_CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (pip install playwright)"
    if reason is None and not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {reason}")
        pytest.skip(reason)


# Generous: parsing plotly.js takes about a second on a quiet machine, far longer on a busy one.
TIMEOUT_MS = 240_000


def _inspect(browser, path: Path) -> dict:
    """Load the file offline; what the page logged, requested and rendered."""
    errors: list[str] = []
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(LOCAL) else route.abort()
            ),
        )
        page.goto(path.as_uri(), wait_until="load", timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => { const d = document.querySelectorAll('.plotly-graph-div');"
            " return d.length > 0 && [...d].every(e => e.querySelector('.main-svg')); }",
            timeout=TIMEOUT_MS,
        )
        return {
            "errors": errors,
            "offsite": [u for u in requests if not u.startswith(LOCAL)],
            "divs": page.locator(".plotly-graph-div").count(),
            "rendered": page.locator(".plotly-graph-div .main-svg").count(),
            "plotted": page.evaluate(
                "() => [...document.querySelectorAll('.plotly-graph-div')]"
                ".filter(d => d._fullData && d._fullData.length > 0).length"
            ),
            "sections": page.locator("main section").count(),
            "title": page.title(),
        }
    finally:
        page.close()


LOCAL = ("file:", "data:", "blob:")


def test_reports_render_offline_in_chromium(report_fixture, tmp_path):
    """A comparison report (every run section) and a study report, in one browser."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    runs = write_report(
        [report_fixture.full, report_fixture.bare],
        output=tmp_path / "r.html",
        root=report_fixture.root,
        title="browser check",
    )
    study = write_report(
        study=report_fixture.study, output=tmp_path / "s.html", root=report_fixture.root
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            seen = _inspect(browser, runs)
            seen_study = _inspect(browser, study)
        finally:
            browser.close()
    assert seen["errors"] == [] and seen["offsite"] == []
    assert seen["title"] == "browser check"
    assert seen["divs"] >= 15 and seen["plotted"] == seen["divs"]
    assert seen["rendered"] >= seen["divs"]
    assert seen["sections"] == 1 + 2 * 10  # comparison + every section of both runs
    assert seen_study["errors"] == [] and seen_study["offsite"] == []
    assert seen_study["divs"] == seen_study["plotted"] >= 2
