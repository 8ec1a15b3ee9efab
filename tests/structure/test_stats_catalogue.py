"""The statistics catalogue and docs/STORE.md name the same statistics; the catalogue stays torch-free."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from inspector.store.stats import HISTOGRAMS, STATS, stat_spec, summary_stat_names

REPO = Path(__file__).resolve().parents[2]


def documented_stats() -> set[str]:
    """Statistic names in the 'Statistics' section of docs/STORE.md."""
    text = (REPO / "docs" / "STORE.md").read_text()
    section = text.split("## Statistics", 1)[1].split("\nScalars:", 1)[0]
    found = set()
    for token in re.findall(r"`([^`]+)`", section):
        found.update(t for t in token.split() if re.fullmatch(r"[a-z]+(_[a-z]+)*", t))
    return found


def test_docs_and_catalogue_agree() -> None:
    documented = documented_stats()
    assert documented == set(STATS), (
        f"in docs only: {sorted(documented - set(STATS))}; "
        f"in catalogue only: {sorted(set(STATS) - documented)}"
    )


def test_histogram_kinds_documented() -> None:
    text = (REPO / "docs" / "STORE.md").read_text()
    for kind in HISTOGRAMS:
        assert f"'{kind}'" in text


def test_summary_names_are_catalogued() -> None:
    for prefix in ("act", "grad", "in"):
        for name in summary_stat_names(prefix):
            assert name in STATS
    assert stat_spec("update_ratio").log_axis
    assert stat_spec("act_sat_frac").fraction
    assert stat_spec("no_such_stat").title == "no such stat"


def test_catalogue_does_not_import_torch() -> None:
    code = "import sys, inspector.store.stats; assert 'torch' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_recorder_writes_exactly_the_catalogued_names(tmp_path: Path) -> None:
    """A real recorded run stores only catalogued statistics, and every summary's full set."""
    import torch
    from torch import nn

    import inspector

    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten())
    model.append(nn.Linear(4 * 6 * 6, 3)).append(nn.Tanh())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with inspector.watch(model, run="names", root=tmp_path, every=1) as rec:
        for _ in range(2):
            loss = model(torch.randn(8, 1, 8, 8)).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.step(loss=loss)
    stored = set(inspector.open_run(tmp_path / "names").stat_names())
    assert stored <= set(STATS), sorted(stored - set(STATS))
    expected = set(summary_stat_names("act") + summary_stat_names("grad"))
    expected |= set(summary_stat_names("in")) | {"act_sat_frac", "dead_frac", "calls"}
    expected |= {"bn_mean_gap", "bn_var_gap", "w_norm", "update_ratio", "g_norm"}
    assert expected <= stored, sorted(expected - stored)
