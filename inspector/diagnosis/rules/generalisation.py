"""Train vs test loss: a model that fits its training batches but not unseen data.

The harness evaluates the test split a few times per run (scalars ``test_loss`` and
``test_accuracy``, docs/RECORDS.md). Two signs of a generalisation gap while the training
loss falls: the test loss ends above the loss of guessing, ln(classes) (the model is
confidently wrong on new data), or it climbs well above its own best (it started to
memorise: the textbook overfitting curve, DLwPT ch. 8.5.2; Inside Deep Learning ch. 6).
"""

from __future__ import annotations

import numpy as np

from inspector.diagnosis.context import RunView
from inspector.diagnosis.finding import Finding, RuleId, Severity, View, sci

FIX = (
    "Regularise (DLwPT 8.5.2): add dropout (nn.Dropout before the classifier layers), weight "
    "decay (weight_decay=5e-4 in the optimizer, the L2 penalty), and data augmentation "
    "(random crops, flips, colour jitter: Dive into Deep Learning 7.1, AlexNet); stop early "
    "at the step with the lowest test loss; or train on more data / a smaller model."
)


def generalisation_gap(view: RunView) -> list[Finding]:
    th = view.th
    lv = view.loss_level
    steps, test = view.scalar("test_loss")
    ok = np.isfinite(test)
    steps, test = steps[ok], test[ok]
    if lv is None or test.size == 0:
        return []
    chance = lv.chance
    learns = lv.last < (1 - th.loss_min_drop) * lv.first and (
        chance is None or lv.last < (1 - th.chance_margin) * chance
    )
    last, best_i = float(test[-1]), int(np.argmin(test))
    best = float(test[best_i])
    if not learns or last <= lv.last:
        return []  # the training loss does not fall below chance, or test is not worse: no gap
    above_chance = chance is not None and last > (1 + th.chance_margin) * chance
    rising = (
        test.size >= th.test_min_evals
        and best_i < test.size - 1
        and last > (1 + th.test_rise) * best
    )
    if not (above_chance or rising):
        return []
    _, test_acc = view.scalar("test_accuracy")
    _, train_acc = view.scalar("accuracy")
    evidence = {
        "train_loss_first": lv.first,
        "train_loss_last": lv.last,
        "test_loss_last": last,
        "test_loss_best": best,
        "test_loss_best_step": int(steps[best_i]),
        "test_evaluations": int(test.size),
        "chance_loss": chance,
        "test_accuracy_last": float(test_acc[-1]) if test_acc.size else None,
        "train_accuracy_last": float(np.median(train_acc[-lv.window :]))
        if train_acc.size
        else None,
    }
    parts = []
    if above_chance:
        parts.append(
            f"the test loss ends at {sci(last)}, above {sci(chance)} = ln {view.num_classes}, the "
            "loss of guessing: on unseen data the model is worse than chance, confidently wrong"
        )
    if rising:
        parts.append(
            f"the test loss rose from its best, {sci(best)} at step {int(steps[best_i])}, to "
            f"{sci(last)} ({last / best:.2g}x)"
        )
    norm = (
        " With BatchNorm, a test loss far above the training loss early in a run can also mean "
        "that the running averages used in evaluation lag behind the weights (see the "
        "BatchNorm view)."
        if any(m.info.get("norm") for m in view.modules)
        else ""
    )
    accuracy = ""
    if evidence["test_accuracy_last"] is not None and evidence["train_accuracy_last"] is not None:
        accuracy = (
            f" Accuracy: {evidence['train_accuracy_last']:.0%} on training batches, "
            f"{evidence['test_accuracy_last']:.0%} on the test split."
        )
    return [
        Finding(
            rule=RuleId.GENERALISATION_GAP,
            severity=Severity.WARNING,
            title=f"Overfitting: train loss {sci(lv.first)} -> {sci(lv.last)}, test loss "
            f"{sci(best)} -> {sci(last)}",
            message=(
                f"The training loss fell from {sci(lv.first)} to {sci(lv.last)} (medians of the "
                f"first and last {lv.window} steps) while {' and '.join(parts)}, over "
                f"{test.size} test evaluations. The network memorises its training examples "
                f"instead of learning what generalises.{accuracy}{norm}"
            ),
            layers=(),
            steps=(int(steps[0]), int(steps[-1])),
            evidence=evidence,
            fix=FIX,
            view=View.OVERVIEW,
        )
    ]
