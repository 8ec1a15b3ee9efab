"""imagefolder:PATH on PNGs written here: sizes, a fixed stratified split, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inspector.data import load_data
from inspector.data.imagefolder import stratified_split
from inspector.errors import DataError


def _write_pngs(root: Path, classes: dict[str, int], size=(20, 14)) -> Path:
    rng = np.random.default_rng(0)
    for name, count in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


@pytest.fixture
def folder(tmp_path):
    return _write_pngs(tmp_path / "pics", {"cat": 5, "dog": 10, "eel": 4})


def test_loads_resized_images_with_class_names(folder):
    bundle = load_data(f"imagefolder:{folder}", image_size=16)
    info = bundle.info
    assert info.class_names == ("cat", "dog", "eel") and info.num_classes == 3
    assert info.input_shape == (3, 16, 16) and info.kind == "image" and not info.has_masks
    assert len(bundle.train) + len(bundle.test) == 19
    x, y = bundle.train[0]
    assert x.shape == (3, 16, 16) and x.dtype == torch.float32 and 0 <= int(y) < 3
    assert float(x.min()) >= -1.0 - 1e-6 and float(x.max()) <= 1.0 + 1e-6


def test_default_size_is_32_and_grey_is_one_channel(folder):
    assert load_data(f"imagefolder:{folder}").train[0][0].shape == (3, 32, 32)
    grey = load_data(f"imagefolder:{folder}", channels=1, image_size=8)
    assert grey.train[0][0].shape == (1, 8, 8)
    assert grey.info.model_kwargs() == {"in_channels": 1, "num_classes": 3, "image_size": 8}


def test_split_is_deterministic_stratified_and_ignores_the_training_seed(folder):
    a = load_data(f"imagefolder:{folder}", seed=0, test_fraction=0.25)
    b = load_data(f"imagefolder:{folder}", seed=7, test_fraction=0.25)
    assert torch.equal(a.test.indices, b.test.indices)
    assert torch.equal(a.test.y.bincount(minlength=3), torch.tensor([1, 2, 1]))
    assert set(a.train.indices.tolist()).isdisjoint(a.test.indices.tolist())
    c = load_data(f"imagefolder:{folder}", split_seed=1, test_fraction=0.25)
    assert not torch.equal(a.test.indices, c.test.indices)


def test_stratified_split_keeps_one_image_per_class_on_each_side():
    labels = torch.tensor([0, 0, 1, 1, 1, 2])
    train, test = stratified_split(labels, 0.01, seed=0)
    assert sorted(labels[test].tolist()) == [0, 1]  # class 2 has a single image: train only
    assert sorted(torch.cat([train, test]).tolist()) == list(range(6))


def test_probe_batch_and_to_dict(folder):
    bundle = load_data(f"imagefolder:{folder}", image_size=16)
    x, y, masks = bundle.probe_batch(n=3)
    assert x.shape == (3, 3, 16, 16) and masks is None and sorted(y.tolist()) == [0, 1, 2]
    d = bundle.to_dict()
    assert d["source"] == str(folder.resolve()) and d["options"]["image_size"] == 16


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        load_data(f"imagefolder:{tmp_path / 'nowhere'}")
    with pytest.raises(DataError, match="needs a path"):
        load_data("imagefolder:")


def test_folder_without_images_is_a_clear_error(tmp_path):
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    (tmp_path / "empty" / "dog").mkdir()
    (tmp_path / "empty" / "dog" / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="no images found"):
        load_data(f"imagefolder:{tmp_path / 'empty'}")
    (tmp_path / "flat").mkdir()
    with pytest.raises(DataError, match="no images found"):
        load_data(f"imagefolder:{tmp_path / 'flat'}")


def test_single_class_is_a_clear_error(tmp_path):
    root = _write_pngs(tmp_path / "one", {"only": 3})
    with pytest.raises(DataError, match="at least 2"):
        load_data(f"imagefolder:{root}")
