"""What the CLI (and later the API) calls: train, evaluate, predict, index, similar. Thin, one job each.

Splits: ``train`` fits on the dataset's ``train`` split and selects weights on ``val`` (never on anything else);
``evaluate`` scores whichever split it is given and says in its report which split served which purpose.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from niaga.cli_options import say
from niaga.data.io import check_output_path, read_table, with_outputs, write_table
from niaga.errors import DataError, NiagaError
from niaga.modeling import fingerprint, load_model, row_hashes, save_model, training_overlap, overlap_note
from niaga.text.titles import TitleMatcher
from niaga.vision import duplicates as dup
from niaga.vision.checks import checks_markdown, run_checks, summary_line
from niaga.vision.dataset import (ATTRIBUTES, HEADS, IMAGE_COLUMNS, IMAGE_SUFFIXES, LEVELS, ImageDataset,
                                  image_sizes, list_directory, load_images,
                                  read_dataset, resolve_input)
from niaga.vision.deploy import DEPLOY_FILE, FILES as DEPLOY_FILES, Runner, prepare_deployment
from niaga.vision.evaluate import write_report
from niaga.vision.model import ProductClassifier
from niaga.vision.pretrain import ContrastivePretrainer
from niaga.vision.retrieval import RetrievalHead
from niaga.vision.search import VisualIndex, precision_at_k

DEFAULT_MINUTES = 20.0
CHECKPOINT_DIR = "checkpoint"
INDEX_DIR = "index"
RETRIEVAL_DIR = "retrieval"
MIN_LOOP_MINUTES = 0.1  # a budget too small for export and indexing still trains this long
CHUNK = 4096


def _write_json(value, path: Path) -> None:
    from niaga.modeling import write_json

    write_json(value, path)


# -- train ----------------------------------------------------------------------------------------------------

def train(data: str | Path, out: str | Path, *, minutes: float | None = None, resume: bool = False,
          build_index: bool = True, log: Callable[[str], None] = say, **params) -> tuple[ProductClassifier, dict]:
    """Read the dataset, run the data checks, train on ``train`` selecting on ``val``, export the deployment
    files, index the catalogue and save the model into ``out``. Returns the model and a summary.

    ``minutes``: the budget of the whole command (default 20): the training loop gets what is left after reading
    and checking the data, less a reserve for export and indexing estimated from the network's measured speed
    on this machine. ``params``: the model's parameters (``minutes`` there sets the loop's budget itself;
    ``epochs`` trains a fixed number of epochs instead).
    """
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a directory")
    dataset = read_dataset(data)
    if "train" not in set(dataset.table["split"]):
        raise DataError(f"{dataset.root}: no 'train' split; splits present: "
                        f"{', '.join(sorted(dataset.table['split'].unique()))}")
    table = dataset.table
    size = image_sizes(table.loc[table["split"] == "train", "path"])
    images, errors = load_images(table["path"].tolist(), size, progress=True)
    out.mkdir(parents=True, exist_ok=True)
    for name in [*DEPLOY_FILES.values(), DEPLOY_FILE]:  # a previous model's files would be served by mistake
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / INDEX_DIR, ignore_errors=True)
    if resume and not (out / CHECKPOINT_DIR / "checkpoint.json").exists():
        log(f"niaga: note: {out / CHECKPOINT_DIR}: no checkpoint to resume from; training from the start")
    checks = run_checks(table, images, errors, dataset.levels, dataset.heads)
    _write_json(checks, out / "data_checks.json")
    (out / "data_checks.md").write_text(checks_markdown(checks, f"Data checks: {dataset.root.name}"), encoding="utf-8")
    log(summary_line(checks) + f"; written to {out / 'data_checks.md'}")

    readable = np.array([not e for e in errors])
    train_rows = np.flatnonzero((table["split"] == "train").to_numpy() & readable)
    val_rows = np.flatnonzero((table["split"] == "val").to_numpy() & readable)
    heads = dataset.heads
    if "minutes" not in params and not params.get("epochs"):
        # the retrieval head's features (every image, and the train images augmented) and a separate
        # catalogue, where the dataset has one, to index
        n_index = (len(table) + len(train_rows) + (len(dataset.catalogue) if dataset.catalogue is not None else 0)
                   if build_index else 0)
        reserve = _reserve_seconds(ProductClassifier(**params), images[train_rows[:256]], dataset.heads, n_index)
        left = (minutes or DEFAULT_MINUTES) * 60 - (time.perf_counter() - started) - reserve
        params["minutes"] = round(max(left / 60, MIN_LOOP_MINUTES), 2)
        log(f"budget {minutes or DEFAULT_MINUTES:g} min: {params['minutes']:g} min for the training loop, about "
            f"{reserve / 60:.1f} min kept for export and indexing")
    model = ProductClassifier(**params)
    validation = (images[val_rows], table.iloc[val_rows][heads]) if len(val_rows) else None
    log(f"training on {len(train_rows):,} images ({size[0]}×{size[1]}), selecting on {len(val_rows):,} val images; "
        + (f"{model.epochs} epochs" if model.epochs else f"budget {model.minutes:g} min"))
    try:
        model.fit(images[train_rows], table.iloc[train_rows][heads], validation_data=validation,
                  checkpoint_dir=out / CHECKPOINT_DIR, resume=resume)
    except ValueError as exc:
        raise NiagaError(str(exc)) from exc

    metrics = {}
    best = next((h for h in model.history_ if h["epoch"] == model.training_["best_epoch"]), {})
    if len(val_rows) and f"val_{heads[0]}_accuracy" in best:
        # the selection pass of the kept epoch (argmax per head, no flip): 'evaluate' gives the full figures
        metrics = {"val": {h: best[f"val_{h}_accuracy"] for h in model.classes_}}
    rng = np.random.RandomState(0)
    sample = images[val_rows] if len(val_rows) else images[train_rows]
    calibration = images[train_rows[rng.permutation(len(train_rows))[:256]]]  # int8 ranges from training images
    prepare_deployment(model, sample[rng.permutation(len(sample))[:512]], calibration, log=log)

    shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)  # trained: a resume would have nothing left to do
    index_info = retrieval_info = None
    if build_index:
        runner = Runner(model)
        head, retrieval_info, features = _fit_retrieval(model, runner, dataset, images, readable, log=log)
        save_model(head, out / RETRIEVAL_DIR, metrics=retrieval_info["precision_at_10"], task="vision",
                   extra={"trained_on": "train split features and one augmented copy of each"})
        index_info = _index_catalogue(model, runner, dataset, out / INDEX_DIR, head, features, readable)
    training = model.training_
    save_model(model, out, labels=model.classes_.get(dataset.levels[-1] if dataset.levels else heads[0], []),
               metrics=metrics, data_sha256=fingerprint(table["image"].iloc[train_rows],
                                                        *[table[h].iloc[train_rows] for h in heads]),
               data_rows=int(len(train_rows)), task="vision",
               training_rows=row_hashes(table["image"].iloc[train_rows]),
               extra={"dataset": {"root": str(dataset.root), "layout": dataset.layout,
                                  "label_columns": dataset.label_columns, "image_size": list(size),
                                  "splits": {"train": "fit", "val": "selection of the weights (best epoch)"}},
                      "training": training, "deployment": model.deployment_, "retrieval": retrieval_info,
                      "command_seconds": round(time.perf_counter() - started, 1)})
    summary = {"train_images": int(len(train_rows)), "val_images": int(len(val_rows)), "image_size": size,
               "metrics": metrics, "training": training, "checks": checks, "index": index_info,
               "retrieval": retrieval_info,
               "deployment": model.deployment_, "seconds": round(time.perf_counter() - started, 1)}
    return model, summary


def pretrain(data: list[str | Path], out: str | Path, *, minutes: float | None = None,
             splits: tuple[str, ...] = ("train",), log: Callable[[str], None] = say, **params
             ) -> tuple[ContrastivePretrainer, dict]:
    """Self-supervised pretraining on every image of ``data`` (dataset folders: their ``splits`` and catalogue
    images, no labels read; any other folder: all its images), at the first dataset's image size. The backbone
    lands in ``out`` for ``train --pretrained out``. Only train splits by default: the figures measured on val
    and test (accuracy after fine-tuning, copy detection) then come from images pretraining never saw."""
    started = time.perf_counter()
    sources, paths = [], []
    for folder in data:
        try:
            dataset = read_dataset(folder)
            rows = dataset.table[dataset.table["split"].isin(splits)]
            if dataset.catalogue is not None:
                rows = pd.concat([rows, dataset.catalogue], ignore_index=True)
            kind = f"{dataset.layout} dataset, splits {', '.join(splits)}" + (" + catalogue" if dataset.catalogue
                                                                             is not None else "")
        except DataError:
            if not Path(folder).is_dir():
                raise
            rows, kind = list_directory(Path(folder)), "folder, every file"
        if rows.empty:
            raise DataError(f"{folder}: no images in splits {', '.join(splits)}")
        sources.append({"data": str(folder), "what": kind, "images": int(len(rows))})
        paths.extend(rows["path"].tolist())
    try:
        size = tuple(params.pop("image_size", None) or image_sizes(paths))
    except DataError:
        raise DataError(f"none of the {len(paths):,} files in {', '.join(map(str, data))} could be read as an "
                        "image") from None
    images, errors = load_images(paths, size, progress=True)
    readable = np.array([not e for e in errors])
    if not readable.any():
        raise DataError(f"none of the {len(paths):,} files could be read as an image")
    if not readable.all():
        log(f"niaga: note: {int((~readable).sum()):,} unreadable file(s) left out, e.g. "
            f"{paths[int(np.flatnonzero(~readable)[0])]}: {errors[int(np.flatnonzero(~readable)[0])]}")
    if "minutes" not in params and not params.get("epochs"):
        params["minutes"] = round(max((minutes or DEFAULT_MINUTES) - (time.perf_counter() - started) / 60 - 0.2,
                                      MIN_LOOP_MINUTES), 2)
    model = ContrastivePretrainer(**params)
    log(f"pretraining on {int(readable.sum()):,} unlabelled images ({size[0]}×{size[1]}) from "
        + "; ".join(f"{s['data']} ({s['images']:,})" for s in sources)
        + (f"; {model.epochs} epochs" if model.epochs else f"; budget {model.minutes:g} min"))
    model.fit(images[readable])
    kept = [p for p, ok in zip(paths, readable) if ok]
    last = model.history_[-1] if model.history_ else {}
    save_model(model, out, metrics={"pretext_accuracy": last.get("pretext_accuracy"), "loss": last.get("loss")},
               data_sha256=fingerprint(pd.Series([Path(p).name for p in kept])), data_rows=len(kept), task="vision",
               extra={"sources": sources, "image_size": list(size), "training": model.training_,
                      "history": model.history_, "use": f"niaga vision train --pretrained {out}"})
    summary = {"images": len(kept), "sources": sources, "training": model.training_,
               "seconds": round(time.perf_counter() - started, 1)}
    return model, summary


def _reserve_seconds(model: ProductClassifier, images: np.ndarray, heads: list[str], n_index: int) -> float:
    """Seconds the work after the training loop will take: inference over the catalogue to index and over the
    deployment checks, ONNX export, quantization and saving. Timed on this machine as it is now (a busy machine
    reserves more) with the runtime that work uses: the exported (untrained) network in onnxruntime, else torch."""
    import torch

    from niaga.vision.deploy import BATCH, onnx_bytes_for, onnx_available, ort_session
    from niaga.vision.network import ProductNet

    net = ProductNet({h: 2 for h in heads}, tuple(model.widths), tuple(model.blocks), model.stem_stride).eval()
    batch = np.ascontiguousarray(images[:BATCH])
    if onnx_available():
        session = ort_session(onnx_bytes_for(net, images.shape[1:3], model.flip_tta))
        session.run(None, {"images": batch[:8]})
        start = time.perf_counter()
        session.run(None, {"images": batch})
        per_image = (time.perf_counter() - start) / max(len(batch), 1)
        # index: one pass per catalogue image; deployment checks: about 5,000 float-pass equivalents (dynamic
        # int8 runs ~6x slower than float, torch ~5x); export, quantization, calibration and saving: ~40 s
        return 40.0 + per_image * (n_index + 5000)
    x = torch.from_numpy(batch).permute(0, 3, 1, 2).float()
    with torch.inference_mode():
        net(x[:8])
        start = time.perf_counter()
        net(x)
        per_image = (time.perf_counter() - start) / max(len(x), 1) * (2 if model.flip_tta else 1)
    return 20.0 + per_image * n_index


def _catalogue(dataset: ImageDataset) -> pd.DataFrame:
    """What a model indexes by default: the dataset's catalogue images (grocery: the iconic ones), else all."""
    return dataset.catalogue if dataset.catalogue is not None else dataset.table


def export(model_dir: str | Path, data: str | Path, log: Callable[[str], None] = say) -> dict:
    """Rebuild a saved model's deployment files (ONNX float, int8 dynamic and static) and their measurements:
    calibration on the dataset's training images, timing and agreement on its val images (else training ones)."""
    from niaga.modeling import read_metadata

    model = load_model(model_dir, task="vision")
    metadata = read_metadata(model_dir)
    dataset = read_dataset(data)
    rng = np.random.RandomState(0)
    train_rows = dataset.table[dataset.table["split"] == "train"]
    val_rows = dataset.table[dataset.table["split"] == "val"]
    if train_rows.empty:
        raise DataError(f"{dataset.root}: no 'train' split to calibrate int8 on")
    calibration, _ = load_images(train_rows["path"].iloc[rng.permutation(len(train_rows))[:256]].tolist(),
                                 tuple(model.image_size_))
    source = val_rows if len(val_rows) else train_rows
    sample, _ = load_images(source["path"].iloc[rng.permutation(len(source))[:512]].tolist(), tuple(model.image_size_))
    info = prepare_deployment(model, sample, calibration, log=log)
    keep = {k: v for k, v in metadata.items() if k not in {"format", "format_version", "niaga_version", "task",
                                                            "class", "labels", "params", "metrics", "training_data",
                                                            "created", "artifacts", "deployment"}}
    save_model(model, model_dir, labels=metadata.get("labels", []), metrics=metadata.get("metrics"),
               data_sha256=metadata.get("training_data", {}).get("sha256"),
               data_rows=metadata.get("training_data", {}).get("rows"), task="vision",
               extra={**keep, "deployment": info})
    return info


def package(model_dir: str | Path, data: str | Path, out: str | Path, log: Callable[[str], None] = say) -> dict:
    """A trained model as a small directory to ship in the repository: the network (safetensors), the ONNX float
    and calibrated int8 files with their measurements, the retrieval head and the data checks; not the catalogue
    index (its vectors hold the builder's image paths: ``niaga run`` indexes the catalogue where it is
    installed), the slow dynamic-int8 file or a checkpoint. ``model.json`` gains the data's checksums and the
    figures measured at training."""
    from niaga.modeling import read_metadata, sha256_file
    from niaga.vision.deploy import ONNX_FILE, STATIC_FILE

    model_dir, out = Path(model_dir), Path(out)
    if out.resolve() == model_dir.resolve():
        raise NiagaError(f"{out}: package into another directory than the model's")
    model = load_model(model_dir, task="vision")
    metadata = read_metadata(model_dir)
    dataset = read_dataset(data)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name in (ONNX_FILE, STATIC_FILE, DEPLOY_FILE, "data_checks.md", "data_checks.json"):
        if (model_dir / name).exists():
            shutil.copy2(model_dir / name, out / name)
    if (model_dir / RETRIEVAL_DIR / "model.json").exists():
        shutil.copytree(model_dir / RETRIEVAL_DIR, out / RETRIEVAL_DIR)
    model.deployment_files_ = {}
    keep = {k: v for k, v in metadata.items() if k not in {"format", "format_version", "niaga_version", "task",
                                                            "class", "labels", "params", "metrics", "training_data",
                                                            "created", "artifacts"}}
    tables = sorted(p for p in dataset.root.iterdir() if p.suffix == ".csv")
    retrieval = read_metadata(out / RETRIEVAL_DIR).get("metrics") if (out / RETRIEVAL_DIR).exists() else None
    shipped = {"recipe": "make models (Makefile): niaga vision train --minutes 58, then niaga vision package",
               "from": str(model_dir), "data": {"root": dataset.root.name,
                                                "sha256": {p.name: sha256_file(p) for p in tables}},
               "figures": {"val_accuracy (selection)": metadata.get("metrics", {}).get("val"),
                           "deployment": metadata.get("deployment", {}).get("runtimes"),
                           "retrieval_precision_at_10 (val)": retrieval,
                           "benchmark": "docs/benchmarks.md, section Product recognition"}}
    save_model(model, out, labels=metadata.get("labels", []), metrics=metadata.get("metrics"),
               data_sha256=metadata.get("training_data", {}).get("sha256"),
               data_rows=metadata.get("training_data", {}).get("rows"), task="vision",
               extra={**keep, "shipped": shipped})
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    log(f"packaged {model_dir} into {out}: {size / 1e6:.1f} MB")
    return {"directory": str(out), "bytes": size}


# -- evaluate -------------------------------------------------------------------------------------------------

def evaluate(model_dir: str | Path, data: str | Path, split: str, report: str | Path, runtime: str = "auto",
             log: Callable[[str], None] = say) -> dict:
    """Score the model on one split of a dataset folder; write the report set into ``report``."""
    model = load_model(model_dir, task="vision")
    dataset = read_dataset(data)
    rows = dataset.split(split)
    heads = [h for h in HEADS if h in model.classes_ and h in rows.columns]
    if not heads:
        raise DataError(f"{dataset.root}: none of the model's labels ({', '.join(model.classes_)}) is in the data")
    runner = Runner(model, runtime)
    images, errors = load_images(rows["path"].tolist(), tuple(model.image_size_), progress=True)
    readable = np.array([not e for e in errors])
    if not readable.any():
        raise DataError(f"{dataset.root}: no readable image in split {split!r}")
    rows, images = rows[readable].reset_index(drop=True), images[readable]
    proba, embeddings = runner.run(images)
    pred = model.decode(proba)
    head = retrieval_head(model_dir)
    search = _search_metrics(model, runner, dataset, rows, head.transform(embeddings) if head else embeddings, head)
    trained_on = model.metadata_.get("dataset", {}).get("splits", {})
    overlap = training_overlap(model_dir, rows["image"])
    context = {"model": str(model_dir), "data": str(dataset.root), "split evaluated": split,
               "splits at training": ", ".join(f"{k}: {v}" for k, v in trained_on.items()) or "unknown",
               "runtime": runner.runtime_, "images": f"{len(rows):,} scored, {int((~readable).sum())} unreadable "
                                                     "left out",
               "labels scored against": "the labels as given (a row whose parent is not its class's majority "
                                        "parent counts wrong at the parent level)"}
    note = overlap_note(overlap)
    if note:
        context["warning"] = note
        log(f"niaga: note: {note}")
    metrics = write_report(report, rows, pred, model.classes_, context,
                           extra={"search": search, "split": split, "runtime": runner.runtime_,
                                  "unreadable": int((~readable).sum())},
                           title=f"Product recognition: {dataset.root.name}, split {split}")
    return metrics


def _search_metrics(model, runner: Runner, dataset: ImageDataset, rows: pd.DataFrame, embeddings: np.ndarray,
                    head: RetrievalHead | None = None) -> dict:
    """Catalogue → catalogue within the split (precision@10 of the finest class, the query itself left out) and,
    where the dataset has catalogue images, photo → catalogue (hit when the finest class matches).
    ``embeddings``: the search vectors (through ``head``, the model's retrieval head, when it has one)."""
    levels = [lv for lv in LEVELS if lv in model.classes_ and lv in rows.columns]
    if not levels:
        return {}
    finest = levels[-1]
    out = {}
    if len(rows) > 10:
        index = VisualIndex(embeddings, rows[["image", finest]])
        out["within_split"] = precision_at_k(index, embeddings, rows[finest].tolist(), finest, 10,
                                             exclude_rows=np.arange(len(rows)))
    if dataset.catalogue is not None and finest in dataset.catalogue.columns:
        cat = dataset.catalogue
        images, errors = load_images(cat["path"].tolist(), tuple(model.image_size_))
        ok = np.array([not e for e in errors])
        _, cat_embeddings = runner.run(images[ok])
        index = VisualIndex(head.transform(cat_embeddings) if head else cat_embeddings, cat[ok].reset_index(drop=True))
        out["photo_to_catalogue"] = precision_at_k(index, embeddings, rows[finest].tolist(), finest, 10)
        out["photo_to_catalogue"]["catalogue_images"] = int(ok.sum())
    return out


# -- predict --------------------------------------------------------------------------------------------------

OUTPUT_COLUMNS = ["image", "master", "sub", "article", "gender", "master_confidence", "sub_confidence",
                  "article_confidence", "gender_confidence", "error"]


def predict(model_dir: str | Path, source: str | Path, output: str | Path, *, image_col: str | None = None,
            image_root: str | Path | None = None, runtime: str = "auto", batch_size: int = 256,
            progress: bool = True) -> tuple[pd.DataFrame, dict]:
    """Label every image of a folder or a table; write the input (if a table) plus ``OUTPUT_COLUMNS``."""
    check_output_path(output)
    model = load_model(model_dir, task="vision")
    refs, table = resolve_input(source, image_col, image_root)
    runner = Runner(model, runtime)
    result = predict_frame(model, runner, refs, batch_size=batch_size, progress=progress)
    written = with_outputs(table, result) if table is not None else result
    write_table(written, output)
    info = {"rows": int(len(result)), "errors": int((result["error"] != "").sum()), "runtime": runner.runtime_}
    return written, info


def predict_frame(model, runner: Runner, refs: pd.DataFrame, batch_size: int = 256, progress: bool = False
                  ) -> pd.DataFrame:
    """``refs`` (image, path) -> OUTPUT_COLUMNS, one row per input row, in order; unreadable rows keep their
    place with the reason in ``error`` and no labels."""
    from tqdm.auto import tqdm

    n = len(refs)
    out = pd.DataFrame({c: [""] * n for c in OUTPUT_COLUMNS})
    out["image"] = refs["image"].astype(str).to_numpy()
    for c in OUTPUT_COLUMNS:
        if c.endswith("_confidence"):
            out[c] = np.nan
    bar = tqdm(total=n, desc="predicting", unit="img", disable=not progress or n < CHUNK, leave=False)
    for start in range(0, n, CHUNK):
        paths = refs["path"].iloc[start:start + CHUNK].tolist()
        images, errors = load_images(paths, tuple(model.image_size_))
        ok = np.array([not e for e in errors])
        out.loc[start:start + len(paths) - 1, "error"] = errors
        if ok.any():
            proba, _ = runner.run(images[ok], batch_size)
            labels = model.decode(proba)
            where = start + np.flatnonzero(ok)
            for column in labels.columns:
                out.loc[where, column] = labels[column].to_numpy()
        bar.update(len(paths))
    bar.close()
    return out


# -- visual search --------------------------------------------------------------------------------------------

def _index_into(model, runner: Runner, items: pd.DataFrame, out: Path, head: RetrievalHead | None = None,
                embeddings: np.ndarray | None = None, readable: np.ndarray | None = None) -> dict:
    """Index ``items`` (image, path, labels); ``embeddings`` / ``readable``: the runner's embeddings of every item
    row and which rows were read, when the caller has them already (else the images are read and embedded)."""
    if embeddings is None:
        images, errors = load_images(items["path"].tolist(), tuple(model.image_size_), progress=True,
                                     desc="indexing")
        readable = np.array([not e for e in errors])
        embeddings = runner.run(images[readable])[1] if readable.any() else None
    else:
        embeddings = embeddings[readable]
    ok = readable
    if not ok.any():
        raise DataError(f"{out}: no readable image to index")
    keep = [c for c in ["image", "path", *HEADS, *ATTRIBUTES, "split"] if c in items.columns]
    index = VisualIndex(head.transform(embeddings) if head is not None else embeddings,
                        items.loc[ok, keep].reset_index(drop=True), model.weights_id_, head)
    index.save(out)
    return {"items": len(index), "unreadable": int((~ok).sum()), "directory": str(out), "backend": index.backend,
            "kind": index.kind, "retrieval_head": head is not None}


def retrieval_head(model_dir: str | Path) -> RetrievalHead | None:
    """The model's retrieval head (``MODEL/retrieval``), or None for a model trained before it existed."""
    path = Path(model_dir) / RETRIEVAL_DIR
    return load_model(path, task="vision") if (path / "model.json").exists() else None


def _augmented_embeddings(model: ProductClassifier, images: np.ndarray, seed: int = 0) -> np.ndarray:
    """The network's L2-normalized features of a randomly augmented copy of each image (training's edits)."""
    import torch

    from niaga.vision.train import augment

    generator = torch.Generator().manual_seed(seed)
    mean = torch.tensor(model.mean_, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(model.std_, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
    out = np.zeros((len(images), model.module_.embedding_dim), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(images), 256):
            x = (torch.from_numpy(images[start:start + 256]).permute(0, 3, 1, 2).float() - mean) / std
            e = model.module_.embed(augment(x, generator))
            out[start:start + len(x)] = torch.nn.functional.normalize(e, dim=1).numpy()
    return out


def _fit_retrieval(model: ProductClassifier, runner: Runner, dataset: ImageDataset, images: np.ndarray,
                   readable: np.ndarray | None = None, log: Callable[[str], None] = say, **params
                   ) -> tuple[RetrievalHead, dict, np.ndarray]:
    """Fit a retrieval head on the train split's features (as deployed, and of an augmented copy) against the
    finest label, colour and gender; measure precision@10 of val queries among train + val (each query's own
    image left out) with the plain features and through the head. ``images``: the dataset table's images.
    Returns the head, its figures and the runner's embeddings of every table row (what indexing the table needs)."""
    table = dataset.table
    levels = [lv for lv in LEVELS if lv in model.classes_ and lv in table.columns]
    columns = levels[-1:] + [c for c in ("colour", "gender") if c in table.columns]
    if not columns:
        raise DataError(f"{dataset.root}: no label column to train a retrieval head on")
    usable = np.ones(len(table), dtype=bool) if readable is None else readable
    train = np.flatnonzero((table["split"] == "train").to_numpy() & usable)
    start = time.perf_counter()
    _, features = runner.run(images)
    augmented = _augmented_embeddings(model, images[train])
    labels = table.iloc[train][columns].reset_index(drop=True)
    head = RetrievalHead(**params).fit(np.vstack([features[train], augmented]), pd.concat([labels, labels]))
    info = {"columns": columns, "train_images": int(len(train)), "seconds": 0.0, "precision_at_10": {}}
    val = np.flatnonzero((table["split"] == "val").to_numpy() & usable)
    if len(val) and len(train) > 10:
        catalogue = np.concatenate([train, val])
        items = table.iloc[catalogue][[columns[0]]].reset_index(drop=True)
        own_row = np.arange(len(train), len(catalogue))  # a val query's own position in the catalogue
        for name, vectors in (("features", features), ("retrieval_head", head.transform(features))):
            index = VisualIndex(vectors[catalogue], items)
            info["precision_at_10"][name] = precision_at_k(index, vectors[val], table[columns[0]].iloc[val].tolist(),
                                                           columns[0], 10, exclude_rows=own_row)["precision_at_10"]
        log(f"retrieval head: precision@10 of the {columns[0]} among {len(catalogue):,} train + val images "
            f"{info['precision_at_10']['features']:.3f} with the network's features, "
            f"{info['precision_at_10']['retrieval_head']:.3f} through the head")
    info["seconds"] = round(time.perf_counter() - start, 1)
    return head, info, features


def _index_catalogue(model, runner: Runner, dataset: ImageDataset, out: Path, head: RetrievalHead,
                     features: np.ndarray, readable: np.ndarray) -> dict:
    """Index the dataset's catalogue through ``head``; where the catalogue is the dataset's own table (fashion),
    with the ``features`` the head was fitted on instead of reading and embedding every image again."""
    if dataset.catalogue is None:
        return _index_into(model, runner, dataset.table, out, head, features, readable)
    return _index_into(model, runner, dataset.catalogue, out, head)


def train_retrieval(model_dir: str | Path, data: str | Path, log: Callable[[str], None] = say, **params) -> dict:
    """Fit (or refit) a saved model's retrieval head on a dataset and rebuild its catalogue index through it."""
    model = load_model(model_dir, task="vision")
    dataset = read_dataset(data)
    images, errors = load_images(dataset.table["path"].tolist(), tuple(model.image_size_), progress=True)
    readable = np.array([not e for e in errors])
    if not readable.all():
        log(f"niaga: note: {int((~readable).sum())} unreadable image(s) left out")
    runner = Runner(model)
    head, info, features = _fit_retrieval(model, runner, dataset, images, readable, log=log, **params)
    save_model(head, Path(model_dir) / RETRIEVAL_DIR, metrics=info["precision_at_10"], task="vision",
               extra={"trained_on": "train split features and one augmented copy of each",
                      "data": str(dataset.root)})
    info["index"] = _index_catalogue(model, runner, dataset, Path(model_dir) / INDEX_DIR, head, features, readable)
    return info


def build_index(model_dir: str | Path, data: str | Path, out: str | Path, split: str | None = None,
                runtime: str = "auto") -> dict:
    """Index a catalogue: a dataset folder (its catalogue images, or ``split``'s, or all) or any image folder."""
    model = load_model(model_dir, task="vision")
    data = Path(data)
    try:
        dataset = read_dataset(data)
        items = dataset.split(split) if split else _catalogue(dataset)
    except DataError:
        if not data.is_dir():
            raise
        if split:
            raise
        items = list_directory(data)
        items = items[items["path"].str.lower().str.endswith((".jpg", ".jpeg", ".png", ".webp", ".bmp"))]
        if items.empty:
            raise DataError(f"{data}: no image files to index") from None
    runner = Runner(model, runtime)
    info = _index_into(model, runner, items, Path(out), retrieval_head(model_dir))
    info["runtime"] = runner.runtime_
    return info


def load_search(model_dir: str | Path, index_dir: str | Path | None = None, runtime: str = "auto"
                ) -> tuple[ProductClassifier, Runner, VisualIndex]:
    """The model, its runner and the catalogue index (default: the one saved with the model), checked to match."""
    model = load_model(model_dir, task="vision")
    index_dir = Path(index_dir) if index_dir else Path(model_dir) / INDEX_DIR
    if not index_dir.exists():
        raise DataError(f"{index_dir}: no index; build one with 'niaga vision index --model {model_dir} "
                        "--data DIR --out DIR' and pass --index")
    index = VisualIndex.load(index_dir)
    if index.weights_id and index.weights_id != model.weights_id_:
        raise NiagaError(f"{index_dir}: built with other weights than {model_dir}; rebuild it with 'niaga vision index'")
    return model, Runner(model, runtime), index


def search(model: ProductClassifier, runner: Runner, index: VisualIndex, pixels: np.ndarray, k: int = 10
           ) -> tuple[pd.DataFrame, dict]:
    """The ``k`` catalogue items nearest to one image (``pixels``: height × width × 3, the model's size), ranked,
    and the image's predicted labels (``index_rows``: the items' rows in the index)."""
    if k < 1:
        raise NiagaError(f"-k must be at least 1, got {k}")
    start = time.perf_counter()
    proba, embedding = runner.run(pixels[None])
    scores, rows = index.search(index.project(embedding), k)
    seconds = time.perf_counter() - start
    found = index.items.iloc[rows[0]].reset_index(drop=True)
    found.insert(0, "rank", np.arange(1, len(found) + 1))
    found.insert(1, "score", np.round(scores[0].astype(float), 4))
    return found, {"predicted": model.decode(proba).iloc[0].to_dict(), "runtime": runner.runtime_,
                   "milliseconds": round(seconds * 1000, 2), "index_items": len(index),
                   "index_rows": rows[0].tolist()}


def similar(model_dir: str | Path, image: str | Path, k: int = 10, index_dir: str | Path | None = None,
            runtime: str = "auto") -> tuple[pd.DataFrame, dict]:
    """The ``k`` catalogue images most similar to ``image`` (default index: the one saved with the model)."""
    if k < 1:
        raise NiagaError(f"-k must be at least 1, got {k}")
    model, runner, index = load_search(model_dir, index_dir, runtime)
    image = Path(image)
    if not image.exists():
        raise DataError(f"{image}: file not found")
    from niaga.vision.dataset import read_image

    try:
        pixels = read_image(image, tuple(model.image_size_))
    except ValueError as exc:
        raise DataError(f"{image}: {exc}") from None
    found, info = search(model, runner, index, pixels, k)
    return found, {"query": str(image), **info}


# -- duplicate and counterfeit listings -----------------------------------------------------------------------

def duplicates(source: str | Path, output: str | Path, model_dir: str | Path | None = None, *,
               pairs_output: str | Path | None = None, image_col: str | None = None,
               image_root: str | Path | None = None, title_col: str | None = None, runtime: str = "auto",
               max_hash_distance: int = 20, min_cosine: float | None = None, min_title: float | None = None,
               price_ratio: float = 0.5, log: Callable[[str], None] = say) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Group copies of one listing among the images of a folder or a table, using a table's titles too.

    Writes one row per input row (its columns kept) with ``image`` (not for a table of titles alone),
    ``group`` (copies share it; a listing with no copy is alone in its group), ``group_size``, ``similarity``
    (to its closest copy; empty when alone), ``counterfeit_suspect`` and ``reason`` (with ``seller`` and
    ``price`` columns), ``error`` (an unreadable file, or an empty title in a table of titles alone); and the
    copy pairs with their similarity and what differs to ``pairs_output`` (default: beside ``output`` as
    ``<name>.pairs<ext>``). Titles (``title_col``, default: a column named title, nama, ...) are a signal of
    their own, see ``niaga.vision.duplicates.is_copy``; ``min_title`` defaults to ``dup.MIN_TITLE`` for titles alone and
    ``dup.MIN_TITLE_WITH_IMAGES`` beside photos. Without ``model_dir`` only the perceptual hash is used for images.
    """
    output = check_output_path(output)
    pairs_output = check_output_path(pairs_output or output.with_name(f"{output.stem}.pairs{output.suffix}"))
    source = Path(source)
    table = None
    if source.is_file() and source.suffix.lower() not in IMAGE_SUFFIXES:
        table = read_table(source, dtype=str, keep_default_na=False)
        if title_col is not None and title_col not in table.columns:
            raise DataError(f"{source}: no title column {title_col!r}; columns present: "
                            + ", ".join(map(str, table.columns[:20])))
        title_col = title_col or next((c for c in dup.TITLE_COLUMNS if c in table.columns), None)
        if title_col is not None and image_col is None and not any(c in table.columns for c in IMAGE_COLUMNS) \
                and not _id_images_exist(table, source, image_root):
            return _title_copies(table, title_col, output, pairs_output, dup.MIN_TITLE if min_title is None else min_title,
                                 price_ratio, log)
    min_title = dup.MIN_TITLE_WITH_IMAGES if min_title is None else min_title
    refs, table = resolve_input(source, image_col, image_root)
    paths = refs["path"].tolist()
    thumbnails, errors = dup.grey_thumbnails(paths)
    ok = np.flatnonzero([not e for e in errors])
    hashes = dup.perceptual_hashes(thumbnails[ok])
    embeddings = None
    if model_dir is not None:
        model = load_model(model_dir, task="vision")
        images, _ = load_images([paths[i] for i in ok], tuple(model.image_size_), progress=True, desc="embedding")
        if isinstance(model, ContrastivePretrainer):  # a self-supervised backbone: an instance descriptor
            embeddings = model.transform(images)
        else:
            _, embeddings = Runner(model, runtime).run(images)
        min_cosine = dup.default_min_cosine(model) if min_cosine is None else min_cosine
    else:
        log("no --model: copies are found by the perceptual hash alone (re-uploads and light edits); a product "
            "model's embedding also finds crops and overlays")
    min_cosine = dup.MIN_COSINE_CLASSIFIER if min_cosine is None else min_cosine  # unused without embeddings
    hash_rows = dup.hash_neighbours(hashes)
    embed_rows = dup.embedding_neighbours(embeddings) if embeddings is not None else None
    lists = [hash_rows[1]] + ([embed_rows[1]] if embed_rows is not None else [])
    left = [np.repeat(np.arange(len(ok)), r.shape[1]) for r in lists]
    right = [r.ravel() for r in lists]
    matcher = None
    if table is not None and title_col is not None and title_col in table.columns:
        matcher = TitleMatcher(neighbours=dup.NEIGHBOURS).fit(table[title_col].iloc[ok].tolist())
        title_left, title_right = matcher.neighbour_pairs()  # a title's nearest titles are candidates too
        left.append(title_left)
        right.append(title_right)
    pairs = dup.pair_signals(np.concatenate(left), np.concatenate(right), hashes, embeddings)
    if matcher is not None:
        pairs["title_similarity"] = matcher.score(pairs["left"].to_numpy(), pairs["right"].to_numpy())
    pairs["similarity"] = dup.pair_similarity(pairs) if len(pairs) else []
    by_image = dup.image_copy(pairs, max_hash_distance, min_cosine)
    by_title = dup.title_copy(pairs, max_hash_distance, min_cosine, min_title)
    keep = by_image | by_title
    pairs = pairs[keep].reset_index(drop=True)
    pairs["signal"] = np.where(by_image[keep], "image", "title + loosely alike image")
    groups_ok = dup.connected_groups(len(ok), pairs["left"].to_numpy(), pairs["right"].to_numpy())

    n = len(refs)
    groups = np.full(n, -1)
    groups[ok] = groups_ok
    unread = np.flatnonzero(groups < 0)  # an unreadable file is alone in a group of its own
    groups[unread] = groups_ok.max(initial=-1) + 1 + np.arange(len(unread))
    result = pd.DataFrame({"image": refs["image"].to_numpy(), "group": groups})
    result = _group_columns(result, ok, pairs, table, price_ratio, "this photo")
    result["error"] = errors

    sizes = [tuple(int(v) for v in size) for size in _image_sizes([paths[i] for i in ok])]
    differs = [dup.describe_difference(thumbnails[ok[a]], thumbnails[ok[b]], sizes[a], sizes[b])
               for a, b in zip(pairs["left"], pairs["right"])]
    if matcher is not None:
        differs = [f"{d}; {t}" for d, t in zip(differs, matcher.differences(pairs["left"], pairs["right"]))]
    images = refs["image"].to_numpy()
    pair_table = pd.DataFrame({"image": images[ok[pairs["left"].to_numpy()]],
                               "copy": images[ok[pairs["right"].to_numpy()]],
                               "group": groups[ok[pairs["left"].to_numpy()]],
                               "similarity": np.round(pairs["similarity"].to_numpy(dtype=float), 4),
                               "hash_distance": pairs["hash_distance"].to_numpy(),
                               "differs": differs})
    for column in ("cosine", "title_similarity", "signal"):
        if column in pairs:
            pair_table[column] = (np.round(pairs[column].to_numpy(dtype=float), 4) if column != "signal"
                                  else pairs[column].to_numpy())
    written = with_outputs(table, result) if table is not None else result
    write_table(written, output)
    write_table(pair_table, pairs_output)
    signals = "perceptual hash + embedding" if embeddings is not None else "perceptual hash"
    info = {"images": n, "unreadable": int(n - len(ok)), "copy_pairs": int(len(pair_table)),
            "title_pairs": int((pairs["signal"] != "image").sum()),
            "groups_with_copies": int((result.drop_duplicates("group")["group_size"] > 1).sum()),
            "counterfeit_suspects": int(result["counterfeit_suspect"].sum()),
            "signals": signals + (" + titles" if matcher is not None else ""), "pairs_output": str(pairs_output)}
    return written, pair_table, info


def _id_images_exist(table: pd.DataFrame, source, image_root) -> bool:
    """Whether a table's ``id`` column names images (``images/<id>.jpg``, as ``resolve_input`` reads it)."""
    if "id" not in table.columns:
        return False
    bases = ([Path(image_root)] if image_root else []) + [Path(source).parent, Path(source).parent / "images"]
    return any((b / "images" / f"{i}.jpg").exists() or (b / f"{i}.jpg").exists()
               for i in table["id"].astype(str).head(20) for b in bases)


def _group_columns(result: pd.DataFrame, ok: np.ndarray, pairs: pd.DataFrame, table: pd.DataFrame | None,
                   price_ratio: float, listed: str) -> pd.DataFrame:
    """``group_size``, ``similarity`` (to the closest copy), ``counterfeit_suspect`` and ``reason``."""
    best = np.full(len(ok), np.nan)
    for side in ("left", "right"):
        np.fmax.at(best, pairs[side].to_numpy(), pairs["similarity"].to_numpy(dtype=float))
    result["group_size"] = result.groupby("group")["group"].transform("size")
    result["similarity"] = np.nan
    result.loc[ok, "similarity"] = np.round(best, 4)
    result["counterfeit_suspect"] = False
    result["reason"] = ""
    if table is not None and {"seller", "price"} <= set(table.columns):
        flags, reasons = dup.counterfeit_flags(result["group"].to_numpy(), table["seller"].reset_index(drop=True),
                                           table["price"].reset_index(drop=True), price_ratio, listed)
        result["counterfeit_suspect"], result["reason"] = flags, reasons
    return result


def _title_copies(table: pd.DataFrame, title_col: str, output, pairs_output, min_title: float, price_ratio: float,
                  log) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """A table of titles without images: copies are near-duplicate titles alone (``min_title``). An empty
    title is kept, alone in its group, with an error."""

    log(f"no image column: listings are grouped by their titles ({title_col!r}) alone")
    titles = table[title_col].astype(str).str.strip()
    ok = np.flatnonzero(titles.ne("").to_numpy())
    matcher = TitleMatcher(neighbours=dup.NEIGHBOURS).fit(titles.iloc[ok].tolist())
    pairs = matcher.pairs()
    pairs = pairs[pairs["title_similarity"] >= min_title].reset_index(drop=True)
    pairs["similarity"] = pairs["title_similarity"]
    groups_ok = dup.connected_groups(len(ok), pairs["left"].to_numpy(), pairs["right"].to_numpy())
    n = len(table)
    groups = np.full(n, -1)
    groups[ok] = groups_ok
    empty = np.flatnonzero(groups < 0)
    groups[empty] = groups_ok.max(initial=-1) + 1 + np.arange(len(empty))
    result = _group_columns(pd.DataFrame({"group": groups}), ok, pairs, table, price_ratio, "this title")
    result["error"] = ""
    result.loc[empty, "error"] = f"empty {title_col}"
    lines = ok + 2  # the file's line (header = 1)
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    pair_table = pd.DataFrame({"line": lines[left], "copy_line": lines[right],
                               "title": titles.iloc[ok[left]].to_numpy(), "copy": titles.iloc[ok[right]].to_numpy(),
                               "group": groups[ok[left]], "similarity": np.round(pairs["similarity"].to_numpy(), 4),
                               "title_similarity": np.round(pairs["title_similarity"].to_numpy(), 4),
                               "differs": matcher.differences(left, right), "signal": "title"})
    written = with_outputs(table.reset_index(drop=True), result)
    write_table(written, output)
    write_table(pair_table, pairs_output)
    info = {"images": 0, "listings": n, "unreadable": 0, "empty_titles": int(len(empty)),
            "copy_pairs": int(len(pair_table)), "title_pairs": int(len(pair_table)),
            "groups_with_copies": int((result.drop_duplicates("group")["group_size"] > 1).sum()),
            "counterfeit_suspects": int(result["counterfeit_suspect"].sum()), "signals": "titles",
            "pairs_output": str(pairs_output)}
    return written, pair_table, info


def _image_sizes(paths: list[str]) -> list[tuple[int, int]]:
    """(height, width) of each image file, read from its header."""
    from PIL import Image

    sizes = []
    for path in paths:
        with Image.open(path) as image:
            sizes.append((image.height, image.width))
    return sizes
