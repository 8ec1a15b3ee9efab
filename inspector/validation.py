"""Checks on the numbers and sizes a user types, shared by the CLI and the Python API.

The CLI wraps these as argparse ``type=`` functions (``inspector.cli.args``), so a bad value
stops the command before anything is created; ``TrainConfig.__post_init__`` calls the same
functions, so ``TrainConfig(lr=float("nan"))`` fails with the same words. Each raises an
``InspectorError`` whose message names the allowed range. Torch-free on purpose.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

from inspector.errors import InspectorError

S = TypeVar("S")  # a schedule as given: N, "every:N", "budget:F", a callable or None

MAX_SEED = 2**32 - 1  # what numpy and most seeding code accept
MAX_STEPS = 10**9
MAX_DEPTH = 10_000  # layers of a registry family; building 10**40 of them never ends
# An example / a batch of input values beyond these cannot be held by a laptop or a single
# GPU anyway; refusing early beats an allocator traceback or the OOM killer.
MAX_EXAMPLE_ELEMENTS = 2**24  # 16.8 M values, e.g. 3 x 2364 x 2364 (ImageNet: 0.15 M)
MAX_BATCH_ELEMENTS = 2**28  # 268 M values, 1 GiB of float32


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            number = float(str(value).strip())
        except ValueError:
            raise InspectorError(f"{name} must be a number, got {value!r}") from None
    else:
        number = float(value)
    if not math.isfinite(number):
        raise InspectorError(f"{name} must be a finite number, got {value!r}")
    return number


def finite(name: str, value: object) -> float:
    """Any finite number (NaN and +-inf refused)."""
    return _number(name, value)


def positive(name: str, value: object) -> float:
    """A finite number > 0 (learning rate, clip norm, epochs)."""
    number = _number(name, value)
    if number <= 0:
        raise InspectorError(f"{name} must be > 0, got {value!r}")
    return number


def non_negative(name: str, value: object) -> float:
    """A finite number >= 0 (weight decay)."""
    number = _number(name, value)
    if number < 0:
        raise InspectorError(f"{name} must be >= 0, got {value!r}")
    return number


def momentum(name: str, value: object) -> float:
    """SGD momentum in [0, 1): 1 never forgets a gradient, below 0 flips its sign."""
    number = _number(name, value)
    if not 0 <= number < 1:
        raise InspectorError(f"{name} must be in [0, 1), e.g. 0.9; got {value!r}")
    return number


def fraction(name: str, value: object) -> float:
    """A finite number in (0, 1] (an overhead budget)."""
    number = _number(name, value)
    if not 0 < number <= 1:
        raise InspectorError(f"{name} must be in (0, 1], e.g. 0.03; got {value!r}")
    return number


def integer(name: str, value: object, low: int = 1, high: int | None = None) -> int:
    """An integer in [low, high] (steps, batch size, seed, classes, ports, workers)."""
    if isinstance(value, bool):
        raise InspectorError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise InspectorError(f"{name} must be a whole number, got {value!r}")
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if len(text) > 30:  # int() of a megabyte of digits is slow, and never in range
            raise InspectorError(f"{name} must be a whole number up to {high}, got {text[:30]}...")
        try:
            number = int(text)
        except ValueError:
            raise InspectorError(f"{name} must be a whole number, got {value!r}") from None
    if number < low or (high is not None and number > high):
        upper = f"..{high}" if high is not None else " or more"
        raise InspectorError(f"{name} must be in {low}{upper}, got {number}")
    return number


def seed(name: str, value: object) -> int:
    return integer(name, value, 0, MAX_SEED)


def schedule(name: str, value: S) -> S | int:
    """The ranges of a recording schedule: N and every:N need N >= 1, budget:F a budget in
    (0, 1]. Returns N as an int, anything else unchanged; the grammar itself (which kinds
    exist) is ``inspector.recorder.schedule.parse_schedule``'s, checked there."""
    if value is None or callable(value):
        return value
    if isinstance(value, bool):
        raise InspectorError(f"{name}: bad schedule {value!r}; use N, every:N or budget:F")
    if isinstance(value, int):
        return integer(name, value, 1)
    text = str(value).strip()
    kind, sep, rest = text.partition(":")
    if not sep and kind.lstrip("+-").isdigit():
        return integer(name, kind, 1)
    if kind == "every" and sep:
        integer(f"{name} every:N", rest, 1)
    elif kind == "budget" and sep:
        fraction(f"{name} budget:F", rest)
    return value


def input_shape(name: str, dims: Sequence[int], batch: int = 1) -> tuple[int, ...]:
    """Positive dimensions whose example and batch fit in memory (see the caps above)."""
    dims = tuple(int(d) for d in dims)
    if not dims or any(d <= 0 for d in dims):
        raise InspectorError(
            f"{name} must be positive integers separated by commas, e.g. 3,32,32; got {dims}"
        )
    per_example = math.prod(dims)
    if per_example > MAX_EXAMPLE_ELEMENTS:
        raise InspectorError(
            f"{name} {','.join(map(str, dims))} is {per_example:.3g} values per example; "
            f"the limit is {MAX_EXAMPLE_ELEMENTS:,} (e.g. 3,224,224 is 150,528)"
        )
    if per_example * batch > MAX_BATCH_ELEMENTS:
        raise InspectorError(
            f"{name} {','.join(map(str, dims))} x batch {batch} is {per_example * batch:.3g} "
            f"input values; the limit is {MAX_BATCH_ELEMENTS:,}: use a smaller batch or input"
        )
    return dims
