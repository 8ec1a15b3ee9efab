"""Can a saliency map be trusted? Two checks captum does not provide.

1. Model randomization (Adebayo et al. 2018, "Sanity checks for saliency maps"): re-initialise
   the layers of a copy from the top down (cascade) and recompute each method's maps for the
   same images and targets. A map that explains the model must change; one whose Spearman rank
   correlation with the original stays above ``REFLECTS_MODEL_THRESHOLD`` once every layer is
   random is flagged ``reflects_model: false`` (it mostly shows the input, e.g. edges).
2. Ground truth masks (``shapes`` data): the share of saliency mass inside the object mask and
   the pointing-game hit rate (the map's argmax lies in the mask).

One-off probe: host syncs are allowed (marked ``# sync-ok``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from inspector.probes.saliency import (
    Method,
    SaliencyConfig,
    SelectedOutput,
    attribute_all,
)
from inspector.probes.temporary_hooks import TemporaryHooks

#: Spearman correlation (original vs fully randomized maps) above which a method is flagged.
REFLECTS_MODEL_THRESHOLD = 0.5


def rankdata(values: np.ndarray) -> np.ndarray:
    """1-based ranks of a 1-D array, ties getting the average of their ranks (as scipy)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    order = np.argsort(v, kind="mergesort")
    sorted_v = v[order]
    # start index of each run of equal values
    new_group = np.concatenate(([True], sorted_v[1:] != sorted_v[:-1]))
    starts = np.flatnonzero(new_group)
    ends = np.concatenate((starts[1:], [len(v)]))  # exclusive
    avg = (starts + ends + 1) / 2.0  # mean of 1-based ranks starts+1 .. ends
    group_of = np.cumsum(new_group) - 1
    ranks = np.empty(len(v), dtype=np.float64)
    ranks[order] = avg[group_of]
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two equally sized arrays (flattened).

    Degenerate cases, where Pearson on ranks is undefined: both constant -> 1.0 (nothing to
    tell apart); exactly one constant -> 0.0 (the structure is gone).
    """
    ra, rb = rankdata(a), rankdata(b)
    if ra.size != rb.size:
        raise ValueError(f"spearman needs equal sizes, got {ra.size} and {rb.size}")
    da, db = ra - ra.mean(), rb - rb.mean()
    na, nb = math.sqrt(float((da * da).sum())), math.sqrt(float((db * db).sum()))
    if na == 0 and nb == 0:
        return 1.0
    if na == 0 or nb == 0:
        return 0.0
    return float((da * db).sum() / (na * nb))


def mean_spearman(original: np.ndarray, other: np.ndarray) -> float | None:
    """Mean over images of the per-image Spearman correlation of (N, H, W) maps.

    Images whose original map is constant (nothing to compare: an all-zero Grad-CAM) are
    left out; None when every one is.
    """
    values = [spearman(a, b) for a, b in zip(original, other, strict=True) if np.ptp(a) > 0]
    return float(np.mean(values)) if values else None


def mask_scores(maps: np.ndarray, masks: np.ndarray) -> tuple[float | None, float | None]:
    """(mask_share, pointing_hit_rate) of (N, H, W) maps against (N, H, W) boolean masks.

    ``mask_share`` is the mean over images of the map's mass inside the mask; the hit rate
    counts images whose argmax pixel is in the mask. Images whose map is all zero point
    nowhere and are left out of both (None when every map is zero).
    """
    maps = np.asarray(maps, dtype=np.float64)
    masks = np.asarray(masks).astype(bool)
    if maps.shape != masks.shape:
        raise ValueError(f"maps {maps.shape} and masks {masks.shape} differ in shape")
    flat, flat_masks = maps.reshape(len(maps), -1), masks.reshape(len(masks), -1)
    totals = flat.sum(axis=1)
    valid = totals > 0
    if not valid.any():
        return None, None
    inside = (flat * flat_masks).sum(axis=1)
    share = float(np.mean(inside[valid] / totals[valid]))
    hits = flat_masks[np.arange(len(flat)), flat.argmax(axis=1)][valid]
    return share, float(hits.mean())


def parameterised_layers(model: nn.Module, example: torch.Tensor) -> list[str]:
    """Modules owning parameters directly, in the order the forward first calls them."""
    names = {id(m): n for n, m in model.named_modules()}
    owners = [m for m in model.modules() if any(True for _ in m.parameters(recurse=False))]
    order: list[str] = []

    def hook(module, inputs, output):
        if names[id(module)] not in order:
            order.append(names[id(module)])

    with TemporaryHooks().forward(owners, hook), torch.no_grad():
        model(example)
    never_called = [names[id(m)] for m in owners if names[id(m)] not in order]
    return order + never_called


def cascade_stages(n_layers: int, max_stages: int = 3) -> list[int]:
    """How many top layers each stage randomizes: the output layer first, all layers last."""
    if n_layers <= 0:
        return []
    if n_layers <= max_stages:
        return list(range(1, n_layers + 1))
    cuts = {1, n_layers}
    for k in range(2, max_stages):
        cuts.add(math.ceil(n_layers * k / max_stages))
    return sorted(cuts)


@torch.no_grad()
def reinitialise(module: nn.Module, generator_seed: int) -> None:
    """Fresh random parameters for one module (its own ``reset_parameters`` when it has one)."""
    devices = [p.device for p in module.parameters(recurse=False) if p.device.type == "cuda"]
    with torch.random.fork_rng(devices=devices[:1]):
        torch.manual_seed(generator_seed)
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
        else:
            for p in module.parameters(recurse=False):
                p.normal_(0.0, float(p.std()) if p.numel() > 1 else 0.02)  # sync-ok: one-off


@dataclass(frozen=True)
class RandomizationCheck:
    """Per method: Spearman (original vs randomized maps) at each cascade stage."""

    stages: list[list[str]]  # layers randomized at each stage (cumulative, top first)
    spearman: dict[str, list[float]]  # method -> one value per stage
    errors: dict[str, str]

    def final(self, method: str) -> float | None:
        values = self.spearman.get(method)
        return values[-1] if values else None

    def reflects_model(
        self, method: str, threshold: float = REFLECTS_MODEL_THRESHOLD
    ) -> bool | None:
        value = self.final(method)
        return None if value is None else bool(value < threshold)


def randomization_check(
    wrapped: SelectedOutput,
    images: torch.Tensor,
    targets: torch.Tensor,
    original: dict[str, np.ndarray],
    target_layer: str | None,
    config: SaliencyConfig | None = None,
    max_stages: int = 3,
    seed: int = 0,
) -> RandomizationCheck:
    """Cascade-randomize a copy of ``wrapped`` and compare each method's maps to ``original``.

    ``wrapped`` is the prepared model (``probes.saliency.prepare_model``); targets stay those
    of the original model, as in Adebayo et al.
    """
    import copy

    config = config or SaliencyConfig()
    layers = parameterised_layers(wrapped.model, images[:1])
    rand = copy.deepcopy(wrapped)
    modules = dict(rand.model.named_modules())
    top_first = list(reversed(layers))
    methods = [Method(m) for m in original]
    stages: list[list[str]] = []
    corr: dict[str, list[float]] = {m: [] for m in original}
    errors: dict[str, str] = {}
    done = 0
    for count in cascade_stages(len(top_first), max_stages):
        for i, name in enumerate(top_first[done:count], start=done):
            reinitialise(modules[name], seed + i)
        done = count
        stages.append(top_first[:count])
        maps, errs = attribute_all(
            rand, images, targets, methods, target_layer, config, strict=False
        )
        errors.update(errs)
        for m in original:
            value = mean_spearman(original[m], maps[m]) if m in maps else None
            if value is not None:
                corr[m].append(value)
    return RandomizationCheck(
        stages=stages, spearman={k: v for k, v in corr.items() if v}, errors=errors
    )


def trust_summary(
    maps: dict[str, np.ndarray],
    check: RandomizationCheck | None,
    masks: np.ndarray | None,
    threshold: float = REFLECTS_MODEL_THRESHOLD,
) -> dict[str, dict]:
    """The per-method ``trust`` block of ``record("saliency", "summary")``."""
    out: dict[str, dict] = {}
    for method, m in maps.items():
        share, hit = mask_scores(m, masks) if masks is not None else (None, None)
        final = check.final(method) if check is not None else None
        out[method] = {
            "randomization_spearman": None if final is None else round(final, 4),
            "randomization_by_stage": (
                [round(v, 4) for v in check.spearman.get(method, [])] if check else []
            ),
            "reflects_model": check.reflects_model(method, threshold) if check else None,
            "mask_share": None if share is None else round(share, 4),
            "pointing_hit_rate": None if hit is None else round(hit, 4),
        }
        if not any(np.ptp(image) > 0 for image in m):
            out[method]["note"] = (
                "constant map for every image (e.g. Grad-CAM on a 1x1 layer or all-zero "
                "gradients): nothing to check"
            )
    return out
