"""Keeping personal data out of log lines and error messages.

``PiiFilter`` is a ``logging.Filter`` that rewrites each record before any handler formats it: the message
with its arguments, the traceback text, the stack text and every extra attribute that is text. Install it on
the handlers that write somewhere (``install_log_filter()`` does it for the root logger's handlers), because a
filter on a logger does not see the records its child loggers pass up. ``safe_message(exc)`` is the one-line
text of an exception with personal data masked, for an API error body or a CLI error line; ``mask_obj`` masks
every string in a JSON-like object (a request echoed in an error body).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from niaga.privacy.mask import check_policy, load_secret, mask_text

# attributes every LogRecord has; the rest came from ``extra=`` and are masked when they are text
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_MARK = "niaga_pii_masked"


class PiiFilter(logging.Filter):
    """Masks personal data in every record it sees (policy ``mask`` by default: "[PHONE]", "[NIK]", ...)."""

    def __init__(self, policy: str = "mask", secret: str | bytes | None = None, name: str = ""):
        super().__init__(name)
        self.policy = check_policy(policy)
        self._key = load_secret(secret) if policy == "pseudonymize" else None

    def _mask(self, text: str) -> str:
        return mask_text(text, self.policy, secret=self._key)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _MARK, False):  # a logger's filter and its handler's: mask once
            return True
        setattr(record, _MARK, True)
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: keep what logging would show
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = self._mask(message), None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self._mask(record.exc_text)
        record.exc_info = None  # a formatter would write the raw traceback again from it
        if record.stack_info:
            record.stack_info = self._mask(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, self._mask(value))
        return True


def install_log_filter(logger: logging.Logger | str | None = None, policy: str = "mask",
                       secret: str | bytes | None = None) -> PiiFilter:
    """Add one PiiFilter to ``logger`` (default: the root logger) and to each of its handlers; returns it.
    Handlers added later need ``handler.addFilter(filter)`` too."""
    logger = logging.getLogger(logger) if logger is None or isinstance(logger, str) else logger
    pii_filter = PiiFilter(policy, secret)
    logger.addFilter(pii_filter)
    for handler in logger.handlers:
        handler.addFilter(pii_filter)
    return pii_filter


def mask_every_log_record(policy: str = "mask", secret: str | bytes | None = None) -> PiiFilter:
    """Mask every log record as it is made, whoever logs it and whichever handlers write it (handlers that
    libraries or test tools add later included): ``Logger.makeRecord`` runs a PiiFilter on each new record once
    its ``extra`` fields are in (a record factory runs before they are, so it would let them through).
    Idempotent: a second call keeps the first; ``unmask_log_records()`` undoes it."""
    make_record = logging.Logger.makeRecord
    if getattr(make_record, _MARK, False):
        return make_record.pii_filter
    pii_filter = PiiFilter(policy, secret)

    def make_masked_record(self, *args, **kwargs) -> logging.LogRecord:
        record = make_record(self, *args, **kwargs)
        pii_filter.filter(record)
        return record

    setattr(make_masked_record, _MARK, True)
    make_masked_record.pii_filter, make_masked_record.unmasked = pii_filter, make_record
    logging.Logger.makeRecord = make_masked_record
    return pii_filter


def unmask_log_records() -> None:
    """Undo ``mask_every_log_record`` (a server that stops leaves logging as it found it)."""
    make_record = logging.Logger.makeRecord
    if getattr(make_record, _MARK, False):
        logging.Logger.makeRecord = make_record.unmasked


def safe_message(exc: BaseException, policy: str = "mask") -> str:
    """The exception's message on one line with personal data masked (its type when it has no message)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return mask_text(text, policy)


def mask_obj(obj: Any, policy: str = "mask") -> Any:
    """A copy of a JSON-like object (dicts, lists, tuples, strings) with every string masked; keys too."""
    if isinstance(obj, str):
        return mask_text(obj, policy)
    if isinstance(obj, dict):
        return {mask_obj(k, policy): mask_obj(v, policy) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(mask_obj(v, policy) for v in obj)
    return obj
