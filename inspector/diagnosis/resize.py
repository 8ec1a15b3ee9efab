"""Image datasets adapted to a requested (C, H, W): resize and match the channel count.

Used when a user's model needs an input shape the dataset does not produce natively
(e.g. a 3x64x64 model on 1x28x28 data): bilinear resize, grey -> RGB by repetition,
RGB -> grey by averaging.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F
from torch.utils.data import Dataset


def fit_image(x: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """(C', H', W') image -> (C, H, W)."""
    c, h, w = (int(d) for d in shape)
    if x.dim() == 2:
        x = x.unsqueeze(0)
    if tuple(x.shape[-2:]) != (h, w):
        x = F.interpolate(
            x.unsqueeze(0).float(), size=(h, w), mode="bilinear", align_corners=False
        ).squeeze(0)
    if x.shape[0] != c:
        if x.shape[0] == 1:
            x = x.expand(c, h, w).clone()
        elif c == 1:
            x = x.mean(dim=0, keepdim=True)
        else:
            reps = -(-c // x.shape[0])
            x = x.repeat(reps, 1, 1)[:c]
    return x


class ResizedImages(Dataset):
    """A view of an (image, label) dataset with images fitted to ``shape``."""

    def __init__(self, base: Dataset, shape: Sequence[int]) -> None:
        self.base = base
        self.shape = tuple(int(d) for d in shape)

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, index: int):
        x, y = self.base[index]
        return fit_image(x, self.shape), y
