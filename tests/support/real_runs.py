"""Runs for the figure, dashboard and report tests, written by the real producers.

One runs root per test session, built once (about five CPU seconds) and shared by every test
directory that asks for it; what a test expects is read back from it through the reader,
never copied from a hand-written record. Everything in it comes from the code a user runs:

- ``full``: ``plain_cnn`` from the catalogue (one conv block with BatchNorm and tanh, width 4)
  trained through the harness (``inspector.train.train``) with its default callbacks, so
  ``param_summary``, ``receptive_field``, the ERF probe, the kernel snapshots, saliency with
  its trust checks and the diagnosis write every record and array of docs/RECORDS.md. The
  learning rate (10) is too high on purpose: the stored findings then hold more than one
  severity (the loss diverges, tanh saturates, updates are too large), which ordering tests
  need.
- ``bare``: a sigmoid CNN without norm, recorded by the harness without callbacks: only what
  the recorder writes (statistics, scalars), so every optional view says its data is missing.
- ``nobn``: a ReLU CNN without norm (dead-unit fractions), with every default callback.
- the depth study ``inspector demo`` runs (``demo_spec`` through ``run_study``), smaller:
  tanh MLPs of depth 2 and 8, plain and residual; the deep plain one's gradients vanish.
  Its executor never starts the last cell, which so stays ``pending`` as in a study still
  running (the one thing a finished real study never shows).

``synthetic_run`` is the exception: a run written directly through ``RunWriter`` with the exact
statistics a test dictates (1e-9 gradients, 2000 steps, 20 layers), which no short real run
gives; the figure tests use it for thresholds and thinning.

Loaded by file path (the tests import with --import-mode=importlib).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import numpy as np

FULL, BARE, NOBN = "full", "bare", "nobn"
STEPS = 20
DATA_OPTIONS = {"n_train": 64, "n_test": 32}  # 28x28 shapes with masks, generated in ms
_BUILT = ".built"  # marks a finished shared root (a crashed build leaves none)


class RunPlan(NamedTuple):
    """One harness run of the fixture root: a catalogue model, its arguments and budget
    (a NamedTuple: a dataclass needs its module in sys.modules, which a file-path load lacks)."""

    name: str
    model: str
    model_args: dict
    lr: float
    callbacks: bool = True  # the harness' default callbacks (records, arrays, findings)


PLANS = (
    RunPlan(FULL, "plain_cnn", {"depth": 1, "width": 4, "norm": "batch", "act": "tanh"}, 10.0),
    RunPlan(BARE, "plain_cnn", {"depth": 1, "width": 4, "act": "sigmoid"}, 0.05, False),
    RunPlan(NOBN, "plain_cnn", {"depth": 1, "width": 4, "act": "relu"}, 0.05),
)


def harness_run(root: Path, plan: RunPlan, data) -> Path:
    """Train ``plan`` (one stage: a small map, fast) for ``STEPS`` steps, every step
    recorded, with the real harness."""
    from inspector.model_build import build_model
    from inspector.train import TrainConfig, train
    from inspector.train.loop import seed_everything

    seed_everything(0)  # the initial weights too, whatever ran before
    model, meta = build_model(plan.model, data.info, {**plan.model_args, "stages": 1})
    config = TrainConfig(steps=STEPS, batch_size=16, lr=plan.lr, device="cpu", every=1)
    result = train(
        model,
        data,
        config,
        run=plan.name,
        root=root,
        quiet=True,
        meta={"model": meta},
        default_callbacks=plan.callbacks,
    )
    return result.run_dir


class LeaveLastCellPending:
    """A study executor that runs every cell but the last one with the local executor,
    so the real runner leaves that cell ``pending`` in study.json."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def run(self, tasks, events) -> None:
        self.inner.run(tasks[:-1], events)


def study_spec():
    """The spec ``inspector demo`` runs, at a fixture's size."""
    from inspector.cli.demo_cmd import DemoSize, demo_spec

    size = DemoSize(
        depths=(2, 8), norms=("none",), steps=STEPS, width=8, batch_size=16, lr=0.05,
        data_options=DATA_OPTIONS,
    )  # fmt: skip
    return demo_spec(size)


def build_root(root: Path) -> Path:
    """Record the three runs and the study into ``root`` (see the module docstring)."""
    import torch

    from inspector.data import load_data
    from inspector.study.runner import local_executor, run_study

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores: more threads only spin against each other
    try:
        data = load_data("shapes", seed=0, **DATA_OPTIONS)
        for plan in PLANS:
            harness_run(root, plan, data)
        spec = study_spec()
        executor = LeaveLastCellPending(local_executor(spec, jobs=1))
        run_study(spec, root=root, quiet=True, command="tests/support", executor=executor)
    finally:
        torch.set_num_threads(threads)
    _check(root)
    return root


def _check(root: Path) -> None:
    """Fail the fixture with one clear line when a producer stops writing what tests read."""
    from inspector.store import open_run
    from inspector.store.records import ERF_KIND, EXPORTED, FINDINGS, KERNELS_PREFIX

    with open_run(root / FULL) as reader:
        missing = [kind for kind, key in EXPORTED.values() if reader.record(kind, key) is None]
        missing += [] if len(reader.records(ERF_KIND)) == 2 else ["erf at init and end"]
        kernels = any(n.startswith(KERNELS_PREFIX) for n in reader.array_names())
        missing += [] if kernels else ["kernels"]
        found = (reader.record(*FINDINGS) or {}).get("findings", [])
    severities = {f["severity"] for f in found}
    if missing or len(severities) < 2:
        raise AssertionError(
            f"fixture run {FULL!r}: missing {missing}, finding severities {severities} (needs 2)"
        )


def shared_root(tmp_path_factory) -> Path:
    """The session's fixture runs root: built on first use, then reused (read-only)."""
    root = tmp_path_factory.getbasetemp() / "real-runs"
    if not (root / _BUILT).is_file():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir()
        build_root(root)
        (root / _BUILT).touch()
    return root


def copied_root(tmp_path_factory, name: str) -> Path:
    """A private copy of the shared root, for tests that add runs to it."""
    target = tmp_path_factory.mktemp(name) / "runs"
    shutil.copytree(shared_root(tmp_path_factory), target)
    return target


def the_study(root: Path):
    from inspector.study.store import list_studies

    (study,) = list_studies(root)
    return study


def layer_named(reader, type_name: str) -> str:
    """The first module layer of ``type_name`` (e.g. "BatchNorm2d") in forward order."""
    return next(layer.name for layer in reader.layers(role="module") if layer.type == type_name)


def synthetic_run(
    root: Path,
    name: str,
    stats: dict[str, np.ndarray] | None = None,
    hists: dict[str, np.ndarray] | None = None,
    layer_types: list[str] | None = None,
    loss: np.ndarray | None = None,
    role: str = "module",
    finish: bool = True,
) -> Path:
    """A run written directly with RunWriter: ``stats[stat]`` is (layers, steps), ``hists[kind]``
    (layers, steps, bins) counts; layers are named l0, l1, ... in forward order. Synthetic on
    purpose: the values are the test's input. ``finish=False`` leaves the status 'running'
    with this (alive) process as the writer, as a live run."""
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
    if finish:
        writer.set_status(RunStatus.FINISHED)
    writer.close()
    return Path(root) / name
