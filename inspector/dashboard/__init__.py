"""The Streamlit dashboard: thin views over the figure builders in ``inspector.figures``.

``streamlit_app.py`` (repo root) routes between the views listed in ``nav.VIEWS``; each view
module has ``render()``. Reader access is cached per run path and file version so a live
run refreshes while a finished one is read once. No torch import anywhere here.
"""
