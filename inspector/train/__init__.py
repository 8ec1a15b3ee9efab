"""The training harness: one recorded loop for the Python API, the CLI and studies."""

from inspector.train.callbacks import Callback, TrainContext
from inspector.train.config import OptimizerName, TrainConfig, resolve_device
from inspector.train.loop import TrainResult, evaluate, train

__all__ = [
    "Callback",
    "OptimizerName",
    "TrainConfig",
    "TrainContext",
    "TrainResult",
    "evaluate",
    "resolve_device",
    "train",
]
