"""Page script for the batchnorm view (see inspector/dashboard/batchnorm.py)."""

from inspector.dashboard import batchnorm

batchnorm.render()
