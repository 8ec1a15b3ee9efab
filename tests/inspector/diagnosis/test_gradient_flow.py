"""Vanishing / exploding gradients and saturation on real recorded runs (trigger + not)."""

from __future__ import annotations

from inspector.diagnosis import Severity, Thresholds, diagnose_run


def test_plain_sigmoid_mlp_vanishes_without_blaming_saturation(runs):
    d = runs.diagnosis("sigmoid20")
    vanishing = d.by_rule("vanishing_gradients")
    assert len(vanishing) == 1
    f = vanishing[0]
    assert f.severity == Severity.ERROR
    assert f.evidence["ratio"] < 1e-4
    # the right layers: the first layers, not the output layer
    assert f.layers[:2] == ("0", "1")
    assert "38" not in f.layers
    assert f.evidence["first_layers"][0] == "0"
    # its units sit near 0.5: not saturated, and the finding says so
    assert not d.by_rule("saturation")
    assert f.evidence["saturated_layers"] == {}
    assert "not saturated" in f.message and "not the cause" in f.message
    assert d.verdict.startswith("gradient flow: vanishing") and "saturation" not in d.verdict
    assert d.findings[0].rule == "vanishing_gradients"  # worst first


def test_ratio_matches_stored_gradient_norms(runs):
    """The ratio is the geometric mean of the first layers' grad_norm over the last layers'."""
    import numpy as np

    reader = runs.reader("sigmoid20")
    f = runs.diagnosis("sigmoid20").by_rule("vanishing_gradients")[0]
    s = reader.series("grad_norm", role="module")
    first = [s.layers.index(n) for n in f.evidence["first_layers"]]
    last = [s.layers.index(n) for n in f.evidence["last_layers"]]
    per_step = [
        np.exp(np.mean(np.log(s.values[first, j]))) / np.exp(np.mean(np.log(s.values[last, j])))
        for j in range(s.steps.size)
    ]
    assert np.isclose(f.evidence["ratio"], np.median(per_step), rtol=1e-6)


def test_tanh_with_large_init_saturates_and_is_linked_to_vanishing(runs):
    d = runs.diagnosis("tanh_big")
    sat = d.by_rule("saturation")
    assert len(sat) == 1
    assert all(v >= 0.5 for v in sat[0].evidence["saturated_frac"].values())
    assert "1" in sat[0].layers  # the first Tanh
    assert d.by_rule("vanishing_gradients")
    assert sat[0].evidence["with_vanishing_gradients"] is True
    assert sat[0].severity == Severity.ERROR
    van = d.by_rule("vanishing_gradients")[0]
    assert "Saturation is the likely cause" in van.message
    assert "(saturation)" in d.verdict


def test_residual_batchnorm_same_depth_has_neither(runs):
    d = runs.diagnosis("residual_bn")
    assert not d.by_rule("vanishing_gradients")
    assert not d.by_rule("saturation")
    assert not d.by_rule("exploding_gradients")
    assert d.verdict.startswith("gradient flow: healthy")
    # Its only warning is real: 20 un-scaled residual blocks at lr 0.02 send the loss from ~2
    # to ~80 in the first steps before BatchNorm's statistics settle (loss_spike).
    others = [f.title for f in d.findings if f.rule != "loss_spike"]
    assert not [f for f in d.findings if f.rule != "loss_spike" and f.severity != "info"], others


def test_update_ratio_criterion_when_activation_gradients_do_not_decide(runs):
    """Switch the activation-gradient criterion off: the update-ratio one still finds it."""
    th = Thresholds(vanishing_warn=0.0, vanishing_error=0.0)
    d = diagnose_run(runs.reader("sigmoid20"), th)
    f = d.by_rule("vanishing_gradients")
    assert len(f) == 1 and "update_ratio_share" in f[0].evidence
    assert f[0].evidence["update_ratio_share"] < th.update_lag
    assert f[0].layers[0] == "0"
    assert not diagnose_run(runs.reader("residual_bn"), th).by_rule("vanishing_gradients")


def test_deep_linear_large_init_explodes(runs):
    d = runs.diagnosis("deep_linear")
    f = d.by_rule("exploding_gradients")
    assert f and f[0].evidence["ratio"] > 1e2
    assert f[0].layers[0] == "0"
    assert d.verdict.startswith("gradient flow: exploding")
    assert not d.by_rule("vanishing_gradients")


def test_healthy_relu_net_does_not_explode_or_vanish(runs):
    d = runs.diagnosis("relu_healthy")
    assert not d.by_rule("exploding_gradients")
    assert not d.by_rule("vanishing_gradients")
    assert not d.findings, [f.title for f in d.findings]
