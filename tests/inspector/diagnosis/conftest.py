"""Real recorded runs of tiny models for the diagnosis rules (each recorded once per session).

Every run is ``inspector.watch`` around a plain training loop on synthetic, learnable data
(three Gaussian blobs in 64 dimensions), recorded at every step.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

import inspector
from inspector.diagnosis import diagnose_run

torch.set_num_threads(1)

IN = 64
CLASSES = 3


def blobs(n: int = 512, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(CLASSES, IN, generator=g)
    y = torch.randint(0, CLASSES, (n,), generator=g)
    x = centres[y] + 0.8 * torch.randn(n, IN, generator=g)
    return x, y


class Block(nn.Module):
    """Linear -> BatchNorm -> act, added to its input (a residual MLP block)."""

    def __init__(self, width: int, act: type[nn.Module]) -> None:
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.bn = nn.BatchNorm1d(width)
        self.act = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.act(self.bn(self.fc(x)))


def plain_mlp(
    depth: int, act: type[nn.Module] = nn.Sigmoid, width: int = 32, init_std: float | None = None
) -> nn.Sequential:
    """depth linear layers, act between them, PyTorch default init unless init_std."""
    layers: list[nn.Module] = [nn.Linear(IN, width), act()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), act()]
    layers.append(nn.Linear(width, CLASSES))
    model = nn.Sequential(*layers)
    if init_std is not None:
        for m in model:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, init_std)
    return model


def residual_bn_mlp(
    depth: int, act: type[nn.Module] = nn.Sigmoid, width: int = 32
) -> nn.Sequential:
    """Same depth and activation, with BatchNorm and residual connections."""
    return nn.Sequential(
        nn.Linear(IN, width),
        *[Block(width, act) for _ in range(depth - 2)],
        nn.Linear(width, CLASSES),
    )


def train_recorded(
    model: nn.Module,
    root,
    name: str,
    steps: int = 20,
    lr: float = 0.05,
    batch: int = 32,
    optimizer: str = "sgd",
    before_step: Callable[[nn.Module], None] | None = None,
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
    fixed_batch: bool = False,
):
    """Train with every step recorded (``fixed_batch``: the same batch each step)."""
    torch.manual_seed(0)
    x_all, y_all = data if data is not None else blobs()
    if optimizer == "adam":
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    else:
        opt = torch.optim.SGD(
            [p for p in model.parameters() if p.requires_grad], lr=lr, momentum=0.9
        )
    g = torch.Generator().manual_seed(1)
    with inspector.watch(model, run=name, root=root, every=1) as rec:
        model.train()
        for _ in range(steps):
            if before_step is not None:
                before_step(model)
            idx = (
                torch.arange(batch)
                if fixed_batch
                else torch.randint(0, len(y_all), (batch,), generator=g)
            )
            loss = nn.functional.cross_entropy(model(x_all[idx]), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.step(loss=loss)
    return inspector.open_run(rec.writer.dir)


class Runs:
    """Named fixture runs, each recorded on first use and diagnosed once."""

    def __init__(self, root) -> None:
        self.root = root
        self._readers: dict = {}
        self._diagnoses: dict = {}

    def reader(self, name: str):
        if name not in self._readers:
            torch.manual_seed(0)
            self._readers[name] = BUILDERS[name](self.root, name)
        return self._readers[name]

    def diagnosis(self, name: str):
        if name not in self._diagnoses:
            self._diagnoses[name] = diagnose_run(self.reader(name))
        return self._diagnoses[name]


def _sigmoid20(root, name):
    return train_recorded(plain_mlp(20, nn.Sigmoid), root, name, steps=16)


def _tanh_big(root, name):
    return train_recorded(plain_mlp(20, nn.Tanh, init_std=1.0), root, name, steps=12)


def _residual_bn(root, name):
    return train_recorded(residual_bn_mlp(20, nn.Sigmoid), root, name, steps=16)


def _relu_healthy(root, name):
    model = nn.Sequential(
        nn.Linear(IN, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, CLASSES)
    )
    return train_recorded(model, root, name, steps=30, lr=0.02)


def _dead_relu(root, name):
    model = nn.Sequential(
        nn.Linear(IN, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, CLASSES)
    )
    nn.init.constant_(model[2].bias, -100.0)  # every unit of layer 3 is negative: dead
    return train_recorded(model, root, name, steps=15, lr=0.02)


def _deep_linear(root, name):
    model = nn.Sequential(*[nn.Linear(IN, IN) for _ in range(10)], nn.Linear(IN, CLASSES))
    for m in model:
        nn.init.normal_(m.weight, 0.0, 3.0 / IN**0.5)  # gain 3 per layer
    return train_recorded(model, root, name, steps=8, lr=1e-9)


def _frozen_bn(root, name):
    model = nn.Sequential(nn.Linear(IN, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, CLASSES))
    with torch.no_grad():
        model[0].bias.fill_(3.0)  # BN input far from the initial running mean 0

    def freeze_bn(m: nn.Module) -> None:  # the fine-tuning bug: BN left in eval mode
        m[1].eval()

    return train_recorded(model, root, name, steps=45, lr=0.02, before_step=freeze_bn)


def _small_batch_bn(root, name):
    model = nn.Sequential(nn.Linear(IN, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, CLASSES))
    return train_recorded(model, root, name, steps=12, lr=0.02, batch=4)


def _nan(root, name):
    class Log(nn.Module):  # log of a value that goes negative: NaN
        def forward(self, x):
            return torch.log(x)

    model = nn.Sequential(
        nn.Linear(IN, 16), nn.ReLU(), nn.Linear(16, 16), Log(), nn.Linear(16, CLASSES)
    )
    return train_recorded(model, root, name, steps=4, lr=0.02)


def _unused_branch(root, name):
    class TwoHeads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Linear(IN, 32)
            self.act = nn.ReLU()
            self.head = nn.Linear(32, CLASSES)
            self.aux_head = nn.Linear(32, CLASSES)  # built, never used in forward

        def forward(self, x):
            return self.head(self.act(self.body(x)))

    model = TwoHeads()
    return train_recorded(model, root, name, steps=12, lr=0.02)


def _frozen_params(root, name):
    model = nn.Sequential(nn.Linear(IN, 32), nn.ReLU(), nn.Linear(32, CLASSES))
    model[0].requires_grad_(False)
    return train_recorded(model, root, name, steps=12, lr=0.02)


def _shared_blocks(root, name):
    block = Block(32, nn.ReLU)  # NetResDeep's `n_blocks * [ResBlock(...)]`
    model = nn.Sequential(nn.Linear(IN, 32), *(3 * [block]), nn.Linear(32, CLASSES))
    return train_recorded(model, root, name, steps=12, lr=0.02)


def _reused_relu(root, name):
    relu = nn.ReLU()
    model = nn.Sequential(nn.Linear(IN, 32), relu, nn.Linear(32, 32), relu, nn.Linear(32, CLASSES))
    return train_recorded(model, root, name, steps=12, lr=0.02)


def _lr_high(root, name):
    model = nn.Sequential(nn.Linear(IN, 32), nn.ReLU(), nn.Linear(32, CLASSES))
    return train_recorded(model, root, name, steps=16, lr=3.0)


def _lr_low(root, name):
    model = nn.Sequential(nn.Linear(IN, 32), nn.ReLU(), nn.Linear(32, CLASSES))
    return train_recorded(model, root, name, steps=16, lr=1e-6, fixed_batch=True)


BUILDERS = {
    "sigmoid20": _sigmoid20,
    "tanh_big": _tanh_big,
    "residual_bn": _residual_bn,
    "relu_healthy": _relu_healthy,
    "dead_relu": _dead_relu,
    "deep_linear": _deep_linear,
    "frozen_bn": _frozen_bn,
    "small_batch_bn": _small_batch_bn,
    "nan": _nan,
    "unused_branch": _unused_branch,
    "frozen_params": _frozen_params,
    "shared_blocks": _shared_blocks,
    "reused_relu": _reused_relu,
    "lr_high": _lr_high,
    "lr_low": _lr_low,
}


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("diagnosis_runs"))
