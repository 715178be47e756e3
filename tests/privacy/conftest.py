import pandas as pd
import pytest

from niaga.privacy import SECRET_ENV, SECRET_FILE_ENV

#: raw values that must never appear once masking is on
RAW = {"nik": "3273014506900003", "phone": "0812-3456-7890", "phone2": "+62 813 1111 2222",
       "email": "budi.santoso@gmail.com", "card": "4111 1111 1111 1111", "account": "5432109876",
       "street": "Jl. Melati No. 12"}
SECRET = "test-secret-0123456789abcdef"


@pytest.fixture(autouse=True)
def no_secret(monkeypatch):
    """No test sees a secret it did not set."""
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.delenv(SECRET_FILE_ENV, raising=False)


@pytest.fixture()
def customers() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3, 4],
        "review": [f"wa {RAW['phone']} ya kak, email {RAW['email']}", "barang bagus, harga Rp 150.000",
                   f"kirim ke {RAW['street']} RT 03/RW 05 resi JP1234567890", None],
        "phone": [RAW["phone"], RAW["phone2"], "", "081234567890"],
        "nik": [3273014506900003, 3175092708850012, 1101010101010001, 3273010506900003],
        "note": [f"kartu {RAW['card']}", f"rek BCA {RAW['account']}", "INV/20240101/MPL/123456", "size 42"],
    }, index=[10, 11, 12, 13])


def assert_no_raw(text: str) -> None:
    for name, value in RAW.items():
        assert value not in text, f"raw {name} leaked"
    assert "3175092708850012" not in text and "081234567890" not in text
