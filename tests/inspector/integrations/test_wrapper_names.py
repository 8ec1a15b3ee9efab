"""Wrapper prefixes (DDP ``module.``, torch.compile ``_orig_mod.``) never reach layer names."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inspector.recorder.selection import strip_wrapper_prefix, unwrap_model


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("module.fc.weight", "fc.weight"),
        ("_orig_mod.fc.weight", "fc.weight"),
        ("module._orig_mod.layer1.0.conv1", "layer1.0.conv1"),
        ("_orig_mod.module.fc", "fc"),
        ("layer1._orig_mod.conv", "layer1.conv"),
        ("module", ""),
        ("fc.module", "fc.module"),  # a child really called "module" below the top stays
        ("fc", "fc"),
    ],
)
def test_strip_wrapper_prefix(name: str, expected: str) -> None:
    assert strip_wrapper_prefix(name) == expected


def test_strip_keeps_a_real_leading_module_when_not_data_parallel() -> None:
    assert strip_wrapper_prefix("module.fc", data_parallel=False) == "module.fc"
    assert strip_wrapper_prefix("_orig_mod.module.fc", data_parallel=False) == "module.fc"


def test_unwrap_model_through_dataparallel_and_compile() -> None:
    inner = nn.Sequential(nn.Linear(3, 2))
    assert unwrap_model(inner) is inner
    assert unwrap_model(nn.DataParallel(inner)) is inner
    compiled = torch.compile(inner)  # wrapping only: nothing is compiled until it runs
    assert unwrap_model(compiled) is inner
    assert unwrap_model(torch.compile(nn.DataParallel(inner))) is inner


def test_null_recorder_offers_every_public_method_of_the_recorder(tmp_path) -> None:
    """Ranks that do not record get a NullRecorder: code written for rank 0 must run there."""
    import inspector
    from inspector.integrations.distributed import NullRecorder

    with inspector.watch(nn.Linear(2, 2), "api", root=tmp_path) as rec:
        public = {n for n in dir(rec) if not n.startswith("_")}
    null = NullRecorder(nn.Linear(2, 2))
    methods = {n for n in public if callable(getattr(rec, n))}
    assert methods <= set(dir(null))
    with null.paused():
        null.step(loss=1.0)
    null.use_scaler(None)
    null.close()
    assert null.step_index == 1 and null.hook_count == 0
