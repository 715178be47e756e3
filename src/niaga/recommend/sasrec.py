"""Sequential recommendation: SASRec trained with full-softmax cross-entropy, on the CPU.

At every position of a user's sequence the network (``sasrec_network``) predicts the next item, and the loss
is cross-entropy over **all** catalogue items (the "SASRec with CE" of Klenitskiy and Vasilev, RecSys 2023,
and of the recent public tables; the original paper's one-negative binary loss is much weaker). What makes
it trainable on two CPU cores:

- logits only where there is a next item: padding never reaches the 12,000-way output layer;
- batches of sequences of similar length up to a token budget (``batch_tokens``), so short sequences (most
  of them) are not padded to ``max_len``;
- ``n_threads="auto"``: as many torch threads as the cores other processes leave free (on a shared machine
  a second thread waits on a busy core, and every parallel region waits for it);
- ``bf16=True`` runs the products under bfloat16 autocast, the loss in float32 (off by default: it measured
  no faster on this CPU, where the 64-wide products are memory-bound);
- ``negatives > 0`` replaces the full softmax by a sampled one (that many uniform items shared by the batch,
  the target's own logit always kept): cheaper per step, a little weaker; full softmax is the default.

Validation, for early stopping, is each user's last training item (the second-to-last item of the data
when ``train`` held out the last one): every ``eval_every`` epochs NDCG@10 over all items is measured on it
and the best epoch's weights are kept. ``max_minutes`` bounds the wall time. With ``refit_epochs`` > 0 the
kept network then trains that many more epochs on the whole training data, the validation items included
(the weights of the validated epoch continue; no further model choice is made on them).
"""

from __future__ import annotations

import copy
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from niaga.modeling import load_torch_weights, save_torch_weights
from niaga.recommend.base import ItemVectorSimilarity, RecommenderBase, anchors_by_similarity
from niaga.recommend.data import Histories, Interactions
from niaga.recommend.sasrec_network import SASRecNetwork

WEIGHTS_FILE = "sasrec.safetensors"


def auto_threads() -> int:
    """Torch threads for this machine now: its cores less the ones other processes keep busy (1-minute load).

    On a shared machine an extra thread waits on a core another process holds, and every parallel region
    waits for it: on two cores under a load of four, two threads ran the encoder 8x slower than one."""
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:  # not available on this platform
        busy = 0.0
    return max(1, min(cores, int(cores - busy + 0.5)))


class _Threads:
    """Run with ``n`` torch threads ("auto": see ``auto_threads``; None: torch's setting), then restore it."""

    def __init__(self, n):
        self.n, self.previous = (auto_threads() if n == "auto" else n), None

    def __enter__(self):
        if self.n:
            self.previous = torch.get_num_threads()
            torch.set_num_threads(int(self.n))

    def __exit__(self, *exc):
        if self.previous:
            torch.set_num_threads(self.previous)


class SASRecRecommender(ItemVectorSimilarity, RecommenderBase):
    """SASRec with full-softmax cross-entropy (see the module doc for the CPU levers).

    Network: ``dim``, ``max_len`` (items of history read), ``n_layers``, ``n_heads``, ``inner_dim``,
    ``dropout``, ``attention_dropout``. Training: ``learning_rate`` (Adam), ``weight_decay``,
    ``batch_tokens``, ``max_epochs``, ``patience`` (evaluations without a better validation NDCG@10),
    ``eval_every`` (epochs), ``max_minutes``, ``negatives`` (0: full softmax), ``label_smoothing``,
    ``refit_epochs``, ``bf16``, ``n_threads`` ("auto": the cores other processes leave free, see
    ``auto_threads``), ``random_state``, ``verbose``.

    Learned state: ``n_items_``, ``module_`` (the network, eval mode, CPU; saved as safetensors),
    ``network_config_``, ``history_`` (per evaluated epoch: loss, validation NDCG@10 and HR@10, seconds),
    ``best_epoch_``, ``epochs_``, ``train_seconds_`` (wall) and ``train_cpu_seconds_`` (CPU time of all threads).
    """

    source_name = "sasrec"
    external_state = ("module_",)
    transient_state = ("_unit_items",)  # normalized item embeddings, rebuilt on first use

    def __init__(self, dim: int = 64, max_len: int = 50, n_layers: int = 2, n_heads: int = 1, inner_dim: int = 256,
                 dropout: float = 0.5, attention_dropout: float = 0.5, learning_rate: float = 2e-3,
                 weight_decay: float = 0.0, batch_tokens: int = 1024, max_epochs: int = 20, patience: int = 3,
                 eval_every: int = 2, max_minutes: float | None = None, negatives: int = 0,
                 label_smoothing: float = 0.0, refit_epochs: int = 0, bf16: bool = False,
                 n_threads: int | str | None = "auto",
                 random_state: int | None = 0, verbose: bool = True):
        self.dim = dim
        self.max_len = max_len
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.inner_dim = inner_dim
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_tokens = batch_tokens
        self.max_epochs = max_epochs
        self.patience = patience
        self.eval_every = eval_every
        self.max_minutes = max_minutes
        self.negatives = negatives
        self.label_smoothing = label_smoothing
        self.refit_epochs = refit_epochs
        self.bf16 = bf16
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # -- data to tensors ------------------------------------------------------------------------------
    def _sequences(self, histories: Histories) -> list[np.ndarray]:
        """Token sequences (catalogue row + 1; 0 is padding), each its last ``max_len + 1`` items."""
        keep = int(self.max_len) + 1
        return [histories.items_of(u)[-keep:].astype(np.int64) + 1 for u in range(len(histories))]

    @staticmethod
    def _pad(rows: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        ids = np.zeros((len(rows), int(lengths.max())), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
        return torch.from_numpy(ids), torch.from_numpy(lengths)

    def _batches(self, sequences: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        """Indices of sequences of similar length, each batch within the token budget, in random order."""
        lengths = np.fromiter((len(s) - 1 for s in sequences), dtype=np.int64, count=len(sequences))
        order = np.lexsort((rng.random(len(lengths)), lengths))
        batches, start = [], 0
        while start < len(order):
            longest = lengths[order[min(len(order) - 1, start)]]
            end = start + 1
            while end < len(order) and (end - start + 1) * max(longest, lengths[order[end]]) <= self.batch_tokens:
                longest = max(longest, lengths[order[end]])
                end += 1
            batches.append(order[start:end])
            start = end
        rng.shuffle(batches)
        return batches

    # -- training ------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        for name in ("dim", "max_len", "n_layers", "n_heads", "inner_dim", "batch_tokens", "max_epochs", "patience",
                     "eval_every"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.dim % self.n_heads:
            raise ValueError(f"dim ({self.dim}) must be divisible by n_heads ({self.n_heads})")
        for name in ("dropout", "attention_dropout", "label_smoothing"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if self.batch_tokens < self.max_len:
            raise ValueError(f"batch_tokens ({self.batch_tokens}) must be at least max_len ({self.max_len})")

    def fit(self, interactions: Interactions, y=None):
        self._check_params()
        self.n_items_ = interactions.n_items
        sequences = [s for s in self._sequences(interactions.histories) if len(s) >= 2]
        if not sequences:
            raise ValueError("SASRec needs users with at least two interactions")
        rng = np.random.default_rng(self.random_state)
        # validation: the last item of every sequence long enough to keep two items for training
        valid = [i for i, s in enumerate(sequences) if len(s) >= 3]
        fit_sequences = [s[:-1] if len(s) >= 3 else s for s in sequences]
        valid_inputs = [sequences[i][:-1] for i in valid]
        valid_targets = np.array([sequences[i][-1] for i in valid], dtype=np.int64)
        self.network_config_ = {"n_items": int(self.n_items_), "dim": int(self.dim), "max_len": int(self.max_len),
                                "n_layers": int(self.n_layers), "n_heads": int(self.n_heads),
                                "inner_dim": int(self.inner_dim), "dropout": float(self.dropout),
                                "attention_dropout": float(self.attention_dropout)}
        start, cpu_start = time.perf_counter(), time.process_time()
        deadline = start + 60 * self.max_minutes if self.max_minutes else math.inf
        with _Threads(self.n_threads), torch.random.fork_rng(devices=[]):
            if self.random_state is not None:
                torch.manual_seed(int(self.random_state))
            network = SASRecNetwork(**self.network_config_)
            optimizer = torch.optim.Adam(network.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay,
                                         betas=(0.9, 0.98))
            best_state, best_score, best_epoch, waited, history, epoch = None, -1.0, 0, 0, [], 0
            bar = tqdm(total=int(self.max_epochs), desc="SASRec", unit="epoch", disable=not self.verbose)
            while epoch < self.max_epochs and time.perf_counter() < deadline:
                epoch += 1
                loss = self._epoch(network, optimizer, fit_sequences, rng, deadline)
                bar.update(1)
                if epoch % self.eval_every and epoch < self.max_epochs:
                    continue
                ndcg, hr = self._validate(network, valid_inputs, valid_targets) if len(valid) else (0.0, 0.0)
                history.append({"epoch": epoch, "loss": round(loss, 5), "valid_ndcg@10": round(ndcg, 5),
                                "valid_hr@10": round(hr, 5), "seconds": round(time.perf_counter() - start, 1),
                                "cpu_seconds": round(time.process_time() - cpu_start, 1)})
                bar.set_postfix(loss=f"{loss:.3f}", ndcg10=f"{ndcg:.4f}", hr10=f"{hr:.4f}")
                if self.verbose:
                    tqdm.write(f"SASRec epoch {epoch}: loss {loss:.4f}, validation NDCG@10 {ndcg:.4f} HR@10 {hr:.4f} "
                               f"({history[-1]['seconds']:.0f} s)")
                if ndcg > best_score:
                    best_score, best_epoch, waited = ndcg, epoch, 0
                    best_state = copy.deepcopy(network.state_dict())
                else:
                    waited += 1
                    if waited >= self.patience:
                        break
            bar.close()
            if best_state is not None:
                network.load_state_dict(best_state)
            for extra in range(int(self.refit_epochs)):  # the validation items join training, no more choice
                if time.perf_counter() >= deadline:
                    break
                loss = self._epoch(network, optimizer, sequences, rng, deadline)
                history.append({"epoch": best_epoch + extra + 1, "loss": round(loss, 5), "refit": True,
                                "seconds": round(time.perf_counter() - start, 1)})
        network.eval()
        self.module_ = network
        self.__dict__.pop("_unit_items", None)
        self.history_ = history
        self.best_epoch_ = best_epoch
        self.epochs_ = epoch
        self.train_seconds_ = round(time.perf_counter() - start, 1)
        self.train_cpu_seconds_ = round(time.process_time() - cpu_start, 1)
        return self

    def _epoch(self, network, optimizer, sequences, rng, deadline) -> float:
        network.train()
        total, count = 0.0, 0
        for index in self._batches(sequences, rng):
            if time.perf_counter() >= deadline:
                break
            ids, lengths = self._pad([sequences[i] for i in index])
            inputs, targets = ids[:, :-1], ids[:, 1:]
            input_lengths = lengths - 1
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(self.bf16)):
                hidden = network.encode(inputs, input_lengths)
                mask = targets > 0
                states = hidden[mask]
                gold = targets[mask] - 1
                weights = network.item_weights()
                if self.negatives:
                    sampled = torch.from_numpy(rng.integers(0, self.n_items_, size=int(self.negatives)))
                    positive = (states * weights[gold]).sum(-1, keepdim=True)
                    negative = states @ weights[sampled].T
                    negative = negative.masked_fill(sampled[None, :] == gold[:, None], float("-inf"))
                    logits = torch.cat([positive, negative], dim=1)
                    gold = torch.zeros(len(states), dtype=torch.long)
                else:
                    logits = states @ weights.T
            loss = torch.nn.functional.cross_entropy(logits.float(), gold, label_smoothing=float(self.label_smoothing))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(gold)
            count += len(gold)
        return total / max(count, 1)

    @torch.no_grad()
    def _validate(self, network, inputs, targets, batch_size: int = 1024) -> tuple[float, float]:
        network.eval()
        ndcg, hits = 0.0, 0
        for s in range(0, len(inputs), batch_size):
            logits = self._logits(network, inputs[s:s + batch_size])
            gold = torch.from_numpy(targets[s:s + batch_size] - 1)
            target_score = logits.gather(1, gold[:, None])
            # rank = items scored higher, plus tied items of a lower row (the served order)
            rows = torch.arange(logits.shape[1])[None, :]
            rank = (logits > target_score).sum(1) + ((logits == target_score) & (rows < gold[:, None])).sum(1)
            top = rank < 10
            hits += int(top.sum())
            ndcg += float((1.0 / torch.log2(rank[top].double() + 2.0)).sum())
        return ndcg / len(inputs), hits / len(inputs)

    def _logits(self, network, sequences: list[np.ndarray]) -> torch.Tensor:
        rows = [s[-self.max_len:] for s in sequences]
        empty = np.array([len(r) == 0 for r in rows])
        rows = [r if len(r) else np.zeros(1, dtype=np.int64) for r in rows]
        ids, lengths = self._pad(rows)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(self.bf16)):
            logits = network.last_state(ids, lengths) @ network.item_weights().T
        logits = logits.float()
        if empty.any():
            logits[torch.from_numpy(empty)] = 0.0  # no history: no opinion (the blender's fallback serves them)
        return logits

    def fit_hides_last_item(self) -> bool:
        return not self.refit_epochs

    # -- the contract ---------------------------------------------------------------------------------
    def score_items(self, histories: Histories, batch_size: int = 1024) -> np.ndarray:
        self._check_fitted()
        sequences = [histories.items_of(u)[-int(self.max_len):].astype(np.int64) + 1 for u in range(len(histories))]
        out = np.empty((len(histories), self.n_items_), dtype=np.float32)
        # a few users (a request) run on the caller's torch setting: switching thread pools costs more than it saves
        with torch.inference_mode(), _Threads(self.n_threads if len(histories) >= 64 else None):
            for s in range(0, len(sequences), batch_size):
                out[s:s + batch_size] = self._logits(self.module_, sequences[s:s + batch_size]).numpy()
        return out

    def _item_vectors(self) -> np.ndarray:
        with torch.no_grad():
            return self.module_.item_weights().float().numpy()

    def explain(self, history, items, segment: str = "") -> list[tuple[str, int]]:
        anchors = anchors_by_similarity(np.asarray(history[-int(self.max_len):], dtype=np.int64), np.asarray(items),
                                        self.similarity_between)
        return [("because you bought {anchor}" if a >= 0 else "next in customers' sequences", int(a)) for a in anchors]

    # -- saving: the network as safetensors, the rest through skops -----------------------------------------
    def save_external(self, directory: Path, prefix: str = "") -> None:
        save_torch_weights(self.module_, Path(directory) / f"{prefix}{WEIGHTS_FILE}", self.network_config_)

    def load_external(self, directory: Path, prefix: str = "") -> None:
        network = SASRecNetwork(**self.network_config_)
        self.module_ = load_torch_weights(network, Path(directory) / f"{prefix}{WEIGHTS_FILE}").eval()
        self.__dict__.pop("_unit_items", None)

    def save_artifacts(self, directory: Path) -> None:
        super().save_artifacts(directory)
        self.save_external(directory)

    @classmethod
    def load_artifacts(cls, directory: Path, metadata: dict) -> "SASRecRecommender":
        model = super().load_artifacts(directory, metadata)
        model.load_external(directory)
        return model
