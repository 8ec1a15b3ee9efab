"""Fixture runs for the report tests: two tiny recorded runs plus synthetic records and a study.

Run ``full`` is recorded by ``inspector.watch`` on a small CNN (conv, BatchNorm, ReLU, tanh) and
then given every record/array of docs/RECORDS.md (architecture, receptive field, ERF, kernels,
saliency, findings). Run ``bare`` (an MLP with sigmoid) has only what the recorder writes, so
every optional section must say that its data is missing. A study ties both together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import inspector
from inspector.store import RunWriter

STEPS = 5
IMAGE = 12


@dataclass(frozen=True)
class Fixture:
    root: Path
    full: str  # run id with every record
    bare: str  # run id with recorder data only
    study: str  # study id


def _record(model: nn.Module, writer: RunWriter, meta: dict) -> list[np.ndarray]:
    """Train a few steps under watch; returns the first conv's weights at start and end."""
    torch.manual_seed(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    first_conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    snaps = []
    with inspector.watch(model, writer=writer, every=1, meta=meta) as rec:
        for step in range(STEPS):
            if first_conv is not None and step == 0:
                snaps.append(first_conv.weight.detach().numpy().copy())
            x, y = torch.randn(8, 1, IMAGE, IMAGE), torch.randint(0, 3, (8,))
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            extra = {"test_loss": loss.item() * 1.1, "test_accuracy": 0.4} if step % 2 else {}
            rec.step(loss=loss, accuracy=0.25 + 0.1 * step, **extra)
    if first_conv is not None:
        snaps.append(first_conv.weight.detach().numpy().copy())
    return snaps


def _meta(name: str) -> dict:
    return {
        "data": {"name": "synthetic", "kind": "image", "num_classes": 3},
        "hparams": {"steps": STEPS, "lr": 0.1, "optimizer": "sgd", "batch_size": 8},
        "device": "cpu",
        "model": {"name": name},
    }


def _put_synthetic_records(writer: RunWriter, kernels: list[np.ndarray]) -> None:
    last = STEPS - 1
    rng = np.random.default_rng(0)
    writer.put_record(
        "architecture",
        "table",
        {
            "input_shape": [1, IMAGE, IMAGE],
            "rows": [
                {
                    "name": "0",
                    "type": "Conv2d",
                    "output_shape": [4, 12, 12],
                    "params": 40,
                    "trainable": 40,
                    "frozen": 0,
                    "mult_adds": 5184,
                    "shared": False,
                    "calls": 1,
                    "tied_with": [],
                },
                {
                    "name": "1",
                    "type": "BatchNorm2d",
                    "output_shape": [4, 12, 12],
                    "params": 8,
                    "trainable": 8,
                    "frozen": 0,
                    "mult_adds": 8,
                    "shared": False,
                    "calls": 1,
                    "tied_with": [],
                },
                {
                    "name": "3",
                    "type": "Conv2d",
                    "output_shape": [4, 10, 10],
                    "params": 148,
                    "trainable": 148,
                    "frozen": 0,
                    "mult_adds": 14400,
                    "shared": False,
                    "calls": 1,
                    "tied_with": [],
                },
                {
                    "name": "6",
                    "type": "Linear",
                    "output_shape": [3],
                    "params": 1203,
                    "trainable": 1203,
                    "frozen": 0,
                    "mult_adds": 1200,
                    "shared": False,
                    "calls": 1,
                    "tied_with": [],
                },
            ],
            "totals": {
                "params": 1399,
                "trainable": 1399,
                "frozen": 0,
                "mult_adds": 20792,
                "torchinfo_params": 1399,
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
                    "name": "3",
                    "type": "Conv2d",
                    "rf": [5, 5],
                    "jump": [1, 1],
                    "start": [1.0, 1.0],
                    "global": False,
                },
                {
                    "name": "6",
                    "type": "Linear",
                    "rf": [12, 12],
                    "jump": [1, 1],
                    "start": [5.5, 5.5],
                    "global": True,
                },
            ],
        },
        step=0,
    )
    for phase, step in (("init", 0), ("final", last)):
        erf = rng.random((IMAGE, IMAGE)).astype(np.float32)
        writer.put_array(f"erf/3/{phase}", erf / erf.sum(), step=step)
        writer.put_record(
            "erf",
            "3",
            {
                "layer": "3",
                "phase": phase,
                "theoretical_rf": [5, 5],
                "mass_share": 0.95,
                "erf_radius": 2.1 + step * 0.1,
                "erf_size": 5.2 + step * 0.2,
                "center": [5.5, 5.5],
                "input_size": [IMAGE, IMAGE],
            },
            step=step,
        )
    writer.put_array("kernels/0", kernels[0], step=0)
    writer.put_array("kernels/0", kernels[-1], step=last)
    images = rng.standard_normal((2, 1, IMAGE, IMAGE)).astype(np.float32)
    masks = np.zeros((2, IMAGE, IMAGE), np.uint8)
    masks[:, 3:8, 3:8] = 1
    writer.put_array("saliency/images", images, step=last)
    writer.put_array("saliency/masks", masks, step=last)
    for method in ("saliency", "gradcam"):
        m = rng.random((2, IMAGE, IMAGE)).astype(np.float32)
        writer.put_array(f"saliency/{method}", m / m.max(axis=(1, 2), keepdims=True), step=last)
    writer.put_record(
        "saliency",
        "summary",
        {
            "methods": ["saliency", "gradcam"],
            "target_layer": "3",
            "labels": [0, 2],
            "predictions": [0, 1],
            "class_names": ["circle", "square", "triangle"],
            "trust": {
                "saliency": {
                    "randomization_spearman": 0.12,
                    "reflects_model": True,
                    "mask_share": 0.61,
                    "pointing_hit_rate": 0.5,
                },
                "gradcam": {
                    "randomization_spearman": 0.83,
                    "reflects_model": False,
                    "mask_share": 0.3,
                    "pointing_hit_rate": 0.0,
                },
            },
        },
        step=last,
    )
    writer.put_record(
        "findings",
        "all",
        {
            "verdict": "saturation: tanh layer 4 is saturated",
            "findings": [
                {
                    "rule": "dead_relu",
                    "severity": "warning",
                    "title": "Dead ReLU units",
                    "message": "20% of units in layer 2 never fire",
                    "layers": ["2"],
                    "steps": [0, 4],
                    "evidence": {"dead_frac": 0.2},
                    "fix": "lower the learning rate or use LeakyReLU",
                    "view": "activations",
                },
                {
                    "rule": "saturation",
                    "severity": "error",
                    "title": "Saturated tanh",
                    "message": "62% of tanh outputs within 0.01 of +-1",
                    "layers": ["4"],
                    "steps": [2, 4],
                    "evidence": {"act_sat_frac": 0.62},
                    "fix": "add BatchNorm before the tanh or use ReLU",
                    "view": "activations",
                },
            ],
        },
    )


@pytest.fixture(scope="session")
def report_fixture(tmp_path_factory) -> Fixture:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("runs")
    torch.manual_seed(0)
    cnn = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(4 * 10 * 10, 3),
    )
    meta = _meta("tiny-cnn")
    writer = RunWriter.create("full", root=root, meta=meta)
    kernels = _record(cnn, writer, meta)
    _put_synthetic_records(writer, kernels)
    writer.close()

    mlp = nn.Sequential(nn.Flatten(), nn.Linear(IMAGE * IMAGE, 16), nn.Sigmoid(), nn.Linear(16, 3))
    meta = _meta("tiny-mlp")
    writer = RunWriter.create("bare", root=root, meta=meta)
    _record(mlp, writer, meta)
    writer.close()

    study_id = "depth-test"
    study = {
        "id": study_id,
        "kind": "depth",
        "created": "2026-11-26T06:00:00Z",
        "command": "test",
        "axes": {
            "depth": [2, 4],
            "skip": ["none", "residual"],
            "norm": ["none"],
            "act": ["tanh"],
            "seed": [0],
        },
        "settings": {"model": "plain_cnn", "data": "shapes", "steps": STEPS, "loss_threshold": 1.0},
        "headline": "final_loss",
        "cells": [
            _cell(2, "none", "full", 0.91, {"error": 1, "warning": 1}),
            _cell(2, "residual", "bare", 0.72, {"error": 0, "warning": 0}),
            _cell(4, "none", None, None, None, status="pending"),
        ],
    }
    path = root / "_studies" / study_id / "study.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(study, indent=1))
    return Fixture(root=root, full="full", bare="bare", study=study_id)


def _cell(depth, skip, run_id, loss, findings, status="finished") -> dict:
    metrics = (
        {}
        if loss is None
        else {
            "final_loss": loss,
            "final_accuracy": 0.5,
            "test_accuracy": 0.45,
            "steps_to_threshold": 3,
            "grad_ratio_init": 0.3,
            "grad_ratio_median": 0.4,
            "act_std_init": [0.6, 0.4],
            "findings": findings,
            "params": 1399,
            "seconds_per_step": 0.01,
            "receptive_field": 5,
        }
    )
    return {
        "config": {"depth": depth, "skip": skip, "norm": "none", "act": "tanh", "seed": 0},
        "run_id": run_id,
        "status": status,
        "metrics": metrics,
    }
