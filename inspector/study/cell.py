"""One cell of a study: build its model from the cell's seed, train it, measure it.

Runs in a worker process (CPU, ``--jobs``) or in the calling process (one job, a GPU).
Fairness lives here: the dataset is generated once per study (``data_seed``); the cell's
``seed`` seeds torch right before the model is built (initial weights) and the training
loop's DataLoader (data order). Plain and residual variants of one depth have identical
parameter names, so the same seed gives them equal weights and the same batches.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.errors import InspectorError
from inspector.store import RunReader, sanitize_name
from inspector.study.grid import MODEL_AXIS, SEED_AXIS, StudyKind, study_id
from inspector.study.metrics import run_metrics
from inspector.study.store import CellStatus

if TYPE_CHECKING:
    from inspector.train import OptimizerName


@dataclass(frozen=True)
class StudySpec:
    """What a study runs: the grid and the training budget shared by every cell."""

    kind: StudyKind
    axes: dict[str, list]
    model: str | None = None  # None when the grid has a "model" axis (zoo)
    model_args: dict[str, Any] = field(default_factory=dict)  # fixed kwargs, e.g. width
    data: str = "shapes"
    data_options: dict[str, Any] = field(default_factory=dict)
    data_seed: int = 0
    data_root: str | None = None
    steps: int = 150
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    every: int | str | None = None
    loss_threshold: float | None = 1.0
    headline: str = "final_loss"
    device: str = "auto"

    def settings(self) -> dict[str, Any]:
        """What shapes the results besides the axes (device and headline metric do not)."""
        out = asdict(self)
        for key in ("kind", "axes", "device", "headline"):
            out.pop(key)
        return out

    def default_id(self) -> str:
        label = self.model or "+".join(map(str, self.axes.get(MODEL_AXIS, [])))[:40] or "models"
        return study_id(self.kind, label, self.axes, self.settings())


@dataclass(frozen=True)
class CellTask:
    spec: StudySpec
    config: dict[str, Any]
    run_name: str
    study_id: str
    root: str
    device: str | None = None  # this cell's device (a GPU slot); None: the spec's device


@dataclass
class CellResult:
    config: dict[str, Any]
    run_id: str | None
    status: str
    metrics: dict[str, Any] | None = None
    error: str | None = None


_DATA_CACHE: dict[str, Any] = {}


def load_study_data(spec: StudySpec):
    """The study's dataset, generated once per process (every cell sees the same data)."""
    from inspector.data import load_data
    from inspector.store.jsonsafe import to_json

    key = to_json([spec.data, spec.data_root, spec.data_seed, spec.data_options])
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = load_data(
            spec.data, root=spec.data_root, seed=spec.data_seed, **spec.data_options
        )
    return _DATA_CACHE[key]


def initial_model(spec: StudySpec, config: dict[str, Any], data_info):
    """The cell's model at initialisation: torch seeded with the cell's seed, then built."""
    import torch

    from inspector.model_build import build_model

    name = config.get(MODEL_AXIS, spec.model)
    if not name:
        raise InspectorError("a study needs --model (or a model axis)")
    kwargs = {
        **spec.model_args,
        **{k: v for k, v in config.items() if k not in (MODEL_AXIS, SEED_AXIS)},
    }
    torch.manual_seed(int(config.get(SEED_AXIS, 0)))
    return build_model(str(name), data_info, kwargs)


def run_cell(task: CellTask, callbacks: Sequence[Any] = ()) -> CellResult:
    """Train one configuration (in a worker or in-process) and measure it.

    ``callbacks`` are extra training callbacks (the executors' progress reporter)."""
    from inspector.train import TrainConfig, train

    spec, config = task.spec, task.config
    run_dir = Path(task.root) / sanitize_name(task.run_name)
    try:
        bundle = load_study_data(spec)
        model, model_meta = initial_model(spec, config, bundle.info)
        train_config = TrainConfig(
            steps=spec.steps,
            batch_size=spec.batch_size,
            optimizer=_optimizer(spec.optimizer),
            lr=spec.lr,
            momentum=spec.momentum,
            device=task.device or spec.device,
            seed=int(config.get(SEED_AXIS, 0)),
            every=spec.every,
        )
        result = train(
            model,
            bundle,
            train_config,
            run=task.run_name,
            root=task.root,
            quiet=True,
            meta={"model": model_meta, "study": task.study_id, "study_config": config},
            callbacks=callbacks,
        )
        with RunReader(result.run_dir) as reader:
            metrics = run_metrics(reader, spec.loss_threshold)
        return CellResult(config, result.run_id, str(result.status), metrics)
    except Exception as exc:  # one failed cell must not stop the grid
        message = (
            str(exc)
            if isinstance(exc, InspectorError)
            else (f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
        )
        run_id = run_dir.name if run_dir.exists() else None
        return CellResult(config, run_id, CellStatus.FAILED, None, message.strip())


def _optimizer(name: str) -> OptimizerName:
    """The study's optimizer name as TrainConfig's enum; a clear error for an unknown one."""
    from inspector.train import OptimizerName

    try:
        return OptimizerName(name.lower())
    except ValueError:
        choices = ", ".join(o.value for o in OptimizerName)
        raise InspectorError(f"unknown optimizer {name!r}; choose {choices}") from None


def worker_init() -> None:
    import torch

    torch.set_num_threads(1)  # J workers share the cores instead of fighting over them
