"""``mnist``, ``fashion-mnist`` and ``cifar10`` through torchvision, read from a local folder.

Nothing is downloaded unless the user asks (``--download``); a missing copy, or a failed
download, is one DataError naming the folder looked in and the two ways to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from inspector.data.bundle import DataBundle, DataInfo
from inspector.data.images import UInt8Images, pick_subset, to_channels
from inspector.data.options import check_known, choice_option, int_option
from inspector.errors import DataError


@dataclass(frozen=True)
class TorchvisionSet:
    name: str
    class_name: str  # in torchvision.datasets
    folder: str  # what torchvision creates under root
    channels: int
    image_size: int


SETS = {
    "mnist": TorchvisionSet("mnist", "MNIST", "MNIST", 1, 28),
    "fashion-mnist": TorchvisionSet("fashion-mnist", "FashionMNIST", "FashionMNIST", 1, 28),
    "cifar10": TorchvisionSet("cifar10", "CIFAR10", "cifar-10-batches-py", 3, 32),
}
OPTIONS = ("n_train", "n_test", "image_size", "channels")


def _fix_hint(spec: TorchvisionSet, root: Path) -> str:
    return (
        f"point --data-root DIR at a folder that holds {spec.folder}/ (or set "
        f"$INSPECTOR_DATA_ROOT), or add --download to fetch it into {root}"
    )


def _open(spec: TorchvisionSet, root: Path, train: bool, download: bool) -> Any:
    """The torchvision dataset object, or one clear DataError."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, spec.class_name)
    where = (root / spec.folder).resolve()
    try:
        return cls(str(root), train=train, download=download)
    except Exception as exc:  # torchvision raises RuntimeError, network code URLError/OSError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if download:
            raise DataError(
                f"could not download {spec.name} into {where} ({first}); check the network, "
                f"or copy the dataset there yourself and {_fix_hint(spec, root)}"
            ) from None
        raise DataError(
            f"{spec.name} not found in {where} (no download without --download); "
            f"{_fix_hint(spec, root)}"
        ) from None


def _as_uint8_nchw(data: Any) -> torch.Tensor:
    x = torch.as_tensor(data)
    if x.dim() == 3:  # MNIST-like (N, H, W)
        return x.unsqueeze(1)
    return x.permute(0, 3, 1, 2).contiguous()  # CIFAR (N, H, W, C)


def _split(ds: Any, n: int | None, channels: int, subset_seed: int) -> tuple[torch.Tensor, ...]:
    images = _as_uint8_nchw(ds.data)
    labels = torch.as_tensor(ds.targets, dtype=torch.long)
    idx = pick_subset(len(labels), n, subset_seed)
    if idx is not None:
        images, labels = images[idx], labels[idx]
    if images.shape[1] != channels:
        converted = to_channels(images, channels)
        images = (
            converted
            if converted.dtype == torch.uint8
            else (converted.round().clamp(0, 255).to(torch.uint8))
        )
    return images, labels


def _channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean/std in [0, 1] units from a fixed sample of at most 5000 images."""
    sample = images[:5000].float() / 255.0
    mean = sample.mean(dim=(0, 2, 3))
    std = sample.std(dim=(0, 2, 3)).clamp_min(1e-6)
    return mean.tolist(), std.tolist()


def load_torchvision(
    name: str, root: Path, download: bool = False, seed: int = 0, **options: Any
) -> DataBundle:
    """Load ``name`` from ``root`` (downloading only when ``download``).

    Options: ``n_train``/``n_test`` (a fixed random subset, the same for every seed),
    ``image_size`` (resize), ``channels`` (1 or 3; converts grey <-> colour).
    """
    spec = SETS[name]
    check_known(name, options, OPTIONS)
    n_train = options.get("n_train")
    n_test = options.get("n_test")
    if n_train is not None:
        n_train = int_option(name, "n_train", n_train, 1)
    if n_test is not None:
        n_test = int_option(name, "n_test", n_test, 1)
    size = int_option(name, "image_size", options.get("image_size", spec.image_size), 8, 512)
    channels = choice_option(name, "channels", options.get("channels", spec.channels), (1, 3))

    train_ds = _open(spec, root, train=True, download=download)
    test_ds = _open(spec, root, train=False, download=False)
    x_train, y_train = _split(train_ds, n_train, channels, subset_seed=0)
    x_test, y_test = _split(test_ds, n_test, channels, subset_seed=1)
    mean, std = _channel_stats(x_train)
    classes = tuple(str(c) for c in getattr(train_ds, "classes", range(int(y_train.max()) + 1)))
    info = DataInfo(
        name=name,
        kind="image",
        num_classes=len(classes),
        class_names=classes,
        in_channels=channels,
        image_size=size,
        has_masks=False,
        input_shape=(channels, size, size),
    )
    used = {"n_train": n_train, "n_test": n_test, "image_size": size, "channels": channels}
    return DataBundle(
        info=info,
        train=UInt8Images(x_train, y_train, mean, std, size),
        test=UInt8Images(x_test, y_test, mean, std, size),
        options=used,
        seed=int(seed),
        source=str((root / spec.folder).resolve()),
    )
