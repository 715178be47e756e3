"""The product CNN: a small ResNet in plain PyTorch (no torchvision on these machines), one head per label.

Shape, for 80×60 catalogue photos on two CPU cores: a stride-2 3×3 stem, then four stages of basic residual
blocks (two 3×3 convolutions, batch norm, ReLU; the first block of a stage halves the resolution and a 1×1
projection matches the shortcut). Most blocks sit in the low-resolution stages, where a block costs little
compute: at 80×60 input the stages run at 40×30, 20×15, 10×8 and 5×4. Global average pooling gives the
embedding used by visual search; a dropout and one linear layer per head (master, sub, article, gender ...)
give the logits. The last batch norm of every residual branch starts at zero, so each block starts as the
identity and a deep net trains from the first step (Goyal et al. 2017).

Sized for two CPU cores: the default (widths 16-32-64-128, blocks 1-2-4-3: 1.2M parameters, about 55M
multiply-adds per 80×60 image) trains at roughly 250 images/s per free core in float32 with channels_last
memory; widths 32-64-128-256 cost three times as much per image.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        nn.init.zeros_(self.bn2.weight)  # the block starts as the identity
        self.shortcut = None
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class ProductNet(nn.Module):
    """ResNet-style trunk and one linear head per entry of ``heads`` (name -> number of classes).

    ``forward`` returns a dict of logits per head; ``embed`` the pooled features (the search embedding).
    Input: float images (batch, 3, height, width), already normalized.
    """

    def __init__(self, heads: dict[str, int], widths: tuple[int, ...] = (16, 32, 64, 128),
                 blocks: tuple[int, ...] = (1, 2, 4, 3), stem_stride: int = 2, dropout: float = 0.2):
        super().__init__()
        if len(widths) != len(blocks) or not widths:
            raise ValueError(f"widths {widths} and blocks {blocks} must have the same, non-zero length")
        self.head_names = list(heads)
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, stem_stride, 1, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU(inplace=True))
        layers, c_in = [], widths[0]
        for i, (width, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(c_in, width, 2 if (j == 0 and i > 0) else 1))
                c_in = width
        self.trunk = nn.Sequential(*layers)
        self.embedding_dim = c_in
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({name: nn.Linear(c_in, n) for name, n in heads.items()})
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(F.adaptive_avg_pool2d(self.trunk(self.stem(x)), 1), 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.dropout(self.embed(x))
        return {name: head(features) for name, head in self.heads.items()}

    def backbone_parameters(self):
        """Everything but the heads: what a freeze schedule holds fixed while the heads learn."""
        return [p for name, p in self.named_parameters() if not name.startswith("heads.")]


class ExportWrapper(nn.Module):
    """What ONNX exports: uint8 NHWC images in, (optionally flip-averaged) probabilities per head and the
    L2-normalized embedding out, so the runtime needs no torch and no preprocessing beyond decoding."""

    def __init__(self, net: ProductNet, mean: list[float], std: list[float], flip_tta: bool):
        super().__init__()
        self.net = net
        self.flip_tta = flip_tta
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)

    def forward(self, images: torch.Tensor):
        x = (images.permute(0, 3, 1, 2).float() - self.mean) / self.std
        if self.flip_tta:
            x = torch.cat([x, torch.flip(x, dims=[3])], dim=0)
        features = self.net.embed(x)
        logits = {name: head(features) for name, head in self.net.heads.items()}
        n = images.shape[0]
        outputs = []
        for name in self.net.head_names:
            p = torch.softmax(logits[name], dim=1)
            outputs.append((p[:n] + p[n:]) / 2 if self.flip_tta else p)
        embedding = (features[:n] + features[n:]) / 2 if self.flip_tta else features
        outputs.append(F.normalize(embedding, dim=1))
        return tuple(outputs)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
