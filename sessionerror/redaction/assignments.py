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

from sessionerror.redaction.keys import HEADER_NAME, MASK, REDACTED, SECRET_KEY_STEMS, is_secret_key
from sessionerror.redaction.spans import LineEnds, glued, quoted_value_end

__all__ = ["redact_assignments"]

_MASK = MASK
# The value, in one of three capturing groups (5, 6, 7: ``match.lastindex`` tells which
# matched): "double quoted", 'single quoted' (escaped quotes inside), or an unquoted word. A
# closing quote right after a backslash fails the match: quoted_value_end decides that case.
_VALUE = (
    r"(?:\"([^\"\\\n]*+(?:\\.[^\"\\\n]*+)*+)(?<!\\)\""
    r"|'([^'\\\n]*+(?:\\.[^'\\\n]*+)*+)(?<!\\)'"
    r"|(?![\"'\\])([^\s\"'&,;)\]}<>]++))?"
)
_QUOTE = r"\\?[\"']"
# Group 1 ends the key. Then one of three separators:
# - group 2, ``key=`` / ``key: `` / ``"key": `` (quotes and spaces around it allowed);
# - group 3, a quoted name then a quoted value, ``("X-Api-Key", "abc")``, unless that next
#   string is itself a key (``"X-Api-Key", "value": …``: group 4's case);
# - group 4, a header-list entry read from its name, ``"X-Api-Key", "value": `` (also
#   ``header_value`` / ``headerValue``, ``name=X-Api-Key&value=``).
_SEPARATOR = (
    r"([a-z0-9_.\-]{0,48}+)(?:"
    rf"(?:{_QUOTE})?[ \t]{{0,8}}([:=])[ \t]{{0,8}}+"
    rf"|{_QUOTE}[ \t]{{0,8}}(,)[ \t]{{0,8}}+(?={_QUOTE})"
    rf"(?!\\?\"[^\"\\\n]{{0,64}}+\\?\"[ \t]*+:|\\?'[^'\\\n]{{0,64}}+\\?'[ \t]*+:)"
    rf"|(?:{_QUOTE})?[ \t]{{0,8}}([,;&])[ \t]{{0,8}}(?:{_QUOTE})?"
    rf"(?:header[_\-]?|field[_\-]?)?value(?:{_QUOTE})?[ \t]{{0,8}}[:=][ \t]{{0,8}}+"
    r")"
)
_ASSIGNMENT_GROUP = 2
_PAIR_GROUP = 3
_ENTRY_GROUP = 4
_UNQUOTED_GROUP = 7
_MATCH_START = re.Match.start
_MASKS = (REDACTED, _MASK)


def _stem_pattern(stem: str) -> re.Pattern[str]:
    """The pattern of one secret word. ``key`` counts only inside a longer name (``api_key``,
    ``X-Api-Key``): the check after the literal keeps the engine's fast literal search."""
    inside = rf"(?<=[a-z0-9_.\-]{stem})" if stem == "key" else ""
    return re.compile(stem + inside + _SEPARATOR + _VALUE)


#: One pattern per secret word. Each is searched directly: its literal prefix makes that as
#: fast as an ``in`` test.
_PATTERNS: tuple[re.Pattern[str], ...] = tuple(_stem_pattern(stem) for stem in SECRET_KEY_STEMS)
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate", "apikey"})
_UNQUOTED_VALUE = re.compile(r"[^\s\"'&,;)\]}<>]*+")
_SPACES = re.compile(r"[ \t]{0,8}+")
# Labels of the name in a header-list entry: {"name"|"key"|"header"|"field": ..., "value": ...}.
_PAIR_LABELS = ("name", "key", "header", "field")
# A label, then ":" or "=" with quotes and spaces around, ending where the name starts (the
# search's end position: ``\Z`` matches there).
_ENTRY_LABEL = re.compile(rf"(?:{'|'.join(_PAIR_LABELS)})" + r"[ \t\"'\\]*+[:=][ \t\"'\\]*+\Z")
#: Spellings of that label common enough to be checked first (each one matches _ENTRY_LABEL).
_COMMON_ENTRY_LABELS = ('"name": "', '"name":"', "'name': '", "name=")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


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


_NOT_SECRET, _SECRET, _COOKIE = 0, 1, 2


class _Keys:
    """:func:`is_secret_key` and header-entry names, remembered for one call (keys repeat)."""

    __slots__ = ("known",)

    def __init__(self) -> None:
        #: key -> _NOT_SECRET, _SECRET or _COOKIE (a secret holding name=value; pairs).
        self.known: dict[str, int] = {}

    def kind(self, key: str) -> int:
        known = self.known.get(key)
        if known is None:
            known = _NOT_SECRET
            if is_secret_key(key):
                known = _COOKIE if "cookie" in key.lower() else _SECRET
            self.known[key] = known
        return known

    def secret(self, key: str) -> bool:
        return self.kind(key) != _NOT_SECRET

    def secret_name(self, name: str) -> bool:
        """A header-like name (``X-Api-Key``) of a secret, not a sentence."""
        return HEADER_NAME.fullmatch(name) is not None and self.secret(name)


def _is_entry_name(lowered: str, key_start: int) -> bool:
    """True if the name at ``key_start`` is labelled as one: ``"name": "X-Api-Key"`` (also
    ``key``/``header``/``field``, ``header_name``...), read in a bounded window before it."""
    floor = key_start - 40 if key_start > 40 else 0
    if lowered.endswith(_COMMON_ENTRY_LABELS, floor, key_start):
        return True  # the usual spellings, one C call (the search tries every window start)
    return _ENTRY_LABEL.search(lowered, floor, key_start) is not None


def _is_quoted_pair(text: str, key_start: int, key: str, match: re.Match[str], keys: _Keys) -> bool:
    """``("X-Api-Key", "abc")``: a quoted header name, then a value that is neither a key
    (``{"X-Api-Key", "value": …}``) nor another name (``["Authorization", "Cookie"]``)."""
    if not key_start or text[key_start - 1] not in "\"'" or HEADER_NAME.fullmatch(key) is None:
        return False
    group = match.lastindex
    if group is None or group <= _ENTRY_GROUP:
        return True  # an unusual quote: let the value decide
    value_start, value_end = match.span(group)
    if text[value_end + 1 : value_end + 9].lstrip(" \t").startswith(":"):
        return False
    return not keys.secret_name(text[value_start:value_end])


def redact_assignments(text: str, lowered: str) -> str:
    """Redact values of ``key=value`` / ``key: value`` / ``"key": "value"`` with secret keys.

    ``lowered`` is ``text`` lower-cased with the same length.
    """
    matches = [match for pattern in _PATTERNS for match in pattern.finditer(lowered)]
    if not matches:
        return text
    matches.sort(key=_MATCH_START)  # each pattern's run is sorted already: a linear merge
    out: list[str] = []
    append = out.append
    done = 0
    keys = _Keys()
    known = keys.known
    header_names: dict[str, bool] = {}
    lines = LineEnds(text)
    # Locals: this loop runs once per candidate, a few per 100 characters of minified JSON.
    key_chars, masks, schemes = _KEY_CHARS, _MASKS, _AUTH_SCHEMES
    for match in matches:
        stem_start = match.start()
        if stem_start < done:
            continue
        key_start = stem_start
        if stem_start and text[stem_start - 1] in key_chars:
            # The key name ending with the secret word (<= 64 back), walked back inline: a
            # call per candidate was a tenth of the pass.
            key_start -= 1
            floor = stem_start - 64 if stem_start > 64 else 0
            while key_start > floor and text[key_start - 1] in key_chars:
                key_start -= 1
            if key_start and text[key_start - 1] == "\\" and not glued(text, key_start + 1):
                key_start += 1  # "\\ntoken=…" in escaped text: the key starts after the escape
        key = text[key_start : match.end(1)]
        kind = known.get(key)
        if kind is None:
            kind = keys.kind(key)
        if not kind:  # a bare "key" is not secret
            continue
        if match.start(_ASSIGNMENT_GROUP) < 0:  # a quoted pair or a header-list entry
            if match.start(_PAIR_GROUP) >= 0:
                if not _is_quoted_pair(text, key_start, key, match, keys):
                    continue
            else:
                header = header_names.get(key)
                if header is None:
                    header = header_names[key] = HEADER_NAME.fullmatch(key) is not None
                if not (header and _is_entry_name(lowered, key_start)):
                    continue
        group = match.lastindex
        span: tuple[int, int] | None
        if group is None or group <= _ENTRY_GROUP:
            span = _value_span(text, match.end(), lines, whole_line=kind == _COOKIE)
        elif kind == _COOKIE and group == _UNQUOTED_GROUP:
            # The whole header line, not its first name=value. (A quoted cookie value, the
            # regex's group, already runs to its closing quote: the same span _value_span
            # would find, so it takes the common path below.)
            span = _value_span(text, match.start(group), lines, whole_line=True)
        else:
            span = match.span(group)
            if group == _UNQUOTED_GROUP and lowered[span[0] : span[1]] in schemes:
                span = _value_span(text, span[0], lines)
            elif span[0] == span[1] or text.startswith(masks, span[0]):
                span = None
        if span is None:
            continue
        append(text[done : span[0]])
        append(REDACTED)
        done = span[1]
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)
