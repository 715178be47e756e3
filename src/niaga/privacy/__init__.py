"""Personal data (PII) in Indonesian text and tables: find it, mask it, pseudonymize it, keep it out of logs.

A shared layer: the store, the server and every capability may call it; it imports none of them.

    from niaga.privacy import find_pii, mask_text, mask_frame, scan_frame, install_log_filter, safe_message
    find_pii("wa 0812-3456-7890 ya kak")      # [Finding(kind='phone', start=3, end=17, ...)]
    mask_text("wa 0812-3456-7890 ya kak")     # 'wa [PHONE] ya kak'

Kinds: nik, phone, email, card, bank_account, address. Policies: mask, partial, pseudonymize (HMAC-SHA256
keyed by $NIAGA_PRIVACY_SECRET), drop. See docs/privacy.md.
"""

from niaga.privacy.detect import KINDS, Finding, find_pii
from niaga.privacy.frame import find_in_frame, mask_frame, scan_frame
from niaga.privacy.logs import (PiiFilter, install_log_filter, mask_every_log_record, mask_obj, safe_message,
                                unmask_log_records)
from niaga.privacy.mask import POLICIES, SECRET_ENV, SECRET_FILE_ENV, PrivacyError, load_secret, mask_text, pseudonym

__all__ = ["KINDS", "POLICIES", "SECRET_ENV", "SECRET_FILE_ENV", "Finding", "PiiFilter", "PrivacyError", "find_in_frame",
           "find_pii", "install_log_filter", "load_secret", "mask_every_log_record", "mask_frame", "mask_obj",
           "mask_text", "pseudonym", "safe_message", "scan_frame", "unmask_log_records"]
