"""One module instance used at several places of the model: its weights are shared.

``nn.Sequential(*(n_blocks * [ResBlock(...)]))`` in DLwPT's NetResDeep listing repeats ONE
block n times: the network has the depth of n blocks but the parameters of one, which users
rarely intend. Parameterless modules reused (one nn.ReLU called everywhere) are harmless:
reported as information only, because their recorded statistics merge all uses.
"""

from __future__ import annotations

from inspector.diagnosis.context import RunView
from inspector.diagnosis.finding import Finding, RuleId, Severity, View, layer_list

FIX = (
    "Build a new instance for each position: nn.Sequential(*[Block(...) for _ in range(n)]) "
    "instead of nn.Sequential(*(n * [Block(...)])), or use copy.deepcopy. Keep the sharing "
    "only if tying these weights is intended."
)


def shared_modules(view: RunView) -> list[Finding]:
    with_params = {p.info.get("module") for p in view.params}
    shared = [m for m in view.modules if m.info.get("shared")]
    if not shared:
        return []
    heavy = [m for m in shared if {m.name, *m.info.get("aliases", [])} & with_params]
    light = [m for m in shared if m not in heavy]
    findings = []
    for group, severity in ((heavy, Severity.WARNING), (light, Severity.INFO)):
        if not group:
            continue
        aliases = {m.name: [a for a in m.info.get("aliases", []) if a != m.name] for m in group}
        uses = max(len(a) + 1 for a in aliases.values())
        example = group[0].name
        also = layer_list(aliases[example], 3)
        weights = (
            "their weights are shared, so the model has fewer independent parameters "
            "than its depth suggests"
            if severity == Severity.WARNING
            else "they have no parameters, so this is harmless, but their recorded "
            "statistics merge every use"
        )
        findings.append(
            Finding(
                rule=RuleId.SHARED_MODULES,
                severity=severity,
                title=f"{len(group)} module instance(s) used up to {uses} times"
                + (" (shared weights)" if severity == Severity.WARNING else ""),
                message=(
                    f"{layer_list(list(aliases))} appear at several places of the module tree "
                    f"(e.g. '{example}' is also '{also}'): {weights}."
                ),
                layers=tuple(aliases),
                steps=(),
                evidence={"aliases": aliases, "max_uses": uses},
                fix=FIX if severity == Severity.WARNING else "Nothing to do unless unintended.",
                view=View.OVERVIEW,
            )
        )
    return findings
