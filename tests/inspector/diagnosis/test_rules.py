"""Every other rule: a run that must trigger it and one that must not."""

from __future__ import annotations

import numpy as np

from inspector.diagnosis import Severity, diagnose_run


def test_nonfinite_names_first_step_and_layer(runs):
    d = runs.diagnosis("nan")
    f = d.by_rule("nonfinite_values")
    assert len(f) == 1
    assert f[0].severity == Severity.ERROR
    assert f[0].evidence["first_step"] == 0
    assert f[0].evidence["first_layer"] == "3"  # the Log module that made the NaN
    assert f[0].layers[0] == "3"
    assert "NaN/Inf" in d.verdict and "'3'" in d.verdict
    # everything after the first NaN is meaningless: no spurious dead units etc.
    assert d.rules() == ["nonfinite_values"]
    assert not runs.diagnosis("relu_healthy").by_rule("nonfinite_values")


def test_dead_relu_layer(runs):
    d = runs.diagnosis("dead_relu")
    f = d.by_rule("dead_units")
    assert len(f) == 1 and f[0].severity == Severity.ERROR
    assert f[0].layers == ("3",)
    assert f[0].evidence["dead_share"]["3"] == 1.0
    # a dead layer blocks gradients below it: the vanishing finding names that cause
    van = d.by_rule("vanishing_gradients")
    assert van and "dead ReLU" in van[0].message
    assert not d.by_rule("learning_rate_low")
    assert not runs.diagnosis("relu_healthy").by_rule("dead_units")


def test_dead_units_agree_with_stored_unit_activity(runs):
    reader = runs.reader("dead_relu")
    steps, bits = reader.unit_activity("3")
    assert bits.shape[1] == 64 and not bits.any()
    steps, bits = reader.unit_activity("1")
    assert bits[-8:].any(axis=0).mean() > 0.5  # the first ReLU is alive


def test_batchnorm_left_in_eval_mode_mismatch(runs):
    d = runs.diagnosis("frozen_bn")
    f = d.by_rule("batchnorm_mismatch")
    assert len(f) == 1 and f[0].layers == ("1",)
    assert f[0].evidence["mean_gap"]["1"] > 0.5
    assert f[0].steps[0] >= 30  # only judged after the running averages' warm-up
    assert not runs.diagnosis("residual_bn").by_rule("batchnorm_mismatch")


def test_batchnorm_small_batch(runs):
    f = runs.diagnosis("small_batch_bn").by_rule("batchnorm_small_batch")
    assert len(f) == 1 and f[0].evidence["min_batch_size"] == 4
    assert f[0].severity == Severity.WARNING
    assert not runs.diagnosis("residual_bn").by_rule("batchnorm_small_batch")  # batch 32


def test_learning_rate_high_and_low(runs):
    high = runs.diagnosis("lr_high").by_rule("learning_rate_high")
    assert len(high) == 1 and high[0].evidence["median_update_ratio"] > 0.1
    assert high[0].evidence["lr"] is None  # a bare watch() loop does not record its lr
    low = runs.diagnosis("lr_low").by_rule("learning_rate_low")
    assert len(low) == 1 and low[0].evidence["p90_update_ratio"] < 1e-5
    healthy = runs.diagnosis("relu_healthy")
    assert not healthy.by_rule("learning_rate_high")
    assert not healthy.by_rule("learning_rate_low")


def test_unused_branch_never_gets_a_gradient(runs):
    f = runs.diagnosis("unused_branch").by_rule("no_gradient")
    assert len(f) == 1
    assert f[0].layers == ("aux_head",)
    assert sorted(f[0].evidence["no_grad"]) == ["aux_head.bias", "aux_head.weight"]
    assert not runs.diagnosis("relu_healthy").by_rule("no_gradient")


def test_frozen_parameters_are_information(runs):
    d = runs.diagnosis("frozen_params")
    f = d.by_rule("frozen_parameters")
    assert len(f) == 1 and f[0].severity == Severity.INFO and f[0].layers == ("0",)
    assert not d.by_rule("no_gradient")  # frozen is not "missing"


def test_shared_block_instance_like_netresdeep(runs):
    d = runs.diagnosis("shared_blocks")
    warn = [f for f in d.by_rule("shared_modules") if f.severity == Severity.WARNING]
    assert len(warn) == 1
    assert set(warn[0].layers) == {"1.fc", "1.bn"}
    assert warn[0].evidence["max_uses"] == 3
    assert "3.fc" in warn[0].evidence["aliases"]["1.fc"]
    # one nn.ReLU reused is harmless: information only
    reused = runs.diagnosis("reused_relu").by_rule("shared_modules")
    assert [f.severity for f in reused] == [Severity.INFO]
    assert not runs.diagnosis("relu_healthy").by_rule("shared_modules")


def test_loss_diverging_and_not_decreasing(runs):
    div = runs.diagnosis("lr_high").by_rule("loss_diverging")
    assert len(div) == 1 and div[0].severity == Severity.ERROR
    flat = runs.diagnosis("lr_low").by_rule("loss_not_decreasing")
    assert len(flat) == 1
    assert flat[0].evidence["last_median"] >= 0.98 * flat[0].evidence["first_median"]
    healthy = runs.diagnosis("relu_healthy")
    assert not healthy.by_rule("loss_not_decreasing") and not healthy.by_rule("loss_diverging")


def test_thresholds_are_configurable(runs):
    from inspector.diagnosis import Thresholds

    reader = runs.reader("small_batch_bn")
    assert not diagnose_run(reader, Thresholds(bn_min_batch=4)).by_rule("batchnorm_small_batch")
    th = Thresholds().with_overrides({"saturation_frac": "0.0"})
    assert th.saturation_frac == 0.0
    assert diagnose_run(runs.reader("sigmoid20"), th).by_rule("saturation")


def test_no_gradient_means_exactly_zero_below_a_dead_layer(runs):
    """Below the dead ReLU layer every gradient is exactly 0 (blocked): named as zero, not as
    missing. The output layer's weight sees only zero inputs (exactly 0 too); its bias keeps
    its gradient."""
    d = runs.diagnosis("dead_relu")
    f = d.by_rule("no_gradient")
    assert len(f) == 1 and f[0].evidence["no_grad"] == []
    assert {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight"} == set(
        f[0].evidence["zero_grad"]
    )
    assert "exactly zero" in f[0].message
    reader = runs.reader("dead_relu")
    s = reader.series("g_norm", role="param")
    for name in f[0].evidence["zero_grad"]:
        assert np.nanmax(s.values[s.layers.index(name)]) == 0.0
