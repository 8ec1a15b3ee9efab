"""How far a BatchNorm layer's batch statistics are from its running statistics.

In training BN normalises with the batch's statistics, in evaluation with the running
averages. When the two differ a lot (small or unrepresentative batches, shifting inputs)
the network behaves differently at test time: the train/eval mismatch the diagnosis flags.

* mean gap: mean over channels of |batch_mean - running_mean| / sqrt(running_var + eps),
  i.e. the shift in units of running standard deviations;
* variance gap: mean over channels of |log(batch_var / running_var)|.
"""

from __future__ import annotations

import torch


def batch_channel_moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel (dim 1) biased mean and variance over every other dimension.

    From the first two raw moments: two fused reductions, no temporary (``var_mean`` over
    several dims is ~7x slower on CPU). Fine for BN inputs, whose mean is not huge
    compared with their spread.
    """
    xf = x.detach().float()
    dims = [0, *range(2, x.dim())]
    count = x.numel() // x.shape[1]
    mean = xf.sum(dim=dims) / count
    mean_sq = torch.linalg.vector_norm(xf, dim=dims).square() / count
    return mean, (mean_sq - mean.square()).clamp_min(0.0)


def batchnorm_gap(
    x: torch.Tensor, running_mean: torch.Tensor, running_var: torch.Tensor, eps: float
) -> torch.Tensor:
    """Tensor [mean_gap, var_gap] on the device of ``x``; no host sync."""
    mean, var = batch_channel_moments(x)
    rm, rv = running_mean.float(), running_var.float()
    mean_gap = ((mean - rm).abs() / torch.sqrt(rv + eps)).mean()
    var_gap = (torch.log(var + eps) - torch.log(rv + eps)).abs().mean()
    return torch.stack([mean_gap, var_gap]).to(torch.float64)
