"""Page script for the gradient_flow view (see inspector/dashboard/gradient_flow.py)."""

from inspector.dashboard import gradient_flow

gradient_flow.render()
