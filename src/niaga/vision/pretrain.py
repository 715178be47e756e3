"""``ContrastivePretrainer``: self-supervised pretraining of the product network on images without labels.

No pretrained image weights can reach niaga's machines (model hubs are closed), so niaga makes its own backbone
the way SimCLR (Chen et al. 2020) does: two randomly edited views of each image go through the network and a
small projection head, and the NT-Xent loss pulls the two views of one image together and pushes the other
images of the batch away. What the network learns is what survives the edits: a description of *this* photo,
not of its class. That is what ``--pretrained`` fine-tuning starts from (few labels, as the grocery photos) and
what copy detection needs (SSCD, Pizzi et al. 2022, trains the same way for copies): so the edits include the
ones marketplaces see on re-listed photos, besides SimCLR's crops and colour changes: text stamped in bands,
a watermark pattern blended in, blur.

Why written here and not taken from a library: lightly / solo-learn need torchvision, which these machines do
not have; the loss and the batch edits are a few dozen lines of torch. The edits run on the whole batch at once
(one ``grid_sample`` for every crop), so two CPU cores spend their time in the network.

``fit(X)``: uint8 images (n, height, width, 3) of one size; ``transform(X)``: the L2-normalized backbone features
(flip-averaged), the descriptor copy detection compares. Saved: ``model.skops`` (settings, history) and
``network.safetensors`` (the backbone's tensors under the names ``ProductNet`` uses, so ``niaga vision train
--pretrained DIR`` loads them).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from niaga.modeling import NiagaModel, load_torch_weights, save_torch_weights
from niaga.vision.model import WEIGHTS_FILE, _Threads, pooled_features
from niaga.vision.network import ProductNet, count_parameters
from niaga.vision.train import one_cycle


def random_views(x: torch.Tensor, size: tuple[int, int], generator: torch.Generator,
                 min_scale: float = 0.25) -> torch.Tensor:
    """One randomly edited view of each image of ``x`` (float, 0..1, NCHW), ``size`` = (height, width).

    Edits: a random resized crop (area ``min_scale``..1, aspect 3/4..4/3) with a horizontal flip; colour jitter
    (brightness, contrast, saturation, per-channel gain: p 0.8); grey (p 0.2); a band of stamped "text"
    (p 0.3); a blended watermark pattern (p 0.3); a 3x3 blur (p 0.2).
    """
    n = x.shape[0]
    u = torch.rand(n, 16, generator=generator)
    area = min_scale + (1 - min_scale) * u[:, 0]
    aspect = torch.exp((u[:, 1] - 0.5) * 2 * np.log(4 / 3))
    sx = torch.sqrt(area * aspect).clamp(max=1.0)
    sy = torch.sqrt(area / aspect).clamp(max=1.0)
    flip = torch.where(u[:, 2] < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = sx * flip
    theta[:, 1, 1] = sy
    theta[:, 0, 2] = (u[:, 3] * 2 - 1) * (1 - sx)
    theta[:, 1, 2] = (u[:, 4] * 2 - 1) * (1 - sy)
    grid = F.affine_grid(theta, [n, 3, size[0], size[1]], align_corners=False)
    v = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    jitter = (u[:, 5] < 0.8).view(n, 1, 1, 1).float()
    grey = v.mean(dim=1, keepdim=True)
    saturation = (0.6 + 0.8 * u[:, 6]).view(n, 1, 1, 1)
    contrast = (0.6 + 0.8 * u[:, 7]).view(n, 1, 1, 1)
    brightness = ((u[:, 8] - 0.5) * 0.6).view(n, 1, 1, 1)
    gain = 1 + (torch.rand(n, 3, 1, 1, generator=generator) - 0.5) * 0.3
    edited = grey + (v - grey) * saturation
    mean = edited.mean(dim=(1, 2, 3), keepdim=True)
    edited = ((edited - mean) * contrast + mean + brightness) * gain
    v = jitter * edited + (1 - jitter) * v
    to_grey = (u[:, 9] < 0.2).view(n, 1, 1, 1).float()
    v = to_grey * v.mean(dim=1, keepdim=True).expand_as(v) + (1 - to_grey) * v

    height, width = size
    rows = torch.arange(height).view(1, height, 1)
    cols = torch.arange(width).view(1, 1, width)
    # stamped text: a band (10-25 % of the height) at a random height, with glyph-like vertical strokes
    band_top = (u[:, 10] * height * 0.8).long().view(n, 1, 1)
    band_height = (height * (0.1 + 0.15 * u[:, 11])).long().clamp(min=2).view(n, 1, 1)
    strokes = (torch.rand(n, 1, width, generator=generator) < 0.45)
    in_band = (rows >= band_top) & (rows < band_top + band_height) & strokes
    stamp = (in_band & (u[:, 12] < 0.3).view(n, 1, 1)).unsqueeze(1).float()
    ink = torch.rand(n, 3, 1, 1, generator=generator)
    v = stamp * ink + (1 - stamp) * v
    # watermark: diagonal stripes blended at 15-40 % over the whole view
    period = (4 + 6 * u[:, 13]).view(n, 1, 1)
    stripes = (((rows + cols) % period.long().clamp(min=2)) == 0).unsqueeze(1).float()
    alpha = ((0.15 + 0.25 * u[:, 14]) * (u[:, 15] < 0.3).float()).view(n, 1, 1, 1)
    v = v * (1 - alpha * stripes) + alpha * stripes * 0.85
    blur = (torch.rand(n, generator=generator) < 0.2).view(n, 1, 1, 1).float()
    v = blur * F.avg_pool2d(v, 3, 1, 1, count_include_pad=False) + (1 - blur) * v
    return v.clamp(0.0, 1.0)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> tuple[torch.Tensor, float]:
    """SimCLR's loss over 2n projections (each view's positive is the other view of its image) and the share of
    views whose nearest other view is their positive (the pretext task's accuracy, a progress signal)."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    logits = z @ z.t() / temperature
    logits.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    loss = F.cross_entropy(logits, target)
    accuracy = float((logits.detach().argmax(1) == target).float().mean())
    return loss, accuracy


class ContrastivePretrainer(NiagaModel, TransformerMixin, BaseEstimator):
    """SimCLR-style pretraining of a ``ProductNet`` backbone (``widths``, ``blocks``, ``stem_stride``: the
    architecture fine-tuning will use) on unlabelled images.

    Training: ``minutes`` (a time budget the schedule follows) or ``epochs``; ``batch_size`` images (2 views
    each), SGD with Nesterov momentum at a one-cycle ``learning_rate``, ``weight_decay``, ``temperature`` of
    NT-Xent, ``view_size`` (height, width) of the views (smaller than the images: cheaper steps, and the
    network is fully convolutional), ``min_scale`` of the crops, ``projection_dim``. ``n_jobs``: torch threads.

    Learned state: ``module_`` (the backbone, eval mode), ``image_size_``, ``mean_`` / ``std_``,
    ``network_config_``, ``history_`` (per epoch: loss, pretext accuracy, seconds), ``training_``.
    """

    task = "vision"
    external_state = ("module_",)

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 128), blocks: tuple[int, ...] = (1, 2, 4, 3),
                 stem_stride: int = 2, minutes: float = 20.0, epochs: int | None = None, batch_size: int = 256,
                 learning_rate: float = 0.3, weight_decay: float = 1e-4, temperature: float = 0.2,
                 view_size: tuple[int, int] = (64, 48), min_scale: float = 0.25, projection_dim: int = 64,
                 n_jobs: int | None = None, random_state: int | None = 0, verbose: bool = True):
        self.widths = widths
        self.blocks = blocks
        self.stem_stride = stem_stride
        self.minutes = minutes
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.temperature = temperature
        self.view_size = view_size
        self.min_scale = min_scale
        self.projection_dim = projection_dim
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _build_network(self) -> ProductNet:
        c = self.network_config_
        return ProductNet({}, tuple(c["widths"]), tuple(c["blocks"]), c["stem_stride"])

    @staticmethod
    def _check_images(X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 4 or X.shape[-1] != 3 or X.dtype != np.uint8:
            raise ValueError(f"X must be uint8 images (n, height, width, 3); got {X.dtype} {X.shape}")
        return X

    def fit(self, X, y=None):
        """Pretrain on images ``X`` (``y`` is ignored: no labels are used)."""
        from tqdm.auto import tqdm

        X = self._check_images(X)
        if len(X) < 2:
            raise ValueError(f"need at least 2 images to contrast, got {len(X)}")
        if self.temperature <= 0 or not 0 < self.min_scale <= 1:
            raise ValueError(f"temperature must be > 0 and min_scale in (0, 1]; got {self.temperature}, "
                             f"{self.min_scale}")
        seed = int(self.random_state) if self.random_state is not None else int(np.random.randint(2**31 - 1))
        self.image_size_ = (int(X.shape[1]), int(X.shape[2]))
        sample = X[:: max(1, len(X) // 2000)].reshape(-1, 3).astype(np.float64) / 255.0
        self.mean_ = [float(v) for v in sample.mean(axis=0)]
        self.std_ = [float(max(v, 1e-3)) for v in sample.std(axis=0)]
        self.network_config_ = {"heads": {}, "widths": [int(w) for w in self.widths],
                                "blocks": [int(b) for b in self.blocks], "stem_stride": int(self.stem_stride),
                                "dropout": 0.0}
        batch = int(min(self.batch_size, len(X)))
        size = tuple(int(s) for s in self.view_size)
        with _Threads(self.n_jobs), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            generator = torch.Generator().manual_seed(seed)
            net = self._build_network().to(memory_format=torch.channels_last)
            projector = nn.Sequential(nn.Linear(net.embedding_dim, 4 * net.embedding_dim, bias=False),
                                      nn.BatchNorm1d(4 * net.embedding_dim), nn.ReLU(inplace=True),
                                      nn.Linear(4 * net.embedding_dim, int(self.projection_dim)))
            decay, no_decay = [], []
            for module in (net, projector):
                for p in module.parameters():
                    (no_decay if p.ndim <= 1 else decay).append(p)
            optimizer = torch.optim.SGD([{"params": decay, "weight_decay": self.weight_decay},
                                         {"params": no_decay, "weight_decay": 0.0}],
                                        lr=self.learning_rate, momentum=0.9, nesterov=True)
            mean = torch.tensor(self.mean_, dtype=torch.float32).view(1, 3, 1, 1)
            std = torch.tensor(self.std_, dtype=torch.float32).view(1, 3, 1, 1)
            data = torch.from_numpy(X)
            steps_per_epoch = max(1, len(X) // batch)
            total_steps = self.epochs * steps_per_epoch if self.epochs else None
            budget = float(self.minutes) * 60.0
            elapsed, step, history = 0.0, 0, []
            net.train()
            projector.train()

            def progress() -> float:
                return step / total_steps if total_steps else elapsed / max(budget, 1e-9)

            bar = tqdm(total=total_steps or int(budget), desc="pretraining", disable=not self.verbose, leave=False,
                       mininterval=2.0, unit="step" if total_steps else "s",
                       bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt}" + ("" if total_steps else " s")
                                  + " [{elapsed}{postfix}]")
            while progress() < 1.0:
                order = torch.randperm(len(X), generator=generator)
                losses, accuracies, started = [], [], time.perf_counter()
                for start in range(0, steps_per_epoch * batch, batch):
                    t0 = time.perf_counter()
                    x = data[order[start:start + batch]].permute(0, 3, 1, 2).float() / 255.0
                    views = [((random_views(x, size, generator, self.min_scale) - mean) / std)
                             .contiguous(memory_format=torch.channels_last) for _ in range(2)]
                    lr = one_cycle(progress(), float(self.learning_rate), 0.1)
                    for group in optimizer.param_groups:
                        group["lr"] = lr
                    z = projector(net.embed(torch.cat(views)))
                    loss, accuracy = nt_xent(z[:len(x)], z[len(x):], float(self.temperature))
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    losses.append(float(loss.detach()))
                    accuracies.append(accuracy)
                    step += 1
                    dt = time.perf_counter() - t0
                    elapsed += dt
                    bar.update(1 if total_steps else dt)
                    if progress() >= 1.0:
                        break
                history.append({"epoch": len(history) + 1, "step": step, "loss": float(np.mean(losses)),
                                "pretext_accuracy": float(np.mean(accuracies)), "lr": lr,
                                "seconds": round(elapsed, 1),
                                "epoch_seconds": round(time.perf_counter() - started, 1)})
                bar.set_postfix_str(f"epoch {len(history)}, loss {history[-1]['loss']:.3f}, "
                                    f"pretext accuracy {history[-1]['pretext_accuracy']:.3f}")
            bar.close()
        self.module_ = net.to(memory_format=torch.contiguous_format).eval()
        self.history_ = history
        self.training_ = {"epochs": len(history), "steps": step, "seconds": round(elapsed, 1),
                          "images": int(len(X)), "parameters": count_parameters(net)}
        return self

    def transform(self, X) -> np.ndarray:
        """L2-normalized backbone features of ``X`` (n, embedding_dim), averaged with the mirrored image."""
        check_is_fitted(self, ["module_"])
        return pooled_features(self.module_, self._check_images(X), self.mean_, self.std_, True, 256, self.n_jobs)

    def save_artifacts(self, directory: Path) -> None:
        check_is_fitted(self, ["module_", "network_config_"])
        super().save_artifacts(directory)
        save_torch_weights(self.module_, Path(directory) / WEIGHTS_FILE, self.network_config_)

    @classmethod
    def load_artifacts(cls, directory: Path, metadata: dict) -> "ContrastivePretrainer":
        model = super().load_artifacts(directory, metadata)
        model.module_ = load_torch_weights(model._build_network(), Path(directory) / WEIGHTS_FILE).eval()
        return model
