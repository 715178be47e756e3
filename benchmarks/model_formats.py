"""Model files as data: load time and directory size of niaga's format (skops, safetensors, LightGBM text, JSON,
sha256-checked) beside the joblib pickle the models used before, for every kind of model niaga trains.

Each model is trained once on real shared data (small settings where the size does not depend on them:
the neural model's epochs), then saved both ways in one run; load times are the median of 5 loads, the
niaga figure through ``load_model`` (hash check and skops type check included).

Run: python benchmarks/model_formats.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import joblib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

from niaga.modeling import load_model, save_model  # noqa: E402


def text_models():
    from niaga.data.text import load_ecommerce_tweets, load_prdect_id
    from niaga.social.paper import PaperSVMClassifier
    from niaga.text.classify.neural import NeuralTextClassifier
    from niaga.text.classify.tfidf import TfidfTextClassifier

    reviews = load_prdect_id("emotion")
    texts, labels = reviews["text"].astype(str).tolist(), reviews["label"].tolist()
    yield "reviews tfidf (PRDECT-ID emotion)", TfidfTextClassifier().fit(texts, labels)
    yield "reviews neural (PRDECT-ID emotion)", NeuralTextClassifier(max_epochs=2, verbose=False).fit(texts, labels)
    tweets = load_ecommerce_tweets()
    yield "social svm-rbf (seed 001)", PaperSVMClassifier().fit(tweets["text"].tolist(), tweets["label"].tolist())


def tabular_models():
    import pandas as pd

    from niaga.config import data_path
    from niaga.customers.intent import FEATURES, IntentClassifier, usable
    from niaga.customers.promo import FEATURES as PROMO, LABEL, OneHotClassifier, make_promo_model, seed_rows
    from niaga.fraud.features import batch_features
    from niaga.fraud.model import FraudModel
    from niaga.fraud.schema import normalize

    features, labels = usable(data_path("commerce", "online_shoppers_intention", "online_shoppers_intention.csv"),
                              print)
    yield "customers intent (LightGBM, UCI sessions)", IntentClassifier().fit(features[FEATURES], labels)
    rows = seed_rows()
    yield "customers promo naive Bayes (seed 003)", make_promo_model("naive-bayes", alpha=1.0).fit(rows[PROMO], rows[LABEL])
    yield "customers promo one-hot LightGBM", OneHotClassifier(estimator="lightgbm").fit(rows[PROMO], rows[LABEL])
    month = pd.read_parquet(data_path("fraud", "fraud_detection_handbook_simulated", "transactions_2018-04.parquet"))
    canonical = normalize(month)
    table = batch_features(canonical)
    yield "fraud (LightGBM + autoencoder, handbook 2018-04)", \
        FraudModel().fit(table, canonical.loc[table.index, "label"].to_numpy())


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def median_seconds(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name: str, model, root: Path) -> dict:
    directory, pickle = root / "niaga", root / "model.joblib"
    start = time.perf_counter()
    save_model(model, directory, labels=getattr(model, "classes_", ()))
    niaga_save = time.perf_counter() - start
    start = time.perf_counter()
    joblib.dump(model, pickle, compress=3)
    joblib_save = time.perf_counter() - start
    row = {"model": name, "niaga_save_s": niaga_save, "joblib_save_s": joblib_save,
           "niaga_load_s": median_seconds(lambda: load_model(directory)),
           "joblib_load_s": median_seconds(lambda: joblib.load(pickle)),
           "niaga_bytes": size(directory) - (directory / "model.json").stat().st_size, "joblib_bytes": size(pickle),
           "niaga_files": sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*")
                                 if p.is_file() and p.name != "model.json")}
    print(f"{name}: load {row['niaga_load_s']:.3f}s vs {row['joblib_load_s']:.3f}s, "
          f"{row['niaga_bytes'] / 1e6:.2f} MB vs {row['joblib_bytes'] / 1e6:.2f} MB", flush=True)
    return row


def main() -> None:
    rows = []
    for factory in (text_models, tabular_models):
        for name, model in factory():
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(measure(name, model, Path(tmp)))
    lines = ["## Model files (`benchmarks/model_formats.py`)", "",
             "Every model directory holds data only: scikit-learn parts through skops (only niaga's classes and "
             "the scikit-learn / numpy / scipy / LightGBM types they hold are trusted), PyTorch weights as "
             "safetensors, LightGBM boosters as their text model, settings as JSON, each with its sha256 in "
             "model.json. The joblib column is the pickle the same model was saved as before (compress=3). "
             "Load: median of 5, niaga's through `load_model` (hashes and skops type check included). The "
             "transformer (IndoBERT) keeps Hugging Face's safetensors checkpoint; it cannot be trained here "
             "(no hub access) and is not measured.", "",
             "| model | files | load s: niaga / joblib | save s: niaga / joblib | size MB: niaga / joblib |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {', '.join(r['niaga_files'])} | {r['niaga_load_s']:.3f} / "
                     f"{r['joblib_load_s']:.3f} | {r['niaga_save_s']:.2f} / {r['joblib_save_s']:.2f} | "
                     f"{r['niaga_bytes'] / 1e6:.2f} / {r['joblib_bytes'] / 1e6:.2f} |")
    save("model-formats", {"rows": rows}, "\n".join(lines))


if __name__ == "__main__":
    main()
