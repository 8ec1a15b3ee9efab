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
