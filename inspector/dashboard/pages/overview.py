"""Page script for the overview view (see inspector/dashboard/overview.py)."""

from inspector.dashboard import overview

overview.render()
