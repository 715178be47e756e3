"""The online state drops what no feature reads without changing a value, survives a round trip through its
file bit for bit, and scores an out-of-order transaction from the history up to its time."""

import json

import numpy as np
import pytest

from niaga.errors import DataError
from niaga.fraud.features import FeatureConfig, IpCountries, OnlineFeatureState, batch_features, online_features, \
    stream_columns
from niaga.fraud.schema import normalize, sort_stream
from niaga.fraud.state import read_meta, read_state, write_state

from .conftest import ecommerce_like, simulate
from .test_features import assert_same

DAY = 86400.0
#: short windows, so that a 40-day stream crosses every horizon many times
SHORT = FeatureConfig(customer_windows=(("1h", 3600.0), ("1d", DAY)), terminal_windows=(("1d", DAY), ("2d", 2 * DAY)),
                      device_windows=(("1h", 3600.0), ("1d", DAY)), label_delay_days=1.0, account_days=3.0)
TABLE = IpCountries([1e8, 2e9], [1.5e9, 4e9], ["Indonesia", "Japan"])


def sparse_cards():
    """Cards and terminals that go quiet for days, so the state drops them and meets them again."""
    frame = simulate(n_customers=40, n_terminals=20, days=40, seed=11)
    day = (frame["TX_DATETIME"] - frame["TX_DATETIME"].min()).dt.days
    quiet = (frame["CUSTOMER_ID"] % 3 == 0) & (day % 9 < 5) | (frame["TERMINAL_ID"] % 4 == 0) & (day % 11 < 6)
    return frame[~quiet].reset_index(drop=True)


def same(a: list, b: list) -> bool:
    """Rows equal value for value, exactly (NaN equal to NaN)."""
    return len(a) == len(b) and all(x == y or (x != x and y != y) for x, y in zip(a, b))


@pytest.mark.parametrize("kind", ["cards", "shop"])
def test_dropping_what_no_window_reaches_changes_no_feature(kind):
    canonical = normalize(sparse_cards() if kind == "cards" else ecommerce_like(700, seed=4))
    table = TABLE if kind == "shop" else None
    state = OnlineFeatureState(SHORT, table)
    online = online_features(canonical, SHORT, table, state=state)
    assert_same(batch_features(canonical, SHORT, table), online)  # the batch side never forgets anything
    size = state.size()
    if kind == "cards":
        assert size["customers"] < canonical["customer_id"].nunique()
        assert size["terminals"] < canonical["terminal_id"].nunique()
        assert online["customer_seconds_since_last_tx"].isna().sum() > canonical["customer_id"].nunique()
    else:
        assert size["devices"] < canonical["device_id"].nunique() and size["sources"] <= 3
        assert online["device_signup_span_days"].notna().any() and online["ip_unmapped"].isin([0.0, 1.0]).all()


@pytest.mark.parametrize("kind", ["cards", "shop"])
def test_a_restored_state_continues_bit_for_bit(kind, tmp_path):
    canonical = normalize(simulate(seed=2) if kind == "cards" else ecommerce_like(800, seed=5))
    table = TABLE if kind == "shop" else None
    config = FeatureConfig() if kind == "cards" else SHORT
    order = sort_stream(canonical)
    args = list(zip(*stream_columns(canonical, order)))
    half = len(args) // 2
    live = OnlineFeatureState(config, table)
    for a in args[:half]:
        live.update(*a)
    live.add_label(args[half - 1][0], 1.0)  # feedback waiting for its delay travels too
    write_state(tmp_path / "s.npz", live, extra={"note": "test"})
    restored, meta, _ = read_state(tmp_path / "s.npz", config, table)
    assert meta["note"] == "test" and meta["size"]["customers"] == live.size()["customers"]
    for a in args[half:]:
        assert same(restored.update(*a), live.update(*a)), f"rows differ at {a[0]}"
    assert restored.size() == live.size()


def test_the_state_file_is_versioned_data(tmp_path):
    state = OnlineFeatureState()
    state.update("t1", 0.0, 5.0, "c", "T")
    path = write_state(tmp_path / "s.npz", state)
    np.load(path, allow_pickle=False)["customer_times"]  # no object arrays anywhere
    meta = read_meta(path)
    assert meta["format"] == "niaga-fraud-state" and meta["version"] == 1 and meta["clock"] == 0.0
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["meta"] = np.frombuffer(json.dumps({**meta, "version": 99}).encode(), dtype=np.uint8)
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(DataError, match="feature state format 99"):
        read_meta(tmp_path / "future.npz")
    with pytest.raises(DataError, match="uses a 3-day delay: start with --fresh"):
        read_state(path, FeatureConfig(label_delay_days=3), None)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a niaga feature state"):
        read_meta(tmp_path / "junk.npz")


def test_an_out_of_order_transaction_sees_the_history_up_to_its_time():
    canonical = normalize(simulate(n_customers=30, n_terminals=15, days=25, seed=8))
    order = sort_stream(canonical)
    args = list(zip(*stream_columns(canonical, order)))
    late = len(args) * 2 // 3  # arrives after everything else
    ts = args[late][1]
    if any(a[1] == ts for i, a in enumerate(args) if i != late):
        pytest.skip("a tie at the late transaction's time")
    in_order = OnlineFeatureState()
    for a in args[:late]:
        in_order.update(*a)
    expected = in_order.update(*args[late])
    state = OnlineFeatureState()
    for a in args[:late] + args[late + 1:]:
        state.update(*a)
    size = state.size()
    peeked = state.peek(*args[late])
    np.testing.assert_allclose(np.array(peeked[:-4], dtype=float), np.array(expected[:-4], dtype=float), rtol=1e-12)
    assert state.size() == size  # not added
