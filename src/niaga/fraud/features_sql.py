"""The customer window features in SQL, for an engine that holds more data than one machine (Spark) or the
warehouse (DuckDB): ``customer_nb_tx_W``, ``customer_sum_amount_W``, ``customer_avg_amount_W`` for each
window of a ``FeatureConfig``, with the same meaning as ``batch_features``: the customer's transactions in
(t − W, t], the current one included, ties at one time counted in stream order (``seq``).

Written as a self-join on the customer within the longest window, which both engines distribute (an
equi-join on customer_id; each customer's rows meet on one worker). Run it with a ``niaga.store.sql`` engine
over a view made by ``stream_table``.
"""

from __future__ import annotations

import pandas as pd

from niaga.fraud.features import FeatureConfig
from niaga.fraud.schema import sort_stream

SQL_FEATURES = ("nb_tx", "sum_amount", "avg_amount")


def stream_table(canonical: pd.DataFrame) -> pd.DataFrame:
    """The valid rows of a canonical table (``schema.normalize``) as the SQL reads them: ``seq`` (stream
    order), ``customer_id``, ``ts`` (epoch seconds), ``amount``; indexed like ``canonical``."""
    order = sort_stream(canonical)
    rows = canonical.iloc[order]
    return pd.DataFrame({"seq": range(len(rows)), "customer_id": rows["customer_id"].astype(object).to_numpy(),
                         "ts": rows["ts"].to_numpy(dtype=float), "amount": rows["amount"].to_numpy(dtype=float)},
                        index=rows.index)


def customer_windows_sql(view: str, config: FeatureConfig = FeatureConfig()) -> str:
    """SELECT seq, customer_<feature>_<window>... FROM ``view`` (columns as ``stream_table``), one row per seq."""
    longest = max(seconds for _, seconds in config.customer_windows)
    columns = []
    for name, seconds in config.customer_windows:
        inside = f"b.ts > a.ts - {float(seconds)!r}"
        count = f"SUM(CASE WHEN {inside} THEN 1.0 ELSE 0.0 END)"
        total = f"SUM(CASE WHEN {inside} THEN b.amount ELSE 0.0 END)"
        columns += [f"{count} AS customer_nb_tx_{name}", f"{total} AS customer_sum_amount_{name}",
                    f"{total} / {count} AS customer_avg_amount_{name}"]
    select = ",\n       ".join(columns)
    return f"""SELECT a.seq,
       {select}
FROM {view} a JOIN {view} b
  ON a.customer_id = b.customer_id AND b.ts > a.ts - {float(longest)!r}
 AND (b.ts < a.ts OR (b.ts = a.ts AND b.seq <= a.seq))
GROUP BY a.seq
ORDER BY a.seq"""


def customer_window_names(config: FeatureConfig = FeatureConfig()) -> list[str]:
    return [f"customer_{feature}_{name}" for name, _ in config.customer_windows for feature in SQL_FEATURES]
