"""Values of ``key=value`` / ``key: value`` / ``"key": "value"`` / ``("Key", "value")`` pairs
whose key names a secret, in free text.

One pattern per secret word (:data:`SECRET_KEY_STEMS`), each starting with that literal so the
regex engine finds candidates with its fast literal search, run on the lower-cased text: the
word, the rest of the key, the separator and, in the same match, the value when it is plainly
quoted or unquoted (escaped quotes inside skipped). Rarer shapes (a value opened by ``\\"``, an
unclosed quote, ``Bearer x``, a ``Cookie`` line) go through :func:`_value_span`. Every repeat is
bounded or possessive and scanning resumes after each value, so the pass is linear; per
candidate it costs one match and a dictionary look-up of the key (minified JSON holds a
secret every few dozen characters).
"""

from __future__ import annotations

import re

from sessionerror.models.secret_keys import HEADER_NAME, REDACTED, SECRET_KEY_STEMS, is_secret_key
from sessionerror.models.value_spans import LineEnds, quoted_value_end

__all__ = ["redact_assignments"]

_MASK = "***"
# The value, in one of three capturing groups (4, 5, 6: ``match.lastindex`` tells which
# matched): "double quoted", 'single quoted' (escaped quotes inside), or an unquoted word.
_VALUE = (
    r"(?:\"([^\"\\\n]*+(?:\\.[^\"\\\n]*+)*+)\""
    r"|'([^'\\\n]*+(?:\\.[^'\\\n]*+)*+)'"
    r"|(?![\"'\\])([^\s\"'&,;)\]}<>]++))?"
)
# Group 1 ends the key; the separator is ":" / "=" (group 2; quotes and spaces around it
# allowed) or, for a quoted name followed by a quoted value (``("X-Api-Key", "abc")``), ","
# (group 3).
_SEPARATOR = (
    r"([a-z0-9_.\-]{0,48})"
    r"(?:(?:\\?[\"'])?[ \t]{0,8}([:=])[ \t]{0,8}+|\\?[\"'][ \t]{0,8}(,)[ \t]{0,8}+(?=\\?[\"']))"
)
_PAIR_GROUP = 3
#: (stem, pattern) for every secret word, then the "value" key of a header-list entry. Each
#: pattern is searched directly: its literal prefix makes that as fast as an ``in`` test.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (stem, re.compile(stem + _SEPARATOR + _VALUE)) for stem in (*SECRET_KEY_STEMS, "value")
)
_UNQUOTED_GROUP = 6
_KEY_STEM = "key"
_VALUE_STEM = "value"
#: Keys of a header-list entry's value: {"name"|"header_name": …, "value"|"header_value": …}.
_VALUE_KEYS = frozenset({"", "header", "field", "param", "http", "header_", "header-"})
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate", "apikey"})
_UNQUOTED_VALUE = re.compile(r"[^\s\"'&,;)\]}<>]*+")
_SPACES = re.compile(r"[ \t]{0,8}+")
# Labels of the name in a header-list entry: {"name"|"key"|"header"|"field": ..., "value": ...}.
_PAIR_LABELS = ("name", "key", "header", "field")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def _key_before(text: str, stem_start: int) -> int:
    """Start of the key name that ends with the secret word at ``stem_start`` (<= 64 back)."""
    start = stem_start
    floor = max(0, stem_start - 64)
    while start > floor and text[start - 1] in _KEY_CHARS:
        start -= 1
    return start


def _value_span(
    text: str, start: int, lines: LineEnds, whole_line: bool = False
) -> tuple[int, int] | None:
    """(start, end) of the value that begins at ``start`` (after ``key:`` / ``key=``).

    A quoted value ends at its closing quote (escaped quotes inside do not close it) or at the
    end of the line; ``whole_line``: an unquoted value runs to the end of the line (a
    ``Cookie:`` header holds many ``name=value;`` pairs).
    """
    spaces = _SPACES.match(text, start)
    start = spaces.end() if spaces else start
    if text.startswith((REDACTED, _MASK), start):
        return None
    quote = ""
    if text.startswith(('\\"', "\\'"), start):
        quote = text[start : start + 2]
    elif text[start : start + 1] in ('"', "'"):
        quote = text[start]
    if quote:
        value_start = start + len(quote)
        end = quoted_value_end(text, value_start, quote, lines.after(value_start))
        if text.startswith((REDACTED, _MASK), value_start) or end <= value_start:
            return None
        return value_start, end
    if whole_line:
        end = lines.after(start)
        if end > start and text[end - 1] == "\r":
            end -= 1
        return (start, end) if end > start else None
    word = _UNQUOTED_VALUE.match(text, start)
    end = word.end() if word else start
    if end == start:
        return None
    if text[start:end].lower() in _AUTH_SCHEMES and text[end : end + 1] in (" ", "\t"):
        # Authorization: Bearer abc -> the credential after the scheme (one level only).
        spaces = _SPACES.match(text, end)
        credential_start = spaces.end() if spaces else end
        if text.startswith((REDACTED, _MASK), credential_start):
            return None
        credential = _UNQUOTED_VALUE.match(text, credential_start)
        credential_end = credential.end() if credential else credential_start
        if credential_end > credential_start:
            return credential_start, credential_end
    return start, end


class _Keys:
    """:func:`is_secret_key` and header-entry names, remembered for one call (keys repeat)."""

    __slots__ = ("known",)

    def __init__(self) -> None:
        self.known: dict[str, bool] = {}

    def secret(self, key: str) -> bool:
        known = self.known.get(key)
        if known is None:
            known = self.known[key] = is_secret_key(key)
        return known

    def secret_name(self, name: str) -> bool:
        """A header-like name (``X-Api-Key``) of a secret, not a sentence."""
        return HEADER_NAME.fullmatch(name) is not None and self.secret(name)


def _pair_name_is_secret(text: str, lowered: str, key_start: int, keys: _Keys) -> bool:
    """True if a header-list entry ``{"name": <secret name>, "value": ...}`` precedes.

    Reads backwards from ``value`` with bounded steps: ``<label> : <name> , value``.
    """
    end = key_start
    if end and text[end - 1] in "\"'":
        end -= 1
        if end and text[end - 1] == "\\":
            end -= 1
    comma = len(text[max(0, end - 8) : end].rstrip(" \t\r\n"))
    comma += max(0, end - 8) - 1
    if comma < 0 or text[comma] not in ",;&":
        return False
    floor = max(0, comma - 80)
    separator = max(lowered.rfind(":", floor, comma), lowered.rfind("=", floor, comma))
    if separator < 0:
        return False
    name = text[separator + 1 : comma].strip(" \t\"'\\")
    if not name or not lowered[max(0, separator - 16) : separator].rstrip(" \t\"'\\").endswith(
        _PAIR_LABELS
    ):
        return False
    return keys.secret_name(name)


def _is_quoted_pair(text: str, key_start: int, key: str, match: re.Match[str], keys: _Keys) -> bool:
    """``("X-Api-Key", "abc")``: a quoted header name, then a value that is neither a key
    (``{"X-Api-Key", "value": …}``) nor another name (``["Authorization", "Cookie"]``)."""
    if not key_start or text[key_start - 1] not in "\"'" or HEADER_NAME.fullmatch(key) is None:
        return False
    group = match.lastindex
    if group is None or group <= _PAIR_GROUP:
        return True  # an unusual quote: let the value decide
    value_start, value_end = match.span(group)
    if text[value_end + 1 : value_end + 9].lstrip(" \t").startswith(":"):
        return False
    return not keys.secret_name(text[value_start:value_end])


def _all(pattern: re.Pattern[str], lowered: str) -> list[re.Match[str]]:
    return list(pattern.finditer(lowered))


def _start(candidate: tuple[str, re.Match[str]]) -> int:
    return candidate[1].start()


def redact_assignments(text: str, lowered: str) -> str:
    """Redact values of ``key=value`` / ``key: value`` / ``"key": "value"`` with secret keys.

    ``lowered`` is ``text`` lower-cased with the same length.
    """
    found = [(stem, matches) for stem, pattern in _PATTERNS if (matches := _all(pattern, lowered))]
    if not found:
        return text
    candidates = [(stem, match) for stem, matches in found for match in matches]
    if len(found) > 1:
        candidates.sort(key=_start)
    out: list[str] = []
    done = 0
    keys = _Keys()
    lines = LineEnds(text)
    for stem, match in candidates:
        stem_start = match.start()
        if stem_start < done:
            continue
        inside_name = stem_start > 0 and text[stem_start - 1] in _KEY_CHARS
        key_start = _key_before(text, stem_start) if inside_name else stem_start
        key = text[key_start : match.end(1)]
        if stem == _VALUE_STEM:
            if lowered[key_start:stem_start] not in _VALUE_KEYS:
                continue
            if not _pair_name_is_secret(text, lowered, key_start, keys):
                continue
        elif stem == _KEY_STEM and not inside_name:
            continue  # a name starting with "key" is secret only through another secret word
        elif not keys.secret(key) or (  # a bare "key" is not secret
            match.start(_PAIR_GROUP) >= 0 and not _is_quoted_pair(text, key_start, key, match, keys)
        ):
            continue
        group = match.lastindex
        span: tuple[int, int] | None
        if group is None or group <= _PAIR_GROUP:
            span = _value_span(text, match.end(), lines, whole_line="cookie" in key.lower())
        elif "cookie" in key.lower():  # the whole header line, not its first name=value
            value_start = match.start(group) - (group != _UNQUOTED_GROUP)
            span = _value_span(text, value_start, lines, whole_line=True)
        else:
            span = match.span(group)
            if group == _UNQUOTED_GROUP and lowered[span[0] : span[1]] in _AUTH_SCHEMES:
                span = _value_span(text, span[0], lines)
            elif span[0] == span[1] or text.startswith((REDACTED, _MASK), span[0]):
                span = None
        if span is None:
            continue
        out.append(text[done : span[0]])
        out.append(REDACTED)
        done = span[1]
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)
