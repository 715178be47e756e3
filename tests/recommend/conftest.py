"""Small synthetic data in the three input formats, made here (never read from the shared data)."""

import numpy as np
import pandas as pd
import pytest


def sequences_text(n_users=80, n_items=30, seed=0):
    """S3-Rec layout: "user item item ...". Each user walks forward through a cycle of items (i -> i+1),
    so the next item is predictable from the last one; 10 % of steps jump to a random item."""
    rng = np.random.default_rng(seed)
    lines = []
    for u in range(1, n_users + 1):
        length = int(rng.integers(5, 12))
        item = int(rng.integers(1, n_items + 1))
        seq = []
        for _ in range(length):
            seq.append(item)
            item = item % n_items + 1 if rng.random() > 0.1 else int(rng.integers(1, n_items + 1))
        # no repeats within a user, as in the Amazon files
        seen, unique = set(), []
        for i in seq:
            if i not in seen:
                seen.add(i)
                unique.append(i)
        lines.append(" ".join(map(str, [u, *unique])))
    return "\n".join(lines) + "\n"


def invoice_lines(seed=0):
    """Online Retail layout: 30 customers over 2011 restocking their own 'usual' items, plus noise lines
    (a cancellation, a return, postage, a line without customer) that the reader must leave out."""
    rng = np.random.default_rng(seed)
    rows, invoice = [], 536000
    products = [f"2{n:04d}" for n in range(40)]
    names = {p: f"PRODUCT {p} {'MUG' if int(p) % 2 else 'CANDLE'}" for p in products}
    for c in range(30):
        usual = rng.choice(products, size=6, replace=False)
        for k in range(int(rng.integers(2, 6))):
            invoice += 1
            day = pd.Timestamp("2011-01-03") + pd.Timedelta(days=int(30 * k + rng.integers(0, 20)))
            basket = list(rng.choice(usual, size=3, replace=False)) + list(rng.choice(products, size=1))
            for p in dict.fromkeys(basket):
                rows.append({"InvoiceNo": str(invoice), "StockCode": p, "Description": names[p], "Quantity": 2,
                             "InvoiceDate": day, "UnitPrice": 1.5, "CustomerID": 12000 + c, "Country": "United Kingdom"})
    noise = [
        {"InvoiceNo": "C999001", "StockCode": products[0], "Description": names[products[0]], "Quantity": -2,
         "InvoiceDate": pd.Timestamp("2011-06-01"), "UnitPrice": 1.5, "CustomerID": 12000, "Country": "UK"},
        {"InvoiceNo": "999002", "StockCode": products[1], "Description": names[products[1]], "Quantity": -1,
         "InvoiceDate": pd.Timestamp("2011-06-02"), "UnitPrice": 1.5, "CustomerID": 12001, "Country": "UK"},
        {"InvoiceNo": "999003", "StockCode": "POST", "Description": "POSTAGE", "Quantity": 1,
         "InvoiceDate": pd.Timestamp("2011-06-03"), "UnitPrice": 18.0, "CustomerID": 12002, "Country": "UK"},
        {"InvoiceNo": "999004", "StockCode": products[2], "Description": names[products[2]], "Quantity": 1,
         "InvoiceDate": pd.Timestamp("2011-06-04"), "UnitPrice": 1.5, "CustomerID": None, "Country": "UK"},
    ]
    return pd.DataFrame(rows + noise)


BASKETS = [
    "whole milk,yogurt,rolls/buns",
    "whole milk,yogurt",
    "herbs,root vegetables,whole milk",
    "herbs,root vegetables",
    "soda,rolls/buns",
    "whole milk,yogurt,soda",
    "root vegetables,other vegetables",
    "herbs,root vegetables,other vegetables",
]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("recdata")
    (root / "Tiny.txt").write_text(sequences_text(), encoding="utf-8")
    attributes = {str(i): [1 + (i - 1) // 10, 100 + i % 3] for i in range(1, 31)}
    attributes["31"] = [1, 101]  # a cold item: attributes, no interactions
    import json

    (root / "Tiny_item2attributes.json").write_text(json.dumps(attributes), encoding="utf-8")
    lines = invoice_lines()
    lines.to_csv(root / "retail.csv", index=False)
    lines.rename(columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}).to_parquet(
        root / "retail_ii.parquet", index=False)
    (root / "groceries.csv").write_text("\n".join(BASKETS) + "\n", encoding="utf-8")
    members = pd.DataFrame({"Member_number": [1, 1, 1, 2, 2, 3, 3, 3, 3],
                            "Date": ["21-07-2015", "21-07-2015", "05-01-2015", "13-02-2015", "13-02-2015",
                                     "01-03-2015", "01-03-2015", "02-03-2015", "02-03-2015"],
                            "itemDescription": ["whole milk", "yogurt", "soda", "herbs", "root vegetables",
                                                "whole milk", "rolls/buns", "yogurt", "whole milk"]})
    members.to_csv(root / "members.csv", index=False, encoding="utf-8-sig")
    return root


def build_interactions(item_lists, n_items=None, baskets=None, times=None, segments=None, fmt="baskets", names=None,
                       attributes=None):
    """Interactions made in memory: users u0.., items i0.. (catalogue rows = the numbers given)."""
    from niaga.recommend.data import Catalogue, Histories, Interactions

    users = [f"u{i}" for i in range(len(item_lists))]
    h = Histories.from_lists(users, item_lists, times, segments)
    if baskets is not None:
        # basket numbers are unique across users: user u's basket b becomes u * 1000 + b
        h.baskets = np.concatenate([u * 1000 + np.asarray(b, dtype=np.int64) for u, b in enumerate(baskets)])
    n = n_items or int(h.items.max()) + 1
    catalogue = Catalogue(np.array([f"i{j}" for j in range(n)]),
                          None if names is None else np.asarray(names, dtype=object), attributes)
    return Interactions(catalogue, h, fmt)


@pytest.fixture(scope="session")
def make_interactions():
    return build_interactions
