"""URL credentials :func:`sessionerror.urls.mask_url_password` leaves: a password holding a raw
quote, backtick or angle bracket (``scheme://user:pa'ss@host``), and a token used as the user
name (``https://ghp_…@github.com/…``, ``https://<40 hex>@git.example/…``).

``mask_url_password`` ends a URL at a quote or angle bracket (so prose and markup around URLs
stay readable); this pass runs after it and only masks what it could not: a password holding one
of those characters, when the user name before it is plain and the password does not look like
the boundary of quoted text (``","``). Linear: one bounded window per ``://``.
"""

from __future__ import annotations

import re

__all__ = ["redact_url_credentials"]

_MASK = "***"
_WINDOW = 1024
_SPACE = re.compile(r"\s")
_ODD_CHARS = frozenset("'\"`<>")
# Characters a user name never holds (a path, markup or quoted text around the URL does).
_NOT_USER = frozenset("/\"'<>`,;{}[]()\\=")
# Quoted text around a URL: a quote next to a separator ("a", 'b': c).
_QUOTED_BOUNDARY = re.compile(r"[\"'`][ \t]*+[,:;{}\[\]=()]|[,:;{}\[\]=(][ \t]*+[\"'`]")
_TOKEN_USER = re.compile(r"[A-Za-z0-9_\-]{20,255}")


def _token_like(user: str) -> bool:
    """A long run of letters and digits, not a name (``bob``) or a word (``git``)."""
    return (
        _TOKEN_USER.fullmatch(user) is not None
        and any(c.isdigit() for c in user)
        and any(c.isalpha() for c in user)
    )


def _credential_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span to mask in the authority starting at ``start`` (segment ends at ``end``)."""
    first_at = text.find("@", start, end)
    if first_at < 0:
        return None
    colon = text.find(":", start, first_at)
    if colon < 0:
        return (start, first_at) if _token_like(text[start:first_at]) else None
    if any(c in _NOT_USER for c in text[start:colon]):
        return None
    query = end
    for mark in "?#":
        found = text.find(mark, first_at, end)
        if 0 <= found < query:
            query = found
    last_at = text.rfind("@", first_at, query)
    password = text[colon + 1 : last_at]
    if not password or password == _MASK or _ODD_CHARS.isdisjoint(password):
        return None  # nothing there, or mask_url_password's case
    if _QUOTED_BOUNDARY.search(password):
        return None
    return colon + 1, last_at


def redact_url_credentials(text: str) -> str:
    """Mask (``***``) URL passwords holding quotes or ``<>``, and token user names."""
    pos = text.find("://")
    if pos < 0:
        return text
    out: list[str] = []
    done = 0
    while pos >= 0:
        start = pos + 3
        following = text.find("://", start, start + _WINDOW)
        space = _SPACE.search(text, start, start + _WINDOW)
        end = min(len(text), start + _WINDOW)
        for bound in (following, space.start() if space else -1):
            if 0 <= bound < end:
                end = bound
        span = _credential_span(text, start, end)
        if span is not None:
            out.append(text[done : span[0]])
            out.append(_MASK)
            done = span[1]
        # Past the window: the next "://" may straddle its end, so look from 2 before it.
        pos = following if following >= 0 else text.find("://", start + _WINDOW - 2)
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)
