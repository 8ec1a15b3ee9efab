"""Cached access to runs and studies for the views.

Readers are shared resources keyed by run folder; query results and figures are cached by
(run folder, version) where the version is the database files' mtimes, so a running run's
charts refresh as it writes and a finished run's charts are computed once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from inspector import figures
from inspector.errors import StoreError
from inspector.figures.access import bn_layers
from inspector.figures.kernels import kernel_layers, kernel_steps
from inspector.figures.receptive_field import erf_layers, receptive_field_applies
from inspector.figures.saliency import blank_methods, saliency_methods, saliency_summary
from inspector.figures.tables import architecture_totals, findings
from inspector.store import RunReader, list_runs, runs_root
from inspector.store.schema import DB_NAME
from inspector.study.store import list_studies


def root() -> Path:
    """The runs root: $INSPECTOR_RUNS_ROOT (the launcher sets it) or ./runs."""
    return runs_root()


def run_version(path: str | Path) -> float:
    """Changes whenever the run's database changes (WAL writes included)."""
    base = Path(path) / DB_NAME
    stamps = []
    for p in (base, base.with_name(DB_NAME + "-wal")):
        try:
            st_ = p.stat()
            stamps.append(st_.st_mtime_ns + st_.st_size)
        except OSError:
            continue
    return float(max(stamps, default=0))


@st.cache_resource(show_spinner=False, max_entries=64)
def _reader(path: str) -> RunReader:
    return RunReader(path)


def reader(path: str | Path) -> RunReader:
    return _reader(str(path))


@st.cache_data(show_spinner=False, ttl=3)
def runs(root_dir: str) -> list[dict]:
    """Summaries of every run under the root (short ttl: new runs appear on their own)."""
    return [s.to_dict() for s in list_runs(root_dir)]


def status(path: str | Path) -> str:
    """The run's current status, read fresh (live runs change it)."""
    try:
        return reader(path).status
    except StoreError:
        return "unreadable"


HELPERS: dict[str, Callable[..., Any]] = {
    "kernel_layers": kernel_layers,
    "kernel_steps": kernel_steps,
    "erf_layers": erf_layers,
    "receptive_field_applies": receptive_field_applies,
    "saliency_summary": saliency_summary,
    "saliency_methods": saliency_methods,
    "blank_methods": blank_methods,
    "bn_layers": bn_layers,
    "findings": findings,
    "architecture_totals": architecture_totals,
    "comparable": lambda r: (r.scalar_names(), r.stat_names()),
    "meta": lambda r: r.meta,
    "module_layers": lambda r: [lay.name for lay in r.layers(role="module")],
}


@st.cache_data(show_spinner=False, max_entries=1024)
def _call(kind: str, name: str, path: str, version: float, args: tuple, kwargs: tuple) -> Any:
    """One cached call; ``version`` is only part of the cache key."""
    r, kw = reader(path), dict(kwargs)
    if kind == "figures":
        return getattr(figures, name)(r, *args, **kw)
    if kind == "helpers":
        return HELPERS[name](r, *args, **kw)
    return getattr(r, name)(*args, **kw)


def _key(kwargs: dict) -> tuple:
    return tuple(sorted(kwargs.items()))


def figure(name: str, path: str | Path, *args: Any, **kwargs: Any) -> Any:
    """``inspector.figures.<name>(reader, *args, **kwargs)``, cached per run version."""
    return _call("figures", name, str(path), run_version(path), args, _key(kwargs))


def query(name: str, path: str | Path, *args: Any, **kwargs: Any) -> Any:
    """``RunReader.<name>(*args)`` (steps, layers, array names...), cached per run version."""
    return _call("reader", name, str(path), run_version(path), args, _key(kwargs))


def helper(name: str, path: str | Path, *args: Any, **kwargs: Any) -> Any:
    """A reader helper from the figure modules (``HELPERS``), cached per run version."""
    return _call("helpers", name, str(path), run_version(path), args, _key(kwargs))


@st.cache_data(show_spinner=False, max_entries=128)
def _multi(name: str, keyed: tuple, args: tuple) -> Any:
    readers = {label: reader(path) for label, path, _ in keyed}
    return getattr(figures, name)(readers, *args)


def compare_figure(paths: dict[str, str], stat: str, *options: Any) -> Any:
    """``figures.compare_runs(readers, stat, *options)``, cached per runs' versions."""
    keyed = tuple((label, str(p), run_version(p)) for label, p in paths.items())
    return _multi("compare_runs", keyed, (stat, *options))


@st.cache_data(show_spinner=False, max_entries=64)
def _study_curves(study: dict, keyed: tuple, scalar: str) -> Any:
    readers = {label: reader(path) for label, path, _ in keyed}
    return figures.study_curves(study, readers, scalar)


def study_curves(study: dict, paths: dict[str, str], scalar: str) -> Any:
    keyed = tuple((run_id, str(p), run_version(p)) for run_id, p in paths.items())
    return _study_curves(study, keyed, scalar)


def studies(root_dir: str) -> list[dict]:
    """Study documents (RECORDS.md format) under the runs root, oldest first."""
    folder = Path(root_dir) / "_studies"
    stamps = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in folder.glob("*/study.json")))
    return _studies(root_dir, stamps)


@st.cache_data(show_spinner=False, max_entries=16)
def _studies(root_dir: str, stamps: tuple) -> list[dict]:
    """``stamps`` (study files and their mtimes) is only part of the cache key."""
    return [{**s.to_dict(), "path": str(s.path)} for s in list_studies(root_dir)]
