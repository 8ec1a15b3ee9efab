"""Training configuration: everything needed to rerun a run, as one frozen dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import torch

from inspector import validation
from inspector.errors import InspectorError


class OptimizerName(StrEnum):
    SGD = "sgd"
    ADAM = "adam"
    ADAMW = "adamw"


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run (stored in the run's metadata).

    ``steps`` wins over ``epochs``; with neither, one epoch. ``every`` is the recording
    schedule (N, "every:N", "budget:0.03", None = default overhead budget). ``eval_every``
    evaluates on the test split every N steps (and always at the end), on at most
    ``eval_batches`` batches (None = the whole split).
    """

    steps: int | None = None
    epochs: float | None = None
    batch_size: int = 64
    optimizer: OptimizerName = OptimizerName.SGD
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    device: str = "auto"
    seed: int = 0
    clip_grad_norm: float | None = None
    amp: bool = False
    every: int | str | None = None
    eval_every: int | None = None
    eval_batches: int | None = 20
    exact: bool = False

    def __post_init__(self) -> None:
        """Refuse values that would crash later or train silently wrong (a NaN learning
        rate, a negative clip norm that flips the gradient) before any run folder exists.
        The CLI checks the same ranges with the same functions (``inspector.validation``)."""
        check = validation
        if self.steps is not None:
            check.integer("steps (--steps)", self.steps, 1, check.MAX_STEPS)
        if self.epochs is not None:
            check.positive("epochs (--epochs)", self.epochs)
        check.integer("batch_size (--batch-size)", self.batch_size, 1)
        check.positive("lr (--lr)", self.lr)
        check.momentum("momentum (--momentum)", self.momentum)
        check.non_negative("weight_decay (--weight-decay)", self.weight_decay)
        check.seed("seed (--seed)", self.seed)
        if self.clip_grad_norm is not None:
            check.positive("clip_grad_norm (--clip)", self.clip_grad_norm)
        if not callable(self.every):
            from inspector.recorder.schedule import parse_schedule

            check.schedule("every (--every)", self.every)
            parse_schedule(self.every)  # unknown kinds ("abc") fail here, not in a run folder
        if self.eval_every is not None:
            check.integer("eval_every", self.eval_every, 1)
        if self.eval_batches is not None:
            check.integer("eval_batches", self.eval_batches, 1)
        try:
            object.__setattr__(self, "optimizer", OptimizerName(str(self.optimizer).lower()))
        except ValueError:
            choices = ", ".join(o.value for o in OptimizerName)
            raise InspectorError(
                f"unknown optimizer {self.optimizer!r}; choose {choices}"
            ) from None

    def to_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in asdict(self).items()}


def resolve_device(spec: str = "auto") -> torch.device:
    """``auto`` -> cuda if present, else mps, else cpu; validates explicit choices."""
    spec = (spec or "auto").lower()
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise InspectorError(
            f"unknown device {spec!r}; use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise InspectorError(
                "--device cuda asked for, but no CUDA GPU is visible; use --device cpu"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InspectorError(
                f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) present"
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InspectorError("--device mps asked for, but MPS is not available; use --device cpu")
    return device


def build_optimizer(config: TrainConfig, params) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]
    if not params:
        raise InspectorError("the model has no trainable parameters (all requires_grad=False)")
    if config.optimizer == OptimizerName.SGD:
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    if config.optimizer == OptimizerName.ADAM:
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
