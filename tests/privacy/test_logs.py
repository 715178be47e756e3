"""No raw personal data in a log line or an error message once the filter or the helpers are in place."""

import io
import json
import logging

import pytest

from niaga.privacy import PiiFilter, install_log_filter, mask_obj, safe_message

from .conftest import RAW, SECRET, assert_no_raw


@pytest.fixture()
def logger():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s %(customer)s"))
    log = logging.getLogger("niaga.test.privacy")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    yield log, handler, stream
    log.removeHandler(handler)
    log.filters.clear()


def test_log_lines_carry_no_raw_pii(logger):
    log, handler, stream = logger
    handler.addFilter(PiiFilter())
    log.info("order from %s, nik %s", RAW["phone"], RAW["nik"], extra={"customer": RAW["email"]})
    log.warning(f"kirim ke {RAW['street']}, kartu {RAW['card']}", extra={"customer": "-"})
    try:
        raise ValueError(f"cannot charge {RAW['card']} for {RAW['email']}")
    except ValueError:
        log.exception("payment failed for %s", RAW["phone2"], extra={"customer": f"rek BCA {RAW['account']}"})
    out = stream.getvalue()
    assert_no_raw(out)
    assert "[PHONE]" in out and "[NIK]" in out and "[EMAIL]" in out and "[CARD]" in out and "[ADDRESS]" in out
    assert "Traceback" in out and "ValueError: cannot charge [CARD] for [EMAIL]" in out  # the traceback is kept
    assert "[BANK_ACCOUNT]" in out


def test_install_on_a_logger_and_its_handlers_and_pseudonymized_logs(logger):
    log, _, stream = logger
    installed = install_log_filter(log, policy="pseudonymize", secret=SECRET)
    log.error("customer %s complained", RAW["phone"], extra={"customer": "x"})
    line = stream.getvalue()
    assert_no_raw(line)
    assert "[PHONE:" in line
    log.removeFilter(installed)


def test_error_messages_and_bodies_carry_no_raw_pii():
    exc = KeyError(f"no customer with phone {RAW['phone']} and email {RAW['email']}")
    message = safe_message(exc)
    assert_no_raw(message)
    assert "\n" not in message and "[PHONE]" in message
    assert safe_message(RuntimeError()) == "RuntimeError"
    body = {"error": f"invalid NIK {RAW['nik']}", "request": {"phone": RAW["phone2"], "items": [RAW["card"], 3]}}
    masked = mask_obj(body)
    assert_no_raw(json.dumps(masked))
    assert masked["request"]["items"][1] == 3 and masked["error"] == "invalid NIK [NIK]"
