"""Which run without BatchNorm is the fair comparison for a run with it.

The same model family without BN (``lenet5_bn`` -> ``lenet5``; ``mlp`` with ``norm=batch``
-> ``mlp`` with ``norm=none``), then as many equal settings as possible (depth, width,
activation, data, seed, optimiser). Runs of another family are never picked by default.
"""

from __future__ import annotations

# Registry models whose BN-free counterpart has another name.
NO_BN_NAME = {
    "lenet5_bn": "lenet5",
    "lenet5_bn_scratch": "lenet5",
    "netbatchnorm": "net",
    "idl_cnn_bn": "idl_cnn_relu",
    "idl_fc_bn": "idl_fc_relu",
}
NORM_KEYS = ("norm", "bn", "batch_norm", "batchnorm")
HPARAMS = ("optimizer", "lr", "batch_size", "steps", "momentum", "seed")


def _model(meta: dict) -> tuple[str, dict]:
    model = meta.get("model") or {}
    if not isinstance(model, dict):
        return str(model), {}
    return str(model.get("name") or ""), dict(model.get("kwargs") or {})


def family_without_bn(meta: dict) -> str:
    """The model name a BN-free counterpart of this run has."""
    name, _ = _model(meta)
    return NO_BN_NAME.get(name, name)


def same_family(meta: dict, other: dict) -> bool:
    """``other`` is this run's model family (its BN-free counterpart or the same name)."""
    name, _ = _model(other)
    return bool(name) and name == family_without_bn(meta)


def partner_score(meta: dict, other: dict) -> float:
    """Higher = more comparable; negative = another model family."""
    if not same_family(meta, other):
        return -1.0
    _, mine = _model(meta)
    _, theirs = _model(other)
    score = 10.0
    for key in set(mine) | set(theirs):
        if key not in NORM_KEYS and mine.get(key) == theirs.get(key):
            score += 1.0
    data, other_data = meta.get("data") or {}, other.get("data") or {}
    if isinstance(data, dict) and isinstance(other_data, dict):
        score += 2.0 * (data.get("name") == other_data.get("name"))
    hp, other_hp = meta.get("hparams") or {}, other.get("hparams") or {}
    if isinstance(hp, dict) and isinstance(other_hp, dict):
        score += 0.5 * sum(hp.get(k) == other_hp.get(k) for k in HPARAMS)
    return score


def rank_partners(meta: dict, candidates: dict[str, dict]) -> list[tuple[str, float]]:
    """(run id, score) for each candidate run (id -> meta), most comparable first."""
    scored = [(run_id, partner_score(meta, m)) for run_id, m in candidates.items()]
    return sorted(scored, key=lambda item: (-item[1], item[0]))


def describe(meta: dict) -> str:
    """'mlp (depth=6, norm=none, ...)' for captions."""
    name, kwargs = _model(meta)
    shown = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k not in ("in_channels",))
    return f"{name} ({shown})" if shown else name or "?"
