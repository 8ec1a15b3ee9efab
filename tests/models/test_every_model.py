"""Every registry model: forward, backward, finite values, one SGD step.

Image models run on 1x28x28 and 3x32x32 batches of 2 with their ``light`` overrides (the
same block structure with fewer channels, only for the 224 px networks whose full width is
too slow for a shared 2-core CI); sequence models on (2, 12) token ids.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inspector.models import create_model, get_spec, list_models

VOCAB, SEQ_LEN = 20, 12


def _build(
    name: str, in_channels: int = 1, image_size: int = 28, num_classes: int = 5
) -> tuple[nn.Module, torch.Tensor]:
    spec = get_spec(name)
    torch.manual_seed(0)
    if spec.input_kind == "sequence":
        model = create_model(name, vocab_size=VOCAB, seq_len=SEQ_LEN, num_classes=num_classes)
        return model, torch.randint(0, VOCAB, (2, SEQ_LEN))
    model = create_model(
        name, in_channels=in_channels, num_classes=num_classes, image_size=image_size, **spec.light
    )
    return model, torch.randn(2, in_channels, image_size, image_size)


SHAPES = [(1, 28), (3, 32)]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("name", list_models())
def test_forward_backward_finite(name: str) -> None:
    shapes = [(None, None)] if get_spec(name).input_kind == "sequence" else SHAPES
    for channels, size in shapes:
        model, x = (
            _build(name)
            if channels is None
            else _build(name, in_channels=channels, image_size=size)
        )
        out = model(x)
        assert out.shape == (2, 5), (name, channels, size)
        assert torch.isfinite(out).all()
        out.float().pow(2).mean().backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        assert grads and all(g is not None for g in grads), f"{name}: a parameter got no grad"
        assert all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", list_models())
def test_one_sgd_step_changes_weights_and_stays_finite(name: str) -> None:
    model, x = _build(name)
    y = torch.tensor([0, 3])
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    model.train()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    with torch.no_grad():  # plain SGD by hand: torch.optim's first use imports torch._dynamo
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.05 * p.grad
    assert torch.isfinite(loss)
    changed = [k for k, v in model.named_parameters() if not torch.equal(v, before[k])]
    assert changed, f"{name}: no parameter moved after one SGD step"
    model.eval()
    with torch.no_grad():
        assert torch.isfinite(model(x)).all()


@pytest.mark.parametrize("name", list_models())
def test_spec_documents_its_source(name: str) -> None:
    spec = get_spec(name)
    assert spec.name == name and spec.source and spec.notes and spec.family
    assert spec.input_kind in ("image", "sequence")
    for key in spec.shape_kwargs():
        assert key in spec.accepted_kwargs(), (name, key)
        assert key in spec.canonical, (name, key)
    assert set(spec.canonical) <= set(spec.accepted_kwargs())
    assert set(spec.light) <= set(spec.accepted_kwargs())
