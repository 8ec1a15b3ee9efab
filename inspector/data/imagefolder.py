"""``imagefolder:PATH``: your own images, one sub-folder per class (PATH/<class>/<image>).

Images are read lazily with torchvision's ``ImageFolder``, resized to a square
``image_size`` and split into train/test per class by a fixed seed, so every run on the
folder sees the same test images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from inspector.data.bundle import DataBundle, DataInfo
from inspector.data.options import check_known, choice_option, float_option, int_option
from inspector.errors import DataError

OPTIONS = ("image_size", "channels", "test_fraction", "split_seed")
LAYOUT = "expected PATH/<class name>/<image>.png|jpg (one sub-folder per class)"


class IndexedImages(Dataset):
    """The examples of an ImageFolder at ``indices``, with their labels in ``y`` for probes."""

    def __init__(self, folder: Any, indices: torch.Tensor, labels: torch.Tensor):
        self.folder = folder
        self.indices = indices
        self.y = labels[indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, _ = self.folder[int(self.indices[i])]
        return x, self.y[i]


def stratified_split(
    labels: torch.Tensor, test_fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(train indices, test indices): about ``test_fraction`` of every class goes to test,
    at least one image per class with two or more images."""
    g = torch.Generator().manual_seed(int(seed))
    train, test = [], []
    for cls in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == cls).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        k = round(test_fraction * len(idx))
        if len(idx) >= 2:
            k = min(max(k, 1), len(idx) - 1)
        else:
            k = 0
        test.append(idx[:k])
        train.append(idx[k:])
    return torch.cat(train).sort().values, torch.cat(test).sort().values


def _open_folder(path: Path, image_size: int, channels: int) -> Any:
    from torchvision import datasets, transforms

    steps = [transforms.Resize((image_size, image_size))]
    if channels == 1:
        steps.append(transforms.Grayscale(1))
    steps += [transforms.ToTensor(), transforms.Normalize([0.5] * channels, [0.5] * channels)]
    loader_to_rgb = transforms.Lambda(lambda img: img.convert("RGB"))
    try:
        return datasets.ImageFolder(
            str(path), transform=transforms.Compose([loader_to_rgb, *steps])
        )
    except (FileNotFoundError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"imagefolder: no images found in {path} ({first}); {LAYOUT}") from None


def load_imagefolder(path: str, seed: int = 0, **options: Any) -> DataBundle:
    """Options: ``image_size`` (default 32), ``channels`` (3 or 1), ``test_fraction``
    (default 0.2), ``split_seed`` (default 0; the split does not follow the training seed)."""
    check_known("imagefolder", options, OPTIONS)
    size = int_option("imagefolder", "image_size", options.get("image_size", 32), 8, 512)
    channels = choice_option("imagefolder", "channels", options.get("channels", 3), (1, 3))
    frac = float_option("imagefolder", "test_fraction", options.get("test_fraction", 0.2), 0, 0.9)
    split_seed = int_option("imagefolder", "split_seed", options.get("split_seed", 0), 0)
    if not path.strip():
        raise DataError(f"imagefolder needs a path: --data imagefolder:PATH; {LAYOUT}")
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataError(f"imagefolder: {root.resolve()} is not a folder; {LAYOUT}")
    folder = _open_folder(root, size, channels)
    if len(folder.classes) < 2:
        raise DataError(
            f"imagefolder: {root.resolve()} has {len(folder.classes)} class folder(s) "
            f"({', '.join(folder.classes)}); classification needs at least 2; {LAYOUT}"
        )
    labels = torch.as_tensor(folder.targets, dtype=torch.long)
    train_idx, test_idx = stratified_split(labels, frac, split_seed)
    if len(train_idx) == 0:
        raise DataError(f"imagefolder: {root.resolve()} has too few images to train on")
    info = DataInfo(
        name=f"imagefolder:{path}",
        kind="image",
        num_classes=len(folder.classes),
        class_names=tuple(folder.classes),
        in_channels=channels,
        image_size=size,
        has_masks=False,
        input_shape=(channels, size, size),
    )
    return DataBundle(
        info=info,
        train=IndexedImages(folder, train_idx, labels),
        test=IndexedImages(folder, test_idx, labels),
        options={
            "image_size": size,
            "channels": channels,
            "test_fraction": frac,
            "split_seed": split_seed,
        },
        seed=int(seed),
        source=str(root.resolve()),
    )
