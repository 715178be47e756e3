"""Masking policies, pseudonyms, and tables: every row and column kept, nothing raw left."""

import pandas as pd
import pytest

from niaga.privacy import PrivacyError, find_in_frame, mask_frame, mask_text, pseudonym, scan_frame
from niaga.privacy.mask import canonical, load_secret

from .conftest import RAW, SECRET, assert_no_raw

TEXT = f"wa {RAW['phone']}, NIK {RAW['nik']}, email {RAW['email']}, {RAW['street']}, kartu {RAW['card']}"


def test_mask_partial_and_drop():
    assert mask_text(TEXT) == "wa [PHONE], NIK [NIK], email [EMAIL], [ADDRESS], kartu [CARD]"
    assert mask_text(TEXT, "partial") == ("wa 0812-****-*890, NIK 3273************, email b***@gmail.com, Jl. ***, "
                                          "kartu **** **** **** 1111")
    assert mask_text("hp 081234567890 ya", "drop") == "hp ya"
    assert mask_text("harga Rp 150.000, resi JP1234567890") == "harga Rp 150.000, resi JP1234567890"
    assert mask_text(TEXT, kinds=["email"]).count("[") == 1
    with pytest.raises(PrivacyError, match="unknown privacy policy"):
        mask_text(TEXT, "hide")


def test_pseudonyms_are_stable_keyed_and_refused_without_a_secret(monkeypatch, tmp_path):
    with pytest.raises(PrivacyError, match="NIAGA_PRIVACY_SECRET"):
        mask_text(TEXT, "pseudonymize")
    with pytest.raises(PrivacyError, match="too short"):
        load_secret("short")
    one = mask_text("wa 0812-3456-7890", "pseudonymize", secret=SECRET)
    assert one.startswith("wa [PHONE:") and len(one) == len("wa [PHONE:]") + 16
    # the same number however typed, the same pseudonym on every call: tables still join
    for spelling in ("081234567890", "+62 812 3456 7890", "6281234567890", "(+62) 812-3456-7890"):
        assert mask_text(f"wa {spelling}", "pseudonymize", secret=SECRET) == one
    assert mask_text("wa 0812-3456-7891", "pseudonymize", secret=SECRET) != one
    assert mask_text("wa 0812-3456-7890", "pseudonymize", secret=SECRET + "x") != one  # another key, another name
    assert pseudonym("email", "Budi@Gmail.com", SECRET.encode()) == pseudonym("email", "budi@gmail.com", SECRET.encode())
    assert canonical("phone", "+62 (0)812-3456-7890") == "6281234567890"
    monkeypatch.setenv("NIAGA_PRIVACY_SECRET", SECRET)
    assert mask_text("wa 081234567890", "pseudonymize") == one
    monkeypatch.delenv("NIAGA_PRIVACY_SECRET")
    (tmp_path / "key").write_text(SECRET + "\n")
    monkeypatch.setenv("NIAGA_PRIVACY_SECRET_FILE", str(tmp_path / "key"))
    assert mask_text("wa 081234567890", "pseudonymize") == one


def test_mask_frame_keeps_every_row_and_column(customers):
    masked = mask_frame(customers, ["review", "phone", "nik", "note"])
    assert list(masked.columns) == list(customers.columns) and list(masked.index) == list(customers.index)
    assert masked["id"].tolist() == customers["id"].tolist()
    assert masked["review"].tolist()[1] == "barang bagus, harga Rp 150.000" and masked["review"].isna().tolist()[3]
    assert masked["phone"].tolist() == ["[PHONE]", "[PHONE]", "", "[PHONE]"]
    assert masked["nik"].tolist() == ["[NIK]"] * 4  # integers are read through their digits
    assert masked["note"].tolist() == ["kartu [CARD]", "rek BCA [BANK_ACCOUNT]", "INV/20240101/MPL/123456", "size 42"]
    assert masked.attrs["pii_replaced"]["review"] == {"phone": 1, "email": 1, "address": 1}
    assert_no_raw(masked.to_csv())
    pd.testing.assert_frame_equal(customers, customers.copy())  # the input is not changed


def test_mask_frame_per_column_policies(customers):
    masked = mask_frame(customers, {"phone": "pseudonymize", "review": "drop", "note": "partial"}, secret=SECRET)
    assert masked["phone"][10].startswith("[PHONE:") and masked["phone"][10] != masked["phone"][11]
    assert masked["review"][10] == "wa ya kak, email"
    assert masked["note"][10] == "kartu **** **** **** 1111"
    assert masked["nik"].tolist() == customers["nik"].tolist()  # not named: untouched
    again = mask_frame(customers, {"phone": "pseudonymize"}, secret=SECRET)
    assert again["phone"].tolist() == masked["phone"].tolist()
    with pytest.raises(PrivacyError):
        mask_frame(customers, {"phone": "pseudonymize"})
    with pytest.raises(Exception, match="missing column"):
        mask_frame(customers, ["nope"])


def test_scan_frame_counts_per_column_without_raw_values(customers):
    summary = scan_frame(customers)
    by = {(r.column, r.kind): r for r in summary.itertuples()}
    assert by[("phone", "phone")].found == 3 and by[("phone", "phone")].rows == 3
    assert by[("nik", "nik")].found == 4 and by[("review", "address")].found == 1
    assert by[("id", "")].found == 0
    assert by[("note", "bank_account")].examples == "*******876"
    assert_no_raw(summary.to_csv())
    findings = find_in_frame(customers)
    assert list(findings.columns) == ["row", "column", "kind", "start", "end", "masked"]
    assert_no_raw(findings.to_csv())
