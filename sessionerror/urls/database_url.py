"""One database URL, read once at the edge: :class:`DatabaseURL`.

The user's text (or an Engine's URL) is read into one immutable value that knows its masked
text, its backend and driver, and its sync and async forms; only :meth:`DatabaseURL.reveal`
gives the password back, to the one place that connects. Plain Python: SQLAlchemy is imported
only by :meth:`DatabaseURL.parse` and the masking of ``str()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sessionerror.redaction import URLSecrets, mask_url
from sessionerror.urls.drivers import (
    ASYNC_TO_SYNC_DRIVER,
    POSTGRES_DRIVERS,
    SYNC_TO_ASYNC_DRIVER,
    driver_package,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = ["DatabaseURL"]


def _split(text: str) -> tuple[str, str]:
    """``(scheme, rest)`` of ``text`` stripped, the scheme lower-cased (``""`` if none)."""
    scheme, separator, rest = text.strip().partition("://")
    return (scheme.lower(), rest) if separator else ("", text.strip())


def _sync_text(text: str) -> str:
    """``text`` through a sync driver, spelled out: only the scheme changes."""
    scheme, rest = _split(text)
    sync = ASYNC_TO_SYNC_DRIVER.get(scheme)  # sqlite+aiosqlite -> sqlite: not in the table below
    target = POSTGRES_DRIVERS.get(sync or scheme, sync)
    return f"{target}://{rest}" if target is not None else text.strip()


def _async_driver(drivername: str) -> str:
    """The async driver for a sync driver name; ValueError naming the supported ones."""
    if drivername in ASYNC_TO_SYNC_DRIVER:
        return drivername
    try:
        return SYNC_TO_ASYNC_DRIVER[drivername]
    except KeyError:
        raise ValueError(
            f"no async driver is known for {drivername!r}; supported: "
            f"{', '.join(sorted(SYNC_TO_ASYNC_DRIVER))}"
        ) from None


def _text_of(url: object) -> str:
    """The full text of ``url``: a string, a :class:`DatabaseURL` or a SQLAlchemy ``URL``."""
    if isinstance(url, DatabaseURL):
        return url.reveal()
    if isinstance(url, str):
        return url
    render = getattr(url, "render_as_string", None)
    if callable(render):  # sqlalchemy.engine.URL: str() would hide the password as "***"
        return str(render(hide_password=False))
    raise TypeError(f"a database URL must be a string or a URL, got {type(url).__name__}")


class DatabaseURL:
    """A database URL whose ``str()`` and ``repr()`` are masked; :meth:`reveal` connects.

    Hold URLs in one of these so tracebacks (``pytest -l`` shows local variables) and logs never
    show the password. Built once from what the user gave (kept as given, for messages); the
    forms the kit connects with (:meth:`to_sync`, :meth:`to_async`) are new values.
    """

    __slots__ = ("_masked", "_secrets", "_text")

    _text: str
    _masked: str | None
    _secrets: URLSecrets | None

    def __init__(self, url: str | DatabaseURL | URL | Any) -> None:
        object.__setattr__(self, "_text", _text_of(url))
        object.__setattr__(self, "_masked", None)
        object.__setattr__(self, "_secrets", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"DatabaseURL is immutable (cannot set {name!r})")

    # -- what the URL says ---------------------------------------------------------------------
    @property
    def scheme(self) -> str:
        """The scheme as written, lower-cased (``postgresql+asyncpg``; ``""`` if none)."""
        scheme, separator, _rest = self._text.strip().partition("://")
        return scheme.lower() if separator else ""

    @property
    def driver(self) -> str:
        """The SQLAlchemy driver name, spelled out (``postgresql`` -> ``postgresql+psycopg2``)."""
        return POSTGRES_DRIVERS.get(self.scheme, self.scheme)

    @property
    def backend(self) -> str:
        """The database kind: ``postgresql``, ``sqlite`` ... (``""`` without a scheme)."""
        return self.driver.partition("+")[0]

    @property
    def is_async(self) -> bool:
        """True if the URL names an async driver the kit maps to a sync one."""
        return self.scheme in ASYNC_TO_SYNC_DRIVER

    @property
    def is_empty(self) -> bool:
        """True if the user gave no URL (only whitespace)."""
        return not self._text.strip()

    @property
    def driver_package(self) -> str:
        """What to install for this URL's driver, for "install it" messages."""
        return driver_package(self.driver)

    # -- its other forms -----------------------------------------------------------------------
    def to_sync(self) -> DatabaseURL:
        """The same database through a sync driver, spelled out (``+asyncpg`` -> ``+psycopg2``,
        ``sqlite+aiosqlite`` -> ``sqlite``, bare ``postgresql`` -> ``postgresql+psycopg2``)."""
        return DatabaseURL(_sync_text(self._text))

    def to_async(self) -> DatabaseURL:
        """The same database through the async driver the kit uses (``ValueError`` if none)."""
        sync = self.to_sync()
        _scheme, _sep, rest = sync._text.partition("://")
        return DatabaseURL(f"{_async_driver(sync.driver)}://{rest}")

    def require_postgres(self) -> DatabaseURL:
        """This URL with its PostgreSQL driver spelled out (psycopg2 for a bare
        ``postgresql://``); ``ValueError`` (password masked) unless it is a well-formed
        psycopg2 / psycopg URL. Async drivers are refused: call :meth:`to_sync` first."""
        text = self._text.strip()
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
        explicit = DatabaseURL(_sync_text(text))
        from sqlalchemy.exc import ArgumentError

        try:
            explicit.parse()
        except (ArgumentError, ValueError):
            raise ValueError(f"malformed PostgreSQL URL {mask_url(text)!r}") from None
        return explicit

    def parse(self) -> URL:
        """SQLAlchemy's ``URL`` of this text (``ArgumentError`` / ``ValueError`` if malformed)."""
        from sqlalchemy.engine import make_url

        return make_url(self._text.strip())

    # -- secrets -------------------------------------------------------------------------------
    def reveal(self) -> str:
        """The URL with its password: pass it to the driver, never print it."""
        return self._text

    def hide(self, text: str) -> str:
        """``text`` with this URL's password (and every piece of it) masked as ``***``."""
        if self._secrets is None:
            object.__setattr__(self, "_secrets", URLSecrets(self._text))
        assert self._secrets is not None
        return self._secrets.scrub(text)

    def masked_with(self, *others: DatabaseURL) -> str:
        """The URL as given (stripped) with its password, and those of ``others`` (the same
        database as a driver rendered it), masked as ``***``."""
        secrets = URLSecrets(self._text, *(other.reveal() for other in others))
        return secrets.scrub(self._text.strip())

    @property
    def masked(self) -> str:
        """The URL safe to print (``str()``): password and ``?password=`` as ``***``."""
        if self._masked is None:
            object.__setattr__(self, "_masked", mask_url(self._text))
        assert self._masked is not None
        return self._masked

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"DatabaseURL({self.masked!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatabaseURL) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)

    def __reduce__(self) -> tuple[type[DatabaseURL], tuple[str]]:
        # Immutable (no __setattr__): copy and pickle (a process pool) rebuild it from its text.
        return (DatabaseURL, (self._text,))
