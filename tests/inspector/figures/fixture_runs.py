"""Fixture runs for the figure and dashboard tests.

``watched_run`` records a tiny real model with ``inspector.watch`` and adds the records and
arrays other parts write (architecture, receptive field, ERF, kernels, saliency, findings)
in the RECORDS.md formats. ``bare_run`` is a run with statistics only (no BN, no records)
to check the "not recorded" paths. ``fixture_root`` builds a whole runs root with a study.
Loaded by file path from the conftest files (tests use --import-mode=importlib).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

import inspector

IMAGE = 12
CLASSES = ["circle", "square", "triangle"]


def fixture_model(bn: bool = True, act: type[nn.Module] = nn.Tanh) -> nn.Sequential:
    torch.manual_seed(0)
    layers: list[nn.Module] = [nn.Conv2d(1, 4, 3, padding=1)]
    layers += [nn.BatchNorm2d(4)] if bn else []
    layers += [
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1),
        act(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * (IMAGE // 2) ** 2, len(CLASSES)),
    ]
    return nn.Sequential(*layers)


def watched_run(
    root: Path,
    name: str = "watched",
    steps: int = 6,
    bn: bool = True,
    extras: bool = True,
    act: type[nn.Module] = nn.Tanh,
) -> Path:
    """A recorded run of a tiny CNN; with ``extras`` also every record/array kind."""
    torch.set_num_threads(1)
    model = fixture_model(bn, act)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(1)
    meta = {
        "model": {"name": "fixture_cnn"},
        "data": {"name": "synthetic"},
        "hparams": {"lr": 0.1, "steps": steps},
    }
    with inspector.watch(model, run=name, root=root, every=1, meta=meta) as rec:
        writer = rec.writer
        for step in range(steps):
            x = torch.randn(8, 1, IMAGE, IMAGE, generator=gen)
            y = torch.randint(0, len(CLASSES), (8,), generator=gen)
            out = model(x)
            loss = nn.functional.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            acc = float((out.argmax(1) == y).float().mean())
            scalars = {"loss": loss, "accuracy": acc}
            if step in (steps // 2, steps - 1):
                scalars.update(test_loss=loss.item() * 1.1, test_accuracy=acc)
            if extras and step in (0, steps // 2, steps - 1):
                writer.put_array("kernels/0", model[0].weight.detach().numpy().copy(), step=step)
            rec.step(**scalars)
        if extras:
            _write_extras(writer, model, steps - 1, bn)
    return Path(root) / name


def _write_extras(writer, model: nn.Sequential, last: int, bn: bool) -> None:
    names = [n for n, _ in model.named_children()]
    conv2 = "3" if bn else "2"
    writer.put_record(
        "architecture",
        "table",
        {
            "input_shape": [1, IMAGE, IMAGE],
            "rows": [
                {
                    "name": "0",
                    "type": "Conv2d",
                    "output_shape": [4, IMAGE, IMAGE],
                    "params": 40,
                    "trainable": 40,
                    "frozen": 0,
                    "mult_adds": 5760,
                    "shared": False,
                    "calls": 1,
                    "tied_with": [],
                },
                {
                    "name": conv2,
                    "type": "Conv2d",
                    "output_shape": [4, IMAGE, IMAGE],
                    "params": 148,
                    "trainable": 148,
                    "frozen": 0,
                    "mult_adds": 21312,
                    "shared": False,
                    "calls": 1,
                    "tied_with": [],
                },
                {
                    "name": names[-1],
                    "type": "Linear",
                    "output_shape": [3],
                    "params": 435,
                    "trainable": 435,
                    "frozen": 0,
                    "mult_adds": 432,
                    "shared": False,
                    "calls": 1,
                    "tied_with": [],
                },
            ],
            "totals": {
                "params": 623,
                "trainable": 623,
                "frozen": 0,
                "mult_adds": 27504,
                "torchinfo_params": 623,
                "shared_modules": [],
                "tied_params": [],
            },
        },
        step=0,
    )
    writer.put_record(
        "receptive_field",
        "layers",
        {
            "input_size": [IMAGE, IMAGE],
            "layers": [
                {
                    "name": "0",
                    "type": "Conv2d",
                    "rf": [3, 3],
                    "jump": [1, 1],
                    "start": [0.0, 0.0],
                    "global": False,
                },
                {
                    "name": conv2,
                    "type": "Conv2d",
                    "rf": [5, 5],
                    "jump": [1, 1],
                    "start": [0.0, 0.0],
                    "global": False,
                },
                {
                    "name": names[-3],
                    "type": "MaxPool2d",
                    "rf": [6, 6],
                    "jump": [2, 2],
                    "start": [0.5, 0.5],
                    "global": False,
                },
                {
                    "name": names[-1],
                    "type": "Linear",
                    "rf": [IMAGE, IMAGE],
                    "jump": [2, 2],
                    "start": [0.5, 0.5],
                    "global": True,
                },
            ],
        },
        step=0,
    )
    yy, xx = np.mgrid[0:IMAGE, 0:IMAGE]
    for phase, step, spread in (("init", 0, 1.5), ("final", last, 2.5)):
        erf = np.exp(-((yy - 5.5) ** 2 + (xx - 5.5) ** 2) / (2 * spread**2)).astype(np.float32)
        writer.put_array(f"erf/{conv2}/{phase}", erf / erf.sum(), step=step)
        writer.put_record(
            "erf",
            conv2,
            {
                "layer": conv2,
                "phase": phase,
                "theoretical_rf": [5, 5],
                "mass_share": 0.95,
                "erf_radius": spread * 1.5,
                "erf_size": spread * 3 + 1,
                "center": [5.5, 5.5],
                "input_size": [IMAGE, IMAGE],
            },
            step=step,
        )
    rng = np.random.default_rng(0)
    images = rng.normal(size=(3, 1, IMAGE, IMAGE)).astype(np.float32)
    masks = np.zeros((3, IMAGE, IMAGE), np.uint8)
    masks[:, 3:9, 3:9] = 1
    writer.put_array("saliency/images", images, step=last)
    writer.put_array("saliency/masks", masks, step=last)
    methods = ["saliency", "gradcam"]
    for m in methods:
        writer.put_array(
            f"saliency/{m}", rng.random((3, IMAGE, IMAGE)).astype(np.float32), step=last
        )
    writer.put_record(
        "saliency",
        "summary",
        {
            "methods": methods,
            "target_layer": conv2,
            "labels": [0, 1, 2],
            "predictions": [0, 2, 2],
            "class_names": CLASSES,
            "trust": {
                "saliency": {
                    "randomization_spearman": 0.12,
                    "reflects_model": True,
                    "mask_share": 0.61,
                    "pointing_hit_rate": 0.67,
                },
                "gradcam": {
                    "randomization_spearman": 0.85,
                    "reflects_model": False,
                    "mask_share": None,
                    "pointing_hit_rate": None,
                },
            },
        },
        step=last,
    )
    writer.put_record(
        "findings",
        "all",
        {
            "verdict": "gradient flow: weak in the first layer",
            "findings": [
                {
                    "rule": "saturation",
                    "severity": "warning",
                    "title": "tanh layer saturates",
                    "message": "layer 4 has 40% of outputs near ±1",
                    "layers": [names[4]],
                    "steps": [0, last],
                    "evidence": {"sat_frac": 0.4},
                    "fix": "use ReLU",
                    "view": "activations",
                },
                {
                    "rule": "info_note",
                    "severity": "info",
                    "title": "small model",
                    "message": "only 623 parameters",
                    "layers": [],
                    "steps": [],
                    "evidence": {},
                    "fix": "",
                    "view": "overview",
                },
                {
                    "rule": "vanishing_gradients",
                    "severity": "error",
                    "title": "vanishing gradients",
                    "message": "first layer gets 1e-5 of the last layer's gradient",
                    "layers": ["0"],
                    "steps": [0, last],
                    "evidence": {"ratio": 1.2e-05},
                    "fix": "add residuals",
                    "view": "gradient_flow",
                },
            ],
        },
    )


def bare_run(root: Path, name: str = "bare", steps: int = 4) -> Path:
    """Statistics only: no BN, no kernels, no saliency, no records."""
    return watched_run(root, name=name, steps=steps, bn=False, extras=False, act=nn.Sigmoid)


def write_study(root: Path, runs: dict[tuple[int, str], str]) -> Path:
    """A study.json over existing runs: (depth, skip) -> run id (RECORDS.md format)."""
    cells = []
    for (depth, skip), run_id in runs.items():
        cells.append(
            {
                "config": {"depth": depth, "skip": skip, "norm": "none", "act": "tanh", "seed": 0},
                "run_id": run_id,
                "status": "finished",
                "metrics": {
                    "final_loss": 1.0 / depth + (0.1 if skip == "none" else 0.0),
                    "final_accuracy": 0.5,
                    "test_accuracy": 0.4,
                    "steps_to_threshold": None,
                    "grad_ratio_init": 0.3,
                    "grad_ratio_median": 0.4,
                    "act_std_init": [0.6, 0.4],
                    "findings": {"error": 0, "warning": 1},
                    "params": 623,
                    "seconds_per_step": 0.02,
                    "receptive_field": 13,
                },
            }
        )
    doc = {
        "id": "depth-fixture",
        "kind": "depth",
        "created": "2026-11-26T06:00:00Z",
        "command": "inspector study depth",
        "headline": "final_loss",
        "axes": {
            "depth": sorted({d for d, _ in runs}),
            "skip": sorted({s for _, s in runs}),
            "norm": ["none"],
            "act": ["tanh"],
            "seed": [0],
        },
        "settings": {"model": "plain_cnn", "data": "shapes", "steps": 6, "loss_threshold": 1.0},
        "cells": cells,
    }
    path = Path(root) / "_studies" / doc["id"] / "study.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1))
    return path


def fixture_root(root: Path) -> Path:
    """A runs root with a full run, a bare run, a run without BN and a study over them."""
    root = Path(root)
    watched_run(root, "full")
    bare_run(root, "bare")
    watched_run(root, "nobn", bn=False, steps=4)
    write_study(root, {(2, "none"): "bare", (2, "residual"): "nobn", (4, "none"): "full"})
    return root


def synthetic_run(
    root: Path,
    name: str,
    stats: dict[str, np.ndarray] | None = None,
    hists: dict[str, np.ndarray] | None = None,
    layer_types: list[str] | None = None,
    loss: np.ndarray | None = None,
    role: str = "module",
) -> Path:
    """A run written directly with RunWriter: ``stats[stat]`` is (layers, steps), ``hists[kind]``
    (layers, steps, bins) counts; layers are named l0, l1, ... in forward order."""
    from inspector.store import RunStatus, RunWriter

    arrays = list((stats or {}).values()) + list((hists or {}).values())
    n_layers, n_steps = arrays[0].shape[:2] if arrays else (0, len(loss))
    types = layer_types or ["Linear"] * n_layers
    writer = RunWriter.create(
        name, root=root, meta={"model": {"name": "synthetic"}, "data": {"name": "synthetic"}}
    )
    ids = writer.register_layers(
        [
            {
                "name": f"l{i}",
                "role": role,
                "type": types[i],
                "position": i,
                "info": {"module": f"l{i}", "numel": 10} if role == "param" else {},
            }
            for i in range(n_layers)
        ]
    )
    for step in range(n_steps):
        writer.write_step(
            step,
            1000.0 + step,
            0.01,
            True,
            stats=[
                (s, ids[f"l{i}"], float(v[i, step]))
                for s, v in (stats or {}).items()
                for i in range(n_layers)
            ],
            hists=[
                (k, ids[f"l{i}"], np.asarray(c[i, step], np.int32).tobytes())
                for k, c in (hists or {}).items()
                for i in range(n_layers)
            ],
            scalars=[("loss", step, float(loss[step]))] if loss is not None else [],
        )
    writer.set_status(RunStatus.FINISHED)
    writer.close()
    return Path(root) / name
