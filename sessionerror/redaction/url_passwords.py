"""Mask URL passwords in any text, however malformed the URL: structural rules, no secrets known.

Linear in the size of the text: candidates are found with ``str.find`` or literal-anchored,
bounded, possessive patterns; scanning always resumes after what was examined.
"""

from __future__ import annotations

import re

from sessionerror.redaction.keys import MASK

__all__ = ["mask_url_password"]


_MASK = MASK
# ?password=... / &pwd=... (libpq and SQLAlchemy accept the password as a query parameter).
# Searched literal-first on the lower-cased text (a case-insensitive pattern opening with
# ``[?&]`` has no literal prefix: it cost 6 ms per MB); the ``?``/``&`` is checked after.
_QUERY_PASSWORD_KEY = re.compile(r"p(?:assw(?:or)?d|wd)=")
_QUERY_OPENERS = "?&"
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}
_QUERY_VALUE = re.compile(r"[^&#\s\"'<>]*+")
#: Trailing punctuation that ends a sentence rather than a value (kept after the mask).
_TRAILING = ":;,.)]}!?"
# The scheme at the start of a URL, tolerant of typos: ``scheme://``, ``scheme:/``, ``scheme//``.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}+(?:://?|//)")
# Where a URL-ish word ends: whitespace, quotes, angle brackets, backticks.
_WORD_END = re.compile(r"[\s\"'<>`]")
# From a position, everything up to and including the last word delimiter (one anchored match).
_LAST_DELIMITER = re.compile(r"(?s).*[\s\"'<>`]")
_SPACE = re.compile(r"\s")
# What a URL's user name never holds (so ``"https://a/b","email":"x@y"`` is not a userinfo).
_NOT_IN_USER = re.compile(r"[\s/\"'<>`@,{}\[\]]")
#: How far past its first "@" a password with quotes is looked for.
_QUOTED_REACH = 256


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
        if text.find(":", word_start, first_at) < 0 and (
            word_start <= pos or text.rfind("://", pos, first_at) < 0
        ):
            # No ":" in the word before its "@" (an e-mail address) nor a "scheme://" before
            # it: neither helper below can find a password (checked here, once per "@").
            pos = word_end
            continue
        span = _password_span(text, word_start, first_at, word_end)
        if span is None and word_start > pos:
            span, word_end = _quoted_password_span(text, pos, first_at, word_end)
        if span is not None:
            out.append(text[done : span[0]])
            out.append(_MASK)
            done = span[1]
        pos = word_end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def _quoted_password_span(
    text: str, floor: int, first_at: int, word_end: int
) -> tuple[tuple[int, int] | None, int]:
    """A password holding a quote, a backtick or ``<>`` (``scheme://user:pa'ss@host``): the span
    after the nearest ``scheme://`` before the ``@``, when a plain user name follows it.

    Returns ``(span or None, where scanning resumes)``. Bounded: a quoted password is searched
    for at most :data:`_QUOTED_REACH` characters past the ``@``, so one line of minified JSON
    costs one pass, and JSON around an e-mail address is never mistaken for a user name.
    """
    scheme = text.rfind("://", floor, first_at)  # C-speed: most "@" have no URL before them
    if scheme < 0:
        return None, word_end
    user_start = scheme + 3
    colon = text.find(":", user_start, first_at)
    if colon < 0 or _NOT_IN_USER.search(text, user_start, colon):
        return None, word_end
    space = _SPACE.search(text, first_at, first_at + _QUOTED_REACH)
    end = space.start() if space else min(len(text), first_at + _QUOTED_REACH)
    span = _password_span(text, scheme, first_at, end)
    return span, (span[1] + 1 if span else word_end)


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
    stop = end
    found = text.find("?", first_at, stop)
    if found >= 0:
        stop = found
    found = text.find("#", first_at, stop)
    if found >= 0:
        stop = found
    last_at = text.rfind("@", first_at, stop)
    if last_at < 0:
        last_at = first_at
    colon = text.find(":", start, last_at)
    if colon < 0 or colon + 1 >= last_at:
        return None
    if colon - start == 6 and text[start:colon].lower() == "mailto":
        return None
    return colon + 1, last_at


def _mask_query_passwords(text: str) -> str:
    """Mask ``?password=...`` / ``&pwd=...`` values, keeping punctuation that ends a sentence."""
    out: list[str] = []
    done = 0
    lowered = text.lower()
    if len(lowered) != len(text):  # str.lower may change the length of non-ASCII text
        lowered = text.translate(_ASCII_LOWER)
    for match in _QUERY_PASSWORD_KEY.finditer(lowered):
        key_start = match.start()
        value_start = match.end()
        if not key_start or text[key_start - 1] not in _QUERY_OPENERS or value_start < done:
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
