"""Checking dataset options from ``--data-arg k=v`` so a typo gets a clear message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from inspector.errors import DataError


def check_known(dataset: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    """Raise DataError naming the unknown options and the ones ``dataset`` accepts."""
    known = sorted(known)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise DataError(
            f"unknown option(s) {', '.join(unknown)} for dataset {dataset!r}; "
            f"it accepts: {', '.join(known) or '(none)'} (pass as --data-arg KEY=VALUE)"
        )


def int_option(dataset: str, key: str, value: Any, low: int, high: int | None = None) -> int:
    """An integer option within [low, high], or DataError saying what is allowed."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    if ok and value >= low and (high is None or value <= high):
        return int(value)
    bound = f"between {low} and {high}" if high is not None else f">= {low}"
    raise DataError(f"dataset {dataset!r}: {key} must be an integer {bound}, got {value!r}")


def choice_option(dataset: str, key: str, value: Any, choices: Iterable[int]) -> int:
    choices = list(choices)
    if isinstance(value, int) and not isinstance(value, bool) and value in choices:
        return int(value)
    allowed = ", ".join(str(c) for c in choices)
    raise DataError(f"dataset {dataset!r}: {key} must be one of {allowed}, got {value!r}")


def float_option(dataset: str, key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high:
        return float(value)
    raise DataError(
        f"dataset {dataset!r}: {key} must be a number between {low} and {high}, got {value!r}"
    )
