"""Grid expansion, stable configuration keys, run names and study ids."""

from __future__ import annotations

import pytest

from inspector.errors import InspectorError
from inspector.study.grid import (
    StudyKind,
    axis_value,
    config_key,
    csv_values,
    expand,
    run_name,
    study_id,
    variant_label,
)


def test_expand_is_the_cartesian_product_first_axis_slowest():
    configs = expand({"depth": [2, 8], "skip": ["none", "residual"], "seed": [0]})
    assert configs == [
        {"depth": 2, "skip": "none", "seed": 0},
        {"depth": 2, "skip": "residual", "seed": 0},
        {"depth": 8, "skip": "none", "seed": 0},
        {"depth": 8, "skip": "residual", "seed": 0},
    ]
    assert len(expand({"a": [1, 2, 3], "b": ["x", "y"], "c": [0, 1]})) == 12


def test_expand_rejects_empty_and_repeated_axes():
    with pytest.raises(InspectorError, match="depth"):
        expand({"depth": []})
    with pytest.raises(InspectorError, match="repeats"):
        expand({"norm": ["batch", "batch"]})


def test_config_key_ignores_order_and_tells_types_apart():
    a = config_key({"depth": 2, "skip": "none"})
    assert a == config_key({"skip": "none", "depth": 2})
    assert a != config_key({"depth": "2", "skip": "none"})
    assert a != config_key({"depth": 2, "skip": "residual"})


def test_run_names_are_readable_unique_and_safe():
    configs = expand(
        {
            "depth": [2, 16],
            "skip": ["none", "residual"],
            "norm": ["none", "batch"],
            "act": ["tanh"],
            "seed": [0, 1],
        }
    )
    names = [run_name("depth-plain_cnn-abc", c) for c in configs]
    assert len(set(names)) == len(names)
    assert names[0] == "depth-plain_cnn-abc.d2-plain-tanh-s0"
    assert "depth-plain_cnn-abc.d16-res-bn-tanh-s1" in names
    assert all("/" not in n and " " not in n for n in names)
    assert run_name("zoo-x", {"model": "tv:resnet18", "seed": 0}) == "zoo-x.tv_resnet18-s0"


def test_study_id_is_deterministic_and_depends_on_what_runs():
    axes = {"depth": [2, 4], "seed": [0]}
    a = study_id(StudyKind.DEPTH, "plain_cnn", axes, {"steps": 10})
    assert a == study_id("depth", "plain_cnn", {"depth": [2, 4], "seed": [0]}, {"steps": 10})
    assert a.startswith("depth-plain_cnn-")
    assert a != study_id(StudyKind.DEPTH, "plain_cnn", axes, {"steps": 11})
    assert a != study_id(
        StudyKind.DEPTH, "plain_cnn", {"depth": [2, 8], "seed": [0]}, {"steps": 10}
    )


def test_variant_labels():
    axes = ["skip", "norm"]
    assert variant_label({"skip": "none", "norm": "none"}, axes) == "plain"
    assert variant_label({"skip": "residual", "norm": "batch"}, axes) == "residual+BN"
    assert (
        variant_label({"skip": "none", "norm": "batch", "act": "relu"}, [*axes, "act"])
        == "plain+BN relu"
    )
    assert variant_label({"width": 8}, ["width"]) == "width=8"
    assert StudyKind("zoo") is StudyKind.ZOO


def test_axis_values_from_the_command_line():
    assert csv_values("2, 4,8", "--depths", positive_int=True) == [2, 4, 8]
    assert csv_values("none,batch", "--norm", ("none", "batch", "layer")) == ["none", "batch"]
    assert axis_value("none") == "none" and axis_value("0.5") == 0.5
    assert axis_value("true") is True and axis_value("relu") == "relu"
    with pytest.raises(InspectorError, match="positive integers"):
        csv_values("2,0", "--depths", positive_int=True)
    with pytest.raises(InspectorError, match="choose from"):
        csv_values("none,group", "--norm", ("none", "batch"))
    with pytest.raises(InspectorError, match="at least one"):
        csv_values(" , ", "--act")
