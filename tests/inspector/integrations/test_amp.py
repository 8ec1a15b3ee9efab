"""AMP: gradients recorded under a GradScaler are the true (unscaled) ones; skipped steps are
marked and not diagnosed as a NaN model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import inspector
from inspector.diagnosis.engine import diagnose_run

from .conftest import batches, tiny_mlp

pytestmark = pytest.mark.usefixtures("one_torch_thread")
GRAD_STATS = ("grad_norm", "grad_mean", "grad_std", "grad_min", "grad_max")


def train_amp(root, name: str, scaler, *, tell_inspector: bool, overflow_at: int = -1):
    """bf16 autocast on CPU; the scaled loss overflows at step ``overflow_at`` (as fp16 would)."""
    model = tiny_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with inspector.watch(
        model, name, root=root, every=1, exact=True, scaler=scaler if tell_inspector else None
    ) as rec:
        for step, (x, y) in enumerate(batches(5)):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = nn.functional.cross_entropy(model(x).float(), y)
            boost = 1e38 if step == overflow_at else 1.0  # finite loss, inf scaled gradients
            if scaler is None:
                (loss * boost).backward()
                opt.step()
            else:
                scaler.scale(loss * boost).backward()
                scaler.step(opt)
                scaler.update()
            rec.step(loss=loss)  # reads .grad: before zero_grad
            opt.zero_grad()
    return inspector.open_run(rec.writer.dir)


def grad_series(run, stat: str, role: str = "module") -> np.ndarray:
    return run.series(stat, role=role).values


def test_scaled_gradients_are_recorded_unscaled(tmp_path) -> None:
    reference = train_amp(tmp_path, "ref", None, tell_inspector=False)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
    scaled = train_amp(tmp_path, "amp", scaler, tell_inspector=True)
    for stat in GRAD_STATS:  # scaling by 2**16 is exact in binary floating point
        np.testing.assert_allclose(
            grad_series(scaled, stat), grad_series(reference, stat), rtol=1e-6
        )
    for layer in ("0", "2", "4"):
        np.testing.assert_array_equal(
            scaled.histogram(layer, "grad")[2], reference.histogram(layer, "grad")[2]
        )
    np.testing.assert_allclose(
        grad_series(scaled, "g_norm", "param"), grad_series(reference, "g_norm", "param"), rtol=1e-6
    )
    assert grad_series(scaled, "g_norm", "param").shape == (6, 5)
    steps, scale = scaled.scalar("amp_scale")
    assert steps.tolist() == [0, 1, 2, 3, 4] and set(scale.tolist()) == {2.0**16}
    assert scaled.scalar("amp_skipped")[1].tolist() == [0.0] * 5


def test_without_the_scaler_gradients_read_scale_times_too_large(tmp_path) -> None:
    """What the option fixes: hooks see S * g."""
    reference = train_amp(tmp_path, "ref", None, tell_inspector=False)
    blind = train_amp(
        tmp_path, "blind", torch.amp.GradScaler("cpu", init_scale=2.0**16), tell_inspector=False
    )
    ratio = grad_series(blind, "grad_norm") / grad_series(reference, "grad_norm")
    np.testing.assert_allclose(ratio, 2.0**16, rtol=1e-6)


def test_rec_step_scaler_argument_equals_watch_option(tmp_path) -> None:
    scaler = torch.amp.GradScaler("cpu", init_scale=256.0)
    model = tiny_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with inspector.watch(model, "step-arg", root=tmp_path, every=1) as rec:
        for x, y in batches(2):
            scaler.scale(nn.functional.cross_entropy(model(x), y)).backward()
            scaler.step(opt)
            scaler.update()
            rec.step(scaler=scaler)  # reads .grad: before zero_grad
            opt.zero_grad()
    run = inspector.open_run(rec.writer.dir)
    assert run.scalar("amp_scale")[1].tolist() == [256.0, 256.0]
    assert "scaler" not in run.scalar_names()


def test_skipped_step_is_marked_and_not_called_a_nan_model(tmp_path) -> None:
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16, growth_interval=1000)
    run = train_amp(tmp_path, "skip", scaler, tell_inspector=True, overflow_at=2)
    assert run.scalar("amp_skipped")[1].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    # the scale step 2 used, then halved by update() for the steps after it
    assert run.scalar("amp_scale")[1].tolist() == [2.0**16] * 3 + [2.0**15] * 2
    assert (
        np.nan_to_num(grad_series(run, "grad_inf")[:, 2])
        + np.nan_to_num(grad_series(run, "grad_nan")[:, 2])
    ).sum() > 0
    # the steps after the skip record true gradients at the new scale
    reference = train_amp(tmp_path, "ref", None, tell_inspector=False)
    np.testing.assert_allclose(
        grad_series(run, "grad_norm")[:, :2], grad_series(reference, "grad_norm")[:, :2], rtol=1e-6
    )
    assert np.isfinite(grad_series(run, "grad_norm")[:, 3:]).all()
    assert "nonfinite_values" not in diagnose_run(run).rules()


def test_real_overflow_without_scaler_is_still_reported(tmp_path) -> None:
    """The counter-case: the same inf gradients with no scaler are a real problem."""
    run = train_amp(tmp_path, "noscaler", None, tell_inspector=False, overflow_at=2)
    assert "nonfinite_values" in diagnose_run(run).rules()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fp16_gradscaler_on_cuda(tmp_path) -> None:
    """The real case: fp16 autocast and torch.amp.GradScaler("cuda"), incl. overflow skips."""

    def run(name: str, scaler):
        model = tiny_mlp().cuda()
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        with inspector.watch(model, name, root=tmp_path, every=1, exact=True, scaler=scaler) as rec:
            for x, y in batches(6):
                x, y = x.cuda(), y.cuda()
                with torch.autocast("cuda", dtype=torch.float16):
                    loss = nn.functional.cross_entropy(model(x).float(), y)
                if scaler is None:
                    loss.backward()
                    opt.step()
                else:
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                rec.step(loss=loss)
                opt.zero_grad()
        return inspector.open_run(rec.writer.dir)

    reference = run("ref", None)
    scaled = run("amp", torch.amp.GradScaler("cuda", init_scale=2.0**16))
    for stat in GRAD_STATS:
        np.testing.assert_allclose(
            grad_series(scaled, stat), grad_series(reference, stat), rtol=1e-3
        )
    huge = run("huge", torch.amp.GradScaler("cuda", init_scale=2.0**40))  # fp16 overflows
    skipped = huge.scalar("amp_skipped")[1]
    assert skipped[:3].tolist() == [1.0, 1.0, 1.0]
    assert huge.scalar("amp_scale")[1][:3].tolist() == [2.0**40, 2.0**39, 2.0**38]
    assert "nonfinite_values" not in diagnose_run(huge).rules()
