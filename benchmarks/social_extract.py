"""Precision and recall of niaga.social.extract on hand-labelled real texts, per field, with counts.

The labels are in benchmarks/data/extraction_dev.csv: one row per text, keyed by shared dataset, file
and row position (the texts stay in the shared data and are read from it here). Each text was read
and labelled by hand with the goods price(s) in integer rupiah and the payment method(s) used or
offered for the purchase, normalized; an empty cell means the text names none (most texts were
chosen because they hold a false friend: a number or a payment word that is not one). A third of
the texts (by a hash of the key) is the held-out part: the rules were developed on the rest, and the
held-out part was scored once, at the end. Product and quantity are scored on the labelled fields of
ecommerce_tweets_labelled (all 1,053 rows).

Run: python benchmarks/social_extract.py [--errors dev|held_out]
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, save  # noqa: E402

from niaga.config import data_path  # noqa: E402
from niaga.data.io import read_table  # noqa: E402
from niaga.social.extract import extract  # noqa: E402

LABELS = Path(__file__).resolve().parent / "data" / "extraction_dev.csv"
# How to read each labelled file of the shared data, and which column holds its text.
SOURCES = {
    ("ecommerce_tweets_labelled", "tweets_train.csv"): ("text", {}),
    ("prdect_id", "prdect_id_train.csv"): ("Customer Review", {}),
    ("tokopedia_product_reviews_2019", "tokopedia-product-reviews-2019.csv.gz"): ("text", {}),
    ("tokopedia_fashion_reviews", "clean_train_data.csv"): ("review", {}),
    ("tokopedia_fashion_reviews", "clean_test_data.csv"): ("review", {}),
    ("tokopedia_product_titles", "small_product_tokopedia.csv"): ("nama", {}),
    **{("indonlu_smsa", f"{s}_preprocess.tsv"): (0, dict(header=None, quoting=csv.QUOTE_NONE)) for s in ("train", "valid", "test")},
    **{("indonlu_emot", f"{s}_preprocess.csv"): ("tweet", {}) for s in ("train", "valid", "test")},
    **{("indonlu_casa", f"{s}_preprocess.csv"): ("sentence", {}) for s in ("train", "valid", "test")},
    **{("indonlu_hoasa", f"{s}_preprocess.csv"): ("review", {}) for s in ("train", "valid", "test")},
}
TARGETS = {"precision": 0.95, "recall": 0.90}


def load_labelled_texts(path: Path = LABELS) -> pd.DataFrame:
    """The labels joined with their texts, read from the shared data."""
    labels = pd.read_csv(path, dtype=str, keep_default_na=False)
    labels["row"] = labels["row"].astype(int)
    texts = []
    for (dataset, file), group in labels.groupby(["dataset", "file"], sort=False):
        column, kwargs = SOURCES[(dataset, file)]
        frame = read_table(data_path("text", dataset, file), **kwargs)
        texts.append(pd.Series(frame[column].iloc[group["row"].to_numpy()].to_numpy(), index=group.index))
    return labels.assign(text=pd.concat(texts))


def split_values(cell: str) -> set[str]:
    return {v.strip() for v in cell.split(";") if v.strip()}


def score(gold: list[set], predicted: list[set]) -> dict:
    """Micro precision and recall over (text, value) pairs."""
    tp = sum(len(g & p) for g, p in zip(gold, predicted))
    fp = sum(len(p - g) for g, p in zip(gold, predicted))
    fn = sum(len(g - p) for g, p in zip(gold, predicted))
    return {"tp": tp, "fp": fp, "fn": fn, "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0, "texts": len(gold),
            "texts_with_value": sum(bool(g) for g in gold)}


def product_matches(gold: str, predicted: str) -> bool:
    """A predicted product is right when it shares a content word with any gold product."""
    words = lambda s: set(re.findall(r"[a-z]{3,}", s.lower()))  # noqa: E731
    return any(words(g) & words(predicted) for g in gold.split(";"))


def tweet_fields() -> dict:
    """Product, quantity, price and payment method against the labelled fields of the tweets."""
    frame = read_table(data_path("text", "ecommerce_tweets_labelled", "tweets_train.csv"))
    started = time.perf_counter()
    results = [extract(t) for t in frame["text"].astype(str)]
    texts_per_s = len(frame) / (time.perf_counter() - started)
    # The tweets label fields on TRANSACTION posts only (one price and one payment method each): scored there.
    transaction = (frame["label"] == "TRANSACTION").to_numpy()
    frame = frame[transaction]
    results = [r for r, t in zip(results, transaction) if t]
    out = {"texts_per_second": texts_per_s}
    gold_product = frame["product"].fillna("").astype(str)
    predicted = [r.product or "" for r in results]
    correct = sum(bool(g and p and product_matches(g, p)) for g, p in zip(gold_product, predicted))
    out["product"] = {"tp": correct, "predicted": sum(map(bool, predicted)), "gold": int((gold_product != "").sum()),
                      "precision": correct / max(1, sum(map(bool, predicted))),
                      "recall": correct / max(1, int((gold_product != "").sum()))}
    gold_qty = frame["quantity"].map(lambda v: set() if pd.isna(v) else {str(int(v))})
    out["quantity"] = score(list(gold_qty), [{str(r.quantity)} if r.quantity is not None else set() for r in results])
    gold_price = frame["price"].map(lambda v: set() if pd.isna(v) else {str(int(v))})
    out["price"] = score(list(gold_price), [set(map(str, r.price)) for r in results])
    gold_pay = frame["payment_method"].fillna("").map(split_values)
    out["payment method"] = score(list(gold_pay), [set(r.payment_methods) for r in results])
    return out


def evaluate(labelled: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    results = [extract(t) for t in labelled["text"]]
    labelled = labelled.assign(pred_price=["; ".join(map(str, r.price)) for r in results],
                               pred_payment=["; ".join(r.payment_methods) for r in results])
    scores = {}
    for part in ("dev", "held_out"):
        rows = labelled[labelled["part"] == part]
        scores[part] = {
            "price": score(list(rows["price"].map(split_values)), list(rows["pred_price"].map(split_values))),
            "payment_method": score(list(rows["payment_method"].map(split_values)),
                                    list(rows["pred_payment"].map(split_values))),
        }
    return scores, labelled


def plot(scores: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    bars = [(f"{field}\n{part}", s["precision"], s["recall"]) for part, fields in scores.items()
            for field, s in fields.items()]
    xs = range(len(bars))
    ax.bar([x - 0.2 for x in xs], [b[1] for b in bars], width=0.4, label="precision")
    ax.bar([x + 0.2 for x in xs], [b[2] for b in bars], width=0.4, label="recall")
    ax.axhline(TARGETS["precision"], color="C0", ls="--", lw=0.8)
    ax.axhline(TARGETS["recall"], color="C1", ls="--", lw=0.8)
    ax.set_xticks(list(xs), [b[0] for b in bars], fontsize=8)
    ax.set_ylim(0.5, 1.0)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("niaga.social.extract on hand-labelled texts (dashed: targets)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=["dev", "held_out"], help="print the mistakes on this part")
    args = parser.parse_args()
    labelled = load_labelled_texts()
    scores, predicted = evaluate(labelled)
    if args.errors:
        rows = predicted[predicted["part"] == args.errors]
        for _, r in rows.iterrows():
            if split_values(r.price) != split_values(r.pred_price) or \
                    split_values(r.payment_method) != split_values(r.pred_payment):
                print(f"--- {r.dataset}|{r.file}|{r.row}\n{r.text[:400]}\n  price gold={r.price!r} pred={r.pred_price!r}"
                      f"  payment gold={r.payment_method!r} pred={r.pred_payment!r}")
    tweets = tweet_fields()
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(scores, RESULTS / "social-extract.png")

    def verdict(s: dict) -> str:
        met = s["precision"] >= TARGETS["precision"] and s["recall"] >= TARGETS["recall"]
        return "met" if met else "not met"

    rows = [f"| {part.replace('_', '-')} | {field.replace('_', ' ')} | {s['texts']} | {s['texts_with_value']} | "
            f"{s['tp']} | {s['fp']} | {s['fn']} | **{s['precision']:.3f}** | **{s['recall']:.3f}** | {verdict(s)} |"
            for part, fields in scores.items() for field, s in fields.items()]
    speed = tweets.pop("texts_per_second")
    tweet_rows = [f"| {field} | {s.get('gold', s.get('texts_with_value'))} | {s['tp']} | "
                  f"{s.get('predicted', s['tp'] + s.get('fp', 0))} | {s['precision']:.3f} | {s['recall']:.3f} |"
                  for field, s in tweets.items()]
    counts = labelled.groupby("part").size().to_dict()
    markdown = "\n".join([
        "## Social: information extraction (`benchmarks/social_extract.py`)",
        "",
        f"Rules of `niaga.social.extract` on {len(labelled)} real texts from the shared data (tweets, Tokopedia and "
        "PRDECT-ID reviews, SmSA/EmoT/CASA/HoASA comments, product titles), each read and labelled by hand with "
        "its goods price(s) and payment method(s) (`benchmarks/data/extraction_dev.csv`). Most were picked for "
        "a money form or a payment word, many of them false friends (\"transfer data\", \"dana desa\", "
        "\"Kepulauan Seribu\", \"30 ribu KTP\", \"4K Ultra HD\", \"TF card\", \"900 VA\", a shop called Indomaret). "
        f"The rules were written against the dev part ({counts.get('dev', 0)} texts); the held-out part "
        f"({counts.get('held_out', 0)} texts, a third by hash of the key) was scored once at the end. "
        "Micro precision and recall over (text, value) pairs. Targets: precision ≥ 0.95, recall ≥ 0.90.",
        "",
        "| part | field | texts | texts with a value | TP | FP | FN | precision | recall | target |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "![precision and recall per field](../benchmarks/results/social-extract.png)",
        "",
        "What is left: payment precision misses the target on both parts, by 2 to 4 false positives. They are "
        "payment words in texts where nothing is paid with them (a scammer who \"minta transfer\", a bounty "
        "\"duit di transfer\", a refund \"sudah ditransfer\", \"ngerti go-pay\", an e-wallet prize): the "
        "rules check the words around a mention and whether the text is about buying at all, not who pays whom. "
        "Price errors are mostly amounts whose role needs the whole sentence (a compensation, a prize, a "
        "minimum spend). A learned mention classifier was not added: the 448 texts hold about 80 payment "
        "mentions, too few to train and test one.",
        "",
        f"On the fields of the {tweets['price']['texts']} TRANSACTION posts among the 1,053 e-commerce tweets "
        "(the only rows with fields; their own labelling: one price and one payment method per post, not the "
        "definitions above, so COD and DANA that this extractor reports on two posts count as errors here; "
        "a product counts as right when it shares a word with the label; the quantity rules were written "
        "looking at these 8 labels):",
        "",
        "| field | labelled | right | predicted | precision | recall |",
        "|---|---|---|---|---|---|",
        *tweet_rows,
        "",
        f"Speed: {speed:,.0f} texts/s on one core (the 1,053 tweets).",
    ])
    save("social-extract", {"labels": str(LABELS.relative_to(LABELS.parents[2])), "texts": counts,
                            "scores": scores, "tweet_fields": tweets,
                            "texts_per_second": speed}, markdown)


if __name__ == "__main__":
    main()
