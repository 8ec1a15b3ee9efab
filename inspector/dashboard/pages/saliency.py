"""Page script for the saliency view (see inspector/dashboard/saliency.py)."""

from inspector.dashboard import saliency

saliency.render()
