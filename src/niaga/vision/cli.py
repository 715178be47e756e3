"""``niaga vision``: train, evaluate, predict, check, index and similar (product recognition, visual search)."""

from __future__ import annotations

import argparse
import json

from niaga.cli_options import add_data, add_input, add_model, add_out, add_output, add_report, say
from niaga.params import parse_params

FASHION = "../shared/data/images/fashion_product_images_small"
GROCERY = "../shared/data/images/grocery_store_dataset"

HELP_EXAMPLES = {
    "train": f"niaga vision train --data {FASHION} --out runs/vision-fashion --minutes 20",
    "pretrain": f"niaga vision pretrain --data {FASHION} {GROCERY} --out runs/vision-pretrained --minutes 30",
    "evaluate": f"niaga vision evaluate --model runs/vision-fashion --data {FASHION} --split val "
                "--report runs/vision-fashion-val",
    "predict": f"niaga vision predict --model runs/vision-fashion --input {FASHION}/images "
               "--output runs/vision-labels.csv",
    "check": f"niaga vision check --data {FASHION} --report runs/vision-checks",
    "export": f"niaga vision export --model runs/vision-fashion --data {FASHION}",
    "package": f"niaga vision package --model runs/vision-fashion --data {FASHION} --out models/vision-fashion",
    "index": f"niaga vision index --model runs/vision-fashion --data {FASHION} --out runs/vision-index",
    "retrieval": f"niaga vision retrieval --model runs/vision-fashion --data {FASHION}",
    "similar": f"niaga vision similar --model runs/vision-fashion --image {FASHION}/images/1525.jpg -k 10",
    "duplicates": f"niaga vision duplicates --model runs/vision-fashion --input {FASHION}/images "
                  "--output runs/vision-duplicates.csv",
}

MODEL_HELP = "model directory from 'niaga vision train'"
DATA_HELP = ("dataset folder: labels CSV + images + splits (the fashion layout: styles.csv + splits.csv; the grocery "
             "layout: labels.csv + classes.csv; or labels.csv with image, split and master/sub/article/gender columns)")
RUNTIME_HELP = ("inference runtime: auto (the fastest usable one measured at training), torch, onnx, onnx-int8 "
                "(dynamic quantization), onnx-int8-static (calibrated) (default auto)")


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    train = commands.add_parser(
        "train", help="check the data, train the hierarchical CNN on 'train' (selecting on 'val'), export, index",
        description="Read a dataset folder, run the data checks (unreadable images, duplicates, class imbalance, "
                    "hierarchy), train the CNN with one head per level and gender on the train split within a "
                    "time budget, keep the best weights on val, export ONNX float and int8, index the catalogue "
                    "for visual search, and save everything into --out.")
    add_data(train, DATA_HELP)
    add_out(train)
    train.add_argument("--minutes", type=float,
                       help="time budget of the whole command in minutes (default 20): the training loop gets what "
                            "is left after reading the data, less a measured reserve for export and indexing")
    train.add_argument("--epochs", type=int, help="train a fixed number of epochs instead of a time budget")
    train.add_argument("--resume", action="store_true",
                       help="continue an interrupted training from OUT/checkpoint (same data and parameters)")
    train.add_argument("--pretrained", metavar="FILE_OR_MODEL",
                       help="start from these weights (a .safetensors file or a niaga vision model directory); the "
                            "backbone is frozen for the first 20 %% of the run, then fine-tuned")
    train.add_argument("--no-index", action="store_true", help="do not build the catalogue search index")
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a model parameter, e.g. --param widths=[16,32,64,128] or --param precision=bf16")
    train.set_defaults(handler=train_command)

    pretrain = commands.add_parser(
        "pretrain", help="self-supervised pretraining on unlabelled images: a backbone for 'train --pretrained'",
        description="Train the product network's backbone without labels (SimCLR-style: two edited views of each "
                    "image, crops, colour changes, stamped text, watermarks, blur, must describe the same photo) on "
                    "every image of the given dataset folders (their train splits and catalogue images: val and "
                    "test stay unseen) or plain image folders, and save it into --out. Fine-tune it "
                    "with 'niaga vision train --pretrained OUT'; its features also describe a photo for copy "
                    "detection ('niaga vision duplicates --model OUT').")
    add_data(pretrain, "dataset folders or image folders (several allowed)", nargs="+")
    add_out(pretrain)
    pretrain.add_argument("--minutes", type=float, help="time budget of the whole command in minutes (default 20)")
    pretrain.add_argument("--epochs", type=int, help="a fixed number of epochs instead of a time budget")
    pretrain.add_argument("--splits", default="train",
                          help="which splits of a dataset folder to read (default train: val and test images stay "
                               "unseen, so the figures measured on them are honest)")
    pretrain.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                          help="a pretraining parameter, e.g. --param batch_size=256 or --param view_size=[64,48]")
    pretrain.set_defaults(handler=pretrain_command)

    evaluate = commands.add_parser("evaluate", help="score a model on one split: per level metrics, confusion "
                                                    "matrices, error severity, search precision")
    add_model(evaluate, MODEL_HELP)
    add_data(evaluate, DATA_HELP)
    evaluate.add_argument("--split", default="val", help="split to score (default val)")
    add_report(evaluate, "directory for metrics.json, report.md and the plots")
    evaluate.add_argument("--runtime", default="auto", help=RUNTIME_HELP)
    evaluate.set_defaults(handler=evaluate_command)

    predict = commands.add_parser("predict", help="label images: master, sub, article, gender and their confidences")
    add_model(predict, MODEL_HELP)
    add_input(predict,
                         help="a folder of images (every file in it, recursively), one image, or a table with an "
                              "image column (image, path, file ...; or id, read as images/<id>.jpg)")
    add_output(predict, help="table to write (.csv, .parquet, .xlsx, .jsonl ...): the "
                                                         "input's columns, then image, the labels, confidences, error")
    predict.add_argument("--image-col", help="the table's column naming the images (default: found by name)")
    predict.add_argument("--image-root", help="folder that relative image paths in the table start from (default: "
                                              "beside the table, then its images/ folder, then the working folder)")
    predict.add_argument("--runtime", default="auto", help=RUNTIME_HELP)
    predict.add_argument("--batch-size", type=int, default=256, help="images per inference batch (default 256)")
    predict.set_defaults(handler=predict_command)

    check = commands.add_parser("check", help="the data checks alone: unreadable images, duplicates, imbalance, "
                                              "hierarchy inconsistencies")
    add_data(check, DATA_HELP)
    add_report(check, "directory for data_checks.md and data_checks.json")
    check.set_defaults(handler=check_command)

    export = commands.add_parser("export", help="rebuild a model's ONNX float / int8 files and re-measure which "
                                                "runtime predict uses")
    add_model(export, MODEL_HELP)
    add_data(export, "the dataset it was trained on: int8 ranges are calibrated on "
                                                      "its train split, speed and agreement measured on val")
    export.set_defaults(handler=export_command)

    package = commands.add_parser(
        "package", help="a trained model as a small directory to ship (what models/vision-fashion is)",
        description="Copy a trained model's network, ONNX float and calibrated int8 files, deployment measurements, "
                    "retrieval head and data checks into --out, with the data's checksums and the measured figures "
                    "in model.json; the catalogue index stays behind (niaga run builds it where it is installed).")
    add_model(package, MODEL_HELP)
    add_data(package, "the dataset folder the model was trained on (its tables' checksums are recorded)")
    add_out(package, "directory to write")
    package.set_defaults(handler=package_command)

    index = commands.add_parser("index", help="build a visual search index of a catalogue with a model's embeddings")
    add_model(index, MODEL_HELP)
    add_data(index,
                       help="a dataset folder (its catalogue images where it has them, as grocery's iconic images; "
                            "else all its images) or any folder of images")
    add_out(index, "index directory to write")
    index.add_argument("--split", help="index only this split of the dataset (e.g. val)")
    index.add_argument("--runtime", default="auto", help=RUNTIME_HELP)
    index.set_defaults(handler=index_command)

    retrieval = commands.add_parser(
        "retrieval", help="train a model's retrieval head (ArcFace, for visual search) and re-index its catalogue",
        description="Fit the retrieval head of a trained model (a projection of the network's features trained "
                    "with ArcFace on the finest label, colour and gender of the dataset's train split: what "
                    "'train' does by default), report precision@10 of val queries with and without it, and rebuild "
                    "MODEL/index through it.")
    add_model(retrieval, MODEL_HELP)
    add_data(retrieval, "the dataset folder the model was trained on")
    retrieval.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                           help="a head parameter, e.g. --param dim=128 or --param margin=0.2")
    retrieval.set_defaults(handler=retrieval_command)

    similar = commands.add_parser("similar", help="the catalogue images most similar to a photo")
    add_model(similar, MODEL_HELP)
    similar.add_argument("--image", required=True, help="the query image")
    similar.add_argument("-k", type=int, default=10, help="how many similar images (default 10)")
    similar.add_argument("--index", help="index directory from 'niaga vision index' (default: MODEL/index, the "
                                         "training catalogue)")
    add_output(similar, "also write the results as a table (.csv, .parquet ...)", required=False)
    similar.add_argument("--runtime", default="auto", help=RUNTIME_HELP)
    similar.set_defaults(handler=similar_command)

    duplicates = commands.add_parser(
        "duplicates", help="group copies of one listing (re-uploads, crops, recolours, watermarks) and flag the "
                           "counterfeit pattern",
        description="Find the images that are copies of one listing: a perceptual hash finds re-uploads and light "
                    "edits, the product model's embedding (with --model) heavier edits such as crops and overlays, "
                    "and a table's titles are a signal of their own: near-duplicate titles (promo words, slang, "
                    "word order and typos aside; different numbers or model codes kept apart) on loosely alike "
                    "images make a copy, and a table of titles without images is grouped by titles alone. With "
                    "'seller' and 'price' columns, a "
                    "listing in a group sold by several sellers at far below the group's median price is flagged "
                    "as a counterfeit suspect. Writes one row per image and, beside it, the copy pairs with what "
                    "differs.")
    add_model(duplicates, MODEL_HELP + " (optional: without it only the perceptual hash is used)", required=False)
    add_input(duplicates, help="a folder of images, or a table with an image column (and optionally title, seller, "
                               "price), or a table of titles alone")
    add_output(duplicates, help="table to write: the input's columns, then image, group, group_size, similarity, "
                                "counterfeit_suspect, reason, error")
    duplicates.add_argument("--pairs", help="table of copy pairs to write (default: OUTPUT's name + .pairs)")
    duplicates.add_argument("--image-col", help="the table's column naming the images (default: found by name)")
    duplicates.add_argument("--image-root", help="folder that relative image paths in the table start from")
    duplicates.add_argument("--max-hash-distance", type=int, default=20,
                            help="a pair whose 256-bit perceptual hashes differ in at most this many bits is a copy "
                                 "(default 20: precision 0.95 on fashion catalogue photos)")
    duplicates.add_argument("--min-similarity", type=float, default=None,
                            help="a pair whose embeddings' cosine similarity is at least this is a copy (default: 0.999 "
                                 "for a product classifier, whose embedding makes one type's catalogue photos alike; "
                                 "0.9997 for a 'pretrain' backbone; both chosen for precision 0.95, see docs/vision.md)")
    duplicates.add_argument("--title-col", help="the table's column of listing titles (default: found by name: "
                                                "title, nama, product_name, judul, productDisplayName)")
    duplicates.add_argument("--min-title-similarity", type=float, default=None,
                            help="titles scoring at least this are near-duplicates (default 0.75 for a table of titles "
                                 "alone: precision 0.95 on seller-style copies of Tokopedia titles; 0.95 beside photos, "
                                 "where catalogue titles are generic; see docs/benchmarks.md)")
    duplicates.add_argument("--price-ratio", type=float, default=0.5,
                            help="a listing priced below this share of its group's median is a counterfeit suspect "
                                 "when several sellers list the photo (default 0.5)")
    duplicates.add_argument("--runtime", default="auto", help=RUNTIME_HELP)
    duplicates.set_defaults(handler=duplicates_command)


def model_params() -> list[str]:
    from niaga.vision.model import ProductClassifier

    return list(ProductClassifier().get_params(deep=False))


def train_command(args: argparse.Namespace) -> int:
    from niaga.errors import NiagaError
    from niaga.vision.pipeline import train

    params = parse_params(args.param, valid=model_params())
    for name in ("epochs", "pretrained"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    for name in ("widths", "blocks"):
        if name in params:
            params[name] = tuple(params[name]) if isinstance(params[name], list) else params[name]
    try:
        model, summary = train(args.data, args.out, minutes=args.minutes, resume=args.resume,
                               build_index=not args.no_index, log=say, **params)
    except (TypeError, ValueError) as exc:  # a bad --param value
        raise NiagaError(str(exc)) from exc
    t = summary["training"]
    val = summary["metrics"].get("val", {})
    print(f"trained {model.n_parameters_ / 1e6:.2f}M-parameter CNN on {summary['train_images']:,} images: "
          f"{t['epochs']} epochs, {t['steps']:,} steps in {t['seconds'] / 60:.1f} min (best epoch {t['best_epoch']})"
          + ("; val accuracy " + ", ".join(f"{h} {v:.4f}" for h, v in val.items()) if val else "")
          + f"; predict runs {summary['deployment'].get('fastest', 'torch')}"
          + (f"; indexed {summary['index']['items']:,} catalogue images" if summary["index"] else "")
          + f"; saved to {args.out} ({summary['seconds'] / 60:.1f} min in all)")
    return 0


def pretrain_command(args: argparse.Namespace) -> int:
    from niaga.errors import NiagaError
    from niaga.vision.pipeline import pretrain
    from niaga.vision.pretrain import ContrastivePretrainer

    params = parse_params(args.param, valid=list(ContrastivePretrainer().get_params(deep=False)) + ["image_size"])
    if args.epochs is not None:
        params["epochs"] = args.epochs
    for name in ("widths", "blocks", "view_size", "image_size"):
        if isinstance(params.get(name), list):
            params[name] = tuple(params[name])
    splits = tuple(s.strip() for s in args.splits.split(",") if s.strip())
    try:
        model, summary = pretrain(args.data, args.out, minutes=args.minutes, splits=splits, log=say, **params)
    except (TypeError, ValueError) as exc:
        raise NiagaError(str(exc)) from exc
    t = summary["training"]
    last = model.history_[-1] if model.history_ else {}
    print(f"pretrained a {t['parameters'] / 1e6:.2f}M-parameter backbone on {summary['images']:,} unlabelled images: "
          f"{t['epochs']} epochs, {t['steps']:,} steps in {t['seconds'] / 60:.1f} min"
          + (f", pretext accuracy {last['pretext_accuracy']:.3f}" if last else "")
          + f"; saved to {args.out} (fine-tune with 'niaga vision train --pretrained {args.out}')")
    return 0


def retrieval_command(args: argparse.Namespace) -> int:
    from niaga.vision.pipeline import train_retrieval
    from niaga.vision.retrieval import RetrievalHead

    params = parse_params(args.param, valid=list(RetrievalHead().get_params(deep=False)))
    info = train_retrieval(args.model, args.data, log=say, **params)
    p = info["precision_at_10"]
    print(f"retrieval head on {info['train_images']:,} train images ({', '.join(info['columns'])})"
          + (f": val precision@10 {p['features']:.4f} -> {p['retrieval_head']:.4f}" if p else "")
          + f"; re-indexed {info['index']['items']:,} catalogue images ({info['index']['kind']}) in {args.model}")
    return 0


def package_command(args: argparse.Namespace) -> int:
    from niaga.vision.pipeline import package

    info = package(args.model, args.data, args.out, log=say)
    print(f"packaged {args.model} into {info['directory']} ({info['bytes'] / 1e6:.1f} MB)")
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    from niaga.vision.pipeline import evaluate

    m = evaluate(args.model, args.data, args.split, args.report, runtime=args.runtime, log=say)
    parts = [f"{h} {v['accuracy']:.4f} (per-class mean {v['per_class_mean_accuracy']:.4f})"
             for h, v in m["levels"].items()]
    search = m.get("search", {})
    if "within_split" in search:
        parts.append(f"search precision@10 {search['within_split']['precision_at_10']:.4f}")
    if "photo_to_catalogue" in search:
        parts.append(f"photo→catalogue hit@1 {search['photo_to_catalogue']['hit_at_1']:.4f}")
    print(f"{args.split} ({m['n']:,} images, {m['runtime']}): accuracy " + ", ".join(parts)
          + f"; report in {args.report}")
    return 0


def predict_command(args: argparse.Namespace) -> int:
    from niaga.vision.pipeline import predict

    _, info = predict(args.model, args.input, args.output, image_col=args.image_col, image_root=args.image_root,
                      runtime=args.runtime, batch_size=args.batch_size)
    print(f"wrote {info['rows']:,} rows to {args.output} (runtime {info['runtime']})"
          + (f"; {info['errors']:,} unreadable: see the error column" if info["errors"] else ""))
    return 0


def check_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from niaga.modeling import write_json
    from niaga.vision.checks import checks_markdown, run_checks, summary_line
    from niaga.vision.dataset import image_sizes, load_images, read_dataset

    dataset = read_dataset(args.data)
    table = dataset.table
    train_paths = table.loc[table["split"] == "train", "path"]
    size = image_sizes(train_paths if len(train_paths) else table["path"])
    images, errors = load_images(table["path"].tolist(), size, progress=True)
    report = run_checks(table, images, errors, dataset.levels, dataset.heads)
    out = Path(args.report)
    out.mkdir(parents=True, exist_ok=True)
    write_json(report, out / "data_checks.json")
    (out / "data_checks.md").write_text(checks_markdown(report, f"Data checks: {dataset.root.name}"), encoding="utf-8")
    print(summary_line(report) + f"; report in {out}")
    return 0


def export_command(args: argparse.Namespace) -> int:
    from niaga.vision.pipeline import export

    info = export(args.model, args.data, log=say)
    print(f"exported {args.model}: predict uses {info['fastest']}")
    return 0


def index_command(args: argparse.Namespace) -> int:
    from niaga.vision.pipeline import build_index

    info = build_index(args.model, args.data, args.out, split=args.split, runtime=args.runtime)
    print(f"indexed {info['items']:,} images ({info['backend']}, {info['runtime']})"
          + (f", {info['unreadable']} unreadable left out" if info["unreadable"] else "") + f" into {args.out}")
    return 0


def similar_command(args: argparse.Namespace) -> int:
    from niaga.data.io import write_table
    from niaga.vision.pipeline import similar

    found, info = similar(args.model, args.image, args.k, args.index, runtime=args.runtime)
    if args.output:
        write_table(found, args.output)
    predicted = {k: v for k, v in info["predicted"].items() if not k.endswith("_confidence") and v != ""}
    print(f"query {info['query']}: " + " > ".join(str(v) for v in predicted.values())
          + f" ({info['milliseconds']:.1f} ms, {info['runtime']}, {info['index_items']:,} indexed)")
    columns = [c for c in ["rank", "score", "image", "master", "sub", "article", "gender"] if c in found.columns]
    for row in found[columns].to_dict("records"):
        print(json.dumps(row, ensure_ascii=False))
    if args.output:
        print(f"wrote {len(found)} rows to {args.output}")
    return 0


def duplicates_command(args: argparse.Namespace) -> int:
    from niaga.errors import NiagaError
    from niaga.vision.pipeline import duplicates

    if not 0 <= args.max_hash_distance <= 256:
        raise NiagaError(f"--max-hash-distance must be between 0 and 256, got {args.max_hash_distance}")
    if args.min_similarity is not None and not 0 < args.min_similarity <= 1:
        raise NiagaError(f"--min-similarity must be in (0, 1], got {args.min_similarity}")
    if args.min_title_similarity is not None and not 0 < args.min_title_similarity <= 1:
        raise NiagaError(f"--min-title-similarity must be in (0, 1], got {args.min_title_similarity}")
    if not 0 < args.price_ratio < 1:
        raise NiagaError(f"--price-ratio must be between 0 and 1, got {args.price_ratio}")
    _, _, info = duplicates(args.input, args.output, args.model, pairs_output=args.pairs, image_col=args.image_col,
                             image_root=args.image_root, title_col=args.title_col, runtime=args.runtime,
                             max_hash_distance=args.max_hash_distance, min_cosine=args.min_similarity,
                             min_title=args.min_title_similarity, price_ratio=args.price_ratio, log=say)
    counted = (f"{info['images']:,} images" if info["signals"] != "titles"
               else f"{info['listings']:,} listings" + (f" ({info['empty_titles']} with an empty title)"
                                                         if info["empty_titles"] else ""))
    print(f"{counted}: {info['groups_with_copies']:,} groups of copies ({info['copy_pairs']:,} pairs, "
          f"{info['title_pairs']:,} of them by title, {info['signals']}), {info['counterfeit_suspects']:,} "
          "counterfeit suspects" + (f", {info['unreadable']} unreadable" if info["unreadable"] else "")
          + f"; wrote {args.output} and {info['pairs_output']}")
    return 0
