"""The main job (``make run``): train the default review and social-post models on the shared data, print
their cross-validated evaluation, save them, and classify a few example reviews and posts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXAMPLES = [
    "Barangnya bagus bgt, pengiriman cepat, seller ramah. Mantappp 👍",
    "kecewa bgt, barang rusak dan gk sesuai gambar, udah chat seller gk dibales",
    "Takut barangnya palsu, belum dicoba sih tapi kemasannya beda dari yang biasanya",
    "Suka banget sama bajunya, bahannya adem, pasti order lagi ❤️",
    "Paket lama banget sampainya, sedih padahal buat kado",
]

POSTS = [
    "@USER min paket saya belum sampai udah seminggu, resi gak update",
    "sudah bayar Rp150rb pakai GoPay tapi status pesanan masih belum dibayar",
    "Ikuti kuis berhadiah dan menangkan voucher belanja 50rb! HTTPURL",
]

DEFAULT_TASKS = (("emotion", "Emotion"), ("sentiment", "Sentiment"))


HELP_EXAMPLES = {
    "": "niaga run --cv 5",
}


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=__doc__)
    parser.add_argument("texts", nargs="*", help="reviews to classify (default: stdin lines, else built-in examples)")
    parser.add_argument("--out", default="runs", help="where models and reports go (default: runs/)")
    parser.add_argument("--model", default="tfidf", choices=("tfidf", "neural", "transformer"),
                        help="review model kind (default tfidf: trains in seconds)")
    parser.add_argument("--cv", type=int, default=5,
                        help="cross-validation folds for the printed evaluation (at least 2; default 5)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from niaga.config import data_path
    from niaga.errors import NiagaError
    from niaga.modeling import load_model
    from niaga.reviews.cli import read_texts
    from niaga.reviews.pipeline import train

    if args.cv < 2:
        raise NiagaError(f"--cv {args.cv}: the main job prints a cross-validated evaluation, so it needs at least 2 "
                         "folds (train without CV through 'niaga reviews train --cv 0')")
    data = data_path("text", "prdect_id", "prdect_id_train.csv")
    out = Path(args.out)
    models = {}
    for task, label_col in DEFAULT_TASKS:
        print(f"\n== PRDECT-ID {task}: {args.model} model, {args.cv}-fold CV grouped by text ==")
        _, metrics = train(data, "Customer Review", label_col, out / "models" / f"reviews-{task}", kind=args.model,
                           cv=args.cv, report_dir=out / "reports" / f"reviews-{task}")
        cv = metrics.get("cv", {})
        if cv:
            print(f"accuracy {cv['accuracy']:.4f}  macro-F1 {cv['f1_macro']:.4f}  weighted-F1 {cv['f1_weighted']:.4f}  "
                  f"kappa {cv['cohen_kappa']:.4f}   report: {out / 'reports' / f'reviews-{task}' / 'report.md'}")
        models[task] = load_model(out / "models" / f"reviews-{task}", task="reviews")
    texts = read_texts(args.texts) or EXAMPLES
    print("\n== Example reviews ==")
    emotion, sentiment = models["emotion"], models["sentiment"]
    e_proba, s_proba = emotion.predict_proba(texts), sentiment.predict_proba(texts)
    for text, e, s in zip(texts, e_proba, s_proba):
        print(f"{emotion.classes_[e.argmax()]:<8} {e.max():.2f}  {sentiment.classes_[s.argmax()]:<8} {s.max():.2f}  {text}")
    run_social(out, args.cv)
    print(f"\nmodels saved under {out / 'models'}; use them with 'niaga reviews predict --model DIR ...'",
          file=sys.stderr)
    return 0


def run_social(out: Path, cv: int) -> None:
    import pandas as pd

    from niaga.config import data_path
    from niaga.social.pipeline import predict_posts, train

    print(f"\n== E-commerce posts: transaction and activity classifiers, {cv}-fold CV ==")
    summary = train(data_path("text", "ecommerce_tweets_labelled", "tweets_train.csv"), "text", "label",
                    out / "models" / "social", cv=cv, report_dir=out / "reports" / "social")
    for name in ("transaction", "activity"):
        scores = summary[name]["cv"]
        print(f"{name:<12} accuracy {scores['accuracy']:.4f}  macro-F1 {scores['f1_macro']:.4f}")
    result = predict_posts(out / "models" / "social", pd.DataFrame({"text": POSTS}), "text")
    print("\n== Example posts ==")
    for row in result.itertuples():
        print(f"{row.label:<16} {row.activity or '-':<10} price={row.price or '-'} payment={row.payment_method or '-'}  "
              f"{row.text}")
