"""study.json round trip (format of docs/RECORDS.md), listing, loading and its errors."""

from __future__ import annotations

import json

import pytest

from inspector.errors import StoreError
from inspector.study.store import list_studies, load_study, new_study, study_path

CELL = {
    "config": {"depth": 2, "skip": "none", "norm": "none", "act": "tanh", "seed": 0},
    "run_id": "r1",
    "status": "finished",
    "metrics": {
        "final_loss": 0.9,
        "final_accuracy": 0.7,
        "test_accuracy": 0.68,
        "steps_to_threshold": 40,
        "grad_ratio_init": 0.3,
        "grad_ratio_median": 0.4,
        "act_std_init": [0.6, 0.4],
        "findings": {"error": 0, "warning": 1},
        "params": 12345,
        "seconds_per_step": 0.02,
        "receptive_field": 13,
    },
}


def make(tmp_path, sid="depth-plain_cnn-1"):
    study = new_study(
        sid,
        "depth",
        {"depth": [2], "skip": ["none"], "norm": ["none"], "act": ["tanh"], "seed": [0]},
        {"model": "plain_cnn", "data": "shapes", "steps": 60, "loss_threshold": 1.0},
        "final_loss",
        root=tmp_path,
        command="inspector x",
    )
    study.cells = [dict(CELL)]
    return study


def test_round_trip_has_the_documented_layout(tmp_path):
    study = make(tmp_path)
    path = study.save()
    assert path == tmp_path / "_studies" / "depth-plain_cnn-1" / "study.json"
    raw = json.loads(path.read_text())
    assert set(raw) == {"id", "kind", "created", "command", "axes", "settings", "headline", "cells"}
    assert raw["cells"][0] == CELL
    back = load_study("depth-plain_cnn-1", tmp_path)
    assert back.to_dict() == study.to_dict()
    assert back.path == path and back.kind == "depth" and back.headline == "final_loss"
    assert (
        back.cell({"seed": 0, "act": "tanh", "norm": "none", "skip": "none", "depth": 2})["run_id"]
        == "r1"
    )
    assert not list(path.parent.glob(".study-*")), "no temporary file left behind"
    # by folder and by file path too
    assert load_study(path.parent).id == load_study(path).id == study.id


def test_nan_becomes_null(tmp_path):
    study = make(tmp_path)
    study.cells[0]["metrics"] = {"final_loss": float("nan")}
    study.save()
    assert load_study(study.id, tmp_path).cells[0]["metrics"]["final_loss"] is None


def test_list_studies_skips_broken_files(tmp_path):
    assert list_studies(tmp_path) == []
    make(tmp_path, "a").save()
    make(tmp_path, "b").save()
    broken = study_path("c", tmp_path)
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    assert [s.id for s in list_studies(tmp_path)] == ["a", "b"]


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(StoreError, match="No studies there yet"):
        load_study("nope", tmp_path)
    make(tmp_path, "known").save()
    with pytest.raises(StoreError, match="Known studies: known"):
        load_study("nope", tmp_path)
    broken = study_path("bad", tmp_path)
    broken.parent.mkdir(parents=True)
    broken.write_text("[1, 2]")
    with pytest.raises(StoreError, match="not an Inspector study"):
        load_study("bad", tmp_path)
    broken.write_text("{oops")
    with pytest.raises(StoreError, match="not valid JSON"):
        load_study("bad", tmp_path)
