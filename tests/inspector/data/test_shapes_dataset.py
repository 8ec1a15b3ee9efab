"""shapes: determinism, output shapes, ground-truth masks, balance, and difficulty."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from inspector.data import load_data
from inspector.data.shapes import SHAPES, Shape, render_shapes, shape_mask
from inspector.errors import DataError

SMALL = {"n_train": 60, "n_test": 30}


def test_same_seed_same_tensors_different_seed_different():
    a = load_data("shapes", seed=3, **SMALL)
    b = load_data("shapes", seed=3, **SMALL)
    c = load_data("shapes", seed=4, **SMALL)
    for split in ("train", "test"):
        sa, sb, sc = getattr(a, split), getattr(b, split), getattr(c, split)
        assert torch.equal(sa.x, sb.x) and torch.equal(sa.y, sb.y)
        assert torch.equal(sa.masks, sb.masks)
        assert not torch.equal(sa.x, sc.x)
        assert not torch.equal(sa.masks, sc.masks)
    assert not torch.equal(a.train.x[:30], a.test.x)  # the splits are different images


def test_test_split_does_not_depend_on_n_train():
    a = load_data("shapes", seed=1, n_train=20, n_test=10)
    b = load_data("shapes", seed=1, n_train=40, n_test=10)
    assert torch.equal(a.test.masks, b.test.masks)
    assert torch.equal(a.test.y, b.test.y)


@pytest.mark.parametrize(
    ("channels", "size"), [(1, 28), (3, 28), (1, 32), (3, 32), (1, 64), (3, 64)]
)
def test_output_shapes_and_info(channels, size):
    bundle = load_data("shapes", seed=0, n_train=12, n_test=6, channels=channels, image_size=size)
    x, y = bundle.train[0]
    assert x.shape == (channels, size, size) and x.dtype == torch.float32
    assert y.dtype == torch.long
    assert bundle.train.x.shape == (12, channels, size, size)
    assert bundle.test.x.shape == (6, channels, size, size)
    assert bundle.train.masks.shape == (12, size, size) and bundle.train.masks.dtype == torch.bool
    info = bundle.info
    assert info.kind == "image" and info.has_masks
    assert info.num_classes == len(SHAPES) >= 6
    assert info.input_shape == (channels, size, size)
    assert info.model_kwargs() == {"in_channels": channels, "num_classes": 6, "image_size": size}


def test_inputs_are_normalised_with_train_statistics():
    bundle = load_data("shapes", seed=0, n_train=300, n_test=50, channels=3)
    x = bundle.train.x
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3)


@pytest.mark.parametrize("channels", [1, 3])
def test_mask_is_exactly_the_drawn_object_without_noise_or_clutter(channels):
    labels = torch.arange(36) % len(SHAPES)
    g = torch.Generator().manual_seed(7)
    img, masks = render_shapes(labels, 32, channels, noise=0.0, clutter=0, g=g)
    background = img[:, :, :1, :1]  # the corner pixel is never covered (1 px margin)
    differs = (img != background).any(dim=1)
    assert torch.equal(differs, masks)
    # and the object contrasts with the background by at least 0.3 in every channel
    contrast = (img - background).abs().amax(dim=(2, 3))
    assert bool((contrast >= 0.3 - 1e-6).all())


def test_masks_are_inside_the_image_and_non_empty():
    bundle = load_data("shapes", seed=5, n_train=200, n_test=50, image_size=28)
    for masks in (bundle.train.masks, bundle.test.masks):
        area = masks.flatten(1).sum(1)
        assert bool((area > 0).all())
        assert bool((area < 0.6 * 28 * 28).all())
        # nothing touches the border: the object lies fully inside the image
        assert not masks[:, 0, :].any() and not masks[:, -1, :].any()
        assert not masks[:, :, 0].any() and not masks[:, :, -1].any()


def test_clutter_and_noise_change_pixels_outside_the_mask():
    bundle = load_data("shapes", seed=0, n_train=50, n_test=10, noise=0.0, clutter=3)
    x, masks = bundle.train.x[:, 0], bundle.train.masks
    varied = 0
    for img, m in zip(x, masks, strict=True):
        varied += int(img[~m].unique().numel() > 1)  # more than a flat background
    assert varied > 25


def _point_in_polygon(px: np.ndarray, py: np.ndarray, verts: list[tuple[float, float]]):
    """Naive even-odd ray casting, the reference for the folded-angle polygon test."""
    inside = np.zeros(px.shape, dtype=bool)
    n = len(verts)
    for i in range(n):
        (x1, y1), (x2, y2) = verts[i], verts[(i + 1) % n]
        crosses = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (px < x_at)
    return inside


def _grid(n: int = 201):
    c = np.linspace(-1.1, 1.1, n)
    u, v = np.meshgrid(c, c)
    return u, v


@pytest.mark.parametrize(
    ("shape", "verts"),
    [
        (
            Shape.TRIANGLE,
            [(math.cos(a), math.sin(a)) for a in (0, 2 * math.pi / 3, 4 * math.pi / 3)],
        ),
        (
            Shape.STAR,
            [
                (
                    (1.0 if k % 2 == 0 else 0.42) * math.cos(k * math.pi / 5),
                    (1.0 if k % 2 == 0 else 0.42) * math.sin(k * math.pi / 5),
                )
                for k in range(10)
            ],
        ),
        (Shape.SQUARE, [(0.72, 0.72), (-0.72, 0.72), (-0.72, -0.72), (0.72, -0.72)]),
    ],
)
def test_polygon_masks_match_naive_point_in_polygon(shape, verts):
    u, v = _grid()
    ours = shape_mask(
        shape, torch.tensor(u, dtype=torch.float64), torch.tensor(v, dtype=torch.float64)
    )
    ref = _point_in_polygon(u, v, verts)
    disagree = (ours.numpy() != ref).mean()
    assert disagree < 0.002  # only points lying on an edge may differ


@pytest.mark.parametrize(
    ("shape", "area"),
    [
        (Shape.CIRCLE, math.pi * 0.85**2),
        (Shape.RING, math.pi * (0.95**2 - 0.5**2)),
        (Shape.CROSS, 2 * (0.56 * 1.9) - 0.56**2),
    ],
)
def test_round_and_cross_masks_have_the_analytic_area(shape, area):
    u, v = _grid(801)
    cell = (2.2 / 800) ** 2
    ours = shape_mask(shape, torch.tensor(u), torch.tensor(v)).sum().item() * cell
    assert ours == pytest.approx(area, rel=0.01)


def test_classes_are_balanced():
    bundle = load_data("shapes", seed=2, n_train=100, n_test=40)
    for y in (bundle.train.y, bundle.test.y):
        counts = torch.bincount(y, minlength=6)
        assert int(counts.max() - counts.min()) <= 1


def test_probe_batch_is_deterministic_with_aligned_masks():
    bundle = load_data("shapes", seed=0, **SMALL)
    x, y, masks = bundle.probe_batch(n=6, seed=0)
    x2, y2, masks2 = bundle.probe_batch(n=6, seed=0)
    assert torch.equal(x, x2) and torch.equal(y, y2) and torch.equal(masks, masks2)
    assert x.shape == (6, 1, 28, 28) and masks.shape == (6, 28, 28) and masks.dtype == torch.bool
    assert sorted(y.tolist()) == list(range(6))  # round-robin over classes
    for xi, yi, mi in zip(x, y, masks, strict=True):  # each row is a real test example
        j = int(torch.nonzero((bundle.test.x == xi).flatten(1).all(1))[0])
        assert int(bundle.test.y[j]) == int(yi) and torch.equal(bundle.test.masks[j], mi)
    other = bundle.probe_batch(n=6, seed=1)[0]
    assert not torch.equal(x, other)


def test_to_dict_is_json_and_reloads_the_same_data():
    bundle = load_data("shapes", seed=9, n_train=20, n_test=10, channels=3, image_size=32)
    d = json.loads(json.dumps(bundle.to_dict()))
    assert d["name"] == "shapes" and d["kind"] == "image" and d["seed"] == 9
    assert d["sizes"] == {"train": 20, "test": 10}
    again = load_data(d["name"], seed=d["seed"], **d["options"])
    assert torch.equal(again.train.x, bundle.train.x)


@pytest.mark.parametrize(
    "options",
    [{"image_size": 30}, {"channels": 2}, {"n_train": 0}, {"noise": -1}, {"colour": 1}],
)
def test_bad_options_are_clear_errors(options):
    with pytest.raises(DataError, match="shapes"):
        load_data("shapes", **options)


def _fit(model: nn.Module, bundle, steps: int = 150, lr: float = 0.01) -> float:
    """Adam written out (torch.optim's first use imports torch._dynamo: seconds on a busy CPU)."""
    g = torch.Generator().manual_seed(0)
    x, y = bundle.train.x, bundle.train.y
    params = list(model.parameters())
    m1 = [torch.zeros_like(p) for p in params]
    m2 = [torch.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        idx = torch.randint(0, len(y), (32,), generator=g)
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, a, b, grad in zip(params, m1, m2, grads, strict=True):
                a.mul_(0.9).add_(grad, alpha=0.1)
                b.mul_(0.999).addcmul_(grad, grad, value=0.001)
                p.sub_(lr * (a / (1 - 0.9**t)) / ((b / (1 - 0.999**t)).sqrt() + 1e-8))
    with torch.no_grad():
        return (model(bundle.test.x).argmax(1) == bundle.test.y).float().mean().item()


@pytest.fixture
def one_thread():
    """One intra-op thread: on a shared 2-core machine two threads spin-wait and run ~5x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_linear_model_does_clearly_worse_than_a_small_cnn(one_thread):
    bundle = load_data("shapes", seed=0, n_train=1200, n_test=300)
    torch.manual_seed(0)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 6))
    torch.manual_seed(0)
    cnn = nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2, padding=2),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveMaxPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 6),
    )
    acc_linear = _fit(linear, bundle)
    acc_cnn = _fit(cnn, bundle)
    assert acc_linear < 0.3  # near chance (1/6): position, scale and polarity defeat it
    assert acc_cnn > acc_linear + 0.15
