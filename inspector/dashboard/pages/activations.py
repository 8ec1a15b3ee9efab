"""Page script for the activations view (see inspector/dashboard/activations.py)."""

from inspector.dashboard import activations

activations.render()
