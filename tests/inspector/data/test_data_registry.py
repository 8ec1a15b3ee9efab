"""load_data / list_datasets: names, unknown names and options, and root resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.data import DataBundle, list_datasets, load_data, resolve_root
from inspector.errors import DataError, InspectorError


def test_list_datasets_names_every_kind():
    names = list_datasets()
    for expected in ("shapes", "sequence", "mnist", "fashion-mnist", "cifar10", "imagefolder:PATH"):
        assert expected in names


def test_unknown_name_lists_the_choices():
    with pytest.raises(DataError) as err:
        load_data("imagenet")
    msg = str(err.value)
    assert "imagenet" in msg and all(n in msg for n in list_datasets())
    assert isinstance(err.value, InspectorError)


def test_names_are_case_insensitive_and_bundles_pass_through():
    bundle = load_data("Shapes", n_train=6, n_test=6)
    assert isinstance(bundle, DataBundle) and bundle.info.name == "shapes"
    assert load_data(bundle) is bundle


def test_unknown_option_names_the_accepted_ones():
    with pytest.raises(DataError, match="accepts: channels, clutter, image_size"):
        load_data("shapes", size=28)


def test_root_resolution_order(monkeypatch, tmp_path):
    monkeypatch.setenv("INSPECTOR_DATA_ROOT", str(tmp_path))
    assert resolve_root("elsewhere") == Path("elsewhere")
    assert resolve_root(None) == tmp_path
    monkeypatch.delenv("INSPECTOR_DATA_ROOT")
    assert resolve_root(None) == Path("data")
