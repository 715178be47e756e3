"""Throughput of niaga's text normalization against the same steps written naively on PySastrawi.

The naive pipeline is how the steps are usually written: one function per step applied text by text,
stopwords in a set, and Sastrawi's own factory stemmer (which already caches stems per word) called on
each text. niaga runs the character-level cleaning once per batch and memoizes the whole token-level chain
(squash, reduplication, slang, stopwords, stemming) per distinct token, and gives Sastrawi's stemmer its
root-word dictionary as a set (Sastrawi keeps it in a list and scans it on every lookup). Both must give
identical output.

Run: python benchmarks/text_normalize.py [--repeat N]
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

from niaga.data.text import load_indonlu_smsa, load_prdect_id  # noqa: E402
from niaga.text import TextNormalizer  # noqa: E402
from niaga.text import normalize as nz  # noqa: E402


def make_naive(slang: dict, stopwords: set, vocabulary: frozenset, stem: bool):
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    stemmer = StemmerFactory().create_stemmer()

    def clean(text):
        text = text.lower()
        text = re.sub(nz.HTML_TAG_RE.pattern, " ", text)
        text = re.sub(nz.HTML_ENTITY_RE.pattern, lambda m: html.unescape(m.group(0)), text, flags=re.I)
        text = re.sub(nz.URL_RE.pattern, " ", text, flags=re.I)
        text = re.sub(nz.MENTION_RE.pattern, " ", text)
        text = re.sub(nz.HASHTAG_RE.pattern, " ", text)
        text = re.sub(nz.EMOJI_RE.pattern, " ", text)
        text = re.sub(nz.DIGITS_KEEP_REDUP_RE.pattern, " ", text)
        text = re.sub(nz.PUNCT_RE.pattern, " ", text)
        return re.sub(nz.LOOSE_HYPHEN_RE.pattern, " ", text)

    def squash(token):
        if not re.search(nz.REPEAT_RE.pattern, token):
            return token
        single = re.sub(nz.REPEAT_RE.pattern, r"\1", token)
        if single in vocabulary:
            return single
        double = re.sub(nz.REPEAT_RE.pattern, r"\1\1", token)
        return double if double in vocabulary else single

    def redup(token):
        match = re.match(nz.REDUP_RE.pattern, token)
        if match:
            return f"{match.group(1)}-{match.group(1)}"
        return token.replace("2", "")

    def normalize(text):
        tokens = clean(text.replace("\n", " ")).split()
        tokens = [squash(t) for t in tokens]
        tokens = [t for t in (redup(t) for t in tokens) if t]
        tokens = [w for t in tokens for w in slang.get(t, t).split()]
        tokens = [t for t in tokens if t not in stopwords]
        return stemmer.stem(" ".join(tokens)) if stem else " ".join(tokens)

    return normalize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="warm passes to time")
    parser.add_argument("--sample", type=int, default=1000,
                        help="texts per corpus (the naive cold pass stems at about 10 words/s, so all 17k take hours)")
    args = parser.parse_args()
    corpora = {
        "PRDECT-ID": load_prdect_id()["text"].astype(str).tolist()[:args.sample],
        "SmSA": load_indonlu_smsa()["text"].astype(str).tolist()[:args.sample],
    }
    texts_all = [t for texts in corpora.values() for t in texts]
    rows, payload = [], {"corpora": {k: len(v) for k, v in corpora.items()}, "runs": []}
    for config_name, params in (("full: clean, slang, stopwords, stemming", dict(remove_stopwords=True, stem=True)),
                                ("no stemming", dict(remove_stopwords=True, stem=False))):
        ours = TextNormalizer(**params).fit()
        stop = set(ours.stopwords_)
        naive = make_naive(ours.slang_, stop, ours.vocabulary_, stem=params["stem"])
        # Cold: the first pass over the corpus, every stem computed once by Sastrawi in both.
        t0 = time.perf_counter(); naive_out = [naive(t) for t in texts_all]; naive_cold = time.perf_counter() - t0
        t0 = time.perf_counter(); ours_out = ours.transform(texts_all); ours_cold = time.perf_counter() - t0
        mismatches = sum(a != b for a, b in zip(naive_out, ours_out))
        naive_warm = min(_timed(lambda: [naive(t) for t in texts_all]) for _ in range(args.repeat))
        ours_warm = min(_timed(lambda: ours.transform(texts_all)) for _ in range(args.repeat))
        n = len(texts_all)
        run = {"config": config_name, "texts": n, "mismatches": mismatches,
               "naive_cold_s": naive_cold, "ours_cold_s": ours_cold, "naive_warm_s": naive_warm, "ours_warm_s": ours_warm,
               "naive_warm_texts_per_s": n / naive_warm, "ours_warm_texts_per_s": n / ours_warm,
               "speedup_warm": naive_warm / ours_warm, "speedup_cold": naive_cold / ours_cold}
        payload["runs"].append(run)
        rows.append(f"| {config_name} | {n:,} | {mismatches} | {n / naive_cold:,.0f} | {n / ours_cold:,.0f} | "
                    f"**{naive_cold / ours_cold:.1f}×** | {n / naive_warm:,.0f} | {n / ours_warm:,.0f} | "
                    f"**{naive_warm / ours_warm:.1f}×** |")
    markdown = "\n".join([
        "## Text normalization throughput (`benchmarks/text_normalize.py`)",
        "",
        f"The first {len(corpora['PRDECT-ID']):,} PRDECT-ID and {len(corpora['SmSA']):,} SmSA texts, one core, "
        "both pipelines timed side by side in one run. *Naive*: the same steps applied text by text with "
        "Sastrawi's factory stemmer (it caches stems per word itself). *Cold*: the first pass, every distinct "
        "word stemmed once in both: what a new corpus costs. *Warm*: best of repeated passes over the same "
        "texts. Target: ≥ 10× with identical output: met by far on a new corpus, where Sastrawi's list-scanning "
        "dictionary dominates; not met on texts already seen (warm), where both pipelines only look words up.",
        "",
        "| configuration | texts | outputs that differ | naive cold texts/s | niaga cold texts/s | cold speed-up | "
        "naive warm texts/s | niaga warm texts/s | warm speed-up |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ])
    save("text_normalize", payload, markdown)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
