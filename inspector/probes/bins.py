"""Fixed histogram bin edges, shared by every layer and every step.

Histograms are only comparable across layers and steps if their edges never move, so the
edges are constants of the project (stored with each run as well):

* ``ACTIVATION_EDGES``: a signed log ("symlog") scale. Magnitudes from 1e-3 to 1e2 with 8
  bins per decade on each side, a central bin (-1e-3, 1e-3) that holds exact zeros, and one
  open-ended bin at each end. Activations of very different scales stay readable.
* ``LOG_MAGNITUDE_EDGES``: for gradients, bins of log10|g| from -12 to 2 in quarter decades,
  plus an open bin below (which also holds exact zeros, log10(0) = -inf) and above.

Each array holds the *interior* edges; a histogram has ``len(edges) + 1`` bins, the first
and last open-ended, so every finite element lands in exactly one bin.
"""

from __future__ import annotations

import numpy as np

# (log10 of the smallest magnitude, bins per decade, number of magnitude steps)
SYMLOG_LAYOUT = (-3.0, 8.0, 40)
SYMLOG_SMALL = 10.0 ** SYMLOG_LAYOUT[0]
# (lowest log10 edge, bins per decade, index of the last interior edge)
LOG_ABS_LAYOUT = (-12.0, 4.0, 56)

_MAGNITUDES = 10.0 ** (SYMLOG_LAYOUT[0] + np.arange(SYMLOG_LAYOUT[2] + 1) / SYMLOG_LAYOUT[1])
ACTIVATION_EDGES: np.ndarray = np.concatenate([-_MAGNITUDES[::-1], _MAGNITUDES])
LOG_MAGNITUDE_EDGES: np.ndarray = (
    LOG_ABS_LAYOUT[0] + np.arange(LOG_ABS_LAYOUT[2] + 1) / LOG_ABS_LAYOUT[1]
)

ACTIVATION_BINS = len(ACTIVATION_EDGES) + 1
LOG_MAGNITUDE_BINS = len(LOG_MAGNITUDE_EDGES) + 1


def edges_for(kind: str) -> np.ndarray:
    """Interior edges of the histogram kind: ``"value"`` (symlog) or ``"log_abs"``."""
    if kind == "value":
        return ACTIVATION_EDGES
    if kind == "log_abs":
        return LOG_MAGNITUDE_EDGES
    raise ValueError(f"unknown histogram scale {kind!r}")


def bin_labels(kind: str) -> list[str]:
    """Human-readable label of each bin, for axes and CSV headers."""
    edges = edges_for(kind)
    fmt = "{:.3g}".format
    labels = [f"< {fmt(edges[0])}"]
    labels += [f"[{fmt(a)}, {fmt(b)})" for a, b in zip(edges[:-1], edges[1:])]
    labels.append(f">= {fmt(edges[-1])}")
    return labels


def bin_centers(kind: str) -> np.ndarray:
    """A representative value per bin (open bins get the edge value), for plotting."""
    edges = edges_for(kind)
    mids = (edges[:-1] + edges[1:]) / 2.0
    return np.concatenate([[edges[0]], mids, [edges[-1]]])
