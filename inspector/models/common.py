"""Small shared pieces: spatial-size arithmetic, activation choice, argument checks.

Flattened feature sizes are computed by arithmetic (not a dummy forward) so that building a
model never runs it: BatchNorm statistics stay untouched and meta-device builds work.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import TypeVar

from torch import nn

from inspector.errors import ModelError

E = TypeVar("E", bound=StrEnum)


class Act(StrEnum):
    TANH = "tanh"
    SIGMOID = "sigmoid"
    RELU = "relu"
    LEAKY_RELU = "leaky_relu"
    GELU = "gelu"


def make_act(act: str, leak_rate: float = 0.1) -> nn.Module:
    """A fresh activation module (one instance per use, so hooks see each call site)."""
    choice = parse_choice(Act, act, "act")
    if choice is Act.TANH:
        return nn.Tanh()
    if choice is Act.SIGMOID:
        return nn.Sigmoid()
    if choice is Act.RELU:
        return nn.ReLU()
    if choice is Act.LEAKY_RELU:
        return nn.LeakyReLU(leak_rate)
    return nn.GELU()


def parse_choice(enum: type[E], value: str, what: str) -> E:
    try:
        return enum(str(value).lower())
    except ValueError:
        options = ", ".join(e.value for e in enum)
        raise ModelError(f"{what}={value!r} is not one of {options}") from None


def hw(image_size: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """28 -> (28, 28); (32, 48) -> (32, 48)."""
    if isinstance(image_size, int):
        pair = (image_size, image_size)
    else:
        pair = tuple(int(v) for v in image_size)
    if len(pair) != 2 or min(pair) <= 0:
        raise ModelError(
            f"image_size must be a positive int or (height, width); got {image_size!r}"
        )
    return pair  # type: ignore[return-value]


def out_size(n: int, kernel: int, stride: int = 1, padding: int = 0, ceil: bool = False) -> int:
    """Output length of a convolution/pooling window along one axis (PyTorch's formula)."""
    span = n + 2 * padding - kernel
    if span < 0:
        return 0
    steps = math.ceil(span / stride) if ceil else span // stride
    if ceil and steps * stride >= n + padding:  # PyTorch drops a window starting in padding
        steps -= 1
    return steps + 1


def check_positive(size: tuple[int, int], model: str, image_size: object) -> tuple[int, int]:
    if min(size) < 1:
        raise ModelError(
            f"image_size={image_size!r} is too small for {model}: its feature map shrinks to "
            f"{size[0]}x{size[1]}; use a larger --data-arg image_size or another model"
        )
    return size


def check_int(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ModelError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return value


def scaled(channels: int, width_mult: float) -> int:
    """Channels times ``width_mult``, at least 1 (the small-variant knob of big models)."""
    if width_mult <= 0:
        raise ModelError(f"width_mult must be > 0; got {width_mult!r}")
    return max(1, int(round(channels * width_mult)))
