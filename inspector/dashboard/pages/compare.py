"""Page script for the compare view (see inspector/dashboard/compare.py)."""

from inspector.dashboard import compare

compare.render()
