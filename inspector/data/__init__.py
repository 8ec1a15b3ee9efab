"""Datasets for Inspector: generated (``shapes``, ``sequence``), torchvision, and your images.

``load_data(name, root=None, download=False, seed=0, **options) -> DataBundle``.
"""

from inspector.data.bundle import DataBundle, DataInfo, TensorPairs
from inspector.data.registry import DatasetName, list_datasets, load_data, resolve_root

__all__ = [
    "DataBundle",
    "DataInfo",
    "DatasetName",
    "TensorPairs",
    "list_datasets",
    "load_data",
    "resolve_root",
]
