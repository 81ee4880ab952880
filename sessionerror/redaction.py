"""Scrub secrets from technical details and URLs before they are stored or printed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "is_secret_key", "mask_url_password", "redact", "redact_text"]

REDACTED = "[REDACTED]"

# Key names (normalised: lower case, "-" and " " as "_") whose values are secrets.
_SECRET_KEY = re.compile(
    r"(^|_)(authorization|proxy_authorization|cookie|set_cookie|password|passwd|pwd|secret|"
    r"client_secret|token|access_token|refresh_token|id_token|auth_token|api_key|apikey|"
    r"x_api_key|private_key|credentials?|session_key|signature)($|_)"
)
# scheme://user:password@host  ->  scheme://user:***@host
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s/]+)(?=@)")
# ...?password=secret&...  (libpq and SQLAlchemy both accept the password as a query parameter)
_QUERY_PASSWORD = re.compile(r"(?i)(?P<head>[?&](?:password|passwd|pwd)=)(?P<pw>[^&#\s]+)")
# Authorization: Bearer abc / Basic abc inside free text (stack traces, logged requests).
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9\-._~+/]+=*")
# key=value / key: value / "key": "value" pairs inside free text.
_INLINE_SECRET = re.compile(
    r"(?i)(?P<key>\b(?:password|passwd|pwd|secret|client_secret|token|access_token|"
    r"refresh_token|api[_-]?key|x-api-key|authorization|cookie)\b[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>[^\s\"'&,;}]+)"
)


def is_secret_key(key: str) -> bool:
    """True if a mapping key names a secret (``Authorization``, ``api_key``, ``password``, ...)."""
    normalised = re.sub(r"[\s\-]+", "_", key.strip().lower())
    return bool(_SECRET_KEY.search(normalised))


def mask_url_password(url: str) -> str:
    """Replace every password in ``url`` by ``***``: ``user:password@`` and ``?password=``."""
    masked = _URL_PASSWORD.sub(lambda m: m.group("head") + "***", url)
    return _QUERY_PASSWORD.sub(lambda m: m.group("head") + "***", masked)


def redact_text(text: str) -> str:
    """Redact secrets that appear inside free text: URL passwords, auth schemes, key=value pairs."""
    text = mask_url_password(text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _INLINE_SECRET.sub(lambda m: m.group("key") + REDACTED, text)


def redact(value: Any) -> Any:
    """Return a copy of a JSON-like value with secrets replaced by ``[REDACTED]`` at any depth.

    Mapping values under secret keys are replaced whole; strings are scrubbed with
    :func:`redact_text`; ``[name, value]`` header pairs with a secret name are redacted too.
    """
    if isinstance(value, Mapping):
        return {
            key: (
                REDACTED
                if isinstance(key, str) and is_secret_key(key) and item not in (None, "")
                else redact(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        if (
            len(value) == 2
            and isinstance(value[0], str)
            and is_secret_key(value[0])
            and isinstance(value[1], str)
        ):
            return [value[0], REDACTED]
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
