"""``niaga text normalize`` on tables."""

import pandas as pd

from niaga.cli import main


def test_text_normalize_reads_a_csv_column(tmp_path):
    inp = tmp_path / "t.csv"
    pd.DataFrame({"txt": ["Bagusss bgt!! https://x.id", None]}).to_csv(inp, index=False)
    out = tmp_path / "o.csv"
    assert main(["text", "normalize", "--input", str(inp), "--text-col", "txt", "--output", str(out),
                 "--skip", "slang"]) == 0
    result = pd.read_csv(out, keep_default_na=False)
    assert list(result["normalized"]) == ["bagus bgt", ""]
    assert list(result["error"]) == ["", "empty text"]


def test_text_normalize_keeps_input_columns_named_like_its_outputs(tmp_path, keeps_clashing_inputs):
    inp = pd.DataFrame({"txt": ["Bagusss bgt!!", "mantap"], "normalized": ["x", "y"], "error": ["e1", "e2"]})
    inp.to_csv(tmp_path / "t.csv", index=False)
    assert main(["text", "normalize", "--input", str(tmp_path / "t.csv"), "--text-col", "txt",
                 "--output", str(tmp_path / "o.csv"), "--skip", "slang"]) == 0
    out = keeps_clashing_inputs(inp, tmp_path / "o.csv", ["normalized", "error"])
    assert out["normalized"].tolist() == ["bagus bgt", "mantap"]


def test_a_huge_text_cell_is_cut_with_a_row_note_not_minutes_of_silent_work(tmp_path):
    import time

    from niaga.text.classify.pipeline import MAX_TEXT_CHARS

    huge = "barang bagus harga Rp 50.000 " * 100_000  # about 3 MB in one cell
    pd.DataFrame({"txt": ["mantap", huge]}).to_csv(tmp_path / "t.csv", index=False)
    for argv in (["text", "normalize", "--skip", "slang"], ["social", "extract"]):
        start = time.perf_counter()
        assert main([*argv, "--input", str(tmp_path / "t.csv"), "--text-col", "txt",
                     "--output", str(tmp_path / "o.csv")]) == 0
        assert time.perf_counter() - start < 20
        out = pd.read_csv(tmp_path / "o.csv", keep_default_na=False)
        # the cut text still has its result: nothing in error (no result), the note in warning
        assert out["error"].tolist() == ["", ""] and out["warning"][0] == "" and out["warning"][1] == (
            f"text cut to its first {MAX_TEXT_CHARS:,} of {len(huge):,} characters")
        assert out["txt"][1] == huge  # the input cell itself is kept whole
        if "normalized" in out:
            assert 0 < len(out["normalized"][1]) <= MAX_TEXT_CHARS
