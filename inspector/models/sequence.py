"""Recurrent sequence classifiers of Inside Deep Learning ch. 6 sec. 6.6.

embedding (64) -> 3-layer RNN / LSTM / GRU (hidden n = 256, batch_first) -> last time step
-> Linear(n, classes). Input: a long tensor of token ids, shape (batch, seq_len).
The chapter clamps every gradient to [-5, 5] with parameter hooks during training; that is a
training choice (``--clip``), not part of the model, so it is left out here.
"""

from __future__ import annotations

import torch
from torch import nn

from inspector.models.common import check_int

RNN_TYPES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class LastTimeStep(nn.Module):
    """(outputs, h_n) or (outputs, (h_n, c_n)) -> the top layer's output at the last step.

    For a unidirectional recurrent layer on unpadded input this equals ``h_n[-1]``.
    """

    def forward(self, rnn_result: tuple) -> torch.Tensor:
        return rnn_result[0][:, -1, :]


class RecurrentClassifier(nn.Module):
    """Embedding -> recurrent stack -> last step -> linear."""

    def __init__(
        self,
        cell: str,
        vocab_size: int,
        num_classes: int,
        embed_dim: int = 64,
        hidden: int = 256,
        num_layers: int = 3,
    ) -> None:
        super().__init__()
        if cell not in RNN_TYPES:
            raise ValueError(f"cell must be one of {', '.join(RNN_TYPES)}; got {cell!r}")
        self.vocab_size = check_int(vocab_size, "vocab_size", 2)
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = RNN_TYPES[cell](embed_dim, hidden, num_layers=num_layers, batch_first=True)
        self.last = LastTimeStep()
        self.fc = nn.Linear(hidden, check_int(num_classes, "num_classes", 1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.fc(self.last(self.rnn(self.embedding(tokens))))


def _builder(cell: str):
    def build(
        vocab_size: int = 57,
        seq_len: int = 20,
        num_classes: int = 18,
        embed_dim: int = 64,
        hidden: int = 256,
        num_layers: int = 3,
    ) -> nn.Module:
        del seq_len  # the network reads any length; kept so data shapes pass through
        return RecurrentClassifier(cell, vocab_size, num_classes, embed_dim, hidden, num_layers)

    build.__name__ = f"{cell}_classifier"
    build.__doc__ = f"Embedding(64) -> 3-layer {cell.upper()}(256) -> last step -> linear."
    return build


rnn_classifier = _builder("rnn")
lstm_classifier = _builder("lstm")
gru_classifier = _builder("gru")
