"""Which names are secret (mapping keys, header names such as ``Authorization`` or ``apiKey``),
and what a secret is replaced by (:data:`REDACTED`; :data:`MASK` for URL passwords and tokens)."""

from __future__ import annotations

import re

__all__ = [
    "HEADER_NAME",
    "MASK",
    "REDACTED",
    "SECRET_KEY_STEMS",
    "is_secret_header_name",
    "is_secret_key",
]

#: What a secret value is replaced by.
REDACTED = "[REDACTED]"
#: What a URL password, a URL's token user name or an auth-scheme credential is replaced by.
MASK = "***"

#: Key-name words that make any key containing them (even inside a word) secret.
_STRONG_SUBSTRINGS = ("password", "passwd", "passphrase", "apikey", "privatekey")
#: Words that make a key secret wherever they appear among its words.
_STRONG_WORDS = frozenset(
    {"secret", "secrets", "credential", "credentials", "authorization", "cookie", "cookies"}
)
#: Words that make a key secret only as its last word (``access_token``, not ``token_type``).
_LAST_WORDS = frozenset(
    {"pwd", "pass", "passcode", "token", "auth", "signature", "jwt", "sig", "otp"}
)
#: Last two words naming a key (``api_key``, ``ssh_key``...): ``key`` alone is not secret.
_KEY_QUALIFIERS = frozenset(
    {
        "api",
        "private",
        "secret",
        "ssh",
        "session",
        "signing",
        "encryption",
        "master",
        "auth",
        "account",
        "shared",
        "app",
        "license",
        "access",
    }
)
#: Cheap pre-filter: a key that contains none of these cannot be secret.
SECRET_KEY_STEMS = (
    *("pass", "pwd", "secret", "credential", "auth", "cookie", "token", "sig", "key"),
    *("jwt", "otp"),
)
_CAMEL_LOWER_UPPER = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_CAMEL_ACRONYM = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
#: A header-like name (``X-Api-Key``), as opposed to a sentence.
HEADER_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def _key_words(key: str) -> list[str]:
    """``secretAccessKey`` / ``Secret-Access Key`` / ``SECRET_ACCESS_KEY`` -> its lower words."""
    spaced = _CAMEL_ACRONYM.sub("_", _CAMEL_LOWER_UPPER.sub("_", key))
    return [word for word in _SEPARATORS.split(spaced.lower()) if word]


def is_secret_key(key: str) -> bool:
    """True if a mapping key names a secret (``Authorization``, ``apiKey``, ``db_password``...).

    Case and separators are normalised first (camelCase, kebab-case, spaces -> snake_case).
    ``key``, ``token_type`` or ``tokenizer`` are not secret; ``ssh_key``, ``access_token``,
    ``PGPASSWORD`` and ``secretAccessKey`` are.
    """
    lowered = key.lower()
    if not any(stem in lowered for stem in SECRET_KEY_STEMS):
        return False
    words = _key_words(key) if key != lowered else _SEPARATORS.split(lowered)
    words = [word for word in words if word]
    if not words:
        return False
    joined = "".join(words)
    if any(part in joined for part in _STRONG_SUBSTRINGS):
        return True
    if any(word in _STRONG_WORDS for word in words) or words[-1] in _LAST_WORDS:
        return True
    return words[-1] == "key" and len(words) > 1 and words[-2] in _KEY_QUALIFIERS


def is_secret_header_name(value: object) -> bool:
    """True for a header-like name of a secret (``X-Api-Key``), not for a sentence."""
    return (
        isinstance(value, str) and HEADER_NAME.fullmatch(value) is not None and is_secret_key(value)
    )
