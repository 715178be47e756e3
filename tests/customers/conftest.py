"""Synthetic transaction logs in the Online Retail layout, shared by the RFM and CLI tests."""

import numpy as np
import pandas as pd
import pytest


def line(invoice, date, customer, quantity, price, code="A1", country="United Kingdom"):
    return {"InvoiceNo": invoice, "StockCode": code, "Description": "thing", "Quantity": quantity,
            "InvoiceDate": date, "UnitPrice": price, "CustomerID": customer, "Country": country}


def population(seed=0):
    """40 customers over 2011: 10 buy every week until March then stop, 20 buy monthly all year, 10 buy once."""
    rng = np.random.default_rng(seed)
    rows, invoice = [], 100
    weeks = pd.date_range("2011-01-03", "2011-03-28", freq="7D")
    months = pd.date_range("2011-01-15", "2011-12-15", freq="MS") + pd.Timedelta(days=14)
    for c in range(10):
        for day in weeks:
            invoice += 1
            rows.append(line(str(invoice), day, 2000 + c, 5, 3.0))
    for c in range(20):
        for day in months:
            invoice += 1
            rows.append(line(str(invoice), day, 3000 + c, 2, 2.0))
    for c in range(10):
        invoice += 1
        day = pd.Timestamp("2011-01-01") + pd.Timedelta(days=int(rng.integers(0, 330)))
        rows.append(line(str(invoice), day, 4000 + c, 1, 5.0))
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def log_line():
    return line


@pytest.fixture(scope="session")
def population_log():
    return population()  # shared: tests must not modify it
