"""The neural text classifier's network: word embeddings, a BiLSTM or a CNN, pooling, a linear layer."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

PAD, UNK = 0, 1
ARCHITECTURES = ("bilstm", "cnn")


class TextNetwork(nn.Module):
    """Embedding, then a BiLSTM with max+mean pooling or a CNN with max pooling, then a linear classifier."""

    def __init__(self, vocab_size: int, embedding_dim: int, n_classes: int, architecture: str = "bilstm",
                 hidden_size: int = 128, num_layers: int = 1, kernel_sizes: Sequence[int] = (2, 3, 4),
                 num_filters: int = 128, dropout: float = 0.5, embedding_dropout: float = 0.2):
        super().__init__()
        self.architecture = architecture
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.embedding_dropout = nn.Dropout(embedding_dropout)
        if architecture == "bilstm":
            self.encoder = nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True,
                                   bidirectional=True, dropout=dropout if num_layers > 1 else 0.0)
            features = 4 * hidden_size  # (forward + backward) x (max + mean)
        elif architecture == "cnn":
            self.convs = nn.ModuleList(nn.Conv1d(embedding_dim, num_filters, k, padding=k // 2) for k in kernel_sizes)
            features = num_filters * len(kernel_sizes)
        else:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(features, n_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits for a padded batch of word ids (batch x time) with the true length of each row (>= 1)."""
        mask = ids != PAD
        x = self.embedding_dropout(self.embedding(ids))
        if self.architecture == "bilstm":
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, _ = self.encoder(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
            m = mask.unsqueeze(-1)
            pooled_max = out.masked_fill(~m, float("-inf")).max(dim=1).values
            pooled_mean = (out * m).sum(dim=1) / lengths.clamp(min=1).unsqueeze(-1).to(out.dtype)
            pooled = torch.cat([pooled_max, pooled_mean], dim=1)
        else:
            x = x.transpose(1, 2)  # batch x channels x time
            n = ids.shape[1]
            parts = []
            for conv in self.convs:
                h = torch.relu(conv(x))[:, :, :n]
                parts.append(h.masked_fill(~mask.unsqueeze(1), float("-inf")).max(dim=2).values)
            pooled = torch.cat(parts, dim=1)
        return self.classifier(self.dropout(pooled))
