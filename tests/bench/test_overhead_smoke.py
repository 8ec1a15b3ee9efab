"""bench/overhead.py runs end to end with tiny settings (no timing is asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "overhead.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_overhead", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_overhead_bench_prints_a_markdown_table_with_peers(capsys):
    bench = load_bench()
    bench.main(["--models", "mlp", "--steps", "1", "--rounds", "1", "--peers", "--force"])
    out = capsys.readouterr().out
    assert "load average before" in out
    header = next(line for line in out.splitlines() if line.startswith("| model"))
    row = next(line for line in out.splitlines() if line.startswith("| 6-layer tanh MLP"))
    assert header.count("|") == row.count("|")
    assert "Inspector every step" in header and "steps)" in row
    for peer in bench.available_peers():
        assert {"wandb": "wandb.watch", "tensorboard": "TensorBoard"}[peer] in header


def test_unknown_model_is_one_clear_error(capsys):
    bench = load_bench()
    with pytest.raises(SystemExit):
        bench.main(["--models", "nope"])
    assert "unknown model" in capsys.readouterr().err


def test_memory_bench_reports_rss_and_store_size_per_layer_step(capsys):
    spec = importlib.util.spec_from_file_location("bench_memory", BENCH.with_name("memory.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--steps", "3", "--model", "mlp"])
    out = capsys.readouterr().out
    assert "peak RSS" in out and "KB per layer per step" in out
    assert "x 3 recorded steps" in out


def test_breakdown_bench_splits_the_recorder_time_and_restores_it(capsys):
    from inspector.recorder import hooks, param_tracker, recorder

    originals = (
        hooks._ModuleHook.__call__,
        recorder.Recorder._flush,
        param_tracker.ParamTracker.norms,
    )
    spec = importlib.util.spec_from_file_location(
        "bench_breakdown", BENCH.with_name("overhead_breakdown.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--models", "mlp", "--steps", "2", "--rounds", "1", "--force"])
    out = capsys.readouterr().out
    assert "load average before" in out
    for part in (*module.PARTS, "floor, one read", "floor + exact parameter norms", "every step"):
        assert part in out
    assert "writer thread CPU" in out
    # the timers are gone again: later recordings run the plain code
    now = (hooks._ModuleHook.__call__, recorder.Recorder._flush, param_tracker.ParamTracker.norms)
    assert now == originals
