"""Database URL helpers shared by the CLI, the scenarios and the backends."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

__all__ = [
    "ASYNC_TO_SYNC_DRIVER",
    "DRIVER_PACKAGES",
    "POSTGRES_DRIVERS",
    "SYNC_TO_ASYNC_DRIVER",
    "SecretURL",
    "async_drivername",
    "driver_package",
    "explicit_driver",
    "hide_url_secrets",
    "is_async_url",
    "mask_url",
    "mask_url_password",
    "normalise_postgres_url",
    "sync_url",
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
    :func:`mask_url_password`, then masks ``user:password@`` in
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


# -- masking URL passwords ---------------------------------------------------------------------
# Linear in the size of the text: candidates are found with ``str.find`` or literal-anchored,
# bounded, possessive patterns; scanning always resumes after what was examined.

_MASK = "***"
# ?password=... / &pwd=... (libpq and SQLAlchemy accept the password as a query parameter).
_QUERY_PASSWORD = re.compile(r"(?i)[?&](?:password|passwd|pwd)=")
_QUERY_VALUE = re.compile(r"[^&#\s\"'<>]*+")
#: Trailing punctuation that ends a sentence rather than a value (kept after the mask).
_TRAILING = ":;,.)]}!?"
# The scheme at the start of a URL, tolerant of typos: ``scheme://``, ``scheme:/``, ``scheme//``.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}+(?:://?|//)")
# Where a URL-ish word ends: whitespace, quotes, angle brackets, backticks.
_WORD_END = re.compile(r"[\s\"'<>`]")
# From a position, everything up to and including the last word delimiter (one anchored match).
_LAST_DELIMITER = re.compile(r"(?s).*[\s\"'<>`]")


def _mask_userinfo(text: str) -> str:
    """Mask the password of every ``user:password@host`` however malformed the URL around it."""
    out: list[str] = []
    done = 0  # text[:done] is already in ``out``
    pos = 0
    length = len(text)
    while True:
        first_at = text.find("@", pos)
        if first_at < 0:
            break
        # The word holding this "@": delimited by whitespace, quotes, <>, backticks.
        delimiter = _LAST_DELIMITER.match(text, pos, first_at)
        word_start = delimiter.end() if delimiter else pos
        end_match = _WORD_END.search(text, first_at)
        word_end = end_match.start() if end_match else length
        span = _password_span(text, word_start, first_at, word_end)
        if span is not None:
            out.append(text[done : span[0]])
            out.append(_MASK)
            done = span[1]
        pos = word_end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def _password_span(text: str, start: int, first_at: int, end: int) -> tuple[int, int] | None:
    """The password's (start, end) in the word ``text[start:end]``, or None if it has none."""
    authority = text.find("://", start, first_at)
    if authority >= 0:
        start = authority + 3
    else:
        colon = text.find(":", start, first_at)
        if colon < 0:
            return None
        equals = text.rfind("=", start, colon)  # DATABASE_URL=user:pw@host
        start = equals + 1 if equals >= 0 else start
        while start < first_at and text[start] in "([{,;":
            start += 1
        scheme = _SCHEME.match(text, start, first_at)
        if scheme is not None:  # typos: scheme:/user:pw@host, scheme//user:pw@host
            start = scheme.end()
    # The userinfo ends at the LAST "@" before the query; a raw "@" or "/" may be in the password.
    query = len(text)
    for mark in "?#":
        found = text.find(mark, first_at, end)
        if 0 <= found < query:
            query = found
    last_at = text.rfind("@", first_at, min(query, end))
    if last_at < 0:
        last_at = first_at
    colon = text.find(":", start, last_at)
    if colon < 0 or colon + 1 >= last_at:
        return None
    if text[start:colon].lower() == "mailto":
        return None
    return colon + 1, last_at


def _mask_query_passwords(text: str) -> str:
    """Mask ``?password=...`` / ``&pwd=...`` values, keeping punctuation that ends a sentence."""
    out: list[str] = []
    done = 0
    for match in _QUERY_PASSWORD.finditer(text):
        value_start = match.end()
        if value_start < done:
            continue
        value = _QUERY_VALUE.match(text, value_start)
        value_end = value.end() if value else value_start
        next_char = text[value_end : value_end + 1]
        if not next_char or next_char.isspace() or next_char in "\"'<>":
            while value_end > value_start and text[value_end - 1] in _TRAILING:
                value_end -= 1
        if value_end == value_start or text.startswith(_MASK, value_start):
            continue
        out.append(text[done:value_start])
        out.append(_MASK)
        done = value_end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def mask_url_password(url: str) -> str:
    """Replace every password in ``url`` (or a text holding URLs) by ``***``.

    Masks ``user:password@host`` however malformed the URL is (no scheme, ``scheme:/`` or
    ``scheme//`` typos, a raw ``/`` or ``@`` in the password: the last ``@`` before the query
    ends the userinfo) and ``?password=`` / ``&pwd=`` query values.
    """
    if "@" in url:
        url = _mask_userinfo(url)
    if "=" in url:
        url = _mask_query_passwords(url)
    return url


# -- async <-> sync drivers (one rule for the CLI, the checker and the async fixtures) --------

#: Each async driver and the sync driver that reaches the same database.
ASYNC_TO_SYNC_DRIVER: dict[str, str] = {
    "postgresql+asyncpg": "postgresql+psycopg2",
    "postgresql+psycopg_async": "postgresql+psycopg",
    "sqlite+aiosqlite": "sqlite",
}
#: The async driver the test fixtures use for each backend.
SYNC_TO_ASYNC_DRIVER: dict[str, str] = {
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+psycopg_async",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
}
#: pip package that provides each driver name, for "install it" messages.
DRIVER_PACKAGES: dict[str, str] = {
    "psycopg2": 'psycopg2-binary (pip install "sessionerror[postgres]")',
    "psycopg": 'psycopg (pip install "psycopg[binary]")',
    "psycopg_async": 'psycopg (pip install "psycopg[binary]")',
    "asyncpg": 'asyncpg (pip install "sessionerror[async]")',
    "aiosqlite": 'aiosqlite (pip install "sessionerror[async]")',
}


def _scheme(url: str) -> tuple[str, str]:
    """``(scheme, rest)`` of ``url``, the scheme lower-cased (``"postgresql+asyncpg"``)."""
    scheme, sep, rest = url.strip().partition("://")
    return (scheme.lower(), rest) if sep else ("", url.strip())


def is_async_url(url: str) -> bool:
    """True if ``url`` names one of the async drivers sessionerror maps to a sync one."""
    return _scheme(url)[0] in ASYNC_TO_SYNC_DRIVER


def sync_url(url: str) -> str:
    """``url`` with an async driver replaced by the sync driver of the same database.

    ``postgresql+asyncpg://`` -> ``postgresql+psycopg2://``, ``postgresql+psycopg_async://`` ->
    ``postgresql+psycopg://``, ``sqlite+aiosqlite://`` -> ``sqlite://``; anything else unchanged.
    Only the scheme changes: user, password, host, database and query stay as written.
    """
    scheme, rest = _scheme(url)
    if scheme not in ASYNC_TO_SYNC_DRIVER:
        return url
    return f"{ASYNC_TO_SYNC_DRIVER[scheme]}://{rest}"


def async_drivername(drivername: str) -> str:
    """The async driver for a sync SQLAlchemy driver name (``postgresql+psycopg2`` -> asyncpg).

    Raises ValueError naming the supported drivers for anything else.
    """
    if drivername in ASYNC_TO_SYNC_DRIVER:
        return drivername
    try:
        return SYNC_TO_ASYNC_DRIVER[drivername]
    except KeyError:
        raise ValueError(
            f"no async driver is known for {drivername!r}; supported: "
            f"{', '.join(sorted(SYNC_TO_ASYNC_DRIVER))}"
        ) from None


def driver_package(drivername: str) -> str:
    """The package to install for a SQLAlchemy driver name, for error messages."""
    driver = drivername.partition("+")[2] or {"postgresql": "psycopg", "sqlite": ""}.get(
        drivername, ""
    )
    return DRIVER_PACKAGES.get(driver, driver or drivername)
