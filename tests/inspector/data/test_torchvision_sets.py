"""mnist / fashion-mnist / cifar10: one clear error offline, no download unless asked, and a
local copy (tiny MNIST files written here) loads. No test touches the network."""

from __future__ import annotations

import struct
from pathlib import Path
from urllib.error import URLError

import pytest
import torch

from inspector.data import load_data
from inspector.errors import DataError


@pytest.fixture
def no_network(monkeypatch):
    """Fail loudly if anything tries to download."""
    import torchvision.datasets.mnist as tv_mnist
    import torchvision.datasets.utils as tv_utils

    def refuse(*_a, **_k):
        raise AssertionError("tried to download without download=True")

    for mod in (tv_utils, tv_mnist):
        for name in ("download_url", "download_and_extract_archive"):
            if hasattr(mod, name):
                monkeypatch.setattr(mod, name, refuse)
    import torchvision.datasets.cifar as tv_cifar

    monkeypatch.setattr(tv_cifar, "download_and_extract_archive", refuse, raising=False)


@pytest.mark.parametrize(
    ("name", "folder"),
    [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST"), ("cifar10", "cifar-10-batches-py")],
)
def test_missing_copy_is_one_clear_error_without_download(tmp_path, no_network, name, folder):
    with pytest.raises(DataError) as err:
        load_data(name, root=tmp_path)
    msg = str(err.value)
    assert str((tmp_path / folder).resolve()) in msg
    assert "--data-root" in msg and "--download" in msg
    assert "\n" not in msg


def test_root_defaults_to_the_environment_variable(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("INSPECTOR_DATA_ROOT", str(tmp_path / "shared"))
    with pytest.raises(DataError, match=str(tmp_path / "shared")):
        load_data("mnist")


def test_root_defaults_to_data_in_the_working_folder(tmp_path, monkeypatch, no_network):
    monkeypatch.delenv("INSPECTOR_DATA_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=str((tmp_path / "data" / "MNIST").resolve())):
        load_data("mnist")


def test_failed_download_becomes_the_same_kind_of_error(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    def offline(self):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(tvd.MNIST, "download", offline)
    with pytest.raises(DataError) as err:
        load_data("mnist", root=tmp_path, download=True)
    msg = str(err.value)
    assert "could not download mnist" in msg and "name resolution" in msg
    assert str(tmp_path.resolve()) in msg and "--data-root" in msg


def _write_idx(path: Path, data: torch.Tensor) -> None:
    """The MNIST idx format: magic (0, 0, 0x08 = uint8, ndim), big-endian sizes, raw bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, data.dim())
    header += b"".join(struct.pack(">I", s) for s in data.shape)
    path.write_bytes(header + data.to(torch.uint8).numpy().tobytes())


@pytest.fixture
def tiny_mnist(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    for prefix, n in (("train", 40), ("t10k", 20)):
        images = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.int64)
        labels = torch.arange(n) % 10
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return tmp_path


def test_local_copy_loads_with_options(tiny_mnist, no_network):
    bundle = load_data("mnist", root=tiny_mnist)
    assert len(bundle.train) == 40 and len(bundle.test) == 20
    x, y = bundle.train[3]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32 and int(y) == 3
    assert bundle.info.num_classes == 10 and bundle.info.input_shape == (1, 28, 28)
    assert not bundle.info.has_masks

    small = load_data("mnist", root=tiny_mnist, n_train=10, n_test=5, channels=3, image_size=32)
    x, _ = small.train[0]
    assert x.shape == (3, 32, 32) and len(small.train) == 10 and len(small.test) == 5
    assert small.info.model_kwargs() == {"in_channels": 3, "num_classes": 10, "image_size": 32}
    px, py, masks = small.probe_batch(n=4)
    assert px.shape == (4, 3, 32, 32) and masks is None and len(set(py.tolist())) == 4
    assert small.to_dict()["source"] == str((tiny_mnist / "MNIST").resolve())


def test_normalisation_uses_the_training_images(tiny_mnist):
    bundle = load_data("mnist", root=tiny_mnist)
    xs = torch.stack([bundle.train[i][0] for i in range(len(bundle.train))])
    assert abs(xs.mean().item()) < 1e-4 and xs.std().item() == pytest.approx(1.0, abs=1e-3)


def test_unknown_option_is_a_clear_error(tiny_mnist):
    with pytest.raises(DataError, match="noise"):
        load_data("mnist", root=tiny_mnist, noise=0.1)
