"""Dataset names -> loaders; one entry point, ``load_data``, for the CLI and ``train()``."""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from inspector.data.bundle import DataBundle
from inspector.errors import DataError


class DatasetName(StrEnum):
    SHAPES = "shapes"
    SEQUENCE = "sequence"
    MNIST = "mnist"
    FASHION_MNIST = "fashion-mnist"
    CIFAR10 = "cifar10"


IMAGEFOLDER_PREFIX = "imagefolder:"
DATA_ROOT_ENV = "INSPECTOR_DATA_ROOT"


def list_datasets() -> list[str]:
    """Every name ``load_data`` accepts (``imagefolder:PATH`` takes a folder of your images)."""
    return [str(n) for n in DatasetName] + [f"{IMAGEFOLDER_PREFIX}PATH"]


def resolve_root(root: str | os.PathLike | None) -> Path:
    """Where downloadable datasets live: the argument, else $INSPECTOR_DATA_ROOT, else ./data."""
    if root is not None and str(root) != "":
        return Path(root).expanduser()
    env = os.environ.get(DATA_ROOT_ENV)
    return Path(env).expanduser() if env else Path("data")


def _loader(name: DatasetName) -> Callable[..., DataBundle]:
    # imported lazily: torchvision is only needed for the downloadable sets
    if name is DatasetName.SHAPES:
        from inspector.data.shapes import load_shapes

        return lambda root, download, seed, **o: load_shapes(seed=seed, **o)
    if name is DatasetName.SEQUENCE:
        from inspector.data.sequence import load_sequence

        return lambda root, download, seed, **o: load_sequence(seed=seed, **o)
    from inspector.data.torchvision_sets import load_torchvision

    return lambda root, download, seed, **o: load_torchvision(
        str(name), root=resolve_root(root), download=download, seed=seed, **o
    )


def load_data(
    spec: str | DataBundle,
    root: str | os.PathLike | None = None,
    download: bool = False,
    seed: int = 0,
    **options: Any,
) -> DataBundle:
    """Load the dataset ``spec`` names (see ``list_datasets()``) with its ``options``.

    Generated sets (``shapes``, ``sequence``) depend only on ``seed`` and options; downloadable
    sets are read from ``root`` and fetched only when ``download`` is true.
    """
    if isinstance(spec, DataBundle):
        return spec
    text = str(spec).strip()
    if text.startswith(IMAGEFOLDER_PREFIX):
        from inspector.data.imagefolder import load_imagefolder

        return load_imagefolder(text[len(IMAGEFOLDER_PREFIX) :], seed=seed, **options)
    try:
        name = DatasetName(text.lower())
    except ValueError:
        raise DataError(
            f"unknown dataset {text!r}; choose one of: {', '.join(list_datasets())}"
        ) from None
    return _loader(name)(root, download, seed, **options)
