"""Rank options outside a distributed job: a bad value is one clear error, "all" is one run."""

from __future__ import annotations

import pytest
from torch import nn

import inspector
from inspector.errors import InspectorError
from inspector.integrations.distributed import RankInfo, plan_ranks, rank_info


def test_bad_ranks_value_is_refused_before_any_folder(tmp_path) -> None:
    with pytest.raises(InspectorError, match="ranks='odd'"):
        with inspector.watch(nn.Linear(2, 2), "x", root=tmp_path, ranks="odd"):
            pass
    assert not list(tmp_path.iterdir())


def test_single_process_records_as_usual_with_either_setting(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert rank_info() is None
    for ranks in ("main", "all"):
        with inspector.watch(nn.Linear(2, 2), f"solo-{ranks}", root=tmp_path, ranks=ranks) as rec:
            rec.step()
        meta = inspector.open_run(rec.writer.dir).meta
        assert meta["name"] == f"solo-{ranks}" and "rank" not in meta


def test_torchrun_environment_without_process_group_gates_on_rank(monkeypatch) -> None:
    """Launched by torchrun but watch() called before init_process_group: RANK decides."""
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "2")
    assert rank_info() == RankInfo(2, 4)
    plan = plan_ranks(nn.Linear(2, 2), "r", "main")
    assert not plan.records and plan.meta == {"rank": 2, "world_size": 4}
    with pytest.raises(InspectorError, match="init_process_group"):
        plan_ranks(nn.Linear(2, 2), "r", "all")
