"""Batch normalisation written out by hand, as d2l (PyTorch ed.) ch. 5 sec. 5.10 builds it.

Kept separate from ``nn.BatchNorm2d`` on purpose: the tool's BatchNorm probes must cope with
a user's own normalisation layer, and comparing ``lenet5_bn_scratch`` with ``lenet5_bn``
shows whether they do.
"""

from __future__ import annotations

import torch
from torch import nn


def batch_norm(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    moving_mean: torch.Tensor,
    moving_var: torch.Tensor,
    training: bool,
    eps: float,
    momentum: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(normalised output, new moving mean, new moving variance).

    Training: per-feature (2-D input) or per-channel (4-D input, over N, H, W) batch moments
    with the biased variance; moving averages keep ``momentum`` of the old value, as the
    chapter writes it (0.9 = PyTorch's momentum 0.1).
    """
    if not training:
        x_hat = (x - moving_mean) / torch.sqrt(moving_var + eps)
        return gamma * x_hat + beta, moving_mean, moving_var
    dims = (0,) if x.dim() == 2 else (0, 2, 3)
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    x_hat = (x - mean) / torch.sqrt(var + eps)
    with torch.no_grad():
        new_mean = momentum * moving_mean + (1.0 - momentum) * mean
        new_var = momentum * moving_var + (1.0 - momentum) * var
    return gamma * x_hat + beta, new_mean, new_var


class ScratchBatchNorm(nn.Module):
    """Learnable scale ``gamma`` and shift ``beta`` plus moving moments, for 2-D or 4-D input.

    Deviation from the chapter: the moving moments are registered buffers (so they follow
    ``.to(device)`` and appear in ``state_dict``) and the moving variance starts at 1 rather
    than 0 (with 0 an untrained model divides by sqrt(eps) in eval mode).
    """

    def __init__(
        self, num_features: int, num_dims: int, eps: float = 1e-5, momentum: float = 0.9
    ) -> None:
        super().__init__()
        if num_dims not in (2, 4):
            raise ValueError(
                f"num_dims must be 2 (after Linear) or 4 (after Conv2d), got {num_dims}"
            )
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.num_features = num_features
        self.num_dims = num_dims
        self.eps = eps
        self.momentum = momentum
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.register_buffer("moving_mean", torch.zeros(shape))
        self.register_buffer("moving_var", torch.ones(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, mean, var = batch_norm(
            x,
            self.gamma,
            self.beta,
            self.moving_mean,
            self.moving_var,
            self.training,
            self.eps,
            self.momentum,
        )
        if self.training:
            self.moving_mean.copy_(mean)
            self.moving_var.copy_(var)
        return y

    def extra_repr(self) -> str:
        return f"{self.num_features}, num_dims={self.num_dims}, momentum={self.momentum}"
