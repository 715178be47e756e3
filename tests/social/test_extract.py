"""niaga.social.extract: price forms, informal thousands, the role of every amount (whose price it is),
non-money numbers, payment names and their false friends, quantity, product, spans, the table interface,
and the hand-labelled benchmark set."""

import hashlib
import importlib.util
import time
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
    ("harga 100an lumayan", [100_000]),
    ("harga per porsi sekitar rp 14 000", [14_000]),           # thousands grouped by a space after "rp"
    ("Harga sepatu 13, 6 jt", [13_600_000]),                   # SmSA spaces the decimal comma
    ("Brio dengan harga termurah 135 - an juta", [135_000_000]),
    ("kayak baju 35 an ribu", []),                             # read, but a comparison (see the roles below)
    ("kisaran harga 7 sampai 30 ribuan", [7_000, 30_000]),     # a range start takes the end's multiplier
    ("murah berkisar 10 sampai 20 ribuan", [10_000, 20_000]),
    ("kami habis 800,000 untuk 14 orang", [800_000]),          # comma-grouped in a money context
    ("harga 40,000 - 50,000 ribuan satu piring", [40_000, 50_000]),
    ("fotocopy menggelontorkan dana lebih dari setengah juta", [500_000]),
    ("DISKON 70% 55RB", [55_000]),                              # the price after the discount
    ("diskonnya jadi Rp 174.930", [174_930]),
])
def test_price_forms(text, expected):
    assert extract(text).price == expected


@pytest.mark.parametrize("text, expected", [
    ("harga 45 lumayan", [45_000]),                   # "harga 45" = 45,000
    ("lumayan sih harga 60 lebih.", [60_000]),          # "70 lebih" in a price context
    ("untuk harga 85 sbnrnya standar aja", [85_000]),
    ("masak satu kaos saya bayar 97 penipuan", [97_000]),
    ("satu harganya 442", [442_000]),
    ("harga nya 80 - 90 moreless", [80_000, 90_000]),
    ("terakhir ke hanamasa harga nya 120 / orang", [120_000]),
    ("harga nya 140 an kurang lebih", [140_000]),
    ("provider ini harga nya lumayan mahal , sudah 300 lebih", [300_000]),
    ("harga nya 19500 porsi nya banyak", [19_500]),     # 4-7 digits after a price word: rupiah as written
])
def test_informal_thousands_after_a_price_word(text, expected):
    assert extract(text).price == expected


@pytest.mark.parametrize("text", [
    "ukuran 42 pas", "harga 4x4 nya fortuner", "harga 8 / 10 , tersedia wifi", "harga : 70 % lebih mahal",
    "Ukuran M masih cocok untuk tinggi 165an", "tahun 90 an", "harga 2 kali lipat", "bayar 50 menit kemudian",
])
def test_bare_numbers_that_are_not_informal_prices(text):
    assert extract(text).price == []


@pytest.mark.parametrize("text, expected", [
    ("47.329 rb", [47_329]),                          # a dotted number before "rb" is already in rupiah
    ("harga pertama 46.230 Rp..berubah jadi 47.329 RB. lalu jd 48 rbu", [46_230, 47_329, 48_000]),
    ("47 rb", [47_000]),
    ("1,5 rb", [1_500]),
])
def test_dotted_number_before_rb_is_rupiah(text, expected):
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
    # whose price is it: comparisons with another shop or product
    ("Bajunya tipis, kayak baju 35rb di pasar", "comparison", 35_000),
    ("Kualitasnya mantep, kaya jaket harga 300 up.", "comparison", 300_000),
    ("kualitas sepatunya enggak kalah ama yg 500ribu", "comparison", 500_000),
    ("Bahan tipis, sama dg harga 30rb mending di sebelah", "comparison", 30_000),
    ("beli ski aqua spt 50 harga nya 50k menyesal . padahal di mal 47k .", "comparison", 47_000),
    ("Pernah beli yg 20k dan cepet bgt rusak", "comparison", 20_000),
    ("Barang 360k serasa router 2 jutaan", "comparison", 2_000_000),
    # hypotheticals and thresholds
    ("klw 10 ribu si gapapa", "hypothetical", 10_000),
    ("Mgkn kalo hrg nya 35rb cocok", "hypothetical", 35_000),
    ("COCOKNYA HARGA 30 AN", "hypothetical", 30_000),
    ("cukup belanja rp . 60 ribu bisa tebus minyak goreng cuma gopek", "threshold", 60_000),
    ("minimal order perorang 25 ribu", "threshold", 25_000),
    ("Periode 15-16 Maret, Min Belanja 400K", "threshold", 400_000),
    # lost, stolen, compensated, refunded
    ("Kehilangan Barang Senilai Rp9,2 Juta", "lost_value", 9_200_000),
    ("paket isinya album totalnya 3jt lebih hilang", "lost_value", 3_000_000),
    ("Rugi 20ribu ya udah lah diiklasin aja", "lost_value", 20_000),
    ("akhirnya malah kliennya disuruh ganti 100rb", "compensation", 100_000),
    ("BALIKIN UANG SY 60RB!!", "refund", 60_000),
    # fees, budgets and other sums that are nobody's shop price
    ("parkir di Indomaret 2000 perak", "admin_fee", 2_000),
    ("ini nambah Rp 10.000/malam", "difference", 10_000),
    ("untuk masuk bayar 10 ribu per orang dan 15 ribu per kendaraan", "admin_fee", 15_000),
    ("Anggota DPRD dapat baju dinas baru dengan total anggaran Rp 2,5 miliar", "public_budget", 2_500_000_000),
    ("pemerintah rogoh rp 97,6 triliun untuk bayar tagihan subsidi", "public_budget", 97_600_000_000_000),
    ("jika dollar tembus 15 ribu", "exchange_rate", 15_000),
    ("as punya hutang ke jepang 30.000 triliun", "debt", 30_000_000_000_000_000),
])
def test_other_amounts_are_not_the_goods_price(text, kind, value):
    result = extract(text)
    assert (kind, value) in [(k, v) for k, v, _ in result.other_amounts]
    assert value not in result.price


@pytest.mark.parametrize("text, price", [
    ("kalo di mall harga 500ribu, kalo di tokopedia cmn 300ribu", [300_000]),  # the mall price is a comparison
    ("harga 50 ribu ke atas klw 10 ribu si gapapa ini 50 ribu tapi buluk", [50_000]),
    ("kalau tidak salah harganya 10 ribu", [10_000]),       # not a hypothetical
    ("kalau mau yang murah pesan steak salmon saja 190k", [190_000]),
    ("tidak rugi bayar 1 juta", [1_000_000]),                # a negated loss is a price paid
    ("harga nya lebih murah hanya 160 jutaan", [160_000_000]),  # "lebih murah" names only an adjacent amount
    ("Dari segi harga juga pajero lebih mahal 30 jutaan", []),
    ("untuk harga , memang di atas dibanding batagor lainnya , yaitu rp . 12.000 / potong", [12_000]),
    ("fadaftar extra 2 gb 10 ribu tidak bisa , kok kayak gini", [10_000]),
    ("harga naik 5-10rb gapapalah", []),                     # a range shares the role of its start
    ("bisa kirim uang sekitar $100jt tp pake pos", []),      # not rupiah
])
def test_whose_price_it_is(text, price):
    assert set(extract(text).price) == set(price)


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
    "hanya 1 yang sayang seribu sayang", "wakil rakyat 270 juta populasi", "2.499 pelari semarakkan lomba",
    "pemakaian 98.000 jarang rewel", "harddisk 2 tb 2.000 gb murah", "lari 10K sekali", "finishing 18k challange",
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
    ("bayar transaksi di tokopedia pakai bcaklikpay sering hang", ["transfer"]),
    ("setelah di bayar di atm - nya ternyata harga normal", ["transfer"]),
    ("Setelah saya cek ternyata saldo saya sudah 2 kali terdebet", ["saldo"]),
    ("sudah saya bayar lewat sms banking", ["transfer"]),
    ("saya ingin membayar COD atau bayar cash, tetapi kurir selalu minta transfer", ["COD", "transfer"]),
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
    "sy tertipu. barusan ada yg mengaku2 dr bukalapak. minta transfer.",  # a scam, though a shop is named
    "Sama buat maen CoD rada ngadat, pas maen ML lancar jaya",  # Call of Duty
    "promo tanpa minimum order dan tanpa menggunakan kartu kredit sering diberikan",
    "pakai internet banking untuk transfer ke sesama rekening bca ga bisa",
    "minta dikirim kekurangan barang tp katanya gak bs, cm bisa di transfer balik uangnya.",
    "kecepatan transfer tembus 50mbps", "Dikampung mana ngerti go-pay teh.. beli amplop lebaran aja",
    "untuk berbicara dengan bni call officer layanan kartu kredit",
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


def test_word_lists_live_in_the_resource():
    lex = lexicon()
    for key in ("role_markers_before", "role_markers_after", "informal_price_words", "multipliers", "wallets",
                "store_payment_cues", "payment_modals", "generic_pay_verbs", "price_qualifiers", "masks"):
        assert lex[key], key
    assert {"comparison", "hypothetical", "threshold", "lost_value"} <= set(lex["role_marker"].values())


def test_dev_labels_are_well_formed():
    labels = pd.read_csv(ROOT / "benchmarks" / "data" / "extraction_dev.csv", dtype=str, keep_default_na=False)
    names = set(lexicon()["payment_methods"])
    # every part is a development part now: no untouched held-out part remains in the shared data
    assert set(labels["part"]) == {"dev", "dev_from_held_out_1", "dev_from_held_out_2"}
    assert not labels.duplicated(["dataset", "file", "row"]).any()
    assert len(labels) >= 2200
    # round 2's held-out part (scored once at the end of round 2, development since): at least 700 texts that
    # were new to the set, about a third of it
    held_out = labels["part"] == "dev_from_held_out_2"
    assert held_out.sum() >= 700
    assert 0.3 <= held_out.mean() <= 0.4
    # round 1's held-out part (scored once, then used for development) was a hash of the key, not a choice
    first_round = labels[~held_out]
    for dataset, file, row, part in first_round[["dataset", "file", "row", "part"]].itertuples(index=False):
        digest = int(hashlib.md5(f"{dataset}|{file}|{row}".encode()).hexdigest(), 16)
        assert part == ("dev_from_held_out_1" if digest % 3 == 0 else "dev"), (dataset, file, row)
    for cell in labels["price"]:
        assert all(v.strip().isdigit() for v in cell.split(";") if v.strip()), cell
    used = {v.strip() for cell in labels["payment_method"] for v in cell.split(";") if v.strip()}
    assert used <= names


def test_dev_labels_point_at_real_texts_and_spans_hold(shared_data):
    labelled = _benchmark().load_labelled_texts()
    assert labelled["text"].map(lambda t: isinstance(t, str) and t.strip() != "").all()
    # no text of round 2's held-out part repeats an earlier text (the shared corpora hold duplicates under other keys)
    words = labelled["text"].str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    held_out = labelled["part"] == "dev_from_held_out_2"
    assert not words[held_out].isin(set(words[~held_out])).any()
    for text in labelled["text"]:
        result = extract(text)
        for value, (a, b) in zip(result.price, result.price_spans):
            # A span read alone gives back its value (unless it needed the words around it: "harga 100an").
            again = extract(text[a:b]).price
            assert again in ([value], []), (text[a:b], value, again)
        assert all(text[a:b] for a, b in result.payment_spans)


def _benchmark():
    spec = importlib.util.spec_from_file_location("social_extract_bench", ROOT / "benchmarks" / "social_extract.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_benchmark_scores_development_parts_and_keeps_the_last_held_out_figures():
    bench = _benchmark()
    assert bench.PARTS == bench.DEV_PARTS == ("dev", "dev_from_held_out_1", "dev_from_held_out_2")
    # held-out 2's one scoring (round 2's rules) stays the last held-out figure, beside the older rules on it
    assert (bench.HELD_OUT_2_ROUND_2["price"]["precision"], bench.HELD_OUT_2_ROUND_2["price"]["recall"]) == \
        (0.818, 0.562)
    assert (bench.HELD_OUT_2_ROUND_2["payment_method"]["precision"],
            bench.HELD_OUT_2_ROUND_2["payment_method"]["recall"]) == (0.889, 0.696)
    assert bench.EARLIER["round 2"]["dev_from_held_out_2"] is bench.HELD_OUT_2_ROUND_2
    assert bench.EARLIER["round 1"]["dev_from_held_out_2"] is bench.HELD_OUT_2_ROUND_1
    for figures in bench.EARLIER.values():  # the three parts together are summed from the parts' counts
        assert set(figures) == {*bench.PARTS, bench.ALL_DEV}
        assert figures[bench.ALL_DEV]["price"]["tp"] == sum(figures[p]["price"]["tp"] for p in bench.PARTS)


# Round 2 of issue 13: amount roles and money forms read from the mistakes on the development texts.
@pytest.mark.parametrize("text, kind, value", [
    ("harga 200rb an . kualitas 70 rb an . maap sedikit kecewa", "comparison", 70_000),  # a quality like a 70rb item
    ("bahannya berbeda dg yg 50ribuan", "comparison", 50_000),       # "the one for 50rb" set against this one
    ("dpi nya gede.. lbh dri logitech yg 100rb", "comparison", 100_000),
    ("Sauna suit nya bagus bahan nya beda sama merk2 lain yg 50rb an.", "comparison", 50_000),
    ("saya pernah membeli dengan harga 150 ribu dengan kualitas jauh lebih baik", "comparison", 150_000),
    ("mirip banget sama yg biasa aku beli di drugstore dgn harga 150rb", "comparison", 150_000),
    ("udh mahal masih mendingan beli hrg 35k bgus", "hypothetical", 35_000),  # "mending beli" is no "kalau beli"
    ("kain ny jelek hrus ny hrga ny di bwah 50k", "hypothetical", 50_000),
    ("Aku tiap bulan nabung min banget harus 1jt", "savings", 1_000_000),
    ("maksud nya itu buat tukar poin tidak bayar 64 ribu", "not_paid", 64_000),
    ("gak perlu bayar 10rb lagi", "not_paid", 10_000),
    ("biaya ongkir tertulis 15.000 tapi di struk JNE cuma 10.000", "shipping", 10_000),  # a courier's fee
    ("saya punya buka dompet 56rb dan mau dibelanjain nominal 41rb", "balance", 56_000),
])
def test_round_two_roles(text, kind, value):
    result = extract(text)
    assert (kind, value) in [(k, v) for k, v, _ in result.other_amounts]
    assert value not in result.price


@pytest.mark.parametrize("text, price", [
    ("saya pesen 2 yg 14rb 1 yg 19rb", [14_000, 19_000]),              # "yg" alone does not make a comparison
    ("saya punya buka dompet 56rb dan mau dibelanjain nominal 41rb", [41_000]),  # a buying word beats "dompet"
    ("karena kalau biasa saya harus mengeluarkan uang 50 - 100 ribu", [50_000, 100_000]),  # "kalau biasa": usually
    ("restoran harus order minimum 4 paket makanan dan each 120k / paket", [120_000]),  # the minimum counts items
    ("sehabis belanja di pasar dago , lalu dengan menu goceng nya yang membuat saya betah", [5_000]),
    ("nasi cuma 1.000 boleh menambah sepuas nya", [1_000]),           # "menambah" names no amount it does not touch
    ("harga nya lumayan mahal untuk 10 mbps saja sudah 300 lebih , tapi layanan nya jelek", [300_000]),
    ("untuk minuman saya suka teh tarik , kalau enggak salah 8 ribuan", [8_000]),  # "teh tarik" is no withdrawal
    ("tidak rugi bayar 1 juta", [1_000_000]),
    ("harganya yg awalnya cuman 37 pas Dateng jadi 40 an", [37_000, 40_000]),
])
def test_round_two_prices(text, price):
    assert extract(text).price == price


@pytest.mark.parametrize("text, expected", [
    ("paketan nasi - 42 : 5 ribu tapi rasa standar", [42_500]),       # the SmSA corpus writes 42.5 as "42 : 5"
    ("untuk harga sih standar sekitar 20 30 ribuan", [20_000, 30_000]),  # a range joined by a space
    ("saya sudah isi ulang pulsa 100k", [100_000]),                   # "k" is money next to "pulsa"
    ("jual sepatu 42 150rb", [150_000]),                              # a space joins a range only after "sekitar"
])
def test_round_two_money_forms(text, expected):
    assert extract(text).price == expected


@pytest.mark.parametrize("text", [
    "1.000 % semua orang setuju", "perluasan kilang serap 20 ribu lebih tenaga kerja",
    "jumlah pemilih dalam negeri sebanyak 185.379.878",
])
def test_round_two_numbers_that_are_not_money(text):
    result = extract(text)
    assert result.price == [] and result.other_amounts == []


@pytest.mark.parametrize("text, methods", [
    ("gabisa ngtap pake emoney etc", []),                              # a verb between the negation and "pake"
    ("beli tiket tapi tidak bisa bayar pakai gopay", []),
    ("saya kn sudah bayar dluan bkn COD", []),                          # "bkn": bukan
    ("kapan hari dapat gopay 100 ribu , sekarang dapat voucher", []),   # received, not spent
    ("terima kasih atas proses pengembalian dana yang cepat . baru satu hari sudah ditransfer", []),
    ("saya sudah transfer dan belum dikonfirmasi", ["transfer"]),      # "dikonfirmasi" makes it a purchase
    ("mantap 1 hari tf langsung sampeeee besok nya", ["transfer"]),    # "sampeeee" is "sampe"
])
def test_round_two_payments(text, methods):
    assert extract(text).payment_methods == methods


# Round 3 of issue 13: rupiah written in full with no price word right before it, its plausibility bounds, bank
# channels and T-Cash as payments, and the misfires read from the mistakes on all three development parts.
@pytest.mark.parametrize("text, price", [
    ("harga standar food court 3000 - 5000 .", [3_000, 5_000]),         # a price word earlier in the clause
    ("jual adidas mocas hanya 115000 .", [115_000]),                    # a selling verb
    ("semangkuk mi rebus dengan sayur dan telur hanya berharga 5000 .", [5_000]),
    ("bandrek harga dikisaran 7000 - 8000 per piece", [7_000, 8_000]),
    ("tempat nya biasa saja dengan htm ide 10000 / orang , kalau pemandangan gunung", [10_000]),
    ("zaman bisa 13 ribu / kg . 3 tahun pe 5500 / kg", [13_000, 5_500]),  # a price per unit
    ("harga nya sekitar 28000 untuk panggang dan 24000 untuk kecap .", [28_000, 24_000]),  # a list of prices
    ("air teh tidak sampai 1000 perak dan aneka juice 6000an .", [1_000, 6_000]),
    ("Beli tahun 2004 sekitar 80 jutaan dijual 2009 90 jutaan .", [80_000_000, 90_000_000]),  # "tahun" measures 2004
    ("webcam 1 jutaan kualitas sampah.", [1_000_000]),                  # "kualitas" after an amount compares nothing
    ("minimal , tolong dibantu , saya sudah isi ulang pulsa 100k", [100_000]),  # SmSA's "min," is no threshold
])
def test_round_three_prices(text, price):
    assert extract(text).price == price


@pytest.mark.parametrize("text", [
    "jual 268 rak dinding aluminium serbaguna",            # a selling verb, a number, a noun: a count
    "dijual 131 makan siang cooler bagian tas bekal",
    "sudah ada 6 . 000 temuan di laporan keuangan",
    "kirim bukti bayar melalui email info : 1500 - 6339",   # not a multiple of 100: a phone number
    "harga nya beda dengan versi 2015 .",                   # a year
    "bayar saracen 1500 pamflet sara",                      # a noun after the number: what it counts
    "beli batre yg asli 2800 mah",                          # a unit
    "beli pulsa harus telepon 14000 untuk dapat token",     # a phone line
    "harga murah , kapasitas hanya 1910 mAh",
])
def test_round_three_bare_numbers_that_are_not_prices(text):
    assert extract(text).price == []


@pytest.mark.parametrize("text, kind, value", [
    ("ongkos kirim nya mahal banget dong restoran - sekolah gue cuma 1 kilometer doang 15k padahal makanan nya "
     "harga 12k", "shipping", 15_000),                      # a fee named further back in the clause
    ("kemarin saya top naik kartu transjakarta saya 50 ribu di halte", "deposit", 50_000),  # SmSA's "top up"
])
def test_round_three_roles(text, kind, value):
    result = extract(text)
    assert (kind, value) in [(k, v) for k, v, _ in result.other_amounts]
    assert value not in result.price


@pytest.mark.parametrize("text, methods", [
    ("sampai 4 hari sejak dipesan-bayar ATM-konfirmasi bayar.", ["transfer"]),   # an ATM after a paying word
    ("Gw tu biasa beli shopee pake atm manual asal cocok jumlahnya", ["transfer"]),
    ("isi pulsa via atm bca tadi belum masuk", ["transfer"]),
    ("transaksi beli pulsa pln pra bayar melalui mandiri mobile tidak efisien", ["transfer"]),
    ("beli tiket bayar lewat e-banking", ["transfer"]),
    ("tersedia wifi dan promo payment menggunakan triliun - cash", ["e-wallet"]),  # SmSA's "T-Cash"
    ("makan di sini pakai tcash diskon 20 %", ["e-wallet"]),
    ("saya pesan beef steak . bayar pakai citibank card bisa dapat es cream", ["kartu kredit"]),
])
def test_round_three_payments(text, methods):
    assert extract(text).payment_methods == methods


@pytest.mark.parametrize("text", [
    "saya sebal dengan bni , mau reset password ibanking tapi kode akses malah dikirim ke nomor lama",
    "kecewa dengan proses pmbtln tiket , sudah 43 hari tapi tak kunjung ditransfer .",  # a cancelled ticket's refund
    "saya selalu mengisi gopay via atm bca",                                          # topping up a wallet
    "mohon informasikan atm mana yang bisa untuk tarik tunai melalui bca mobile , terima kasih",
    "duit di dompet tinggal 4rb doang, di ATM tinggal dikit",                          # the machine, not a payment
    "pembelian hari minggu , pembayaran menggunakan kartu atm bri",
    "gopay itu dobrakan bagus , terima kasih gojek",                                  # "terima kasih" buys nothing
])
def test_round_three_payment_false_friends(text):
    assert extract(text).payment_methods == []


@pytest.mark.parametrize("text, price", [
    ("harganya dua ratus lima puluh ribu rupiah", [250_000]),   # "puluh" scales "lima", not "dua ratus lima"
    ("harga seratus lima puluh ribu", [150_000]),
    ("bayar tiga ratus ribu", [300_000]),
])
def test_round_three_number_words(text, price):
    assert extract(text).price == price


@pytest.mark.parametrize("text", [
    "1" * 48,                                                   # these took exponential time in the number-word
    "capasitor 10 PCS 101 221 471 56 102 103 331 222 472 grade A",  # pattern: a product title hung the extractor
    "Resistor 0,5Watt - 270 330 390 470 560 680 820 1K - 3K9 Ohm - 1/2 Watt",
])
def test_long_runs_of_numbers_are_read_in_linear_time(text):
    started = time.perf_counter()
    extract(text * 3)
    assert time.perf_counter() - started < 1.0


def test_round_three_word_lists_live_in_the_resource():
    lex = lexicon()
    for key in ("bare_rupiah", "bare_price_cues", "bare_price_followers", "priced_units", "sale_verbs",
                "before_only_cues", "channels_after_paying_word", "far_fee_cues", "not_commerce_phrases"):
        assert lex[key], key
    fee_kinds = {"shipping", "admin_fee", "packing"}
    assert all(lex["cue_kind"].get(cue) in fee_kinds for cue in lex["far_fee_cues"])
