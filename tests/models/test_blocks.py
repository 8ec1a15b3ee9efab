"""The chapters' building blocks behave as the text says, against naive references."""

from __future__ import annotations

import torch
from torch import nn

from inspector.models import create_model
from inspector.models.dlwpt import ResBlock
from inspector.models.idl_blocks import ResidualBlockE, ResidualBottleNeck, SkipConv2d, SkipFC
from inspector.models.modern_cnns import DenseBlock, Inception, Residual
from inspector.models.scratch_batchnorm import ScratchBatchNorm
from inspector.models.sequence import RecurrentClassifier


def test_scratch_batchnorm_matches_torch_batchnorm() -> None:
    torch.manual_seed(0)
    for dims, x in ((4, torch.randn(4, 3, 5, 5) * 2 + 1), (2, torch.randn(6, 3) - 2)):
        ours = ScratchBatchNorm(3, num_dims=dims)
        ref = nn.BatchNorm2d(3) if dims == 4 else nn.BatchNorm1d(3)
        assert torch.allclose(ours(x), ref(x), atol=1e-5)
        axes = (0, 2, 3) if dims == 4 else (0,)
        mean = x.mean(dim=axes)
        biased_var = x.var(dim=axes, unbiased=False)
        # chapter's momentum 0.9 keeps 90% of the old value; moving var starts at 1
        assert torch.allclose(ours.moving_mean.flatten(), 0.1 * mean, atol=1e-6)
        assert torch.allclose(ours.moving_var.flatten(), 0.9 + 0.1 * biased_var, atol=1e-6)
        ours.eval()
        expect = (x - ours.moving_mean) / torch.sqrt(ours.moving_var + 1e-5)
        assert torch.allclose(ours(x), expect, atol=1e-5)


def test_skip_blocks_concatenate_earlier_activations() -> None:
    fc = SkipFC(3, 5, 7)
    assert fc.layers[-1].in_features == 10 and fc(torch.randn(4, 5)).shape == (4, 7)
    conv = SkipConv2d(3, 4, 8)
    assert conv.layers[-1].in_channels == 8
    assert conv(torch.randn(2, 4, 6, 6)).shape == (2, 8, 6, 6)


def test_residual_blocks_add_the_shortcut() -> None:
    block = ResidualBlockE(4)
    x = torch.randn(2, 4, 5, 5)
    assert torch.allclose(block(x), x + block.F(x))
    same = ResidualBottleNeck(8, 8)
    assert isinstance(same.shortcut, nn.Identity)
    grow = ResidualBottleNeck(4, 16)
    assert grow.F[2].out_channels == max(16 // 4, 4)  # bottleneck width
    assert grow(torch.randn(2, 4, 5, 5)).shape == (2, 16, 5, 5)


def test_d2l_blocks_shapes() -> None:
    assert Residual(3, 3)(torch.rand(4, 3, 6, 6)).shape == (4, 3, 6, 6)
    down = Residual(3, 6, use_1x1conv=True, stride=2)
    assert down(torch.rand(4, 3, 6, 6)).shape == (4, 6, 3, 3)
    assert DenseBlock(2, 3, 10)(torch.rand(4, 3, 8, 8)).shape == (4, 23, 8, 8)
    inc = Inception(192, 64, (96, 128), (16, 32), 32)
    assert inc.out_channels == 256 and inc(torch.rand(1, 192, 4, 4)).shape == (1, 256, 4, 4)


def test_dlwpt_resblock_initialisation() -> None:
    torch.manual_seed(0)
    block = ResBlock(32)
    assert block.conv.bias is None
    assert torch.all(block.batch_norm.weight == 0.5) and torch.all(block.batch_norm.bias == 0)
    std = block.conv.weight.std().item()
    assert abs(std - (2 / (32 * 9)) ** 0.5) < 0.02  # Kaiming normal, relu gain, fan_in


def test_netresdeep_shared_reuses_one_block() -> None:
    shared = create_model("netresdeep_shared", n_blocks=4)
    blocks = list(shared.resblocks)
    assert len(blocks) == 4 and all(b is blocks[0] for b in blocks)
    independent = create_model("netresdeep", n_blocks=4)
    assert len({id(b) for b in independent.resblocks}) == 4
    names_shared = {n for n, _ in shared.named_parameters()}
    names_indep = {n for n, _ in independent.named_parameters()}
    assert names_shared < names_indep


def test_last_time_step_is_the_final_hidden_state() -> None:
    torch.manual_seed(0)
    for cell in ("rnn", "lstm", "gru"):
        model = RecurrentClassifier(cell, vocab_size=11, num_classes=3, hidden=6, num_layers=2)
        tokens = torch.randint(0, 11, (2, 5))
        result = model.rnn(model.embedding(tokens))
        h_n = result[1][0] if cell == "lstm" else result[1]
        assert torch.allclose(model.last(result), h_n[-1], atol=1e-6)
        assert model(tokens).shape == (2, 3)


def test_lenet_bn_variants_put_bn_before_the_sigmoid() -> None:
    scratch = create_model("lenet5_bn_scratch")
    torch_bn = create_model("lenet5_bn")
    names = [n for n, _ in scratch.named_children()]
    assert names[:3] == ["conv1", "bn1", "act1"]
    assert isinstance(scratch.bn1, ScratchBatchNorm) and isinstance(torch_bn.bn1, nn.BatchNorm2d)
    assert isinstance(torch_bn.bn3, nn.BatchNorm1d)
