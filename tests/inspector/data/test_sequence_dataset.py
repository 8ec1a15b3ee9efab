"""sequence: labels depend only on the early token; the tail carries no label information."""

from __future__ import annotations

import json

import pytest
import torch

from inspector.data import load_data
from inspector.data.sequence import SequenceConfig, generate_sequences, sequence_label
from inspector.errors import DataError


def test_label_is_the_token_at_key_pos_and_class_tokens_appear_nowhere_else():
    bundle = load_data("sequence", seed=0, n_train=400, n_test=100)
    info = bundle.info
    for split in (bundle.train, bundle.test):
        x, y = split.x, split.y
        assert x.dtype == torch.long and x.shape[1] == info.seq_len
        assert torch.equal(y, x[:, 1])
        others = torch.cat([x[:, :1], x[:, 2:]], dim=1)
        assert bool((others >= info.num_classes).all())
        assert bool((x < info.vocab_size).all())


def test_changing_the_tail_never_changes_the_label():
    cfg = SequenceConfig(seq_len=30, key_pos=2)
    tokens, labels = generate_sequences(cfg, 200, torch.Generator().manual_seed(0))
    tail = torch.randint(cfg.num_classes, cfg.vocab_size, tokens[:, 3:].shape)
    changed = tokens.clone()
    changed[:, 3:] = tail
    changed[:, 0] = cfg.num_classes  # and the tokens before the key
    assert torch.equal(sequence_label(changed, cfg.key_pos), labels)
    assert torch.equal(labels, tokens[:, 2])


def test_tail_tokens_are_independent_of_the_label():
    bundle = load_data("sequence", seed=1, n_train=4000, n_test=10)
    x, y = bundle.train.x, bundle.train.y
    tail = x[:, 2:]
    vocab = bundle.info.vocab_size
    overall = torch.bincount(tail.flatten(), minlength=vocab).float()
    overall /= overall.sum()
    for c in range(bundle.info.num_classes):
        per_class = torch.bincount(tail[y == c].flatten(), minlength=vocab).float()
        per_class /= per_class.sum()
        assert (per_class - overall).abs().max() < 0.01


def test_deterministic_per_seed_and_balanced():
    a = load_data("sequence", seed=5, n_train=50, n_test=20)
    b = load_data("sequence", seed=5, n_train=50, n_test=20)
    c = load_data("sequence", seed=6, n_train=50, n_test=20)
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.x, b.test.x)
    assert not torch.equal(a.train.x, c.train.x)
    counts = torch.bincount(a.train.y, minlength=a.info.num_classes)
    assert int(counts.max() - counts.min()) <= 1


def test_info_options_and_probe_batch():
    bundle = load_data("sequence", seed=0, seq_len=12, vocab_size=10, num_classes=3, n_test=9)
    info = bundle.info
    assert info.kind == "sequence" and not info.has_masks
    assert info.model_kwargs() == {"vocab_size": 10, "seq_len": 12, "num_classes": 3}
    assert info.input_shape == (12,)
    x, y, masks = bundle.probe_batch(n=3, seed=0)
    assert x.shape == (3, 12) and masks is None and sorted(y.tolist()) == [0, 1, 2]
    d = json.loads(json.dumps(bundle.to_dict()))
    assert d["options"]["seq_len"] == 12 and d["kind"] == "sequence"


@pytest.mark.parametrize(
    "options",
    [
        {"vocab_size": 4, "num_classes": 4},
        {"key_pos": 50, "seq_len": 50},
        {"seq_len": 1},
        {"length": 3},
    ],
)
def test_bad_options_are_clear_errors(options):
    with pytest.raises(DataError, match="sequence"):
        load_data("sequence", **options)
