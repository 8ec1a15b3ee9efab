"""Page script for the kernels view (see inspector/dashboard/kernels.py)."""

from inspector.dashboard import kernels

kernels.render()
