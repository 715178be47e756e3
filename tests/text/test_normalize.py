import pytest

from niaga.text import TextNormalizer


def bare(**params):
    """A normalizer that needs no lexicon files (slang off)."""
    return TextNormalizer(normalize_slang=False, **params).fit()


def test_cleaning_removes_urls_mentions_hashtags_html_digits_punctuation():
    n = bare()
    text = ("Cek <b>Promo</b> &amp; diskon di https://toko.id/x?a=1 ftp://f.id/y file:///tmp/z www.toko.id "
            "@seller_1 #PromoGila harga 150rb!!!")
    assert n.transform([text]) == ["cek promo diskon di harga rb"]


def test_emoji_drop_word_keep():
    text = "mantap 😍👍🏻 tapi 😡"
    assert bare(emoji="drop").transform([text]) == ["mantap tapi"]
    assert bare(emoji="word").transform([text]) == ["mantap suka bagus tapi marah"]
    kept = bare(emoji="keep", clean_punctuation=False).transform([text])[0]
    assert "😍" in kept and "😡" in kept


def test_squash_uses_the_dictionary_to_keep_real_double_letters():
    n = bare()
    assert n.transform(["bagusss mantappp cepaaat maaaaf"]) == ["bagus mantap cepat maaf"]


def test_reduplication_marker_survives_digit_cleaning():
    n = bare()
    assert n.transform(["barang2 hati2 ya, 2 buah 22 x3"]) == ["barang-barang hati-hati ya buah x"]
    assert bare(reduplication=False).transform(["barang2"]) == ["barang"]


def test_every_step_can_be_switched_off():
    text = "Bagusss https://x.id @a #b <i>ok</i> 10 !"
    n = TextNormalizer(casefold=False, clean_urls=False, clean_mentions=False, clean_hashtags=False, clean_html=False,
                       emoji="keep", clean_digits=False, clean_punctuation=False, squash_repeats=False,
                       reduplication=False, normalize_slang=False).fit()
    assert n.transform([text]) == [" ".join(text.split())]


def test_non_text_becomes_empty_and_batch_equals_one_by_one():
    n = bare()
    texts = ["Baris satu\nbaris dua", None, 3.5, "", "kirim2 cepat!!"]
    batch = n.transform(texts)
    assert batch == [n.transform([t])[0] for t in texts]
    assert batch[1] == "" and batch[2] == "" and batch[0] == "baris satu baris dua"


def test_slang_stopwords_keep_negations_and_stemming(shared_data):
    n = TextNormalizer(remove_stopwords=True, stem=True).fit()
    out = n.transform(["brg yg dikirim gk sesuai, pengirimannya lama bgt"])[0].split()
    assert "tidak" in out  # "gk" -> "tidak", a negation, survives stopword removal
    assert "yang" not in out  # "yg" -> "yang", a stopword
    assert "barang" in out and "kirim" in out  # slang + ECS stemming
    dropped = TextNormalizer(remove_stopwords=True, keep_negations=False).fit().transform(["gk sesuai"])[0]
    assert "tidak" not in dropped.split()


def test_custom_stopword_list(shared_data):
    n = TextNormalizer(remove_stopwords=True, stopwords=["dan", "atau"]).fit()
    assert n.transform(["bagus dan murah atau mahal"]) == ["bagus murah mahal"]


def test_rejects_unknown_emoji_mode():
    with pytest.raises(ValueError, match="emoji"):
        TextNormalizer(emoji="smile").fit()


def test_pickled_normalizer_gives_same_output(shared_data):
    import pickle

    n = TextNormalizer(stem=True).fit()
    texts = ["Pengirimannya cepattt, brg ok", "kecewa bgt"]
    before = n.transform(texts)
    clone = pickle.loads(pickle.dumps(n))
    assert "_token_cache" not in clone.__dict__
    assert clone.transform(texts) == before
