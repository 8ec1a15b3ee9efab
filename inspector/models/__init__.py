"""The architectures of the seed chapters, the depth-study families and torchvision, by name.

``create_model("lenet5", in_channels=1, num_classes=10, image_size=28)``,
``create_model("tv:resnet18", in_channels=1, num_classes=10)``, ``list_models()``,
``get_spec(name)`` (chapter, figure/listing, deviations). See ``models.catalog``.
"""

from __future__ import annotations

from inspector.models.registry import InputKind, ModelSpec, create_model, get_spec, list_models

__all__ = ["InputKind", "ModelSpec", "create_model", "get_spec", "list_models"]
