"""``sequence``: a generated sequence-classification task that needs long memory.

The label is the class token placed at an early position (``key_pos``, default 1); every
other position holds a random distractor token that carries no information about the label.
A model reading left to right and classifying from its last state must carry the early token
through ``seq_len - key_pos`` steps: a vanilla RNN's gradient through that many tanh steps
vanishes, while LSTM/GRU gates keep it (the seeds' RNN vs LSTM lesson).

Token ids ``0 .. num_classes-1`` are the class tokens (they occur only at ``key_pos``);
``num_classes .. vocab_size-1`` are distractors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from inspector.data.bundle import DataBundle, DataInfo, TensorPairs
from inspector.data.options import check_known, int_option
from inspector.errors import DataError


@dataclass(frozen=True)
class SequenceConfig:
    """Options of the ``sequence`` dataset (``--data-arg key=value``)."""

    # 20 steps: an LSTM/GRU reaches ~100% in a few hundred Adam steps while a vanilla RNN stays
    # at chance; much longer tails need thousands of steps even for an LSTM. 4000 examples keep
    # a model from memorising the random tails instead of finding the key token.
    n_train: int = 4000
    n_test: int = 500
    seq_len: int = 20
    vocab_size: int = 16
    num_classes: int = 4
    key_pos: int = 1  # where the label token sits; everything after it is distraction

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> SequenceConfig:
        check_known("sequence", options, cls.__dataclass_fields__)
        d = {**asdict(cls()), **options}
        cfg = cls(
            n_train=int_option("sequence", "n_train", d["n_train"], 1, 1_000_000),
            n_test=int_option("sequence", "n_test", d["n_test"], 1, 1_000_000),
            seq_len=int_option("sequence", "seq_len", d["seq_len"], 2, 100_000),
            vocab_size=int_option("sequence", "vocab_size", d["vocab_size"], 3, 1_000_000),
            num_classes=int_option("sequence", "num_classes", d["num_classes"], 2, 1000),
            key_pos=int_option("sequence", "key_pos", d["key_pos"], 0, 100_000),
        )
        if cfg.vocab_size <= cfg.num_classes:
            raise DataError(
                f"dataset 'sequence': vocab_size ({cfg.vocab_size}) must exceed num_classes "
                f"({cfg.num_classes}) to leave room for distractor tokens"
            )
        if cfg.key_pos >= cfg.seq_len:
            raise DataError(
                f"dataset 'sequence': key_pos ({cfg.key_pos}) must be below seq_len ({cfg.seq_len})"
            )
        return cfg


def sequence_label(tokens: torch.Tensor, key_pos: int = 1) -> torch.Tensor:
    """The label of each sequence in ``tokens`` (N, L): the class token at ``key_pos``."""
    return tokens[:, key_pos].clone()


def generate_sequences(
    cfg: SequenceConfig, n: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens (n, seq_len) long, labels (n,) long) with balanced labels."""
    labels = (torch.arange(n) % cfg.num_classes)[torch.randperm(n, generator=g)]
    tokens = torch.randint(cfg.num_classes, cfg.vocab_size, (n, cfg.seq_len), generator=g)
    tokens[:, cfg.key_pos] = labels
    return tokens, sequence_label(tokens, cfg.key_pos)


def load_sequence(seed: int = 0, **options: Any) -> DataBundle:
    cfg = SequenceConfig.from_options(options)
    splits = []
    for split, n in ((0, cfg.n_train), (1, cfg.n_test)):
        # one generator per split, so changing n_train never changes the test sequences
        g = torch.Generator().manual_seed(int(seed) * 7919 + 101 + split)
        splits.append(TensorPairs(*generate_sequences(cfg, n, g)))
    info = DataInfo(
        name="sequence",
        kind="sequence",
        num_classes=cfg.num_classes,
        class_names=tuple(f"token {i}" for i in range(cfg.num_classes)),
        vocab_size=cfg.vocab_size,
        seq_len=cfg.seq_len,
        has_masks=False,
        input_shape=(cfg.seq_len,),
    )
    return DataBundle(info, splits[0], splits[1], options=asdict(cfg), seed=int(seed))
