"""What every dataset hands the rest of Inspector: a description and two splits.

The training loop, model builder and probes never look at a dataset's internals: they read
``DataInfo`` (to shape a model), iterate ``train``/``test`` (``(x, y)`` pairs) and call
``probe_batch`` (a fixed batch for saliency and receptive-field probes).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch.utils.data import Dataset

from inspector.store.jsonsafe import to_json


@dataclass(frozen=True)
class DataInfo:
    """Shape facts about a dataset, enough to build a model that fits it."""

    name: str
    kind: str  # "image" | "sequence"
    num_classes: int
    class_names: tuple[str, ...]
    in_channels: int | None = None
    image_size: int | None = None
    vocab_size: int | None = None
    seq_len: int | None = None
    has_masks: bool = False
    input_shape: tuple[int, ...] = ()  # one example, no batch dimension

    def model_kwargs(self) -> dict[str, int]:
        """The keyword arguments registry models take to fit this data."""
        if self.kind == "sequence":
            return {
                "vocab_size": int(self.vocab_size or 0),
                "seq_len": int(self.seq_len or 0),
                "num_classes": self.num_classes,
            }
        return {
            "in_channels": int(self.in_channels or 0),
            "num_classes": self.num_classes,
            "image_size": int(self.image_size or 0),
        }

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["class_names"] = list(self.class_names)
        d["input_shape"] = list(self.input_shape)
        return d


class TensorPairs(Dataset):
    """``(x, y)`` pairs held in memory, with optional per-example ground-truth masks.

    Masks are kept beside the pairs rather than yielded, so a DataLoader sees the usual
    ``(x, y)`` and only the probes that need masks ask for them.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, masks: torch.Tensor | None = None):
        if len(x) != len(y) or (masks is not None and len(masks) != len(x)):
            raise ValueError("x, y and masks must have the same length")
        self.x = x
        self.y = y
        self.masks = masks

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


@dataclass
class DataBundle:
    """A loaded dataset: its description, train and test splits, and the options used."""

    info: DataInfo
    train: Dataset
    test: Dataset
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    source: str | None = None  # where the data was read from (a folder), if anywhere

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description stored in run metadata (enough to reload the same data)."""
        return {
            "name": self.info.name,
            "kind": self.info.kind,
            "sizes": {"train": len(self.train), "test": len(self.test)},
            "options": json.loads(to_json(dict(self.options))),
            "seed": self.seed,
            "source": self.source,
            "info": self.info.to_dict(),
        }

    def probe_batch(
        self, n: int = 8, seed: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """A fixed batch ``(x, y, masks)`` of ``n`` test examples for probes.

        Why: saliency, saliency-trust and effective-receptive-field probes must look at the
        same inputs at every snapshot and in every run, so the batch is drawn from the test
        split with its own generator (``seed``), independent of the global RNG and of training.
        Examples are picked round-robin over classes (as far as the split allows), so a
        small ``n`` still shows several classes.

        ``x`` is the model input exactly as training sees it (``(n, C, H, W)`` normalised
        float for images, ``(n, L)`` long for sequences; ``n`` is capped at the test size),
        ``y`` the ``(n,)`` long labels. ``masks`` is an ``(n, H, W)`` bool tensor
        of ground-truth object pixels aligned with ``x`` (``True`` where the object was
        drawn) when the dataset has masks (``info.has_masks``, e.g. ``shapes``), else ``None``.
        """
        test = self.test
        size = len(test)
        if size == 0:
            raise ValueError(f"dataset {self.info.name!r} has an empty test split")
        n = min(int(n), size)
        g = torch.Generator().manual_seed(int(seed))
        order = torch.randperm(size, generator=g)
        labels = _labels_of(test)
        if labels is not None:
            order = _round_robin(order, labels[order])
        idx = order[:n]
        if isinstance(test, TensorPairs):
            x, y = test.x[idx], test.y[idx]
            masks = test.masks[idx] if test.masks is not None else None
            return x, y, masks
        pairs = [test[int(i)] for i in idx]
        x = torch.stack([torch.as_tensor(p[0]) for p in pairs])
        y = torch.as_tensor([int(p[1]) for p in pairs], dtype=torch.long)
        return x, y, None


def _labels_of(ds: Dataset) -> torch.Tensor | None:
    """Labels without loading the inputs, when the dataset keeps them in one place."""
    y = getattr(ds, "y", None)
    if isinstance(y, torch.Tensor):
        return y
    targets = getattr(ds, "targets", None)
    if targets is not None:
        return torch.as_tensor(targets)
    return None


def _round_robin(order: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Reorder ``order`` so classes alternate: first of each class, then second of each..."""
    by_label = torch.sort(labels, stable=True).indices
    sorted_labels = labels[by_label]
    starts = torch.ones_like(sorted_labels, dtype=torch.bool)
    starts[1:] = sorted_labels[1:] != sorted_labels[:-1]
    pos = torch.arange(len(labels))
    group_start = torch.cummax(torch.where(starts, pos, torch.zeros_like(pos)), 0).values
    rank = torch.empty_like(pos)
    rank[by_label] = pos - group_start  # position of each example within its class
    # a stable sort by rank keeps the random order within each round
    return order[torch.sort(rank, stable=True).indices]
