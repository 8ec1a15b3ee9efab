"""Inspector dashboard entry point: a router over the views, nothing else.

Started by ``inspector dashboard`` (which sets $INSPECTOR_RUNS_ROOT); the views live in
``inspector/dashboard/``, the charts they draw in ``inspector/figures/``.
"""

import streamlit as st

from inspector.dashboard.nav import pages

st.set_page_config(page_title="Inspector", page_icon=":material/troubleshoot:", layout="wide")
st.navigation(pages()).run()
