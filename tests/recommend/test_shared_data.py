"""A few checks on the shared data (skipped when it is absent): the counts its READMEs publish."""

import numpy as np
import pandas as pd
import pytest

from niaga.recommend.cooccurrence import CooccurrenceRecommender
from niaga.recommend.data import read_interactions


def _path(shared_data, *parts):
    path = shared_data.joinpath("commerce", *parts)
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


def test_beauty_counts_match_the_readme(shared_data):
    data = read_interactions(_path(shared_data, "amazon_s3rec", "Beauty.txt"))
    assert (len(data.histories), data.n_items, len(data.histories.items)) == (22_363, 12_101, 198_502)
    assert data.catalogue.attributes.shape == (12_101, 637)


def test_groceries_top_rule_matches_the_published_one(shared_data):
    data = read_interactions(_path(shared_data, "groceries", "groceries.csv"))
    assert len(data.histories) == 9_835 and data.n_items == 169
    model = CooccurrenceRecommender(measure="lift", neighbours=200).fit(data)
    rules = model.rules(min_support=0.006, min_confidence=0.25)
    ids = data.catalogue.ids
    top = rules.iloc[0]
    # Lantz, Machine Learning with R, ch. 8 (arules): {herbs} -> {root vegetables}, support 0.0070,
    # confidence 0.431, lift 3.96
    assert (ids[int(top.antecedent)], ids[int(top.consequent)]) == ("herbs", "root vegetables")
    assert round(top.support, 4) == 0.0070 and round(top.confidence, 3) == 0.431 and round(top.lift, 2) == 3.96


def test_online_retail_ii_column_names_read_the_same(shared_data, tmp_path):
    raw = pd.read_parquet(_path(shared_data, "online_retail", "online_retail.parquet")).head(20_000)
    raw.to_parquet(tmp_path / "one.parquet")
    raw.rename(columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}).to_parquet(
        tmp_path / "two.parquet")
    one, two = read_interactions(tmp_path / "one.parquet"), read_interactions(tmp_path / "two.parquet")
    assert one.format == two.format == "invoices" and one.excluded == two.excluded
    assert np.array_equal(one.histories.items, two.histories.items)
    assert one.catalogue.ids.tolist() == two.catalogue.ids.tolist()
