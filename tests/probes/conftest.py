"""Summaries have two implementations: the C kernels (CPU) and the eager torch kernels (the
CUDA path, and the CPU fallback without a C compiler). Modules that mark themselves with
``pytestmark = pytest.mark.usefixtures("both_summary_paths")`` run every test on both."""

from __future__ import annotations

import pytest

from inspector.probes import native


@pytest.fixture(params=["c", "eager"])
def both_summary_paths(request, monkeypatch):
    if request.param == "c" and native.library() is None:
        pytest.skip(f"C kernels unavailable: {native.unavailable_reason}")
    if request.param == "eager":
        monkeypatch.setattr(native, "usable", lambda t: False)
        monkeypatch.setattr(native, "usable_1d", lambda t: False)
    return request.param
