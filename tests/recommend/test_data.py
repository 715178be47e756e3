"""Reading the three formats into one shape: what is kept, what is left out and counted, what fails cleanly."""

import numpy as np
import pandas as pd
import pytest

from niaga.errors import DataError
from niaga.recommend.data import (CANCELLATION, NO_USER, NON_PRODUCT, RETURN, Histories, detect_format,
                                  read_interactions, read_segments)


def test_formats_are_detected(data_dir):
    assert detect_format(data_dir / "Tiny.txt") == "sequences"
    assert detect_format(data_dir / "retail.csv") == "invoices"
    assert detect_format(data_dir / "retail_ii.parquet") == "invoices"
    assert detect_format(data_dir / "groceries.csv") == "baskets"
    assert detect_format(data_dir / "members.csv") == "baskets"


def test_sequences_keep_order_and_attach_attributes_with_the_cold_item(data_dir):
    data = read_interactions(data_dir / "Tiny.txt")
    first_line = (data_dir / "Tiny.txt").read_text().splitlines()[0].split()
    h = data.histories
    row = h.users.tolist().index(first_line[0])
    assert data.catalogue.ids[h.items_of(row)].tolist() == first_line[1:]
    assert data.catalogue.attributes is not None and data.catalogue.attributes.shape[0] == data.n_items
    cold = data.catalogue.ids.tolist().index("31")
    assert cold not in set(h.items.tolist())  # in the catalogue through its attributes only
    assert data.catalogue.attributes[cold].nnz == 2


def test_invoices_leave_out_noise_and_count_it(data_dir):
    data = read_interactions(data_dir / "retail.csv")
    assert data.format == "invoices"
    assert data.excluded == {CANCELLATION: 1, RETURN: 1, NON_PRODUCT: 1, NO_USER: 1}
    assert "POST" not in data.catalogue.ids.tolist()
    assert data.catalogue.names[0].startswith("PRODUCT ")
    h = data.histories
    assert h.baskets is not None and h.times is not None
    for u in range(len(h)):  # baskets numbered in time order within each user
        span = slice(h.indptr[u], h.indptr[u + 1])
        assert np.all(np.diff(h.baskets[span]) >= 0) and np.all(np.diff(h.times[span]) >= 0)


def test_online_retail_ii_naming_reads_the_same(data_dir):
    one = read_interactions(data_dir / "retail.csv").histories
    two = read_interactions(data_dir / "retail_ii.parquet").histories
    assert one.users.tolist() == two.users.tolist()
    assert one.items.tolist() == two.items.tolist()
    assert np.allclose(one.times, two.times)


def test_baskets_one_per_line_and_member_days(data_dir):
    lines = read_interactions(data_dir / "groceries.csv")
    assert len(lines.histories) == 8 and lines.n_items == 7
    members = read_interactions(data_dir / "members.csv")
    h = members.histories
    member1 = h.users.tolist().index("1")
    # 21-07-2015 is read day first; member 1 has two shopping days, the January one first
    assert len(set(h.baskets[h.indptr[member1]:h.indptr[member1 + 1]].tolist())) == 2
    assert members.catalogue.ids[h.items_of(member1)][0] == "soda"


def test_bad_inputs_fail_with_one_clear_line(data_dir, tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_interactions(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"InvoiceNo": ["1"], "Quantity": [1]}).to_csv(bad, index=False)
    with pytest.raises(DataError, match="missing .*item"):
        read_interactions(bad, "invoices")
    with pytest.raises(DataError, match="unknown; valid"):
        read_interactions(data_dir / "retail.csv", "parquet")


def test_segments_are_read_from_the_customers_output(tmp_path):
    path = tmp_path / "segments.csv"
    pd.DataFrame({"customer_id": [12000, 12001], "recency": [3, 40], "frequency": [5, 1], "monetary": [1.0, 2.0],
                  "segment": ["loyal", "lost"], "cluster": [0, 1]}).to_csv(path, index=False)
    assert read_segments(tmp_path) == {"12000": "loyal", "12001": "lost"}


def test_histories_keep_and_take():
    h = Histories.from_lists(["a", "b", "c"], [[1, 2, 3], [], [4, 5]])
    kept = h.keep(np.array([True, False, True, False, True]))
    assert kept.lengths.tolist() == [2, 0, 1] and kept.items.tolist() == [1, 3, 5]
    taken = h.take([2, 0])
    assert taken.users.tolist() == ["c", "a"] and taken.items.tolist() == [4, 5, 1, 2, 3]
