"""Study grids: named axes -> the list of configurations to run, each with a stable key.

A configuration is a plain dict ``{axis: value}`` in axis order. Its key (``config_key``)
does not depend on dict order or on the study, so a rerun of the same command finds the
cells it already finished.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from inspector.errors import InspectorError
from inspector.store.paths import sanitize_name


class StudyKind(StrEnum):
    DEPTH = "depth"
    ZOO = "zoo"
    GRID = "grid"


# Axes that are not model keyword arguments: they pick the model or the training seed.
SEED_AXIS = "seed"
MODEL_AXIS = "model"

# ``study depth`` defaults per model family (the CLI fills what the user did not give).
# mlp: plain tanh nets stop training with depth, residual ones do not (no norm needed).
# plain_cnn: He et al. (2016)'s degradation with BatchNorm on both variants: ReLU, BN, SGD
# at 0.05; plain nets of 20 blocks fit the 256 training images worse than shallow ones,
# residual nets of the same depth fit them (README, "Depth vs trainability on CNNs").
DEPTH_DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp": {"depths": "2,4,8,16", "norm": "none", "act": "tanh", "lr": 0.005, "steps": 300},
    "plain_cnn": {
        "depths": "2,8,20",
        "norm": "batch",
        "act": "relu",
        "lr": 0.05,
        "steps": 300,
        "width": 8,
    },
}


def depth_defaults(model: str) -> dict[str, Any]:
    """``study depth`` defaults for ``model`` (the mlp's for families without their own)."""
    return dict(DEPTH_DEFAULTS.get(model, DEPTH_DEFAULTS["mlp"]))


# Short labels that keep run names readable: d8-res-bn-tanh-s0.
_PREFIX = {"depth": "d", "width": "w", "seed": "s"}
_WORDS = {
    "skip": {"none": "plain", "residual": "res"},
    "norm": {"none": "", "batch": "bn", "layer": "ln"},
}


def expand(axes: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of the axes, first axis slowest, as ordered dicts."""
    names = list(axes)
    for name in names:
        if len(axes[name]) == 0:
            raise InspectorError(f"study axis {name!r} has no values; give at least one")
        if len(set(map(_canonical, axes[name]))) != len(axes[name]):
            raise InspectorError(f"study axis {name!r} repeats a value: {list(axes[name])}")
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(axes[n] for n in names))
    ]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def config_key(config: Mapping[str, Any]) -> str:
    """Stable identity of a configuration: sorted ``axis=value`` pairs."""
    return ",".join(f"{k}={_canonical(config[k])}" for k in sorted(config))


def run_name(study_id: str, config: Mapping[str, Any]) -> str:
    """A readable, file-system safe run name, e.g. ``<study>.d8-res-bn-tanh-s0``."""
    parts = []
    for axis, value in config.items():
        if axis in _WORDS:
            parts.append(_WORDS[axis].get(str(value), str(value)))
        elif axis in _PREFIX:
            parts.append(f"{_PREFIX[axis]}{value}")
        elif axis in (MODEL_AXIS, "act"):
            parts.append(str(value).replace(":", "_"))
        else:
            parts.append(f"{axis}{value}")
    return sanitize_name(f"{study_id}.{'-'.join(p for p in parts if p)}")


def study_id(
    kind: StudyKind | str, model: str, axes: Mapping[str, Any], settings: Mapping[str, Any]
) -> str:
    """Deterministic id from what the study runs, so the same command resumes the same study."""
    digest = hashlib.sha1(
        json.dumps(
            {"kind": str(kind), "axes": axes, "settings": settings}, sort_keys=True, default=str
        ).encode()
    ).hexdigest()[:8]
    return sanitize_name(f"{kind}-{model}-{digest}")


def variant_label(config: Mapping[str, Any], axes: Sequence[str]) -> str:
    """Column label of a configuration over ``axes``: 'plain tanh', 'residual+BN relu'..."""
    words: list[str] = []
    skip, norm = config.get("skip"), config.get("norm")
    if "skip" in axes:
        words.append("plain" if skip in (None, "none") else str(skip))
    if "norm" in axes and norm not in (None, "none"):
        label = {"batch": "BN", "layer": "LN"}.get(str(norm), str(norm))
        if words:
            words[-1] += f"+{label}"
        else:
            words.append(label)
    elif "norm" in axes and "skip" not in axes:
        words.append("no-norm")
    for axis in axes:
        if axis in ("skip", "norm"):
            continue
        value = config[axis]
        words.append(str(value) if isinstance(value, str) else f"{axis}={value}")
    return " ".join(words) or "-"


def axis_value(text: str):
    """'8' -> 8, '0.5' -> 0.5, 'true' -> True; anything else (including 'none') stays a string,
    since model options such as norm=none take the word, not Python's None."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def csv_values(
    text: str, flag: str, choices: tuple[str, ...] | None = None, positive_int: bool = False
) -> list:
    """'2,4,8' -> [2, 4, 8]; 'none,batch' -> ['none', 'batch'], validated."""
    values = [axis_value(p.strip()) for p in str(text).split(",") if p.strip()]
    if not values:
        raise InspectorError(f"{flag} needs at least one value, e.g. {flag} 2,4,8")
    if positive_int and not all(isinstance(v, int) and v >= 1 for v in values):
        raise InspectorError(f"{flag} takes positive integers separated by commas; got {text!r}")
    if choices:
        bad = [v for v in values if str(v) not in choices]
        if bad:
            raise InspectorError(
                f"{flag}: unknown value(s) {', '.join(map(str, bad))}; "
                f"choose from {', '.join(choices)}"
            )
        values = [str(v) for v in values]
    return values
