"""End to end: the real Streamlit server on a free port, each view opened in headless
Chromium (Debian's chromium driven by Playwright), charts rendered, no exception text,
screenshots saved to test-artifacts/screenshots/; then each interaction a user makes
(select study cells by click and box, filter then compare in the runs table, a slider, a
live run refreshing, deep links) and not one request to a host other than this machine.

Skipped with a reason when Chromium or Playwright is missing, unless $CI is set: then the
missing browser is a failure (CI installs it in .ci/run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from inspector.cli.dashboard_cmd import command, free_port
from inspector.store import RunWriter

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
REQUESTS: list[str] = []  # every URL the browser asked for (offline check)
LOCAL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/|^(data|blob|about):")


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
    context.set_default_timeout(120_000)  # CI runners and shared machines are slow
    context.set_default_navigation_timeout(120_000)
    tab = context.new_page()
    tab.errors = []
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    REQUESTS.clear()
    context.on("request", lambda req: REQUESTS.append(req.url))
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


def _go(page, view: str) -> None:
    """Open a view from the sidebar and wait for its script run to settle."""
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=_TITLES[view]).first.click()
    page.locator("h1").filter(has_text=_TITLES[view]).first.wait_for(timeout=60_000)
    _wait_until_idle(page)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _text_appears(page, *texts: str, timeout: float = 60.0) -> bool:
    """Whether any of ``texts`` shows on the page within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = page.inner_text("body")
        if any(text in body for text in texts):
            return True
        page.wait_for_timeout(500)
    return False


def test_study_cells_select_by_click_and_by_box(page):
    _go(page, "study")
    heat = page.locator("[data-testid='stPlotlyChart']").first
    points = heat.locator(".scatterlayer .point")
    assert points.count() == 3  # one selectable marker per fixture cell
    box = points.nth(0).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert _text_appears(page, "Curves of the 1 selected cell"), page.inner_text("body")[:1500]
    _wait_until_idle(page)
    _shot(page, "study-click")
    heat.hover()
    heat.locator(".modebar-btn[data-val='select']").first.click()  # the Box Select tool
    plot = heat.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(plot["x"] + 3, plot["y"] + 3)
    page.mouse.down()
    page.mouse.move(plot["x"] + plot["width"] - 3, plot["y"] + plot["height"] - 3, steps=8)
    page.mouse.up()
    assert _text_appears(page, "Curves of the 3 selected cells"), page.inner_text("body")[:1500]
    _wait_until_idle(page)
    _shot(page, "study-box")


def _selected_text(page) -> str:
    box = page.locator("[data-testid='stMarkdownContainer']").filter(has_text="Selected:")
    return box.first.inner_text()


def _click_row(page, row: int) -> None:
    """Tick the selection box of a row of the (canvas-drawn) runs table."""
    grid = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    header, height = 36, 35
    page.mouse.click(grid["x"] + 18, grid["y"] + header + height * row + height / 2)
    page.wait_for_timeout(800)


def test_runs_selection_follows_run_ids_through_a_filter(page):
    _go(page, "runs")
    order = [r.strip() for r in re.findall(r"^(\S+)\t", page.inner_text("body"), re.M)]
    _click_row(page, 0)
    _click_row(page, 1)
    assert _text_appears(page, "Selected:")
    chosen = _selected_text(page)
    picked = re.findall(r"`?([\w.-]+)`?", chosen.split(":", 1)[1])[:2]
    assert len(picked) == 2, chosen
    page.get_by_label("Filter").fill("nobn")
    page.get_by_label("Filter").press("Enter")
    assert _text_appears(page, "hidden by the filter")
    _wait_until_idle(page)
    after = _selected_text(page)
    for run_id in picked:
        assert run_id in after, (order, chosen, after)  # still the same two runs
    _shot(page, "runs-filtered")
    page.get_by_role("button", name=re.compile(r"Compare \d+ runs")).click()
    page.locator("h1").filter(has_text="Compare").first.wait_for(timeout=60_000)
    _wait_until_idle(page)
    chips = page.locator("[data-testid='stMultiSelect']").first.inner_text()
    for run_id in picked:
        assert run_id in chips, chips
    _shot(page, "compare-from-runs")
    page.get_by_label("Filter").count()  # (left the Runs page: nothing else to check)


def test_kernel_slider_moves_the_snapshot(page):
    _go(page, "kernels")
    title = page.locator(".js-plotly-plot .gtitle").first
    before = title.text_content()
    slider = page.get_by_role("slider").first
    slider.focus()
    slider.press("Home")
    page.wait_for_timeout(1500)
    _wait_until_idle(page)
    after = page.locator(".js-plotly-plot .gtitle").first.text_content()
    assert before != after and "step 0" in after, (before, after)


def test_deep_link_and_unknown_run(page, server):
    page.goto(f"{server}/overview?run=nobn", wait_until="domcontentloaded")
    page.locator("h1").filter(has_text="Overview").first.wait_for(timeout=60_000)
    _wait_until_idle(page)
    text = page.inner_text("body")
    assert "Page not found" not in text and "nobn" in text
    page.goto(f"{server}/gradient_flow?run=no-such-run", wait_until="domcontentloaded")
    page.locator("h1").filter(has_text="Gradient flow").first.wait_for(timeout=60_000)
    # one wait for either rendering (backticks as code or as text), not 60 s on the first
    assert _text_appears(page, "No run `no-such-run`", "No run no-such-run")
    _shot(page, "unknown-run")


def test_live_run_refreshes_metrics_and_step_count(page, server, dashboard_root):
    writer = RunWriter.create(
        "growing", root=dashboard_root, meta={"model": {"name": "mlp"}, "data": {"name": "x"}}
    )
    ids = writer.register_layers(
        [{"name": "l0", "role": "module", "type": "Linear", "position": 0, "info": {}}]
    )

    def steps(a: int, b: int) -> None:
        for step in range(a, b):
            loss = 2.0 / (1 + step)
            writer.write_step(
                step, 1000.0 + step, 0.01, True,
                stats=[("grad_norm", ids["l0"], 1.0)], scalars=[("loss", step, loss)],
            )  # fmt: skip

    try:
        steps(0, 3)
        page.wait_for_timeout(3500)  # the runs list is cached for 3 s
        page.goto(f"{server}/overview?run=growing", wait_until="domcontentloaded")
        page.locator("h1").filter(has_text="Overview").first.wait_for(timeout=60_000)
        first = _steps_shown(page)
        assert first in (2, 3), page.inner_text("body")[:1500]
        steps(3, 40)
        deadline = time.monotonic() + 60
        while _steps_shown(page) < 39 and time.monotonic() < deadline:
            page.wait_for_timeout(500)
        assert _steps_shown(page) >= 39, page.inner_text("body")[:1500]
        assert _text_appears(page, "0.05", timeout=30)  # final loss 2/40 in the metrics
        _shot(page, "live-refreshed")
    finally:
        writer.close()


def _steps_shown(page) -> int:
    """The step count in the sidebar caption (0 until it renders)."""
    found = re.findall(r"(\d+) steps", page.locator("[data-testid='stSidebar']").inner_text())
    return int(found[0]) if found else 0


def test_no_request_leaves_the_machine():
    """Runs last: every request the tab made during this module went to this machine."""
    assert REQUESTS, "no requests recorded"
    remote = sorted({u for u in REQUESTS if not LOCAL.match(u)})
    assert not remote, remote
