"""Fixtures shared across the test packages."""

from __future__ import annotations

import pytest


@pytest.fixture
def one_torch_thread():
    """2 shared cores: more torch threads only spin against each other. Opt in with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
