"""User-facing errors.

Anything a user can fix (a bad shape, a missing dataset, a corrupt store) is raised as an
``InspectorError``: the CLI prints its message on one line and exits non-zero, never a
bare traceback.
"""

from __future__ import annotations


class InspectorError(Exception):
    """An error whose message tells the user what to do; printed without a traceback."""

    exit_code: int = 2


class StoreError(InspectorError):
    """A run folder that is missing, corrupt or not written by Inspector."""


class DataError(InspectorError):
    """A dataset that cannot be found, downloaded or read."""


class ModelError(InspectorError):
    """A model that cannot be built, imported or run on the given input."""
