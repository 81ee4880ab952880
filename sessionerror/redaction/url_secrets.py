"""Hide the passwords of user-given URLs: :class:`URLSecrets` knows them (and every piece a
parser could cut from them) and scrubs any text of them; :func:`mask_url` masks one URL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Protocol, runtime_checkable
from urllib.parse import unquote

from sessionerror.redaction.keys import MASK as _MASK
from sessionerror.redaction.url_passwords import mask_url_password

__all__ = ["Revealable", "URLSecrets", "hide_url_secrets", "mask_url", "url_secrets"]


@runtime_checkable
class Revealable(Protocol):
    """A value holding a secret URL it prints masked (:class:`sessionerror.urls.DatabaseURL`)."""

    def reveal(self) -> str:
        """The URL with its password."""
        ...


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
    secrets: set[str] = set(_QUERY_SECRET.findall(text))
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


# Where a parser may cut a password that holds them raw: libpq and SQLAlchemy end the password
# at the first "@" (the rest becomes the host), a ":" or "/" may start a port or a path.
_CUT = re.compile(r"([@:/?#])")
# More cuts than this: the runs of whole pieces would be too many; single pieces still count.
_MAX_PIECES = 16


def _fragments(secret: str) -> dict[str, str]:
    """Each text a parser can make of ``secret`` (its runs of whole pieces between ``@ : / ? #``),
    quoted forms included, mapped to its replacement."""
    parts = _CUT.split(secret)
    pieces, cuts = parts[0::2], parts[1::2]
    runs: dict[str, str] = {}
    for i, piece in enumerate(pieces):
        run = piece
        last = i if len(pieces) > _MAX_PIECES else len(pieces) - 1
        for j in range(i, last + 1):
            run = run if j == i else run + cuts[j - 1] + pieces[j]
            if len(run) >= _MIN_LITERAL:
                runs[run] = _MASK
            elif run and j < len(cuts):  # "ab@host": mask "ab@" as "***@"
                runs[run + cuts[j]] = _MASK + cuts[j]
    for run in list(runs):  # as repr() and JSON show them (a quote or backslash escaped)
        for shown in (repr(run)[1:-1], json.dumps(run)[1:-1], run.replace("'", "\\'")):
            runs.setdefault(shown, runs[run])
    return {text: mask for text, mask in runs.items() if len(text) >= _MIN_LITERAL - 1}


class URLSecrets:
    """The secrets of the URLs (and arguments) a user gave, and :meth:`scrub` to hide them.

    Knows each password raw and percent-decoded, and every piece a parser could cut out of it
    (``app:Tr0ub4dor@XyZzy@host``: ``Tr0ub4dor@XyZzy``, ``Tr0ub4dor``, ``XyZzy``; a driver
    reports the host ``"XyZzy@host"``). Build one per command from its raw inputs and pass every
    text it prints through :meth:`scrub`.
    """

    __slots__ = ("_fragments",)

    def __init__(self, *sources: str | Revealable | Iterable[str] | None) -> None:
        texts: list[str] = []
        for source in sources:
            if isinstance(source, Revealable):
                texts.append(source.reveal())
            elif isinstance(source, str):
                texts.append(source)
            elif source is not None:
                texts.extend(str(item) for item in source)
        fragments: dict[str, str] = {}
        for secret in {secret for text in texts for secret in url_secrets(text)}:
            for text, mask in _fragments(secret).items():
                fragments.setdefault(text, mask)
        # Longest first: a whole password goes before the pieces it holds.
        self._fragments = sorted(fragments.items(), key=lambda item: -len(item[0]))

    def scrub(self, text: str) -> str:
        """``text`` with every known fragment, and any URL password in it, masked as ``***``."""
        for fragment, mask in self._fragments:
            if fragment in text:
                text = text.replace(fragment, mask)
        return _LOOSE_USERINFO.sub(lambda m: m.group("head") + _MASK, mask_url_password(text))

    def __repr__(self) -> str:
        return f"<URLSecrets: {len(self._fragments)} fragments>"


def hide_url_secrets(text: str, sources: Iterable[str] = ()) -> str:
    """``text`` with URL passwords masked as ``***``: ``URLSecrets(sources).scrub(text)``.

    Every password in ``sources`` (the URLs and arguments the user gave), and every piece a
    parser could cut from it, is masked wherever it appears; then any ``user:password@`` and
    ``?password=`` left in ``text`` (malformed URLs too).
    """
    return URLSecrets(sources).scrub(text)


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
        masked = masked.replace(password, _MASK)
    return masked
