"""The loss-spike rule: a loss that jumps far above its start and comes back."""

from __future__ import annotations

import numpy as np

import inspector
from inspector.diagnosis import Thresholds, diagnose_run
from inspector.store import RunWriter


def loss_run(tmp_path, name: str, losses: np.ndarray):
    w = RunWriter.create(name, root=tmp_path)
    w.write_scalars([("loss", i, float(v)) for i, v in enumerate(losses)])
    w.close()
    return inspector.open_run(tmp_path / name)


def test_spike_that_recovers_is_flagged(tmp_path):
    # resnet18 at SGD lr 0.05 on shapes did this: 1.85 -> 9.3 at step 21 -> back to ~1.8
    losses = np.concatenate(
        [
            [1.85, 2.87, 3.79, 5.95, 7.61],
            np.linspace(4.4, 9.3, 17),
            np.linspace(9.3, 1.8, 20),
            np.full(38, 1.77),
        ]
    )
    d = diagnose_run(loss_run(tmp_path, "spiky", losses))
    spikes = d.by_rule("loss_spike")
    assert len(spikes) == 1 and spikes[0].severity == "warning"
    ev = spikes[0].evidence
    assert ev["start"] == 1.85 and ev["peak"] == 9.3 and ev["peak_step"] == 21
    assert "learning rate" in spikes[0].fix.lower()


def test_smoothly_decreasing_loss_is_not_a_spike(tmp_path):
    rng = np.random.default_rng(0)
    losses = np.linspace(1.8, 0.4, 80) * (1 + 0.1 * rng.standard_normal(80))
    assert not diagnose_run(loss_run(tmp_path, "smooth", losses)).by_rule("loss_spike")


def test_threshold_is_configurable_and_divergence_is_not_double_counted(tmp_path):
    losses = np.concatenate([np.full(10, 1.0), np.full(5, 2.5), np.full(25, 0.9)])
    reader = loss_run(tmp_path, "bump", losses)
    assert not diagnose_run(reader).by_rule("loss_spike")  # 2.5x < 3x
    assert diagnose_run(reader, Thresholds(loss_spike=2.0)).by_rule("loss_spike")
    rising = loss_run(tmp_path, "rising", np.geomspace(1.0, 50.0, 40))
    d = diagnose_run(rising)
    assert d.by_rule("loss_diverging") and not d.by_rule("loss_spike")
