"""niaga.social.extract: price forms, other amounts, non-money numbers, payment names and their false
friends, quantity, product, spans, and the table interface."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from niaga.errors import DataError
from niaga.social.extract import extract, extract_frame, lexicon

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text, expected", [
    ("harganya Rp 150.000 aja", [150_000]),
    ("dapet Rp150rb", [150_000]),
    ("cuma 150 ribu", [150_000]),
    ("harga 150k worth it", [150_000]),
    ("beli hp 1,5jt", [1_500_000]),
    ("laptop 1.5 juta", [1_500_000]),
    ("harganya sejuta", [1_000_000]),
    ("harga 9.900 saja", [9_900]),
    ("Rp. 25.000,- per pcs", [25_000]),
    ("IDR 50000", [50_000]),
    ("kaos 50rb-an bagus", [50_000]),
    ("jaket 100rban", [100_000]),
    ("harganya seratus ribu", [100_000]),
    ("cuma goceng", [5_000]),
    ("tebus murah gopek", [500]),
    ("harga ceban", [10_000]),
    ("Rp100-150rb", [100_000, 150_000]),
    ("harga 65 ribu - 190 ribu", [65_000, 190_000]),
    ("kisaran 500ribu - sejutaan", [500_000, 1_000_000]),
    ("harga nya mulai dari rp 90 . 000", [90_000]),  # SmSA spaces its punctuation
    ("Rp 150.000,00", [150_000]),
    ("Kehilangan Barang Senilai Rp9,2 Juta", [9_200_000]),
    ("harga 100an lumayan", [100_000]),
])
def test_price_forms(text, expected):
    assert extract(text).price == expected


def test_price_spans_point_at_the_text_read():
    text = "Beli sepatu Rp 150.000, ongkir 18rb, dibayar via OVO"
    result = extract(text)
    assert [text[a:b] for a, b in result.price_spans] == ["Rp 150.000"]
    assert [(kind, value, text[a:b]) for kind, value, (a, b) in result.other_amounts] == [("shipping", 18_000, "18rb")]
    assert [text[a:b] for a, b in result.payment_spans] == ["OVO"]


@pytest.mark.parametrize("text, kind, value", [
    ("ongkir 18rb mahal", "shipping", 18_000),
    ("ongkos kirim Rp 20.000", "shipping", 20_000),
    ("dapet cashback 5rb", "cashback", 5_000),
    ("pakai voucher senilai Rp10.000", "voucher", 10_000),
    ("diskon 15rb lumayan", "discount", 15_000),
    ("potongan rp 30.000 untuk pembelian", "discount", 30_000),
    ("biaya admin Rp 1.000", "admin_fee", 1_000),
    ("saldonya jadi Rp 0", "balance", 0),
    ("menangkan voucher belanja 50rb!", "voucher", 50_000),
    ("cashback belanja 20rb belum masuk", "cashback", 20_000),
    ("dana bantuan sudah cair 600 ribu", "funds", 600_000),
    ("refund 50rb belum masuk", "refund", 50_000),
    ("parkir bayar 5rb", "admin_fee", 5_000),
    ("ada deposit 50k", "deposit", 50_000),
    ("uang tunai 50 juta, 25 juta", "cash", 25_000_000),
])
def test_other_amounts_are_not_the_goods_price(text, kind, value):
    result = extract(text)
    assert (kind, value) in [(k, v) for k, v, _ in result.other_amounts]
    assert value not in result.price


def test_goods_price_and_shipping_in_one_text():
    result = extract("cashback 50k mo belanja brng hargany 75k, ongkir 15k")
    assert result.price == [75_000]
    assert sorted((k, v) for k, v, _ in result.other_amounts) == [("cashback", 50_000), ("shipping", 15_000)]


@pytest.mark.parametrize("text", [
    "main nba 2k seru", "jual LM317K murah", "Resistor 0805 1k 1k2 10k", "sepatu size 42", "berat 4kg",
    "botol 500ml", "sudah 2x beli", "pesan tgl 17/2/2026", "sampai jam 20.00", "hubungi 085727272786",
    "diskon 20%", "transaksi NOMORID", "30 ribu ktp dukungan", "Kepulauan Seribu", "mobil sejuta umat",
    "400.000 transaksi perhari", "km udah hampir 400 ribu", "Denon 4K Ultra HD", "1,3K subscribers",
    "rpm 2.500 pun mantap", "kabel 30cm", "jalan 1.920 km", "Masjid Seribu Tiang",
])
def test_numbers_that_are_not_money(text):
    result = extract(text)
    assert result.price == [] and result.other_amounts == []


@pytest.mark.parametrize("text, methods", [
    ("barang dikirim, bayar COD", ["COD"]),
    ("bisa bayar di tempat kak", ["COD"]),
    ("sudah transfer tadi pagi, barang belum dikirim", ["transfer"]),
    ("udah saya tf ke rekening penjual", ["transfer"]),
    ("kmrn trf skrng barang sampe", ["transfer"]),
    ("bayar pakai GoPay", ["GoPay"]),
    ("pesanan dibayar pakai go-pay", ["GoPay"]),
    ("bayar via OVO", ["OVO"]),
    ("checkout bayar pakai DANA", ["DANA"]),
    ("spay kepotong 120k", ["ShopeePay"]),
    ("bayar pakai shopee pay", ["ShopeePay"]),
    ("cicilan 0% pakai kartu kredit", ["kartu kredit"]),
    ("bayar pake cc bca", ["kartu kredit"]),
    ("bayar lewat virtual account BCA", ["virtual account"]),
    ("bayar briva gagal terus", ["virtual account"]),
    ("pesanan dibayar pakai spaylater", ["PayLater"]),
    ("checkout pakai gopay later", ["PayLater"]),
    ("pembayaran via kredivo", ["Kredivo"]),
    ("pembayaran via akulaku error", ["Akulaku"]),
    ("seharusnya saya bayar di indomaret", ["Indomaret"]),
    ("bayar lewat alfamart", ["Alfamart"]),
    ("order di tiktokshop bayar qris gagal", ["QRIS"]),
    ("mau belanja 41rb tapi saldo tidak cukup", ["saldo"]),
    ("pesanan dibayar pakai e-wallet", ["e-wallet"]),
    ("beli sepatu, ganti pembayaran pake gopay dr ovo", ["GoPay", "OVO"]),
    ("baru transfer via VA M-Banking BCA", ["virtual account"]),
])
def test_payment_names_and_aliases(text, methods):
    assert extract(text).payment_methods == methods


@pytest.mark.parametrize("text", [
    "kabel bagus, kecepatan transfer data cepat", "mudah trf data dr hp lama", "penyaluran dana bantuan desa",
    "dana darurat habis", "reksa dana syariah", "dana sudah diteruskan ke penjual", "aksi provokasi di jalan",
    "Amplifier Board Audio Bluetooth USB FM Radio TF 400W", "listrik 900 va", "hotel dekat indomaret",
    "ke indomaret dan membeli cola", "tidak menerima kartu debit atau kredit", "saldo gopay saya terkuras",
    "gopay itu dobrakan bagus", "mohon ulama lurus cc aneh", "PURETREX HEPA TF-1050H",
    "sy tertipu, ada yg mengaku dari cs terus minta transfer",  # no purchase anywhere in the text
])
def test_payment_false_friends(text):
    assert extract(text).payment_methods == []


@pytest.mark.parametrize("text, quantity", [
    ("beli 2 pcs kaos", 2), ("pesan 3 buah", 3), ("kemarin beli 2 ya", 2), ("kaos polos x2", 2),
    ("dua paket saya hilang", 2), ("sudah 2x beli disini", None), ("sampai 1 x 6 jam", None),
])
def test_quantity(text, quantity):
    assert extract(text).quantity == quantity


def test_product_after_a_buying_verb():
    text = "kemarin beli kaos polos harga 50rb"
    result = extract(text)
    assert result.product == "kaos polos"
    assert text[slice(*result.product_span)] == "kaos polos"
    assert extract("pesanan saya belum sampai").product is None


def test_extract_frame_keeps_rows_and_reports_bad_cells():
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "post": ["harga 150rb, ongkir 18rb, bayar COD", "", np.nan, 42]})
    out = extract_frame(frame, "post")
    assert list(out["id"]) == [1, 2, 3, 4]
    assert list(out.columns[:2]) == ["id", "post"]
    first = out.iloc[0]
    assert (first["price"], first["price_span"], first["payment_method"], first["other_amounts"], first["error"]) == \
        ("150000", "150rb", "COD", "shipping=18000", "")
    assert list(out["error"][1:]) == ["empty text", "empty text", "not text (int)"]
    assert (out["price"][1:] == "").all()


def test_extract_frame_names_the_missing_column():
    with pytest.raises(DataError, match="'text'"):
        extract_frame(pd.DataFrame({"post": ["x"]}), "text")


def test_dev_labels_are_well_formed():
    labels = pd.read_csv(ROOT / "benchmarks" / "data" / "extraction_dev.csv", dtype=str, keep_default_na=False)
    names = set(lexicon()["payment_methods"])
    assert set(labels["part"]) == {"dev", "held_out"}
    assert not labels.duplicated(["dataset", "file", "row"]).any()
    for cell in labels["price"]:
        assert all(v.strip().isdigit() for v in cell.split(";") if v.strip()), cell
    used = {v.strip() for cell in labels["payment_method"] for v in cell.split(";") if v.strip()}
    assert used <= names


def test_dev_labels_point_at_real_texts_and_spans_hold(shared_data):
    spec = importlib.util.spec_from_file_location("social_extract_bench", ROOT / "benchmarks" / "social_extract.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    labelled = bench.load_labelled_texts()
    assert labelled["text"].map(lambda t: isinstance(t, str) and t.strip() != "").all()
    for text in labelled["text"]:
        result = extract(text)
        for value, (a, b) in zip(result.price, result.price_spans):
            # A span read alone gives back its value (unless it needed the words around it: "harga 100an").
            again = extract(text[a:b]).price
            assert again in ([value], []), (text[a:b], value, again)
        assert all(text[a:b] for a, b in result.payment_spans)
