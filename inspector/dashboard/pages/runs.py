"""Page script for the runs view (see inspector/dashboard/runs.py)."""

from inspector.dashboard import runs

runs.render()
