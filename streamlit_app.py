"""Inspector dashboard entry point: a router over the views, nothing else.

Started by ``inspector dashboard`` (which sets $INSPECTOR_RUNS_ROOT); the views live in
``inspector/dashboard/``, the charts they draw in ``inspector/figures/``.
"""

from pathlib import Path

import streamlit as st

from inspector.dashboard.nav import pages

# A local favicon: a material-icon one is fetched from a font CDN (nothing may leave the
# machine); the Deploy button is hidden by .streamlit/config.toml next to this file.
ICON = Path(__file__).parent / "inspector" / "dashboard" / "favicon.png"

st.set_page_config(
    page_title="Inspector", page_icon=str(ICON) if ICON.is_file() else "📈", layout="wide"
)
st.navigation(pages()).run()
