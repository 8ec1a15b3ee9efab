"""Views take their selections of statistics from the catalogue, never from lists of their own.

A figure may read the one statistic it draws by name (``reader.series("bn_mean_gap")``), but
a list, tuple, set or dict of statistic names in a view, figure or report file is a copy of
the catalogue that a new statistic would have to be added to by hand: those selections live
on the ``StatSpec`` (``shown``, ``rank``, ``short``, ``absent``) and come from ``showcase``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from inspector.store.stats import STATS, Showcase, absent_note, short_title, showcase

REPO = Path(__file__).resolve().parents[2]
VIEW_PACKAGES = ("inspector/dashboard", "inspector/figures", "inspector/report")


def _stat_names_in(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Dict):
        items = [*node.keys, *node.values]
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = list(node.elts)
    else:
        return []
    return [
        i.value
        for i in items
        if isinstance(i, ast.Constant) and isinstance(i.value, str) and i.value in STATS
    ]


def test_no_view_file_lists_statistic_names() -> None:
    files = [p for pkg in VIEW_PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))]
    assert len(files) > 30
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = _stat_names_in(node)
            if names:
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {names}")
    assert not found, "statistic names listed outside the catalogue:\n" + "\n".join(found)


def test_the_check_catches_a_literal_list() -> None:
    tree = ast.parse('PREFERRED = ["loss", "grad_norm"]\nX = {"dead_frac": "dead"}')
    hits = [n for node in ast.walk(tree) for n in _stat_names_in(node)]
    assert hits == ["grad_norm", "dead_frac"]


def test_every_showcase_is_filled_with_catalogued_statistics() -> None:
    for which in Showcase:
        names = showcase(which)
        assert names, which
        assert all(name in STATS for name in names)
        ranks = [STATS[n].rank for n in names]
        assert ranks == sorted(ranks), which


def test_the_fraction_views_show_fractions_with_a_short_label() -> None:
    for name in showcase(Showcase.FRACTIONS):
        assert STATS[name].fraction
        assert short_title(name) != STATS[name].title  # tabs need the short label
        assert absent_note(name)


def test_the_views_use_the_showcases() -> None:
    from inspector.dashboard import activations, compare, gradient_flow
    from inspector.report import comparison, run_data

    assert activations.FRACTIONS == showcase(Showcase.FRACTIONS)
    assert compare.PREFERRED[-len(showcase(Showcase.COMPARE)) :] == showcase(Showcase.COMPARE)
    assert gradient_flow.HEATMAP_STATS == showcase(Showcase.GRADIENT_HEATMAP)
    assert run_data.LAYER_TABLE_STATS == showcase(Showcase.LAYER_TABLE)
    assert set(showcase(Showcase.REPORT_COMPARE)) <= set(comparison.COMPARE_STATS)
