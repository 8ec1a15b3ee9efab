"""The dashboard's pages: one small script per view under ``pages/`` (so Streamlit's
AppTest can switch to each), grouped for the sidebar, plus links between views."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).parent / "pages"

# (view module, title, icon); the first is the landing page.
VIEWS: dict[str, list[tuple[str, str, str]]] = {
    "Runs": [
        ("overview", "Overview", ":material/dashboard:"),
        ("runs", "Runs", ":material/table_rows:"),
        ("compare", "Compare", ":material/compare_arrows:"),
        ("study", "Study", ":material/grid_on:"),
    ],
    "Signals": [
        ("gradient_flow", "Gradient flow", ":material/trending_down:"),
        ("activations", "Activations", ":material/equalizer:"),
        ("batchnorm", "BatchNorm", ":material/tune:"),
        ("kernels", "Kernels", ":material/grid_view:"),
        ("saliency", "Saliency", ":material/visibility:"),
        ("receptive_field", "Receptive field", ":material/center_focus_strong:"),
    ],
}
VIEW_TITLES = {name: title for group in VIEWS.values() for name, title, _ in group}

_PAGES: dict[str, st.Page] = {}


def page_path(view: str) -> Path:
    return PAGES_DIR / f"{view}.py"


def pages() -> dict[str, list]:
    """Sections -> st.Page objects for ``st.navigation``; remembered for ``link``."""
    out: dict[str, list] = {}
    first = True
    for section, views in VIEWS.items():
        out[section] = []
        for name, title, icon in views:
            # The landing page is served at "/" (Streamlit gives the default page no path of
            # its own), so its own path is another one and a hidden twin answers
            # /<name>: deep links such as /overview?run=... then open the view.
            url = f"{name}-home" if first else name
            page = st.Page(page_path(name), title=title, icon=icon, url_path=url, default=first)
            if first:
                twin = st.Page(page_path(name), title=title, url_path=name, visibility="hidden")
                out.setdefault("", []).append(twin)
            first = False
            _PAGES[name] = page
            out[section].append(page)
    hidden = out.pop("", [])
    out[next(iter(VIEWS))] += hidden
    return out


def link(view: str, label: str | None = None, **query: str) -> None:
    """A link to another view (findings point at the view holding their evidence)."""
    view = view if view in VIEW_TITLES else "overview"
    label = label or f"Open {VIEW_TITLES[view]} →"
    page = _PAGES.get(view)
    if page is None:  # router not run (should not happen); fall back to a plain hint
        st.caption(f"See the {VIEW_TITLES[view]} view.")
        return
    st.page_link(page, label=label, query_params=query or None)


def go(view: str) -> None:
    """Switch to another view now (after a button press)."""
    page = _PAGES.get(view)
    if page is not None:
        st.switch_page(page)
