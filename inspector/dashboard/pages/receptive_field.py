"""Page script for the receptive_field view (see inspector/dashboard/receptive_field.py)."""

from inspector.dashboard import receptive_field

receptive_field.render()
