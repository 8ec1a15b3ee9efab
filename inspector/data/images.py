"""In-memory image datasets kept as uint8 and normalised per item (saves 4x memory)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset


def to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """(N, C, H, W) or (C, H, W) with C in {1, 3} converted to ``channels`` (1: luminance)."""
    c = x.shape[-3]
    if c == channels:
        return x
    if channels == 3 and c == 1:
        return x.expand(*x.shape[:-3], 3, *x.shape[-2:])
    if channels == 1 and c == 3:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float32).view(3, 1, 1)
        return (x.float() * weights).sum(dim=-3, keepdim=True)
    raise ValueError(f"cannot convert {c} channels to {channels}")


class UInt8Images(Dataset):
    """``(x, y)`` from uint8 images (N, C, H, W): scaled to [0, 1], resized, normalised."""

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        mean: Sequence[float],
        std: Sequence[float],
        image_size: int | None = None,
    ):
        self.images = images
        self.y = labels.long()
        channels = images.shape[1]
        self.mean = torch.tensor(list(mean), dtype=torch.float32).view(channels, 1, 1)
        self.std = torch.tensor(list(std), dtype=torch.float32).view(channels, 1, 1)
        native = images.shape[-1]
        self.image_size = image_size if image_size and image_size != native else None

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.images[i].float() / 255.0
        if self.image_size is not None:
            x = F.interpolate(
                x.unsqueeze(0),
                size=(self.image_size, self.image_size),
                mode="bilinear",
                antialias=True,
                align_corners=False,
            ).squeeze(0)
        return (x - self.mean) / self.std, self.y[i]


def pick_subset(n_total: int, n: int | None, seed: int) -> torch.Tensor | None:
    """Indices of a fixed random subset of size ``n`` (None: keep everything)."""
    if n is None or n >= n_total:
        return None
    g = torch.Generator().manual_seed(int(seed))
    return torch.randperm(n_total, generator=g)[:n].sort().values
