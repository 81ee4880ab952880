"""Database URL helpers shared by the CLI, the scenarios and the backends."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

from sessionerror.models.redaction import mask_url_password

__all__ = [
    "POSTGRES_DRIVERS",
    "SecretURL",
    "explicit_driver",
    "hide_url_secrets",
    "mask_url",
    "normalise_postgres_url",
    "url_secrets",
]

#: URL scheme (lower case) -> the SQLAlchemy scheme it means. The one rule for "a bare
#: ``postgresql://`` / ``postgres://`` URL means psycopg2": SQLAlchemy 2.1 would map it to
#: psycopg 3, which sessionerror does not depend on.
POSTGRES_DRIVERS = {
    "postgresql": "postgresql+psycopg2",
    "postgres": "postgresql+psycopg2",
    "postgresql+psycopg2": "postgresql+psycopg2",
    "postgres+psycopg2": "postgresql+psycopg2",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgres+psycopg": "postgresql+psycopg",
}


def explicit_driver(url: str) -> str:
    """``url`` with its PostgreSQL driver spelled out (:data:`POSTGRES_DRIVERS`).

    Bare ``postgres://`` / ``postgresql://`` become ``postgresql+psycopg2://``; URLs of other
    drivers and other databases are returned unchanged (stripped).
    """
    stripped = url.strip()
    scheme, separator, rest = stripped.partition("://")
    target = POSTGRES_DRIVERS.get(scheme.lower()) if separator else None
    return f"{target}://{rest}" if target is not None else stripped


def normalise_postgres_url(url: str) -> str:
    """Return ``url`` with an explicit driver, strictly: it must be a PostgreSQL URL.

    The driver is chosen by :data:`POSTGRES_DRIVERS` (as in :func:`explicit_driver`). Raises
    ``ValueError`` (password masked) for anything that is not a psycopg2/psycopg URL.
    """
    text = url.strip()
    scheme, separator, _rest = text.partition("://")
    if not separator:
        raise ValueError(
            f"not a PostgreSQL URL: {mask_url(text)!r}; "
            "expected postgresql://user:pw@host:port/dbname"
        )
    if scheme.lower() not in POSTGRES_DRIVERS:
        raise ValueError(
            f"unsupported URL scheme {scheme!r} in {mask_url(text)!r}; use "
            "postgresql:// (psycopg2), postgresql+psycopg2:// or postgresql+psycopg://"
        )
    normalised = explicit_driver(text)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(normalised)
    except (ArgumentError, ValueError):
        raise ValueError(f"malformed PostgreSQL URL {mask_url(text)!r}") from None
    return normalised


_QUERY_SECRET = re.compile(r"(?i)[?&](?:password|passwd|pwd)=([^&#]*)")
# user:password@ without a well-formed scheme in front (``postgresql//u:pw@h``, ``u:pw@h``).
_LOOSE_USERINFO = re.compile(r"(?P<head>(?://|(?<![^\s'\"=]))[^\s:/@'\"]+:)[^\s'\"@/]+(?=@)")
# Literal secrets shorter than this are left to the structural masking: replacing every "a"
# of a message would make it unreadable.
_MIN_LITERAL = 3


def url_secrets(text: str) -> set[str]:
    """The passwords a user-given URL (possibly malformed) carries, raw and percent-decoded.

    Tolerant of typos: ``postgresql//user:pw@host`` and ``user:pw@host`` yield ``pw``; the
    password is everything between the first ``:`` of the user info and the last ``@``.
    """
    secrets: set[str] = set()
    for value in _QUERY_SECRET.findall(text):
        secrets.add(value)
    head = text.split("?", 1)[0] if "?" in text.rsplit("@", 1)[-1] else text
    if "@" in head:
        userinfo = head.rsplit("@", 1)[0]
        if "//" in userinfo:
            userinfo = userinfo.rsplit("//", 1)[1]
        elif userinfo.count(":") > 1:
            userinfo = userinfo.split(":", 1)[1]  # "scheme:user:pw"
        if ":" in userinfo:
            secrets.add(userinfo.split(":", 1)[1])
    return {form for secret in secrets if secret for form in (secret, unquote(secret))}


def hide_url_secrets(text: str, sources: Iterable[str] = ()) -> str:
    """``text`` with URL passwords masked as ``***``, for anything printed to a user.

    Replaces every literal password found in ``sources`` (the URLs and arguments the user
    gave) wherever it appears in ``text``, then applies
    :func:`~sessionerror.models.redaction.mask_url_password`, then masks ``user:password@`` in
    malformed URLs too (``postgresql//user:pw@host``).
    """
    secrets = {secret for source in sources for secret in url_secrets(source)}
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_LITERAL:
            text = text.replace(secret, "***")
    return _LOOSE_USERINFO.sub(lambda m: m.group("head") + "***", mask_url_password(text))


def mask_url(url: str) -> str:
    """``url`` safe to print: its password (even one holding ``/`` or ``@``) and any
    ``?password=`` replaced by ``***``."""
    masked = hide_url_secrets(url, [url])
    try:
        from sqlalchemy.engine import make_url

        password = make_url(url).password
    except Exception:  # not a URL SQLAlchemy reads: the text rules above did the work
        password = None
    if password and len(password) >= _MIN_LITERAL:
        masked = masked.replace(password, "***")
    return masked


class SecretURL:
    """A database URL whose ``repr()`` and ``str()`` are masked.

    Hold URLs in one of these so tracebacks (``pytest -l`` shows local variables) and logs
    never show the password; :meth:`reveal` gives the real URL to the one place that connects.
    """

    __slots__ = ("_url",)

    def __init__(self, url: str | SecretURL) -> None:
        self._url = url.reveal() if isinstance(url, SecretURL) else str(url)

    def reveal(self) -> str:
        """The URL with its password: pass it to the driver, never print it."""
        return self._url

    def __str__(self) -> str:
        return mask_url(self._url)

    def __repr__(self) -> str:
        return f"SecretURL({mask_url(self._url)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretURL) and other._url == self._url

    def __hash__(self) -> int:
        return hash(self._url)
