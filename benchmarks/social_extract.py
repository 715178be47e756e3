"""Precision and recall of niaga.social.extract on hand-labelled real texts, per field, with counts.

The labels are in benchmarks/data/extraction_dev.csv: one row per text, keyed by shared dataset, file
and row position (the texts stay in the shared data and are read from it here). Each text was read
and labelled by hand:

- ``price``: the price(s), in integer rupiah, of what the item in the text costs or cost the writer (a
  menu price at the reviewed restaurant, the room rate, an entry ticket, what was paid, the listed price
  of the item for sale). Every other amount is not a price: a comparison with another shop or product
  ("kayak baju 35rb di pasar", "kualitas 70rb-an"), a hypothetical or threshold ("kalau 10 ribu",
  "minimal belanja 60 ribu"), shipping and other fees, cashback, vouchers, discounts, refunds,
  compensations, lost or stolen values, prizes, savings, public budgets, debts. Informal thousands count
  as what they mean ("harga 45" = 45000).
- ``payment_method``: the method(s) used or offered for a purchase, normalized as the extractor names
  them; an empty cell means the text names none.
- ``note`` (optional): what the other amounts are, or why a row was relabelled.
- ``part``: which rounds of work saw the text.

Parts. Round 1 chose 1,572 texts for money forms and payment words (most with a false friend) from the
tweets, Tokopedia, PRDECT-ID and IndoNLU (SmSA, EmoT, CASA, HoASA) files and split them by an md5 hash of
"dataset|file|row" (divisible by 3: held out). ``dev`` (1,014) is what round 1 developed on;
``dev_from_held_out_1`` (558) is round 1's held-out part, scored once at the end of round 1 and then used
for development in round 2. ``dev_from_held_out_2`` (732) was round 2's held-out part: labelled in round 2
before any rule changed, from texts not yet in the set and not repeating one (same words after
lower-casing), chosen by regular expressions of our own, not by what the extractor outputs (seed 13): every
remaining text outside product titles with a money form or a number after a price word (233), every one
with a payment name (62), and samples of those with a paying word (140), a price word but no number (150),
a year (45), product titles (62) and any text (40). It was scored once, at the end of round 2 (its figures
are kept below as the last held-out figures), and used for development in round 3.

No untouched held-out part remains: round 1 took nearly every text of the shared corpora with a written
money form, round 2 the rest. Every figure this script computes is a development figure; a new held-out
check needs new texts. Product and quantity are scored on the labelled fields of ecommerce_tweets_labelled.

Run: python benchmarks/social_extract.py [--dev-only] [--errors PART] [--no-classifier-cv]
(--dev-only prints the scores per part and saves nothing: use it while working on the rules.)
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, save  # noqa: E402

from niaga.config import data_path  # noqa: E402
from niaga.data.io import read_table  # noqa: E402
from niaga.social.extract import amounts, extract  # noqa: E402
from niaga.social.extract_lexicon import Tokens  # noqa: E402

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
# Held-out 2, scored once at the end of round 2 with round 2's rules, with the code of fbfbd71 and with round 1's
# rules: the last held-out figures (the part has been development text since).
HELD_OUT_2_ROUND_2 = {"price": {"tp": 18, "fp": 4, "fn": 14, "precision": 0.818, "recall": 0.562},
                      "payment_method": {"tp": 16, "fp": 2, "fn": 7, "precision": 0.889, "recall": 0.696}}
HELD_OUT_2_BEFORE = {"price": {"tp": 15, "fp": 3, "fn": 17, "precision": 0.833, "recall": 0.469},
                     "payment_method": {"tp": 14, "fp": 2, "fn": 9, "precision": 0.875, "recall": 0.609}}
HELD_OUT_2_ROUND_1 = {"price": {"tp": 19, "fp": 4, "fn": 13, "precision": 0.826, "recall": 0.594},
                      "payment_method": {"tp": 16, "fp": 2, "fn": 7, "precision": 0.889, "recall": 0.696}}
# Issue 13's targets on held-back texts.
TARGETS = {"precision": 0.90, "recall": 0.85}
# What the issue measured with the rules before it, on texts held back from us (not these texts).
PUBLISHED = {"price": {"precision": 0.79, "recall": 0.89}, "payment_method": {"precision": 0.90, "recall": 0.82}}
# Round 1's one scoring of its held-out part (now dev_from_held_out_1), with round 1's rules.
HELD_OUT_1_ROUND_1 = {"price": {"tp": 213, "fp": 24, "fn": 20, "precision": 0.899, "recall": 0.914},
                      "payment_method": {"tp": 53, "fp": 6, "fn": 4, "precision": 0.898, "recall": 0.930}}
# Every part is a development part now (see the module docstring).
PARTS = ("dev", "dev_from_held_out_1", "dev_from_held_out_2")
DEV_PARTS = PARTS
ALL_DEV = "dev_all"
# Older rules on the same texts, to show how far each round moved them: the rules before issue 13 (commit
# fbfbd71), round 1's and round 2's rules (the round-1 figures of dev_from_held_out_1 and the round-2 figures
# of dev_from_held_out_2 are those parts' one held-out scoring). The figures over the three parts together
# are summed from the parts' counts.
EARLIER = {
    "before issue 13": {
        "dev": {"price": {"tp": 359, "fp": 93, "fn": 49, "precision": 0.794, "recall": 0.880},
                "payment_method": {"tp": 71, "fp": 13, "fn": 8, "precision": 0.845, "recall": 0.899}},
        "dev_from_held_out_1": {"price": {"tp": 206, "fp": 45, "fn": 27, "precision": 0.821, "recall": 0.884},
                                "payment_method": {"tp": 52, "fp": 7, "fn": 5, "precision": 0.881, "recall": 0.912}},
        "dev_from_held_out_2": HELD_OUT_2_BEFORE,
    },
    "round 1": {
        "dev": {"price": {"tp": 393, "fp": 36, "fn": 15, "precision": 0.916, "recall": 0.963},
                "payment_method": {"tp": 75, "fp": 5, "fn": 4, "precision": 0.938, "recall": 0.949}},
        "dev_from_held_out_1": HELD_OUT_1_ROUND_1,
        "dev_from_held_out_2": HELD_OUT_2_ROUND_1,
    },
    "round 2": {
        "dev": {"price": {"tp": 395, "fp": 29, "fn": 13, "precision": 0.932, "recall": 0.968},
                "payment_method": {"tp": 75, "fp": 4, "fn": 4, "precision": 0.949, "recall": 0.949}},
        "dev_from_held_out_1": {"price": {"tp": 222, "fp": 14, "fn": 11, "precision": 0.941, "recall": 0.953},
                                "payment_method": {"tp": 56, "fp": 3, "fn": 1, "precision": 0.949, "recall": 0.982}},
        "dev_from_held_out_2": HELD_OUT_2_ROUND_2,
    },
}
ROUNDS = ("round 2", "round 1", "before issue 13")


def _summed(parts: dict) -> dict:
    """Micro precision and recall over several parts, from their counts."""
    out = {}
    for field in ("price", "payment_method"):
        tp, fp, fn = (sum(parts[p][field][k] for p in PARTS) for k in ("tp", "fp", "fn"))
        out[field] = {"tp": tp, "fp": fp, "fn": fn, "precision": round(tp / (tp + fp), 3),
                      "recall": round(tp / (tp + fn), 3)}
    return out


for _figures in EARLIER.values():
    _figures[ALL_DEV] = _summed(_figures)


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


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson interval of a proportion (pairs are not independent draws: a rough guide to the noise)."""
    if not total:
        return (0.0, 1.0)
    p = successes / total
    centre, half = p + z * z / (2 * total), z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return ((centre - half) / (1 + z * z / total), (centre + half) / (1 + z * z / total))


def evaluate(labelled: pd.DataFrame, parts=PARTS) -> tuple[dict, pd.DataFrame]:
    """Scores per part, and for the development parts together ("dev_all")."""
    results = [extract(t) for t in labelled["text"]]
    labelled = labelled.assign(pred_price=["; ".join(map(str, r.price)) for r in results],
                               pred_payment=["; ".join(r.payment_methods) for r in results],
                               pred_other=["; ".join(f"{k}={v}" for k, v, _ in r.other_amounts) for r in results])
    scores = {}
    groups = [(part, [part]) for part in parts] + [(ALL_DEV, list(DEV_PARTS))]
    for name, members in groups:
        rows = labelled[labelled["part"].isin(members)]
        if rows.empty:
            continue
        scores[name] = {}
        for field, gold, pred in (("price", "price", "pred_price"), ("payment_method", "payment_method",
                                                                      "pred_payment")):
            s = score(list(rows[gold].map(split_values)), list(rows[pred].map(split_values)))
            s["precision_ci95"] = wilson(s["tp"], s["tp"] + s["fp"])
            s["recall_ci95"] = wilson(s["tp"], s["tp"] + s["fn"])
            scores[name][field] = s
    return scores, labelled


def role_counts(labelled: pd.DataFrame) -> dict:
    """How many amounts the extractor gave each role, over all labelled texts."""
    counts: Counter = Counter()
    for cell in labelled["pred_other"]:
        counts.update(item.split("=")[0] for item in cell.split("; ") if item)
    counts["price"] = sum(len(split_values(c)) for c in labelled["pred_price"])
    return dict(counts.most_common())


def _mention_features(tokens: Tokens, amount) -> dict:
    """Context-window features of one amount mention: the rules' role, the words around it, its size."""
    features = {f"role={amount.kind}": 1.0, f"log10={min(9, int(math.log10(max(amount.value, 1))))}": 1.0}
    for n, word in enumerate(tokens.before(amount.span[0], 6)):
        features[f"before{min(n, 2)}={word}"] = 1.0
        features[f"window={word}"] = 1.0
    for n, word in enumerate(tokens.after(amount.span[1], 3)):
        features[f"after{min(n, 1)}={word}"] = 1.0
    return features


def role_classifier_cv(dev: pd.DataFrame, folds: int = 5) -> dict:
    """Would a learned role classifier over mention contexts help the rules? Logistic regression on the
    dev mentions (label: the amount is one of the text's gold prices), 5-fold cross-validation grouped by
    text; it may only veto an amount the rules call a price. Price precision and recall per threshold."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    mentions = []
    for text_id, (text, gold_cell) in enumerate(zip(dev["text"], dev["price"])):
        gold = {int(v) for v in split_values(gold_cell)}
        tokens = Tokens(text)
        for amount in amounts(text, tokens):
            mentions.append((text_id, amount.value, amount.kind == "price", amount.value in gold,
                             _mention_features(tokens, amount)))
    frame = pd.DataFrame(mentions, columns=["text", "value", "rule_price", "gold", "features"])
    proba = pd.Series(0.0, index=frame.index)
    for train, test in GroupKFold(folds).split(frame, groups=frame["text"]):
        vectorizer = DictVectorizer()
        model = LogisticRegression(C=1.0, max_iter=2000).fit(
            vectorizer.fit_transform(frame["features"].iloc[train]), frame["gold"].iloc[train])
        proba.iloc[test] = model.predict_proba(vectorizer.transform(frame["features"].iloc[test]))[:, 1]
    golds = [{int(v) for v in split_values(c)} for c in dev["price"]]

    def price_score(keep: pd.Series) -> dict:
        predicted = [set() for _ in golds]
        for text_id, value in zip(frame["text"][keep], frame["value"][keep]):
            predicted[text_id].add(value)
        s = score(golds, predicted)
        return {"precision": s["precision"], "recall": s["recall"]}

    out = {"mentions": len(frame), "rules": price_score(frame["rule_price"])}
    for threshold in (0.6, 0.7, 0.8, 0.9):
        out[f"rules + classifier veto below {threshold}"] = price_score(frame["rule_price"] & (proba >= threshold))
    return out


def plot(scores: dict, path: Path) -> None:
    """Round 3 on all development parts beside the last held-out scoring (held-out 2, round 2's rules)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def with_ci(s: dict) -> dict:
        return {**s, "precision_ci95": wilson(s["tp"], s["tp"] + s["fp"]),
                "recall_ci95": wilson(s["tp"], s["tp"] + s["fn"])}

    bars = [(f"{field.replace('_', ' ')}\nall dev parts, round 3", scores[ALL_DEV][field],
             EARLIER["round 2"][ALL_DEV][field]) for field in ("price", "payment_method")]
    bars += [(f"{field.replace('_', ' ')}\nheld-out 2, round 2\n(scored once)", with_ci(HELD_OUT_2_ROUND_2[field]),
              HELD_OUT_2_ROUND_1[field]) for field in ("price", "payment_method")]
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    xs = range(len(bars))
    for offset, metric, colour in ((-0.2, "precision", "C0"), (0.2, "recall", "C1")):
        ax.bar([x + offset for x in xs], [b[1][metric] for b in bars], width=0.36, color=colour, label=metric)
        for x, b in zip(xs, bars):
            low, high = b[1][f"{metric}_ci95"]
            ax.plot([x + offset] * 2, [low, high], color="black", lw=0.8)
            ax.plot([x + offset - 0.17, x + offset + 0.17], [b[2][metric]] * 2, color="grey", lw=1.5)
    ax.axhline(TARGETS["precision"], color="C0", ls="--", lw=0.8)
    ax.axhline(TARGETS["recall"], color="C1", ls="--", lw=0.8)
    ax.axvline(1.5, color="grey", lw=0.6)
    ax.set_xticks(list(xs), [b[0] for b in bars], fontsize=7)
    ax.set_ylim(0.3, 1.0)
    ax.set_ylabel("micro precision / recall", fontsize=8)
    ax.legend(loc="lower left", fontsize=7)
    ax.set_title("niaga.social.extract: development figures (left) and the last held-out figures (right)\n"
                 "black: 95 % interval; grey: the round before on the same texts; dashed: targets", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _pr(s: dict | None) -> str:
    return "—" if not s else f"{s['precision']:.3f} / {s['recall']:.3f}"


def _round_change(scores: dict) -> str:
    """ "price 0.932 / 0.968 → 0.934 / 0.971" per part and field: round 2's rules, then these."""
    names = {"dev": "dev", "dev_from_held_out_1": "dev from held-out 1", "dev_from_held_out_2": "dev from held-out 2",
             ALL_DEV: "all three"}
    parts = []
    for part in (*PARTS, ALL_DEV):
        fields = [f"{field.replace('_', ' ')} {_pr(EARLIER['round 2'][part][field])} → {_pr(scores[part][field])}"
                  for field in ("price", "payment_method")]
        parts.append(f"{names[part]}: {', '.join(fields)}")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=PARTS, help="print the mistakes on this development part")
    parser.add_argument("--no-classifier-cv", action="store_true", help="skip the role-classifier experiment")
    parser.add_argument("--dev-only", action="store_true",
                        help="print the scores per part and save nothing (every part is a development part)")
    args = parser.parse_args()
    labelled = load_labelled_texts()
    scores, predicted = evaluate(labelled, PARTS)
    if args.errors:
        rows = predicted[predicted["part"] == args.errors]
        for _, r in rows.iterrows():
            if split_values(r.price) != split_values(r.pred_price) or \
                    split_values(r.payment_method) != split_values(r.pred_payment):
                print(f"--- {r.dataset}|{r.file}|{r.row}\n{r.text[:400]}\n"
                      f"  price gold={r.price!r} pred={r.pred_price!r}  other={r.pred_other!r}"
                      f"  payment gold={r.payment_method!r} pred={r.pred_payment!r}")
    if args.dev_only:
        for part, fields in scores.items():
            for field, s in fields.items():
                print(f"{part:20} {field:15} P {s['precision']:.3f} R {s['recall']:.3f} "
                      f"(TP {s['tp']} FP {s['fp']} FN {s['fn']})")
        return
    tweets = tweet_fields()
    roles = role_counts(predicted)
    classifier = None if args.no_classifier_cv else role_classifier_cv(labelled)
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(scores, RESULTS / "social-extract.png")

    def verdict(s: dict) -> str:
        met = s["precision"] >= TARGETS["precision"] and s["recall"] >= TARGETS["recall"]
        return "met" if met else "not met"

    part_names = {"dev": "dev", "dev_from_held_out_1": "dev from held-out 1",
                  "dev_from_held_out_2": "dev from held-out 2", ALL_DEV: "**all dev parts**"}
    rows = []
    for part in (*PARTS, ALL_DEV):
        for field, s in scores[part].items():
            (plo, phi), (rlo, rhi) = s["precision_ci95"], s["recall_ci95"]
            earlier = " | ".join(_pr(EARLIER[name][part][field]) for name in ROUNDS)
            rows.append(
                f"| {part_names[part]} | {field.replace('_', ' ')} | {s['texts']} | {s['texts_with_value']} | "
                f"{s['tp']} | {s['fp']} | {s['fn']} | **{s['precision']:.3f}** ({plo:.2f}–{phi:.2f}) | "
                f"**{s['recall']:.3f}** ({rlo:.2f}–{rhi:.2f}) | {earlier} | {verdict(s)} (dev) |")
    held_rows = []
    for name, figures, older in (
            ("**held-out 2**, round 2's rules, scored once at the end of round 2", HELD_OUT_2_ROUND_2,
             (HELD_OUT_2_ROUND_1, HELD_OUT_2_BEFORE)),
            ("held-out 1, round 1's rules, scored once at the end of round 1", HELD_OUT_1_ROUND_1,
             (None, EARLIER["before issue 13"]["dev_from_held_out_1"]))):
        for field, s in figures.items():
            (plo, phi), (rlo, rhi) = wilson(s["tp"], s["tp"] + s["fp"]), wilson(s["tp"], s["tp"] + s["fn"])
            held_rows.append(
                f"| {name} | {field.replace('_', ' ')} | {s['tp']} | {s['fp']} | {s['fn']} | "
                f"**{s['precision']:.3f}** ({plo:.2f}–{phi:.2f}) | **{s['recall']:.3f}** ({rlo:.2f}–{rhi:.2f}) | "
                f"{_pr(older[0][field]) if older[0] else '—'} | {_pr(older[1][field])} | {verdict(s)} |")
    speed = tweets.pop("texts_per_second")
    tweet_rows = [f"| {field} | {s.get('gold', s.get('texts_with_value'))} | {s['tp']} | "
                  f"{s.get('predicted', s['tp'] + s.get('fp', 0))} | {s['precision']:.3f} | {s['recall']:.3f} |"
                  for field, s in tweets.items()]
    counts = labelled.groupby("part").size().to_dict()
    sources = labelled.groupby("dataset").size().sort_values(ascending=False)
    held_sources = labelled[labelled["part"] == "dev_from_held_out_2"].groupby("dataset").size().sort_values(
        ascending=False)
    source_text = ", ".join(f"{name} {n}" for name, n in sources.items())
    held_text = ", ".join(f"{name} {n}" for name, n in held_sources.items())
    role_text = ", ".join(f"{name} {n}" for name, n in roles.items())
    d2 = scores["dev_from_held_out_2"]
    every = scores[ALL_DEV]
    classifier_lines = []
    if classifier:
        classifier_lines = [
            "",
            f"A learned role classifier was tried again and not added: logistic regression over the context window "
            f"of each of the {classifier['mentions']} amount mentions in the three development parts (the rules' "
            "role, the six words before, the three after, the order of magnitude), 5-fold cross-validation grouped "
            "by text, allowed only to veto an amount the rules call a price. Price precision / recall on the "
            "development parts:",
            "",
            "| rules | " + " | ".join(k.replace("rules + classifier veto below ", "veto below ")
                                      for k in classifier if k.startswith("rules +")) + " |",
            "|---|" + "---|" * (len(classifier) - 2),
            "| " + " | ".join(f"{v['precision']:.3f} / {v['recall']:.3f}" for k, v in classifier.items()
                              if k != "mentions") + " |",
            "",
            "No veto threshold gains precision without losing more recall, and the held-out shortfall was recall "
            "(amounts the rules never read as money), which a veto over the rules' mentions cannot add. One that "
            "proposes amounts would need far more labelled prices than the shared data holds.",
        ]
    markdown = "\n".join([
        "## Social: information extraction (`benchmarks/social_extract.py`)",
        "",
        f"Rules of `niaga.social.extract` on {len(labelled):,} real texts from the shared data ({source_text}), "
        "each read and labelled by hand (`benchmarks/data/extraction_dev.csv`): `price` is only what the item in "
        "the text costs or cost the writer; every other amount (a comparison with another shop or product or "
        "\"quality like a 70rb item\", a hypothetical or threshold \"kalau 10 ribu\", shipping and other fees, "
        "cashback, refunds, compensations, lost-parcel values, prizes, savings, public budgets) is not a price; "
        "informal thousands count as what they mean (\"harga 45\" = 45,000, \"47.329 rb\" = 47,329). Payment "
        "methods are those used or offered for a purchase. Micro precision and recall over (text, value) pairs, "
        "with 95 % Wilson intervals. Targets (issue 13, on held-back texts): precision "
        f"≥ {TARGETS['precision']:.2f} and recall ≥ {TARGETS['recall']:.2f} for price and payment method.",
        "",
        "**No untouched held-out part remains in the shared data, so every figure of the first table is a "
        "development figure**: the rules were written looking at these texts, and the figures say how well they "
        "fit them, not how well they do on new text. Round 1 took nearly every text of the shared corpora with a "
        "written money form and most with a payment name, round 2 every remaining one outside product titles; a "
        "new held-out check needs newly labelled texts. The last held-out figures are those of the second table: held-out 2, scored "
        "once at the end of round 2, where the targets were not met.",
        "",
        "Parts, by which round saw them: *dev* (1,014 texts) is what round 1 developed on; *dev from held-out 1* "
        "(558 texts, an md5 hash of the key divisible by 3) was round 1's held-out part, scored once at the end "
        "of round 1 and used for development in round 2; *dev from held-out 2* "
        f"({counts.get('dev_from_held_out_2', 0)} texts: {held_text}) was round 2's held-out part, labelled in "
        "round 2 before any rule changed, from texts not yet in the set (none repeating a set text), picked by "
        "our own regular expressions and not by the extractor's output (every remaining non-title text with a "
        "money form or a number after a price word, every one with a payment name, and samples of texts with a "
        "paying word, a price word but no number, a year, product titles and any text), scored once at the end "
        "of round 2 and used for development in round 3. *Round 2*, *round 1* and *before issue 13* (commit "
        "fbfbd71) are the earlier rules on the same texts; on a part that was held out when those rules were "
        "written, their figure is its one held-out scoring (round 1 on dev from held-out 1, rounds 1 and 2 and "
        "the rules before issue 13 on dev from held-out 2).",
        "",
        "| part (all development) | field | texts | texts with a value | TP | FP | FN | precision (95 %) | "
        "recall (95 %) | round 2 (P / R) | round 1 (P / R) | before issue 13 (P / R) | targets |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "The last held-out figures (each part scored once, before any rule was written from it; the same texts "
        "are development texts in the table above):",
        "",
        "| held-out part | field | TP | FP | FN | precision (95 %) | recall (95 %) | round 1's rules (P / R) | "
        "before issue 13 (P / R) | targets |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *held_rows,
        "",
        f"Issue 13 measured the rules before it on its own held-back texts: price {PUBLISHED['price']['precision']:.2f}"
        f" / {PUBLISHED['price']['recall']:.2f}, payment method {PUBLISHED['payment_method']['precision']:.2f} / "
        f"{PUBLISHED['payment_method']['recall']:.2f}.",
        "",
        "![precision and recall per field](../benchmarks/results/social-extract.png)",
        "",
        "What round 3 changed, from the mistakes on all three development parts (each with a test; round 2's "
        f"rules → round 3's, development figures: {_round_change(scores)}). **Rupiah written in full without a "
        "price word right before it** (\"harga standar food court 3000 - 5000\", \"jual adidas mocas hanya "
        "115000\", \"hanya berharga 5000\", \"htm ide 10000 / orang\"): a bare number is money when it looks like "
        "rupiah (4-7 digits, so at least 1,000 — a shorter bare number is in thousands after a price word, "
        "\"harga 500\", and not read otherwise —, a multiple of 100 — prices are, codes, phone parts and model "
        "numbers such as \"6339\", \"1603\", \"18650\" mostly are not —, not a year, no unit, counted noun or "
        "digit after it, no measure or phone word such as \"km\" or \"telepon\" before it) and its clause says it is a price: a "
        "price, selling or buying word or a price adjective up to six words earlier with no other number and no "
        "\"tapi\" between, a priced unit after it (\"5500 / kg\", \"per porsi\"), or a list of prices it "
        "continues (\"28000 untuk panggang dan 24000 untuk kecap\", \"1000 perak dan aneka juice 6000an\"). What "
        "follows such a number must let it be a price: the end of the clause, a dash, or a word such as "
        "\"untuk\", \"aja\", \"per\"; a noun there is what it counts (\"bayar 1500 pamflet\"), and after a selling "
        "verb a short number followed by a noun is a count, not thousands (\"jual 268 rak dinding\", \"dijual 131 "
        "makan siang cooler\"). \"berharga\" is a price word; a measure word right after a number measures that "
        "number (\"3 tahun pe 5500 / kg\", \"beli tahun 2004 sekitar 80 jutaan\"); \"temuan\" is counted. "
        "**Roles**: \"kualitas\" counts only before an amount (\"webcam 1 jutaan kualitas sampah\" is the "
        "webcam's price); an amount with no cue near it is a fee when a fee word stands further back in its "
        "clause (\"ongkos kirim nya mahal banget ... cuma 1 kilometer doang 15k\"); SmSA's \"minimal ,\" (its "
        "rewriting of the address \"min,\") is no threshold and its \"top naik\" (\"top up\") a deposit. "
        "**Payments**: an ATM is a transfer right after a paying or means word (\"bayar ATM\", \"via atm bca\", "
        "\"pake atm manual\"), not as a place or a card (\"di ATM tinggal dikit\", \"kartu atm bri\"); bank apps "
        "(\"mandiri mobile\", \"e-banking\") are transfers; T-Cash (\"tcash\", SmSA's \"triliun - cash\") is an "
        "e-wallet; a bank's card (\"citibank card\") is a credit card; drawing cash or topping up a wallet "
        "through a bank channel (\"tarik tunai melalui bca mobile\", \"mengisi gopay via atm bca\"), a "
        "password or PIN reset and a passive transfer after a cancellation (\"pmbtln tiket ... tak kunjung "
        "ditransfer\") are no payments; \"terima kasih\" (thanks) makes no text about buying. **Number words and "
        "speed**: \"puluh\" and \"ratus\" scale the word just before them (\"dua ratus lima puluh ribu\" was read "
        "as 2,050,000, now 250,000), and the number-word pattern reads each word or digit run as one unit: it took "
        "exponential time on long runs of numbers and hung on product titles such as \"capasitor 10 PCS 101 221 "
        "471 56 102 ...\". All word lists are in `src/niaga/resources/commerce_extraction.yaml`.",
        "",
        f"**Reading these figures.** Dev from held-out 2 now scores price {d2['price']['precision']:.3f} / "
        f"{d2['price']['recall']:.3f} and payment method {d2['payment_method']['precision']:.3f} / "
        f"{d2['payment_method']['recall']:.3f}, against 0.818 / 0.562 and 0.889 / 0.696 when it was held out: "
        "the gain is on the very texts the round-3 rules were read from (most of its misses named above are now "
        f"right), over only {d2['price']['texts_with_value']} texts with a price and "
        f"{d2['payment_method']['texts_with_value']} with a payment method, so it is no estimate of new-text "
        "quality. Across the three development parts the development figures are price "
        f"{every['price']['precision']:.3f} / {every['price']['recall']:.3f} and payment method "
        f"{every['payment_method']['precision']:.3f} / {every['payment_method']['recall']:.3f}. On new texts "
        "expect less: each earlier round lost precision or recall on its held-out part (round 1 on held-out 1, "
        "round 2 on held-out 2, recall most), and whether round 3 closes the held-out recall gap can only be "
        "measured on newly labelled texts.",
        "",
        f"Roles given to the amounts of all labelled texts: {role_text}.",
        *classifier_lines,
        "",
        "What is left on the development parts: most false prices need more than the words around the amount (a "
        "fee the writer had to pay at a hotel, a tip, a bounty, a card-bill payment, a promo value, money lost "
        "in a failed transfer, a sarcastic \"hanya senilai 6000\", a product title's \"26.000\" MHz crystal), "
        "most missed prices are garbled or bare forms (\"15 ban\", \"harga 99 : 5\", \"jeruk hangat 17\", \"dr "
        "90an sampe 100an\", \"75k wtf\", \"harga luxo 1,3\" for 1.3 million, \"flash sale 1000 dapat ...\", "
        "\"lebih setengah juta\" with no money word), and the remaining payment errors are transfers named "
        "without any commerce word (\"gimana mau transfer\") or wallets named in passing. One annotator "
        "labelled every text.",
        "",
        f"On the fields of the {tweets['price']['texts']} TRANSACTION posts among the 1,053 e-commerce tweets "
        "(the only rows with fields; their own labelling: one price and one payment method per post, not the "
        "definitions above, so a lost parcel's value or a refund they count as a price, and COD or saldo they "
        "leave out, are errors here; a product counts as right when it shares a word with the label; the "
        "quantity rules were written looking at these 8 labels):",
        "",
        "| field | labelled | right | predicted | precision | recall |",
        "|---|---|---|---|---|---|",
        *tweet_rows,
        "",
        f"Speed: {speed:,.0f} texts/s on one core (the 1,053 tweets).",
    ])
    save("social-extract", {"labels": str(LABELS.relative_to(LABELS.parents[2])), "texts": counts,
                            "sources": sources.to_dict(), "targets": TARGETS, "published": PUBLISHED,
                            "figures": "development: no untouched held-out part remains in the shared data",
                            "last_held_out": {"part": "dev_from_held_out_2 (held_out_2 in round 2)",
                                              "scored": "once, at the end of round 2",
                                              "round 2": HELD_OUT_2_ROUND_2, "round 1": HELD_OUT_2_ROUND_1,
                                              "before issue 13": HELD_OUT_2_BEFORE},
                            "held_out_1_round_1": HELD_OUT_1_ROUND_1,
                            "earlier": EARLIER, "scores": scores, "roles": roles,
                            "role_classifier_cv": classifier, "tweet_fields": tweets,
                            "texts_per_second": speed}, markdown)


if __name__ == "__main__":
    main()
