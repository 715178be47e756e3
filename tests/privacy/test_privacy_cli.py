"""``niaga privacy scan / mask / text`` end to end, and one-line errors for bad input."""

import json

import pandas as pd
import pytest

from niaga.cli import main

from .conftest import RAW, SECRET, assert_no_raw


@pytest.fixture()
def table(tmp_path, customers):
    path = tmp_path / "customers.csv"
    customers.to_csv(path, index=False)
    return path


def test_scan_prints_a_table_per_column_and_writes_findings(table, tmp_path, capsys):
    assert main(["privacy", "scan", str(table), "--output", str(tmp_path / "f.json")]) == 0
    out, err = capsys.readouterr()
    assert_no_raw(out + err)
    assert "4 rows, 5 column(s) scanned, personal data in 4" in out
    assert "phone   phone" in out and "0812-****-*890" in out
    report = json.loads((tmp_path / "f.json").read_text())["files"][0]
    assert report["rows"] == 4 and {f["kind"] for f in report["findings"]} == {"phone", "email", "address", "nik", "card",
                                                                              "bank_account"}
    assert_no_raw(json.dumps(report))
    assert main(["privacy", "scan", str(table), "--columns", "note", "--kinds", "card", "--output",
                 str(tmp_path / "f.csv")]) == 0
    findings = pd.read_csv(tmp_path / "f.csv")
    assert findings[["file", "row", "column", "kind"]].values.tolist() == [[str(table), 1, "note", "card"]]


def test_mask_writes_every_row_and_leaves_other_columns_as_written(table, tmp_path, capsys):
    out = tmp_path / "masked.csv"
    assert main(["privacy", "mask", "--input", str(table), "--columns", "review", "phone", "nik", "note",
                 "--output", str(out)]) == 0
    assert "wrote 4 rows" in capsys.readouterr().out
    before = pd.read_csv(table, dtype=str, keep_default_na=False)
    after = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(after.columns) == list(before.columns) and len(after) == len(before)
    assert after["id"].tolist() == before["id"].tolist()
    assert after["phone"].tolist() == ["[PHONE]", "[PHONE]", "", "[PHONE]"]
    assert_no_raw(out.read_text())


def test_mask_stores_no_raw_pii_in_parquet_and_pseudonymizes_with_the_secret(table, tmp_path, capsys, monkeypatch):
    out = tmp_path / "masked.parquet"
    assert main(["privacy", "mask", "--input", str(table), "--columns", "review", "note=partial",
                 "phone=pseudonymize", "nik=drop", "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "NIAGA_PRIVACY_SECRET" in err and not out.exists()
    monkeypatch.setenv("NIAGA_PRIVACY_SECRET", SECRET)
    assert main(["privacy", "mask", "--input", str(table), "--columns", "review", "note=partial",
                 "phone=pseudonymize", "nik=drop", "--output", str(out)]) == 0
    stored = pd.read_parquet(out)
    assert len(stored) == 4 and stored["nik"].tolist() == ["", "", "", ""]
    # 0812-3456-7890 and 081234567890 are one number: one pseudonym, so the table still joins on it
    assert stored["phone"][0].startswith("[PHONE:") and stored["phone"][0] == stored["phone"][3] != stored["phone"][1]
    assert stored["note"][0] == "kartu **** **** **** 1111" and stored["review"][1] == "barang bagus, harga Rp 150.000"
    assert_no_raw(stored.to_csv())


def test_text_masks_lines_from_arguments_and_stdin(capsys, monkeypatch):
    assert main(["privacy", "text", f"wa {RAW['phone']} atau {RAW['email']}", "--show"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "wa [PHONE] atau [EMAIL]" and "phone" in out.splitlines()[1]
    assert_no_raw(out)
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"NIK {RAW['nik']}\nharga Rp 150.000\n".encode())))
    assert main(["privacy", "text", "--policy", "partial"]) == 0
    assert capsys.readouterr().out.splitlines() == ["NIK 3273************", "harga Rp 150.000"]


@pytest.mark.parametrize("args,message", [
    (["privacy", "scan", "missing.csv"], "missing.csv: file not found"),
    (["privacy", "scan", "{table}", "--columns", "nope"], "missing column(s) 'nope'"),
    (["privacy", "scan", "{table}", "--kinds", "passport"], "--kinds passport: unknown"),
    (["privacy", "scan", "{table}", "--output", "{tmp}/f.txt"], "unknown output format"),
    (["privacy", "mask", "--input", "{table}", "--columns", "nope", "--output", "{tmp}/o.csv"], "missing column(s) 'nope'"),
    (["privacy", "mask", "--input", "{table}", "--columns", "phone=hide", "--output", "{tmp}/o.csv"],
     "unknown privacy policy 'hide'"),
    (["privacy", "mask", "--input", "{table}", "--columns", "phone", "--output", "{table}"], "is the input file"),
    (["privacy", "mask", "--input", "{table}", "--columns", "phone", "--output", "{tmp}/no/o.csv"], "does not exist"),
])
def test_bad_input_gives_one_line(args, message, table, tmp_path, capsys):
    args = [a.format(table=table, tmp=tmp_path) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("niaga: error:") and message in err
