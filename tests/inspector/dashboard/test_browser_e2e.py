"""End to end: the real Streamlit server on a free port, each view opened in headless
Chromium (Debian's chromium driven by Playwright), charts rendered, no exception text,
screenshots saved to test-artifacts/screenshots/.

Skipped with a reason when Chromium or Playwright is missing, unless $CI is set: then the
missing browser is a failure (CI installs it in .ci/run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from inspector.cli.dashboard_cmd import command, free_port

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = Path(os.environ.get("INSPECTOR_CHROMIUM", "/usr/bin/chromium"))
SHOTS = REPO / "test-artifacts" / "screenshots"
# view -> URL path (the landing page is the overview) and what proves it rendered.
VIEWS = {
    "overview": ("", ".js-plotly-plot"),
    "runs": ("runs", "[data-testid='stDataFrame']"),
    "compare": ("compare", ".js-plotly-plot"),
    "study": ("study", ".js-plotly-plot"),
    "gradient_flow": ("gradient_flow", ".js-plotly-plot"),
    "activations": ("activations", ".js-plotly-plot"),
    "batchnorm": ("batchnorm", ".js-plotly-plot"),
    "kernels": ("kernels", ".js-plotly-plot"),
    "saliency": ("saliency", ".js-plotly-plot"),
    "receptive_field": ("receptive_field", ".js-plotly-plot"),
}
BAD_TEXT = ("Traceback", "Exception:", "Error:", "KeyError", "AttributeError")


def _missing_browser() -> str | None:
    if not CHROMIUM.is_file():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing_browser()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(dashboard_root, browser):
    port = free_port(8600)
    env = {**os.environ, "INSPECTOR_RUNS_ROOT": str(dashboard_root)}
    log = open(dashboard_root / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(command(port), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail(
                "dashboard server did not start:\n"
                + (dashboard_root / "server.log").read_text()[-3000:]
            )
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def page(server, browser):
    """One tab for all views: the app is loaded once (with ?run=full), then each view is
    opened from the sidebar like a user would, so plotly's bundle loads only once."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.errors = []
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    tab.goto(f"{server}/?run=full", wait_until="domcontentloaded", timeout=120_000)
    tab.wait_for_selector("[data-testid='stSidebarNav']", timeout=120_000)
    # let the landing page's first script run finish before the first click starts another
    tab.locator("h1").first.wait_for(timeout=120_000)
    _wait_until_idle(tab)
    yield tab
    context.close()


@pytest.mark.parametrize("view", list(VIEWS))
def test_view_renders_in_chromium(page, view):
    path, ready = VIEWS[view]
    title = page.locator("[data-testid='stSidebarNav'] a").filter(has_text=_TITLES[view]).first
    title.click()
    page.wait_for_url(f"**/{path}*" if path else "**/?*", timeout=60_000)
    page.wait_for_selector(ready, timeout=120_000)
    if ready == ".js-plotly-plot":
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    heading = page.locator("h1").first
    heading.wait_for(timeout=60_000)
    assert _TITLES[view] in heading.inner_text()
    _wait_until_idle(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{view}.png"), full_page=True)
    text = page.inner_text("body")
    assert page.locator("[data-testid='stException']").count() == 0, text[:2000]
    for bad in BAD_TEXT:
        assert bad not in text, f"{view}: {bad!r} on the page"
    picker = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox'] input").first
    assert picker.input_value().startswith("full")  # the run picked through ?run= is kept
    assert not page.errors, page.errors


_TITLES = {
    "overview": "Overview",
    "runs": "Runs",
    "compare": "Compare",
    "study": "Study",
    "gradient_flow": "Gradient flow",
    "activations": "Activations",
    "batchnorm": "BatchNorm",
    "kernels": "Kernels",
    "saliency": "Saliency",
    "receptive_field": "Receptive field",
}


def _wait_until_idle(page, timeout: float = 30.0) -> None:
    """Until the page stops changing (same number of drawn charts for ~1.5 s)."""
    deadline = time.monotonic() + timeout
    last, stable = -1, 0
    while time.monotonic() < deadline and stable < 3:
        count = page.locator(".js-plotly-plot .main-svg").count()
        stable = stable + 1 if count == last else 0
        last = count
        page.wait_for_timeout(500)


def test_chromium_is_debian_package():
    """The e2e test drives the system Chromium, not a downloaded one."""
    if not CHROMIUM.is_file():
        pytest.skip(f"no {CHROMIUM}")
    assert shutil.which("chromium") or CHROMIUM.is_file()
