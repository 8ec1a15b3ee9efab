"""Page script for the study view (see inspector/dashboard/study.py)."""

from inspector.dashboard import study

study.render()
