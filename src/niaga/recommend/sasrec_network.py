"""The SASRec network (Kang and McAuley, ICDM 2018): a causal transformer over a user's item sequence.

Item embeddings (row 0 is padding) scaled by √d plus learned position embeddings, dropout, pre-norm
transformer blocks with a causal mask (position t attends to positions ≤ t only), a final layer norm; the
hidden state at t scores every item by a dot product with the same item embeddings (tied input and output).

Sequences are right-padded and their positions counted back from the last item (the last item of every
sequence has position ``max_len - 1``), which is what the original's left padding gives: the newest item
always sits at the same position, so training and serving see the same layout.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class SASRecNetwork(nn.Module):
    def __init__(self, n_items: int, dim: int = 64, max_len: int = 50, n_layers: int = 2, n_heads: int = 1,
                 inner_dim: int = 256, dropout: float = 0.5, attention_dropout: float = 0.5):
        super().__init__()
        self.n_items, self.dim, self.max_len = n_items, dim, max_len
        self.item = nn.Embedding(n_items + 1, dim, padding_idx=0)
        self.position = nn.Embedding(max_len, dim)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(dim, n_heads, inner_dim, dropout, attention_dropout)
                                     for _ in range(n_layers)])
        self.norm = nn.LayerNorm(dim)
        nn.init.normal_(self.item.weight, std=dim ** -0.5)
        nn.init.normal_(self.position.weight, std=0.02)
        with torch.no_grad():
            self.item.weight[0].zero_()

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Hidden states (batch × length × dim) of right-padded ``ids`` with the given true ``lengths``."""
        steps = ids.shape[1]
        offsets = torch.arange(steps, device=ids.device)[None, :]
        positions = (self.max_len - lengths[:, None] + offsets).clamp(0, self.max_len - 1)
        x = self.item(ids) * math.sqrt(self.dim) + self.position(positions)
        x = self.dropout(x)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def last_state(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The hidden state at each sequence's last item (batch × dim)."""
        hidden = self.encode(ids, lengths)
        return hidden[torch.arange(len(ids), device=ids.device), lengths - 1]

    def item_weights(self) -> torch.Tensor:
        """Output embeddings of the catalogue (n_items × dim), padding row excluded."""
        return self.item.weight[1:]


class Block(nn.Module):
    """Pre-norm causal self-attention and a GELU feed-forward layer, each with a residual connection.

    Attention through ``scaled_dot_product_attention(is_causal=True)``: no mask tensor to build or read,
    and torch picks its fused CPU kernel."""

    def __init__(self, dim: int, n_heads: int, inner_dim: int, dropout: float, attention_dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.attention_dropout = attention_dropout
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.feed_forward = nn.Sequential(nn.Linear(dim, inner_dim), nn.GELU(), nn.Dropout(dropout),
                                          nn.Linear(inner_dim, dim))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, dim = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(batch, steps, 3, self.n_heads, dim // self.n_heads).permute(2, 0, 3, 1, 4)
        attended = nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.attention_dropout if self.training else 0.0)
        x = x + self.dropout(self.out(attended.transpose(1, 2).reshape(batch, steps, dim)))
        return x + self.dropout(self.feed_forward(self.norm2(x)))
