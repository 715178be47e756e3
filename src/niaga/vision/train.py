"""The training loop: augmentation on the batch, multi-head loss, a one-cycle schedule over a time budget, EMA of
the weights, selection on validation, and a checkpoint to resume from.

Why these pieces (measured on the fashion images, 2 CPU cores):
- **Decoded images in memory** (uint8, about 230 MB for 16k fashion images) and augmentation on the whole batch
  in torch: no per-image Python in the loop, which on two cores would cost as much as the network.
- **Time-budgeted one-cycle**: the learning rate warms up over the first ``warmup`` share of the budget and
  anneals by a cosine to zero at its end, with the schedule's position read from the clock, so a slower
  (or busier) machine trains fewer steps but still finishes annealed. ``epochs`` switches to a step-counted
  schedule (deterministic, used by tests).
- **EMA** of the weights (decay ``ema_decay`` per step, warmed up) is what is evaluated and kept: smoother than
  the last step on a short schedule.
- **Class balance**: each head's loss weighs class c by ``(n_c / n_mean)^-power`` (power ½ by default: half way
  between plain and fully balanced), so rare articleTypes count without wrecking the frequent ones.
- **Freeze / unfreeze**: with pretrained weights the backbone is held fixed (batch norm statistics too) for the
  first ``freeze_fraction`` of the budget while the new heads learn, then everything trains.
- **Progressive resizing** (``low_res_fraction``): the first part of the run at half the image size, where a
  step costs about a quarter, then full size (the net is fully convolutional).
- **Adaptive threads** (``n_jobs=None``): OpenMP threads wait for each other by spinning, so on a machine
  busy with other jobs two threads can run a step ten times slower than one. Each epoch times a few steps with
  one thread and with all cores and runs the rest with the faster setting.
- **Checkpoint**: every epoch, the network, EMA, best-so-far weights, optimizer momentum and random state go
  to ``checkpoint.safetensors`` and the counters to ``checkpoint.json`` (data, not pickles); ``resume=True``
  continues where it stopped, with the time already spent counted.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

CHECKPOINT_WEIGHTS = "checkpoint.safetensors"
CHECKPOINT_STATE = "checkpoint.json"
PROBE_STEPS = 4


@dataclass
class TrainConfig:
    minutes: float = 18.0
    epochs: int | None = None
    batch_size: int = 128
    learning_rate: float = 0.2
    weight_decay: float = 5e-4
    momentum: float = 0.9
    warmup: float = 0.15
    label_smoothing: float = 0.1
    class_balance_power: float = 0.5
    head_weights: dict = field(default_factory=dict)
    augment: bool = True
    ema_decay: float = 0.998
    precision: str = "fp32"
    channels_last: bool = True
    freeze_fraction: float = 0.0
    low_res_fraction: float = 0.0
    validate_from: float = 0.5
    adaptive_threads: bool = False
    seed: int = 0
    verbose: bool = True


# -- augmentation ---------------------------------------------------------------------------------------------

def to_input(batch_uint8: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """uint8 NHWC -> normalized float NCHW (channels_last memory when asked)."""
    x = (batch_uint8.permute(0, 3, 1, 2).float() - mean) / std
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x.contiguous()


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flip, scale (0.9-1.1), shift (±8 %) and brightness / contrast (±15 %), per image."""
    n = x.shape[0]
    u = torch.rand(n, 6, generator=generator)
    flip = torch.where(u[:, 0] < 0.5, -1.0, 1.0)
    scale = 0.9 + 0.2 * u[:, 1]
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = flip / scale
    theta[:, 1, 1] = 1.0 / scale
    theta[:, 0, 2] = (u[:, 2] - 0.5) * 0.16
    theta[:, 1, 2] = (u[:, 3] - 0.5) * 0.16
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    contrast = (0.85 + 0.3 * u[:, 4]).view(n, 1, 1, 1)
    brightness = ((u[:, 5] - 0.5) * 0.3).view(n, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * contrast + mean + brightness


# -- EMA ------------------------------------------------------------------------------------------------------

class EMA:
    """Exponential moving average of a module's parameters and buffers (batch-norm statistics copied)."""

    def __init__(self, module: nn.Module, decay: float):
        self.decay = decay
        self.state = {k: v.detach().clone().float() if v.is_floating_point() else v.detach().clone()
                      for k, v in module.state_dict().items()}
        self.updates = 0

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for k, v in module.state_dict().items():
            if v.is_floating_point():
                self.state[k].mul_(decay).add_(v.detach().float(), alpha=1 - decay)
            else:
                self.state[k].copy_(v)


# -- loss -----------------------------------------------------------------------------------------------------

def class_weights(targets: np.ndarray, n_classes: int, power: float) -> torch.Tensor:
    """(n_c / mean n)^-power per class, for the labelled rows (target >= 0); unseen classes get weight 1."""
    counts = np.bincount(targets[targets >= 0], minlength=n_classes).astype(np.float64)
    seen = counts > 0
    weights = np.ones(n_classes)
    if power and seen.any():
        weights[seen] = (counts[seen] / counts[seen].mean()) ** -power
        weights /= (weights[targets[targets >= 0]]).mean()  # the average labelled row keeps weight 1
    return torch.tensor(weights, dtype=torch.float32)


def multi_head_loss(logits: dict, targets: dict, weights: dict, head_weights: dict, smoothing: float) -> torch.Tensor:
    total = 0.0
    for name, out in logits.items():
        y = targets[name]
        labelled = y >= 0
        if not bool(labelled.any()):
            continue
        loss = F.cross_entropy(out.float()[labelled], y[labelled], weight=weights[name], label_smoothing=smoothing)
        total = total + head_weights.get(name, 1.0) * loss
    return total


# -- schedule -------------------------------------------------------------------------------------------------

def one_cycle(progress: float, peak: float, warmup: float) -> float:
    """Linear warm-up to ``peak`` over ``warmup`` of the run, then a cosine down to zero."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return peak * max(progress / warmup, 0.02)
    return peak * 0.5 * (1 + math.cos(math.pi * (progress - warmup) / max(1 - warmup, 1e-9)))


# -- checkpoint -----------------------------------------------------------------------------------------------

def save_checkpoint(directory: Path, net: nn.Module, ema: EMA, best: dict | None, optimizer: torch.optim.Optimizer,
                    generator: torch.Generator, state: dict) -> None:
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    tensors = {f"net.{k}": v.detach().contiguous() for k, v in net.state_dict().items()}
    tensors.update({f"ema.{k}": v.contiguous() for k, v in ema.state.items()})
    if best is not None:
        tensors.update({f"best.{k}": v.contiguous() for k, v in best.items()})
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for i, p in enumerate(params):
        buf = optimizer.state.get(p, {}).get("momentum_buffer")
        if buf is not None:
            tensors[f"momentum.{i}"] = buf.contiguous()
    tensors["generator"] = generator.get_state()
    tensors["torch_rng"] = torch.get_rng_state()  # dropout masks: a resumed run repeats the uninterrupted one
    tmp = directory / (CHECKPOINT_WEIGHTS + ".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(directory / CHECKPOINT_WEIGHTS)  # never a half-written checkpoint
    (directory / CHECKPOINT_STATE).write_text(json.dumps({**state, "ema_updates": ema.updates}, indent=1),
                                              encoding="utf-8")


def load_checkpoint(directory: Path, net: nn.Module, ema: EMA, optimizer: torch.optim.Optimizer,
                    generator: torch.Generator) -> tuple[dict, dict | None]:
    from safetensors.torch import load_file

    tensors = load_file(str(directory / CHECKPOINT_WEIGHTS))
    state = json.loads((directory / CHECKPOINT_STATE).read_text(encoding="utf-8"))
    net.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")}, strict=True)
    ema.state = {k[4:]: v for k, v in tensors.items() if k.startswith("ema.")}
    ema.updates = int(state.get("ema_updates", 0))
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")} or None
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for i, p in enumerate(params):
        if f"momentum.{i}" in tensors:
            optimizer.state[p]["momentum_buffer"] = tensors[f"momentum.{i}"]
    generator.set_state(tensors["generator"])
    torch.set_rng_state(tensors["torch_rng"])
    return state, best


def checkpoint_exists(directory: Path | None) -> bool:
    return directory is not None and (directory / CHECKPOINT_WEIGHTS).exists() and (directory / CHECKPOINT_STATE).exists()


# -- the loop -------------------------------------------------------------------------------------------------

def train_network(net: nn.Module, images: np.ndarray, targets: dict[str, np.ndarray], config: TrainConfig,
                  mean: list[float], std: list[float], validate: Callable[[dict], dict] | None = None,
                  checkpoint_dir: Path | None = None, resume: bool = False, fingerprint: str = "") -> dict:
    """Train ``net`` in place on uint8 NHWC ``images`` and integer ``targets`` per head (-1: no label).

    ``validate(state_dict) -> {"score": float, ...}`` scores a set of weights on the validation split; the best
    scoring EMA weights are loaded into ``net`` at the end (the last EMA weights when there is no validation).
    Returns the history: per epoch loss, learning rate, seconds and validation figures.
    """
    from tqdm.auto import tqdm

    generator = torch.Generator().manual_seed(int(config.seed))
    torch.manual_seed(int(config.seed))  # initial dropout masks; weights were initialised by the caller
    n = len(images)
    data = torch.from_numpy(images)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
    target_t = {k: torch.as_tensor(v, dtype=torch.long) for k, v in targets.items()}
    weights = {k: class_weights(v, int(net.heads[k].out_features), config.class_balance_power)
               for k, v in targets.items()}
    if config.channels_last:
        net.to(memory_format=torch.channels_last)

    decay, no_decay = [], []
    for name, p in net.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    optimizer = torch.optim.SGD([{"params": decay, "weight_decay": config.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=config.learning_rate, momentum=config.momentum, nesterov=True)
    ema = EMA(net, config.ema_decay)
    steps_per_epoch = max(1, n // config.batch_size)
    total_steps = config.epochs * steps_per_epoch if config.epochs else None
    budget = config.minutes * 60.0
    state = {"step": 0, "epoch": 0, "elapsed": 0.0, "history": [], "best_score": None, "best_epoch": None,
             "fingerprint": fingerprint, "budget": budget}
    best = None
    if resume and checkpoint_exists(checkpoint_dir):
        saved_state, best = load_checkpoint(checkpoint_dir, net, ema, optimizer, generator)
        if saved_state.get("fingerprint") != fingerprint:
            raise ValueError(f"{checkpoint_dir}: the checkpoint belongs to other data or parameters; "
                             "train without --resume to start over")
        state.update(saved_state)
        budget = float(state.get("budget", budget))  # the schedule the checkpoint was following

    backbone = set(id(p) for p in getattr(net, "backbone_parameters", lambda: [])())
    frozen = False

    def set_frozen(value: bool) -> None:
        nonlocal frozen
        if value == frozen or not backbone:
            return
        frozen = value
        for p in net.parameters():
            if id(p) in backbone:
                p.requires_grad_(not value)

    def progress_now() -> float:
        if total_steps:
            return state["step"] / total_steps
        return state["elapsed"] / budget if budget > 0 else 1.0

    cores = torch.get_num_threads()
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.precision == "bf16")
    bar = tqdm(total=total_steps or int(budget), initial=min(state["step"] if total_steps else int(state["elapsed"]),
                                                            total_steps or int(budget)),
               desc="training", unit="step" if total_steps else "s", disable=not config.verbose, leave=False,
               mininterval=2.0, bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt}" + ("" if total_steps else " s") + " [{elapsed}{postfix}]")
    done = progress_now() >= 1.0
    while not done:
        net.train()
        set_frozen(progress_now() < config.freeze_fraction)
        if frozen:  # frozen batch norm keeps the pretrained statistics
            for m in net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        order = torch.randperm(n, generator=generator)
        running, seen, started = 0.0, 0, time.perf_counter()
        probe = {1: [], cores: []} if config.adaptive_threads and cores > 1 else None
        for step_in_epoch, start in enumerate(range(0, steps_per_epoch * config.batch_size, config.batch_size)):
            if probe is not None and step_in_epoch < 2 * PROBE_STEPS:
                torch.set_num_threads(1 if step_in_epoch < PROBE_STEPS else cores)
            elif probe is not None and step_in_epoch == 2 * PROBE_STEPS:
                # the median of the probe steps but the first of each (it pays for thread start-up)
                threads = min(probe, key=lambda k: float(np.median(probe[k][1:])))
                torch.set_num_threads(threads)
                state.setdefault("threads", []).append(threads)
            t0 = time.perf_counter()
            index = order[start:start + config.batch_size]
            x = (data[index].permute(0, 3, 1, 2).float() - mean_t) / std_t
            if config.augment:
                x = augment(x, generator)
            if progress_now() < config.low_res_fraction:  # progressive resizing: early epochs at half size
                x = F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True, align_corners=False)
            x = x.contiguous(memory_format=torch.channels_last) if config.channels_last else x.contiguous()
            lr = one_cycle(progress_now(), config.learning_rate, config.warmup)
            for group in optimizer.param_groups:
                group["lr"] = lr
            with autocast:
                logits = net(x)
            loss = multi_head_loss(logits, {k: v[index] for k, v in target_t.items()}, weights,
                                   config.head_weights, config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            ema.update(net)
            running += float(loss.detach()) * len(index)
            seen += len(index)
            state["step"] += 1
            dt = time.perf_counter() - t0
            if probe is not None and step_in_epoch < 2 * PROBE_STEPS:
                probe[1 if step_in_epoch < PROBE_STEPS else cores].append(dt)
            state["elapsed"] += dt
            bar.update(1 if total_steps else dt)
            if progress_now() >= 1.0:
                break
        state["epoch"] += 1
        done = progress_now() >= 1.0
        record = {"epoch": state["epoch"], "step": state["step"], "train_loss": running / max(seen, 1), "lr": lr,
                  "seconds": round(state["elapsed"], 1), "epoch_seconds": round(time.perf_counter() - started, 1)}
        if validate is not None and (progress_now() >= config.validate_from or done):
            t0 = time.perf_counter()
            scores = validate(ema.state)
            state["elapsed"] += time.perf_counter() - t0  # validation counts against the budget
            record.update({f"val_{k}": v for k, v in scores.items()})
            if state["best_score"] is None or scores["score"] > state["best_score"]:
                state["best_score"], state["best_epoch"] = scores["score"], state["epoch"]
                best = {k: v.clone() for k, v in ema.state.items()}
        state["history"].append(record)
        bar.set_postfix_str(f"epoch {state['epoch']}, loss {record['train_loss']:.3f}"
                            + (f", val {record['val_score']:.4f}" if "val_score" in record else ""))
        if checkpoint_dir is not None:
            save_checkpoint(checkpoint_dir, net, ema, best, optimizer, generator, state)
    bar.close()
    torch.set_num_threads(cores)
    set_frozen(False)
    final = best if best is not None else ema.state
    net.load_state_dict({k: v.to(net.state_dict()[k].dtype) for k, v in final.items()})
    net.eval()
    return {"history": state["history"], "threads": state.get("threads", []), "best_epoch": state["best_epoch"] or state["epoch"],
            "best_score": state["best_score"], "epochs": state["epoch"], "steps": state["step"],
            "seconds": round(state["elapsed"], 1)}
