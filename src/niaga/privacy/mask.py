"""Replacing personal data: masked, pseudonymized with a keyed hash, or dropped.

Policies (``POLICIES``):

- ``mask``: a label for the kind, ``[PHONE]``, ``[NIK]``, ``[EMAIL]``, ...
- ``partial``: the shape stays and most characters become ``*``: ``0812-****-*890``, ``3273************``
  (province and regency only), ``**** **** **** 1111``, ``b***@gmail.com``, ``Jl. ***``.
- ``pseudonymize``: ``[PHONE:5f0c6d8a2b9e41c7]``, the first 16 hex digits of HMAC-SHA256 over the kind and
  the value in one canonical form (``+62 812-3456-7890`` and ``081234567890`` are the same number), keyed by a
  secret. The same value gives the same pseudonym on every run with the same secret, so tables still join;
  without the secret a pseudonym cannot be reversed or recomputed from a guessed value. The secret comes from
  the environment variable ``NIAGA_PRIVACY_SECRET`` (or a file named by ``NIAGA_PRIVACY_SECRET_FILE``), never
  from the command line, where it would land in the shell history; there is no default secret.
- ``drop``: the value is removed from the text.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

from niaga.errors import NiagaError
from niaga.privacy.detect import Finding, find_pii
from niaga.privacy.validators import national_phone

POLICIES = ("mask", "partial", "pseudonymize", "drop")
SECRET_ENV = "NIAGA_PRIVACY_SECRET"
SECRET_FILE_ENV = "NIAGA_PRIVACY_SECRET_FILE"
MIN_SECRET_CHARS = 16
PSEUDONYM_HEX = 16


class PrivacyError(NiagaError):
    """Personal data cannot be handled as asked (no secret to pseudonymize with, an unknown policy)."""


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise PrivacyError(f"unknown privacy policy {policy!r}; choose one of {', '.join(POLICIES)}")
    return policy


def load_secret(secret: str | bytes | None = None) -> bytes:
    """The pseudonymization key: ``secret`` when given, else $NIAGA_PRIVACY_SECRET, else the contents of the file
    $NIAGA_PRIVACY_SECRET_FILE names. Refused when there is none or it is shorter than 16 characters."""
    source = "the secret given"
    if secret is None:
        if os.environ.get(SECRET_ENV):
            secret, source = os.environ[SECRET_ENV], f"${SECRET_ENV}"
        elif os.environ.get(SECRET_FILE_ENV):
            path = Path(os.environ[SECRET_FILE_ENV]).expanduser()
            try:
                secret, source = path.read_text(encoding="utf-8").strip(), f"the file ${SECRET_FILE_ENV} names"
            except OSError as exc:
                raise PrivacyError(f"${SECRET_FILE_ENV}={path}: cannot be read ({exc.strerror})") from exc
        else:
            raise PrivacyError(f"pseudonymizing needs a secret key: set {SECRET_ENV} (at least {MIN_SECRET_CHARS} "
                               f"characters, e.g. from 'python -c \"import secrets; print(secrets.token_hex(32))\"') "
                               f"or {SECRET_FILE_ENV}; keep it, or the pseudonyms cannot be matched again")
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(key) < MIN_SECRET_CHARS:
        raise PrivacyError(f"{source} is too short to key pseudonyms: use at least {MIN_SECRET_CHARS} characters")
    return key


_NON_DIGIT = re.compile(r"\D")
_SPACES = re.compile(r"\s+")


def canonical(kind: str, value: str) -> str:
    """One spelling per value, so that the pseudonym does not depend on how it was typed."""
    if kind == "phone":
        digits = _NON_DIGIT.sub("", value)
        national = national_phone(digits, international=value.lstrip().startswith("+") or digits.startswith("62"))
        return "62" + (national or digits.lstrip("0"))
    if kind in ("nik", "card", "bank_account"):
        return _NON_DIGIT.sub("", value)
    if kind == "email":
        return value.strip().lower()
    return _SPACES.sub(" ", re.sub(r"[^\w/ ]", " ", value.casefold())).strip()


def pseudonym(kind: str, value: str, key: bytes) -> str:
    digest = hmac.new(key, f"{kind}\x1f{canonical(kind, value)}".encode("utf-8"), hashlib.sha256).hexdigest()
    return f"[{kind.upper()}:{digest[:PSEUDONYM_HEX]}]"


def _star_digits(value: str, keep_first: int, keep_last: int) -> str:
    positions = [i for i, ch in enumerate(value) if ch.isdigit()]
    hidden = set(positions[keep_first:len(positions) - keep_last if keep_last else None])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def partial(finding: Finding) -> str:
    """The value with most of it starred: enough to recognise its shape, never enough to identify anyone."""
    value = finding.value
    if finding.kind == "phone":
        digits = _NON_DIGIT.sub("", value)
        lead = 4 if digits.startswith("0") else 5  # 0812 / 62812: the operator, not the person
        return _star_digits(value, lead, 3)
    if finding.kind == "nik":
        return _star_digits(value, 4, 0)  # province and regency
    if finding.kind in ("card", "bank_account"):
        return _star_digits(value, 0, 4 if finding.kind == "card" else 3)
    if finding.kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return value.split()[0] + " ***" if value.split() else "***"


def replacement(finding: Finding, policy: str, key: bytes | None = None) -> str:
    if policy == "mask":
        return f"[{finding.kind.upper()}]"
    if policy == "partial":
        return partial(finding)
    if policy == "pseudonymize":
        if key is None:
            raise PrivacyError("pseudonymizing needs a secret key (see load_secret)")
        return pseudonym(finding.kind, finding.value, key)
    if policy == "drop":
        return ""
    raise PrivacyError(f"unknown privacy policy {policy!r}; choose one of {', '.join(POLICIES)}")


def apply(text: str, findings: list[Finding], policy: str, key: bytes | None = None) -> str:
    """``text`` with each finding replaced as ``policy`` says."""
    out, last = [], 0
    for f in findings:
        out.append(text[last:f.start])
        new = replacement(f, policy, key)
        if not new and out[-1].endswith(" ") and text[f.end:f.end + 1] in (" ", ""):
            out[-1] = out[-1][:-1]  # "hp  ya" would keep two spaces where the number was
        out.append(new)
        last = f.end
    out.append(text[last:])
    return "".join(out)


def mask_text(text: str, policy: str = "mask", *, secret: str | bytes | None = None,
              kinds: tuple[str, ...] | list[str] | None = None) -> str:
    """``text`` with every piece of personal data replaced as ``policy`` says (mask, partial, pseudonymize,
    drop). Pseudonymizing without a secret (argument, $NIAGA_PRIVACY_SECRET) raises PrivacyError."""
    check_policy(policy)
    key = load_secret(secret) if policy == "pseudonymize" else None
    if not isinstance(text, str):
        return text
    findings = find_pii(text, kinds)
    return apply(text, findings, policy, key) if findings else text
