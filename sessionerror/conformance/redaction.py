"""The kit's redaction clause: secrets in ``technical_details`` never reach the database.

Spec §4 stores stack traces and API responses in ``technical_details``; the kit's contract adds
that passwords, tokens and keys in them are redacted before the write (docs: Redaction).
"""

from __future__ import annotations

from sessionerror.conformance.harness import Harness
from sessionerror.conformance.report import ClauseResult, fail, passed

__all__ = ["check_redaction"]

_TITLE = "technical_details: secrets redacted before storage"
#: Secret values planted in the details; none may be stored.
SECRETS = ("hunter2-conformance", "Sw0rdfish-conformance", "sk_live_51Conformance0123456789")


def check_redaction(harness: Harness) -> ClauseResult:
    """Store details holding a password, a URL password and an API key; read the stored JSON."""
    details = {
        "password": SECRETS[0],
        "trace": f"POST https://bob:{SECRETS[1]}@api.example.com/upload failed",
        "api_key": SECRETS[2],
        "status": 502,
    }
    with harness.orm() as db:
        parents = harness.parents(db)
        error = harness.add_error(db, parents.session_1, technical_details=details)
        stored = str(harness.stored(db, error.id, "technical_details"))
    leaked = [secret for secret in SECRETS if secret in stored]
    expected = "no password, URL password or API key in the stored JSON"
    if leaked:
        return fail(
            "kit.redaction",
            _TITLE,
            f"stored {len(leaked)} of {len(SECRETS)} planted secrets ({', '.join(leaked)})",
            expected,
            "redact before the write: technical_details = sessionerror.redaction.redact(value) "
            "in a @validates or before_insert hook (SessionErrorMixin does it)",
        )
    return passed("kit.redaction", _TITLE, expected)
