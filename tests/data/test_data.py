import pandas as pd
import pytest

from niaga.config import DATA_ENV, data_dir
from niaga.data.io import read_table, require_columns
from niaga.data import text as text_data
from niaga.errors import DataError


def test_data_dir_follows_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert data_dir() == tmp_path.resolve()
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "nope"))
    assert data_dir() is None
    with pytest.raises(DataError, match="is not a directory"):
        data_dir(required=True)


def test_read_table_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="missing.csv: file not found"):
        read_table(tmp_path / "missing.csv")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(DataError, match="bad.parquet: cannot be read"):
        read_table(bad)
    with pytest.raises(DataError, match=r"x.csv: missing column\(s\) 'review'; columns present: a, b"):
        require_columns(pd.DataFrame(columns=["a", "b"]), ["review"], "x.csv")


def test_loader_names_file_and_missing_column(tmp_path, monkeypatch):
    folder = tmp_path / "text" / "indonlu_emot"
    folder.mkdir(parents=True)
    for split in ("train", "valid", "test"):
        (folder / f"{split}_preprocess.csv").write_text("label,text\nhappy,senang sekali\n")
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    with pytest.raises(DataError, match=r"train_preprocess.csv: missing column\(s\) 'tweet'"):
        text_data.load_indonlu_emot()


def test_loader_rejects_malformed_label(tmp_path, monkeypatch):
    folder = tmp_path / "text" / "indonlu_smsa"
    folder.mkdir(parents=True)
    for split in ("train", "valid", "test"):
        (folder / f"{split}_preprocess.tsv").write_text("bagus sekali\tpositive\njelek\tawful\n")
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    with pytest.raises(DataError, match="line 2: label 'awful'"):
        text_data.load_indonlu_smsa()


def test_shared_text_loaders_return_tidy_frames(shared_data):
    emot = text_data.load_indonlu_emot()
    assert list(emot.columns[:3]) == ["text", "label", "split"]
    assert emot.groupby("split").size().to_dict() == {"test": 440, "train": 3521, "valid": 440}
    smsa = text_data.load_indonlu_smsa()
    assert len(smsa) == 12760 and set(smsa["label"]) == {"positive", "negative", "neutral"}
    prdect = text_data.load_prdect_id("sentiment")
    assert len(prdect) == 4322 and set(prdect["label"]) == {"Positive", "Negative"}
    assert set(text_data.load_prdect_id("emotion")["label"]) == {"Happy", "Sadness", "Fear", "Love", "Anger"}


def test_dataset_listing_counts_rows(shared_data):
    from niaga.data.registry import dataset_status

    rows = {r["dataset"]: r for r in dataset_status(shared_data)}
    assert rows["prdect_id"]["present"] and rows["prdect_id"]["rows"] == 4322
    assert rows["indonlu_smsa"]["rows"] == 12760
    assert rows["stopwords_id"]["rows"] == 758
    assert all(r["error"] == "" for r in rows.values())


def test_data_list_cli_shows_present_datasets(shared_data, capsys):
    from niaga.cli import main

    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "prdect_id" in out and "4,322" in out and "12,760" in out


def test_data_list_reports_a_dataset_that_cannot_be_read(tmp_path, monkeypatch, capsys):
    from niaga.cli import main

    folder = tmp_path / "text" / "prdect_id"
    folder.mkdir(parents=True)
    (folder / "prdect_id_train.csv").write_bytes(b"\x00\x01 not a table")
    monkeypatch.setenv("NIAGA_DATA", str(tmp_path))
    assert main(["data", "list"]) == 1
    out = capsys.readouterr().out
    assert "prdect_id: cannot be read:" in out and "Traceback" not in out
    assert all(len(line) <= 80 for line in out.splitlines())
