"""The model registry, as a stable top-level entry point.

The implementation lives in ``inspector.models`` (so a user's own ``models.py`` next to their
script can never shadow what Inspector imports); this package re-exports its public API.
"""

from inspector.models import InputKind, ModelSpec, create_model, get_spec, list_models
from inspector.models.registry import register

__all__ = ["InputKind", "ModelSpec", "create_model", "get_spec", "list_models", "register"]
