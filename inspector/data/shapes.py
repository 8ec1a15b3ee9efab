"""``shapes``: the embedded default dataset, generated (never downloaded) in well under a second.

Each image holds one object (circle, square, triangle, cross, ring or star) at a random
position, scale, rotation and colour, drawn over a random background with clutter (thin lines
and soft blobs that are not the object) and pixel noise. The object's exact pixel mask comes
with every image, so saliency maps can be scored against the ground truth. Position, scale
and colour polarity vary, so a linear model on raw pixels does clearly worse than a small CNN.

Everything is rendered with vectorised torch ops from a seeded ``torch.Generator``: the same
seed and options always give the same tensors.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import torch

from inspector.data.bundle import DataBundle, DataInfo, TensorPairs
from inspector.data.options import check_known, choice_option, float_option, int_option


class Shape(StrEnum):
    CIRCLE = "circle"
    SQUARE = "square"
    TRIANGLE = "triangle"
    CROSS = "cross"
    RING = "ring"
    STAR = "star"


SHAPES: tuple[Shape, ...] = tuple(Shape)
IMAGE_SIZES = (28, 32, 64)


@dataclass(frozen=True)
class ShapesConfig:
    """Options of the ``shapes`` dataset (``--data-arg key=value``)."""

    n_train: int = 2000
    n_test: int = 500
    image_size: int = 28
    channels: int = 1
    noise: float = 0.1  # std of Gaussian pixel noise, pixel values in [0, 1]
    clutter: int = 3  # at most this many clutter items (lines and blobs) per image

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ShapesConfig:
        check_known("shapes", options, cls.__dataclass_fields__)
        d = {**asdict(cls()), **options}
        return cls(
            n_train=int_option("shapes", "n_train", d["n_train"], 1, 1_000_000),
            n_test=int_option("shapes", "n_test", d["n_test"], 1, 1_000_000),
            image_size=choice_option("shapes", "image_size", d["image_size"], IMAGE_SIZES),
            channels=choice_option("shapes", "channels", d["channels"], (1, 3)),
            noise=float_option("shapes", "noise", d["noise"], 0.0, 1.0),
            clutter=int_option("shapes", "clutter", d["clutter"], 0, 20),
        )


def _polygon(rho: torch.Tensor, phi: torch.Tensor, n: int, inner: float) -> torch.Tensor:
    """Inside a regular n-pointed polygon/star: outer radius 1, inner (mid-edge) radius ``inner``.

    Fold the angle into one half-sector [0, pi/n]; there the shape is the triangle between the
    origin, the outer vertex A=(1, 0) and the inner point B at angle pi/n.
    """
    half = math.pi / n
    folded = torch.remainder(phi, 2 * half)
    folded = torch.minimum(folded, 2 * half - folded)
    px, py = rho * torch.cos(folded), rho * torch.sin(folded)
    dx, dy = inner * math.cos(half) - 1.0, inner * math.sin(half)
    return dx * py - dy * (px - 1.0) >= 0  # same side of AB as the origin


def shape_mask(shape: Shape, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Pixels inside ``shape`` given coordinates in the object's frame (radius 1, centred)."""
    rho = torch.sqrt(u * u + v * v)
    phi = torch.atan2(v, u)
    if shape is Shape.CIRCLE:
        return rho <= 0.85
    if shape is Shape.RING:
        return (rho <= 0.95) & (rho >= 0.5)
    if shape is Shape.SQUARE:
        return torch.maximum(u.abs(), v.abs()) <= 0.72
    if shape is Shape.TRIANGLE:
        return _polygon(rho, phi, 3, math.cos(math.pi / 3))
    if shape is Shape.STAR:
        return _polygon(rho, phi, 5, 0.42)
    if shape is Shape.CROSS:
        au, av = u.abs(), v.abs()
        return ((au <= 0.28) & (av <= 0.95)) | ((av <= 0.28) & (au <= 0.95))
    raise ValueError(f"unknown shape {shape!r}")


def _uniform(g: torch.Generator, n: int, low: float, high: float, *shape: int) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, *shape, generator=g)


def _contrasting(g: torch.Generator, bg: torch.Tensor) -> torch.Tensor:
    """A colour differing from ``bg`` by 0.3-0.5 in every channel, brighter or darker at random.

    max(b, 1-b) >= 0.5 always leaves room on one side, so the result stays in [0, 1].
    """
    step = 0.3 + 0.2 * torch.rand(bg.shape, generator=g)
    sign = torch.where(torch.rand(bg.shape, generator=g) < 0.5, -1.0, 1.0)
    out = bg + sign * step
    flipped = bg - sign * step
    return torch.where((out < 0) | (out > 1), flipped, out)


def _line(xs, ys, x0, y0, x1, y1, width) -> torch.Tensor:
    """1 on pixels within ``width`` of the segment (x0, y0)-(x1, y1), else 0."""
    dx, dy = x1 - x0, y1 - y0
    rx, ry = xs - x0, ys - y0
    t = ((rx * dx + ry * dy) / (dx * dx + dy * dy + 1e-6)).clamp_(0, 1)
    return (torch.hypot(rx - t * dx, ry - t * dy) <= width).float()


def _blob(xs, ys, x0, y0, sigma) -> torch.Tensor:
    """A soft Gaussian spot, 1 at its centre (separable: one full-size product)."""
    scale = -0.5 / (sigma * sigma)
    return torch.exp((xs - x0) ** 2 * scale) * torch.exp((ys - y0) ** 2 * scale)


def render_shapes(
    labels: torch.Tensor,
    image_size: int,
    channels: int,
    noise: float,
    clutter: int,
    g: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw one object per label; return images (N, C, S, S) in about [0, 1] and masks (N, S, S).

    Order of drawing: background colour, clutter, the object (on top), then noise; the mask is
    exactly the pixels the object covers.
    """
    n, s = len(labels), image_size
    coords = torch.arange(s, dtype=torch.float32) + 0.5
    ys, xs = coords.view(1, s, 1), coords.view(1, 1, s)

    bg = torch.rand(n, channels, generator=g)
    img = bg.view(n, channels, 1, 1).expand(n, channels, s, s).clone()

    # clutter: up to `clutter` items, each a thin line or a soft blob in a contrasting colour;
    # each item is drawn only on the images that have it (about a quarter of the work)
    count = torch.randint(0, clutter + 1, (n,), generator=g)
    for k in range(clutter):
        colour = _contrasting(g, bg).view(n, channels, 1, 1)
        is_line = torch.rand(n, generator=g) < 0.6
        x0, y0, x1, y1 = (_uniform(g, n, 0, s).view(n, 1, 1) for _ in range(4))
        width = _uniform(g, n, 0.5, 1.0).view(n, 1, 1)
        sigma = _uniform(g, n, 0.04 * s, 0.08 * s).view(n, 1, 1)
        lines = torch.nonzero((count > k) & is_line).flatten()
        blobs = torch.nonzero((count > k) & ~is_line).flatten()
        if len(lines):
            alpha = _line(xs, ys, x0[lines], y0[lines], x1[lines], y1[lines], width[lines])
            img[lines] = torch.lerp(img[lines], colour[lines], alpha.unsqueeze(1))
        if len(blobs):
            alpha = _blob(xs, ys, x0[blobs], y0[blobs], sigma[blobs])
            img[blobs] = torch.lerp(img[blobs], colour[blobs], alpha.unsqueeze(1))

    # the object: random scale, centre (fully inside the image), rotation and colour
    radius = _uniform(g, n, 0.2 * s, 0.4 * s).view(n, 1, 1)
    cx = radius + 1 + torch.rand(n, 1, 1, generator=g) * (s - 2 * radius - 2)
    cy = radius + 1 + torch.rand(n, 1, 1, generator=g) * (s - 2 * radius - 2)
    theta = _uniform(g, n, 0, 2 * math.pi).view(n, 1, 1)
    cos, sin = torch.cos(theta), torch.sin(theta)
    # object-frame coordinates; row and column terms are formed small, then broadcast once
    rx, ry = (xs - cx) / radius, (ys - cy) / radius
    u = rx * cos + ry * sin
    v = ry * cos - rx * sin
    masks = torch.zeros(n, s, s, dtype=torch.bool)
    for index, shape in enumerate(SHAPES):
        sel = labels == index
        if sel.any():
            masks[sel] = shape_mask(shape, u[sel], v[sel])
    colour = _contrasting(g, bg).view(n, channels, 1, 1)
    img = torch.where(masks.unsqueeze(1), colour, img)

    if noise > 0:
        img.add_(torch.randn(img.shape, generator=g).mul_(noise))
    return img, masks


def _balanced_labels(n: int, classes: int, g: torch.Generator) -> torch.Tensor:
    labels = torch.arange(n) % classes
    return labels[torch.randperm(n, generator=g)]


def _split(cfg: ShapesConfig, n: int, seed: int, split: int) -> tuple[torch.Tensor, ...]:
    # one generator per split, so changing n_train never changes the test images
    g = torch.Generator().manual_seed(int(seed) * 7919 + split)
    labels = _balanced_labels(n, len(SHAPES), g)
    img, masks = render_shapes(labels, cfg.image_size, cfg.channels, cfg.noise, cfg.clutter, g)
    return img, labels, masks


def load_shapes(seed: int = 0, **options: Any) -> DataBundle:
    """The ``shapes`` bundle; inputs normalised per channel with the train split's statistics."""
    cfg = ShapesConfig.from_options(options)
    x_train, y_train, m_train = _split(cfg, cfg.n_train, seed, 0)
    x_test, y_test, m_test = _split(cfg, cfg.n_test, seed, 1)
    std, mean = torch.std_mean(x_train, dim=(0, 2, 3), keepdim=True)
    std = std.clamp_min(1e-6)
    x_train.sub_(mean).div_(std)  # in place: these are fresh tensors, and can be large
    x_test.sub_(mean).div_(std)
    s = cfg.image_size
    info = DataInfo(
        name="shapes",
        kind="image",
        num_classes=len(SHAPES),
        class_names=tuple(str(sh) for sh in SHAPES),
        in_channels=cfg.channels,
        image_size=s,
        has_masks=True,
        input_shape=(cfg.channels, s, s),
    )
    return DataBundle(
        info=info,
        train=TensorPairs(x_train, y_train, m_train),
        test=TensorPairs(x_test, y_test, m_test),
        options=asdict(cfg),
        seed=int(seed),
    )
