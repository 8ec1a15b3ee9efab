"""The study runner: fair starts, resumability, failed cells, settings clashes."""

from __future__ import annotations

import json

import pytest
import torch

import inspector.train
from inspector.errors import InspectorError
from inspector.store import RunStatus, RunWriter, open_run
from inspector.store.writer import connect
from inspector.study.executors import common
from inspector.study.grid import StudyKind
from inspector.study.runner import StudySpec, initial_model, load_study_data, run_study
from inspector.study.store import load_study

TINY_DATA = {"n_train": 64, "n_test": 32}


def tiny_spec(**over) -> StudySpec:
    kw = dict(
        kind=StudyKind.DEPTH,
        axes={
            "depth": [1, 3],
            "skip": ["none", "residual"],
            "norm": ["none"],
            "act": ["tanh"],
            "seed": [0],
        },
        model="plain_cnn",
        model_args={"width": 4},
        data_options=TINY_DATA,
        steps=3,
        batch_size=16,
        every=1,
        device="cpu",
    )
    kw.update(over)
    return StudySpec(**kw)


def test_plain_and_residual_start_from_the_same_weights():
    spec = tiny_spec()
    info = load_study_data(spec).info
    base = {"depth": 3, "norm": "none", "act": "tanh"}
    plain, _ = initial_model(spec, {**base, "skip": "none", "seed": 0}, info)
    residual, _ = initial_model(spec, {**base, "skip": "residual", "seed": 0}, info)
    other, _ = initial_model(spec, {**base, "skip": "none", "seed": 1}, info)
    a, b, c = plain.state_dict(), residual.state_dict(), other.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a), "another seed, other weights"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    study = run_study(tiny_spec(), root=root, jobs=1, quiet=True)
    return root, study


def test_every_cell_is_a_recorded_run_with_metrics(finished):
    root, study = finished
    assert len(study.cells) == 4
    assert all(c["status"] == "finished" for c in study.cells)
    stored = load_study(study.id, root)
    assert stored.to_dict() == study.to_dict()
    for cell in stored.cells:
        reader = open_run(cell["run_id"], root)
        assert reader.meta["study"] == study.id
        assert reader.meta["study_config"] == cell["config"]
        assert reader.status == "finished"
        m = cell["metrics"]
        assert m["final_loss"] > 0 and m["grad_ratio_init"] > 0 and m["params"] > 0
        assert len(m["act_std_init"]) >= cell["config"]["depth"] + 1  # stem, blocks (, stages)


def test_pairs_share_data_order_and_initial_weights(finished):
    """The stem is identical in both variants: same weights + same first batch -> same stats."""
    root, study = finished
    for depth in (1, 3):
        stats = []
        for skip in ("none", "residual"):
            cell = study.cell(
                {"depth": depth, "skip": skip, "norm": "none", "act": "tanh", "seed": 0}
            )
            reader = open_run(cell["run_id"], root)
            stats.append(
                (reader.at_step("act_mean", 0)["0.layer"], reader.at_step("act_std", 0)["0.layer"])
            )
        assert stats[0] == pytest.approx(stats[1], rel=1e-6)


def test_rerun_skips_finished_cells_and_redoes_failed_ones(finished, monkeypatch):
    root, study = finished
    calls = []
    real = common.run_cell
    monkeypatch.setattr(
        common, "run_cell", lambda task, callbacks=(): calls.append(task) or real(task, callbacks)
    )
    again = run_study(tiny_spec(), root=root, jobs=1, quiet=True)
    assert calls == [] and again.id == study.id
    # one cell failed (its run marked failed), as a crashed earlier attempt would leave it
    path = again.path
    data = json.loads(path.read_text())
    data["cells"][1]["status"] = "failed"
    failed_config = data["cells"][1]["config"]
    run_dir = root / data["cells"][1]["run_id"]
    RunWriter(run_dir, connect(run_dir / "run.sqlite")).set_status(RunStatus.FAILED)
    path.write_text(json.dumps(data))
    third = run_study(tiny_spec(), root=root, jobs=1, quiet=True)
    assert [t.config for t in calls] == [failed_config]
    assert all(c["status"] == "finished" for c in third.cells)
    assert len([d for d in root.iterdir() if d.name != "_studies"]) == 4, "no duplicate runs"


def test_a_failing_cell_is_recorded_and_redone_next_time(tmp_path, monkeypatch):
    real_train = inspector.train.train

    def flaky(model, data, config, **kw):
        if "d3-res" in kw["run"]:
            raise RuntimeError("simulated crash")
        return real_train(model, data, config, **kw)

    monkeypatch.setattr(inspector.train, "train", flaky)
    spec = tiny_spec(
        axes={
            "depth": [3],
            "skip": ["none", "residual"],
            "norm": ["none"],
            "act": ["tanh"],
            "seed": [0],
        }
    )
    study = run_study(spec, root=tmp_path, jobs=1, quiet=True)
    by_skip = {c["config"]["skip"]: c for c in study.cells}
    assert by_skip["none"]["status"] == "finished"
    assert by_skip["residual"]["status"] == "failed"
    assert "simulated crash" in by_skip["residual"]["error"]
    monkeypatch.setattr(inspector.train, "train", real_train)
    again = run_study(spec, root=tmp_path, jobs=1, quiet=True)
    assert all(c["status"] == "finished" and "error" not in c for c in again.cells)
    assert again.cell(by_skip["none"]["config"])["run_id"] == by_skip["none"]["run_id"]


def test_same_name_with_other_settings_is_refused(tmp_path):
    spec = tiny_spec(
        axes={"depth": [1], "skip": ["none"], "norm": ["none"], "act": ["tanh"], "seed": [0]},
        steps=1,
    )
    run_study(spec, root=tmp_path, name="mine", jobs=1, quiet=True)
    with pytest.raises(InspectorError, match="steps"):
        run_study(tiny_spec(axes=spec.axes, steps=2), root=tmp_path, name="mine", quiet=True)
