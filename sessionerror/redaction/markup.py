"""Secrets in structured text other than ``key=value``: XML elements, command-line flags and
``Digest`` authorization parameters.

- ``<password>hunter2</password>`` / ``<clientSecret>…</clientSecret>``: the element's text;
- ``--password hunter2`` / ``--api-token 'a b'``: the flag's argument (``--password=x`` is a
  ``key=value`` pair, handled with those);
- ``Digest username="bob", nonce="…", response="…"``: every parameter.

Linear: candidates are found with ``str.find`` or a pattern starting with a literal, examined in
a bounded window, and scanning resumes after what was examined.
"""

from __future__ import annotations

import re

from sessionerror.redaction.keys import REDACTED, is_secret_key
from sessionerror.redaction.spans import LineEnds, glued, quoted_value_end

__all__ = ["redact_markup"]

_XML_OPEN = re.compile(r"<([A-Za-z][A-Za-z0-9_.\-:]{0,63}+)>")
_XML_VALUE_MAX = 4096
_FLAG = re.compile(r"--([A-Za-z][A-Za-z0-9_\-]{0,63}+)[ \t]{1,8}+")
_NEXT_FLAG = re.compile(r"--|-[A-Za-z]{1,3}(?![^\s\"'`])")
_FLAG_WORD = re.compile(r"[^\s\"'`]{1,4096}+")
# One Digest parameter: name=value, the value quoted (possibly JSON-escaped) or a bare token.
_DIGEST_PARAMS = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9_\-]{0,31}+=(?:\\?\"[^\"\\\n]{0,1024}+\\?\"|[^\s,\"\\]{1,1024}+)"
    r"(?:[ \t]{0,8}+,[ \t]{0,8}+)?+){1,64}+"
)
_DIGEST = "digest"
_DIGEST_WORD = re.compile(_DIGEST)
_XML_CLOSE = re.compile("</")
_DOUBLE_DASH = re.compile("--")
#: RFC 7616 parameter names: "Digest <one of these>=" starts credentials, not prose.
_DIGEST_NAMES = frozenset(
    {"username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce", "opaque"}
    | {"algorithm", "userhash", "username*", "stale", "domain"}
)


class _Memo:
    """:func:`is_secret_key` remembered for one call (tag and flag names repeat)."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[str, bool] = {}

    def secret(self, name: str) -> bool:
        known = self._known.get(name)
        if known is None:
            known = self._known[name] = is_secret_key(name)
        return known


def _join(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    done = 0
    for start, end in spans:
        if start < done:
            continue
        out.append(text[done:start])
        out.append(REDACTED)
        done = end
    out.append(text[done:])
    return "".join(out)


def _xml_spans(text: str, memo: _Memo) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    done = 0
    for match in _XML_OPEN.finditer(text):
        if match.start() < done or not memo.secret(match.group(1)):
            continue
        start = match.end()
        end = text.find("<", start, start + _XML_VALUE_MAX)
        end = min(len(text), start + _XML_VALUE_MAX) if end < 0 else end
        if end > start and not text.startswith(REDACTED, start):
            spans.append((start, end))
            done = end
    return spans


def _flag_spans(text: str, memo: _Memo, lines: LineEnds) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    done = 0
    for match in _FLAG.finditer(text):
        start = match.end()
        if match.start() < done or start >= len(text) or not memo.secret(match.group(1)):
            continue
        if text.startswith(REDACTED, start) or _NEXT_FLAG.match(text, start):
            continue  # done already, or the next flag (--host, -h): this flag takes no value
        if text[start] in "\"'":
            end = quoted_value_end(text, start + 1, text[start], lines.after(start + 1))
            span = (start + 1, end)
        else:
            word = _FLAG_WORD.match(text, start)
            span = (start, word.end() if word else start)
        if span[1] > span[0]:
            spans.append(span)
            done = span[1]
    return spans


def _digest_spans(text: str, lowered: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = lowered.find(_DIGEST)
    while pos >= 0:
        after = pos + len(_DIGEST)
        spaces = after
        while spaces < len(text) and spaces - after < 8 and text[spaces] in " \t":
            spaces += 1
        params = _DIGEST_PARAMS.match(text, spaces) if spaces > after else None
        standalone = not glued(text, pos)
        first_name = lowered[spaces : lowered.find("=", spaces)] if params is not None else ""
        if params is not None and standalone and first_name in _DIGEST_NAMES:
            end = params.end()
            while end > spaces and text[end - 1] in ", \t":  # keep the separator after
                end -= 1
            spans.append((spaces, end))
            after = params.end()
        pos = lowered.find(_DIGEST, after)
    return spans


def redact_markup(text: str, lowered: str) -> str:
    """Redact XML elements, command-line flag arguments and Digest parameters holding secrets.

    ``lowered`` is ``text`` lower-cased with the same length.
    """
    memo = _Memo()
    spans: list[tuple[int, int]] = []
    # Each family is looked for with a literal pattern (as fast as str.find, faster than ``in``
    # for two characters) before its own pass.
    if _XML_CLOSE.search(text):
        spans.extend(_xml_spans(text, memo))
    if _DOUBLE_DASH.search(text):
        spans.extend(_flag_spans(text, memo, LineEnds(text)))
    if _DIGEST_WORD.search(lowered):
        spans.extend(_digest_spans(text, lowered))
    if not spans:
        return text
    spans.sort()
    return _join(text, spans)
