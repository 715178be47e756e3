"""RFM from a transaction log: cleaning counts, exact R/F/M, cut-offs, segments, clusters and movement."""

import pandas as pd
import pytest

from niaga.customers import rfm
from niaga.errors import DataError


@pytest.fixture()
def small_log(log_line):
    line = log_line
    return pd.DataFrame([
        line("1", "2011-01-10 09:00", 1001, 2, 5.0), line("1", "2011-01-10 09:00", 1001, 1, 10.0, code="B2"),
        line("2", "2011-03-01 10:00", 1001, 3, 2.0),
        line("3", "2011-02-15 11:00", 1002, 10, 1.5, country="France"),
        line("C4", "2011-02-20 12:00", 1002, -2, 1.5, country="France"),
        line("5", "2011-03-05 08:00", 1003, 1, 100.0), line("5", "2011-03-05 08:00", 1003, 1, 100.0),  # duplicate
        line("6", "2011-03-02 08:00", None, 5, 1.0),
        line("7", "2011-02-01 08:00", 1001, 4, 0.0),
        line("8", "2011-03-03 08:00", 1003, -1, 100.0),
        line("9", "not a date", 1002, 1, 1.0),
    ])


def test_cleaning_counts_every_excluded_line(small_log):
    clean = rfm.clean_log(small_log)
    assert clean.counts == {rfm.UNREADABLE: 1, rfm.NO_CUSTOMER: 1, rfm.CANCELLATION: 1, rfm.RETURN: 1,
                            rfm.BAD_PRICE: 1, rfm.DUPLICATE: 1}
    assert len(clean.lines) + sum(clean.counts.values()) == len(small_log)
    assert sorted(clean.excluded["row"]) == [6, 8, 9, 10, 11, 12]  # file lines, header = 1
    returns = clean.returns.set_index("customer_id")["returns_value"].to_dict()
    assert returns == {"1002": 3.0, "1003": 100.0}


def test_recency_frequency_monetary_by_hand(small_log):
    result = rfm.segment_customers(small_log, k_range=range(2, 3))
    table = result.table.set_index("customer_id")
    assert result.as_of == pd.Timestamp("2011-03-05")
    assert table.loc["1001", ["recency", "frequency", "monetary"]].tolist() == [4, 2, 26.0]
    assert table.loc["1002", ["recency", "frequency", "monetary"]].tolist() == [18, 1, 15.0]
    assert table.loc["1003", ["recency", "frequency", "monetary"]].tolist() == [0, 1, 100.0]
    assert table.loc["1002", "country"] == "France" and table.loc["1002", "returns_value"] == 3.0


def test_as_of_drops_later_lines_and_counts_them(small_log):
    result = rfm.segment_customers(small_log, as_of="2011-02-16", k_range=range(2, 3))
    table = result.table.set_index("customer_id")
    assert sorted(table.index) == ["1001", "1002"]
    assert table.loc["1001", ["recency", "frequency", "monetary"]].tolist() == [37, 1, 20.0]
    assert result.clean.counts[rfm.AFTER_CUTOFF] == 2  # invoices 2 and 5 (6 has no customer, 5's copy is a duplicate)
    assert "1002" not in set(result.clean.returns["customer_id"])  # its cancellation came after the cut-off


def test_online_retail_ii_column_names_and_float_ids(small_log):
    renamed = small_log.rename(columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"})
    renamed["Customer ID"] = renamed["Customer ID"].astype(float)
    table = rfm.segment_customers(renamed, k_range=range(2, 3)).table
    assert sorted(table["customer_id"]) == ["1001", "1002", "1003"]


def test_a_table_that_is_not_a_log_is_refused():
    with pytest.raises(DataError, match=r"missing .*customer_id"):
        not_a_log = pd.DataFrame({"InvoiceNo": [1], "InvoiceDate": ["2011-01-01"], "Quantity": [1], "Price": [1.0]})
        rfm.clean_log(not_a_log, "x.csv")


def test_segments_rules_and_movement_of_lapsed_frequent_buyers(population_log):
    clean = rfm.clean_log(population_log)
    early = rfm.rfm_table(clean.lines, pd.Timestamp("2011-03-31")).set_index("customer_id")
    assert set(early.loc[[str(2000 + c) for c in range(10)], "segment"]) <= {"champions", "loyal"}
    moved = (rfm.segment_movement(clean.lines, pd.Timestamp("2011-03-31"), pd.Timestamp("2011-12-31"))
             .set_index("customer_id"))
    lapsed = moved.loc[[str(2000 + c) for c in range(10)]]
    assert set(lapsed["segment_after"]) <= {"at risk", "cannot lose"} and lapsed["moved"].all()
    newcomers = moved[moved["segment_before"] == "not a customer yet"]
    assert len(newcomers) and set(newcomers.index) <= {str(4000 + c) for c in range(10)}


def test_quantile_scores_share_ties_and_clusters_are_ordered_by_value(population_log):
    scores = rfm.quantile_score(pd.Series([1, 1, 1, 1, 2, 3, 5, 8, 13, 21]))
    assert scores[:4].nunique() == 1 and scores.iloc[-1] == 5
    table = rfm.rfm_table(rfm.clean_log(population_log).lines, pd.Timestamp("2011-12-31"))
    labels, silhouette = rfm.choose_clusters(table, range(2, 5))
    assert set(silhouette) == {2, 3, 4} and labels.max() + 1 == max(silhouette, key=silhouette.get)
    value = (table["r_score"] + table["f_score"] + table["m_score"]).groupby(labels).mean()
    assert value.is_monotonic_decreasing
