"""One reader for tables as people have them, one writer whose format follows the extension."""

import subprocess
import sys

import pandas as pd
import pytest

from niaga.cli import main
from niaga.data.io import read_options, read_table, with_outputs, write_table
from niaga.errors import DataError

ROWS = pd.DataFrame({"ulasan": ["café enak, mantap", "kurang; pengiriman lama"], "harga": [15000, 27500]})


def test_utf8_with_and_without_bom(tmp_path):
    for name, data in (("plain.csv", "ulasan,harga\ncafé enak,1\n".encode()),
                       ("bom.csv", "\ufeffulasan,harga\ncafé enak,1\n".encode())):
        (tmp_path / name).write_bytes(data)
        frame = read_table(tmp_path / name)
        assert list(frame.columns) == ["ulasan", "harga"] and frame["ulasan"][0] == "café enak"


def test_cp1252_and_latin1_fall_back_with_a_note_and_lose_no_character(tmp_path, capsys):
    (tmp_path / "win.csv").write_bytes("ulasan,harga\ncafé “enak”,1\n".encode("cp1252"))
    assert read_table(tmp_path / "win.csv")["ulasan"][0] == "café “enak”"
    assert "not UTF-8" in capsys.readouterr().err
    (tmp_path / "latin.csv").write_bytes(b"ulasan,harga\ncaf\xe9 \x81,1\n")  # 0x81: undefined in cp1252
    assert read_table(tmp_path / "latin.csv")["ulasan"][0] == "café \x81"
    assert "read as latin-1" in capsys.readouterr().err
    with read_options(encoding="cp1252"):
        assert read_table(tmp_path / "win.csv")["ulasan"][0] == "café “enak”"
    with read_options(encoding="ascii"), pytest.raises(DataError, match="cannot be read as ascii"):
        read_table(tmp_path / "win.csv")


@pytest.mark.parametrize("sep", [";", "\t", ",", "|"])
def test_delimiter_is_read_from_the_header(tmp_path, sep):
    path = tmp_path / "data.csv"
    ROWS.to_csv(path, sep=sep, index=False)
    assert read_table(path).equals(ROWS)


def test_given_delimiter_wins(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("a;b,c\n1;2,3\n", encoding="utf-8")
    assert list(read_table(path).columns) == ["a;b", "c"]
    with read_options(sep=";"):
        assert list(read_table(path).columns) == ["a", "b,c"]
    with read_options(sep="\\t"):  # typed on a command line as --sep '\t'
        assert list(read_table(path).columns) == ["a;b,c"]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".xlsx", ".jsonl", ".csv.gz", ".jsonl.gz"])
def test_every_format_round_trips_through_the_writer_and_the_reader(tmp_path, suffix):
    path = write_table(ROWS, tmp_path / f"out{suffix}")
    assert read_table(path).equals(ROWS)


def test_output_paths_that_cannot_work_are_one_line_errors(tmp_path):
    with pytest.raises(DataError, match="unknown output format '.txt'"):
        write_table(ROWS, tmp_path / "out.txt")
    with pytest.raises(DataError, match="is a directory"):
        write_table(ROWS, tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        write_table(ROWS, tmp_path / "missing" / "out.csv")
    assert write_table(ROWS, tmp_path / "made" / "out.csv", create_parent=True).exists()


def test_with_outputs_keeps_every_input_column_and_row():
    inp = pd.DataFrame({"label": ["a", "b"], "label_input": ["x", "y"], "text": ["t1", "t2"]}, index=[5, 9])
    notes = []
    out = with_outputs(inp, {"label": ["P", "Q"]}, log=notes.append)
    assert list(out.columns) == ["label_input_2", "label_input", "text", "label"]
    assert out["label_input_2"].tolist() == ["a", "b"] and out["label"].tolist() == ["P", "Q"]
    assert list(out.index) == [5, 9] and "'label' → 'label_input_2'" in notes[0]


def test_cli_reads_semicolon_excel_and_cp1252_inputs(tmp_path, capsys):
    frame = pd.DataFrame({"teks": ["Bagusss bgt!! café", "mantap"]})
    frame.to_csv(tmp_path / "semi.csv", sep=";", index=False, encoding="cp1252")
    frame.to_excel(tmp_path / "book.xlsx", index=False)
    for name in ("semi.csv", "book.xlsx"):
        assert main(["text", "normalize", "--input", str(tmp_path / name), "--text-col", "teks",
                     "--output", str(tmp_path / "out.parquet"), "--skip", "slang"]) == 0
        assert pd.read_parquet(tmp_path / "out.parquet")["normalized"].tolist() == ["bagus bgt café", "mantap"]
    assert main(["text", "normalize", "--input", str(tmp_path / "book.xlsx"), "--text-col", "teks",
                 "--output", str(tmp_path / "out.doc")]) == 2
    assert "unknown output format '.doc'" in capsys.readouterr().err


def test_piped_latin1_keeps_its_accents_and_head_closing_the_pipe_is_quiet(tmp_path):
    run = subprocess.run([sys.executable, "-m", "niaga.cli", "text", "normalize", "--skip", "slang"],
                         input="café murah\n".encode("latin-1"), capture_output=True)
    assert run.returncode == 0 and run.stdout.decode().strip() == "café murah"
    lines = "\n".join(f"barang {i} bagus" for i in range(20000)).encode()
    piped = subprocess.run(f"{sys.executable} -m niaga.cli text normalize --skip slang | head -1", shell=True,
                           input=lines, capture_output=True)
    assert piped.stdout.decode().strip() == "barang bagus" and b"Traceback" not in piped.stderr
