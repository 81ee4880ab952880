"""Scrub secrets from free text: PEM blocks, JSON Web Tokens, auth-scheme credentials and the
values of ``key=value`` / ``key: value`` pairs whose key names a secret.

URL passwords are masked by :func:`sessionerror.urls.mask_url_password`.

Every pass is linear in the size of the text: candidates are found with ``str.find`` or a
literal-anchored pattern with bounded, possessive repeats, then examined in a bounded window,
and scanning always resumes after what was examined. No pattern backtracks over the input.
"""

from __future__ import annotations

import re

from sessionerror.models.markup_rules import redact_markup
from sessionerror.models.secret_keys import HEADER_NAME, REDACTED, SECRET_KEY_STEMS, is_secret_key
from sessionerror.models.token_rules import redact_tokens
from sessionerror.models.url_rules import redact_url_credentials
from sessionerror.models.value_spans import LineEnds, quoted_value_end
from sessionerror.urls import mask_url_password

__all__ = ["redact_text"]

_MASK = "***"
# Authorization schemes followed by a credential: "Bearer abc", "Basic dXNl...", "token 9f...".
_AUTH_SCHEME_WORDS = ("bearer", "basic", "token")
# Literal-first (fast literal search) on the lower-cased text; nothing after the greedy
# credential can fail, so there is no backtracking.
_AUTH_PATTERNS = tuple(
    re.compile(word + r"[ \t]{1,8}([a-z0-9\-._~+/]+=*)") for word in _AUTH_SCHEME_WORDS
)
_WORD_CHAR = re.compile(r"\w")
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate", "apikey"})
#: An ordinary word after "token"/"bearer"/"basic" ("token expired"): not a credential.
_PLAIN_WORD = re.compile(r"[A-Za-z][a-z]{0,19}")
# A JSON Web Token: header.payload.signature, base64url, header and payload starting "eyJ".
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]*+\.eyJ[A-Za-z0-9_\-]*+\.[A-Za-z0-9_\-]*+")
_B64URL_RUN = re.compile(r"[A-Za-z0-9_\-]*+")
# A key naming a secret followed by ":" or "=": matched right after a secret word in the key.
# One pattern per secret word, each starting with that literal (so the regex engine finds
# candidates with its fast literal search; possessive repeats or a lookbehind in front would
# turn that off), run on the lower-cased text: the word, the rest of the key, the separator.
# Every repeat is bounded, so each candidate costs a bounded number of steps.
_ASSIGNMENT_REST = r"[a-z0-9_.\-]{0,48}(?:\\?[\"'])?[ \t]{0,8}[:=]"
# A quoted secret name followed by a quoted value: ("X-Api-Key", "abc") / ['Cookie', 'a=b'].
_PAIR_REST = r"[a-z0-9_.\-]{0,48}\\?[\"'][ \t]{0,8},[ \t]{0,8}(?=\\?[\"'])"
_ASSIGNMENT_PATTERNS = tuple(
    re.compile(stem + f"(?:{_ASSIGNMENT_REST}|{_PAIR_REST})") for stem in SECRET_KEY_STEMS
)
_KEY_INDEX = SECRET_KEY_STEMS.index("key")
# "value" of a header-list entry: decided by the name just before it.
_VALUE_KEY = re.compile(r"value(?:\\?[\"'])?[ \t]{0,8}[:=]")
_ALL_ASSIGNMENT_PATTERNS = (
    *zip(SECRET_KEY_STEMS, _ASSIGNMENT_PATTERNS, strict=True),
    ("value", _VALUE_KEY),
)
_VALUE_INDEX = len(_ASSIGNMENT_PATTERNS)
#: Keys of a header-list entry's value besides "value": {"header_name": …, "header_value": …}.
_VALUE_KEYS = frozenset({"value", "headervalue", "fieldvalue", "paramvalue", "httpvalue"})
_UNQUOTED_VALUE = re.compile(r"[^\s\"'&,;)\]}<>]*+")
_SPACES = re.compile(r"[ \t]{0,8}+")
# Labels of the name in a header-list entry: {"name"|"key"|"header"|"field": ..., "value": ...}.
_PAIR_LABELS = ("name", "key", "header", "field")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}
_PEM_BEGIN = "-----BEGIN "
_PEM_END = "-----END "
_SEPARATORS = re.compile(r"[^a-z0-9]+")
_PEM_LABEL = re.compile(r"[A-Z0-9 ]{0,40}+-----")


def _redact_pem(text: str) -> str:
    """Replace the body of every ``-----BEGIN ... PRIVATE KEY-----`` block."""
    out: list[str] = []
    done = 0
    pos = 0
    while True:
        begin = text.find(_PEM_BEGIN, pos)
        if begin < 0:
            break
        label = _PEM_LABEL.match(text, begin + len(_PEM_BEGIN))
        if label is None or "PRIVATE KEY" not in label.group():
            pos = begin + len(_PEM_BEGIN)
            continue
        body_start = label.end()
        end = text.find(_PEM_END, body_start)
        out.append(text[done:body_start])
        out.append(REDACTED)
        if end < 0:  # truncated block: hide everything after the marker
            done = pos = len(text)
            break
        done = pos = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def _redact_jwts(text: str) -> str:
    """Replace every ``eyJ...`` ``.`` ``eyJ...`` ``.`` ``signature`` JSON Web Token."""
    out: list[str] = []
    done = 0
    pos = 0
    while True:
        start = text.find("eyJ", pos)
        if start < 0:
            break
        token = _JWT.match(text, start)
        if token is None:
            run = _B64URL_RUN.match(text, start)
            pos = max(run.end() if run else start, start + 3)  # nothing starts inside this run
            continue
        out.append(text[done:start])
        out.append(REDACTED)
        done = pos = token.end()
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def _looks_like_credential(value: str) -> bool:
    """False for ordinary words ("token expired", "Basic plan"), True for credentials."""
    return _PLAIN_WORD.fullmatch(value) is None


def _redact_auth_schemes(text: str, lowered: str) -> str:
    """``Bearer <credential>`` / ``Basic ...`` / ``Token ...`` -> ``Bearer [REDACTED]``."""
    candidates = sorted(
        (match.start(), match.start(1), match.end(1))
        for word, pattern in zip(_AUTH_SCHEME_WORDS, _AUTH_PATTERNS, strict=True)
        if word in lowered
        for match in pattern.finditer(lowered)
    )
    out: list[str] = []
    done = 0
    for start, credential_start, credential_end in candidates:
        if start < done or (start > 0 and _WORD_CHAR.match(text, start - 1)):
            continue
        if not _looks_like_credential(text[credential_start:credential_end]):
            continue
        out.append(text[done:start])
        out.append(f"{text[start:credential_start].rstrip()} {REDACTED}")
        done = credential_end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


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


def _pair_name_is_secret(text: str, lowered: str, key_start: int, memo: dict[str, bool]) -> bool:
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
    if not name or HEADER_NAME.fullmatch(name) is None:
        return False
    label = lowered[max(0, separator - 16) : separator].rstrip(" \t\"'\\")
    if not label.endswith(_PAIR_LABELS):
        return False
    return _memo_secret(name, memo)


def _memo_secret(key: str, memo: dict[str, bool]) -> bool:
    """:func:`is_secret_key`, remembered for the duration of one call (keys repeat)."""
    known = memo.get(key)
    if known is None:
        known = memo[key] = is_secret_key(key)
    return known


def _redact_assignments(text: str, lowered: str) -> str:
    """Redact values of ``key=value`` / ``key: value`` / ``"key": "value"`` with secret keys."""
    candidates = sorted(
        (match.start(), match.end(), index)
        for index, (stem, pattern) in enumerate(_ALL_ASSIGNMENT_PATTERNS)
        if stem in lowered
        for match in pattern.finditer(lowered)
    )
    out: list[str] = []
    done = 0
    memo: dict[str, bool] = {}
    lines = LineEnds(text)
    for stem_start, separator_end, index in candidates:
        if stem_start < done:
            continue
        inside_name = stem_start > 0 and text[stem_start - 1] in _KEY_CHARS
        key_start = _key_before(text, stem_start) if inside_name else stem_start
        key = ""
        if index == _VALUE_INDEX:
            name = _SEPARATORS.sub("", lowered[key_start:stem_start]) + "value"
            if name not in _VALUE_KEYS:
                continue
            if not _pair_name_is_secret(text, lowered, key_start, memo):
                continue
        elif index == _KEY_INDEX and not inside_name:
            continue  # a name starting with "key" is secret only through another secret word
        else:
            key = text[key_start:separator_end].rstrip(":=, \t\"'\\")
            if not _memo_secret(key, memo):  # a bare "key" is not secret
                continue
            pair = text[stem_start:separator_end].rstrip(" \t").endswith(",")
            if pair and not _is_quoted_pair(text, key_start, separator_end, key, memo):
                continue
        span = _value_span(text, separator_end, lines, whole_line="cookie" in key.lower())
        if span is None:
            continue
        out.append(text[done : span[0]])
        out.append(REDACTED)
        done = span[1]
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def _is_quoted_pair(
    text: str, key_start: int, value_start: int, key: str, memo: dict[str, bool]
) -> bool:
    """``("X-Api-Key", "abc")``: the name is a quoted header name, the value not another one
    (``["Authorization", "Cookie"]`` is a list of names)."""
    if not key_start or text[key_start - 1] not in "\"'" or HEADER_NAME.fullmatch(key) is None:
        return False
    quote = text[value_start : value_start + 2]
    quote = quote if quote.startswith("\\") else quote[:1]
    close = text.find(quote, value_start + len(quote), value_start + len(quote) + 65)
    if close < 0:
        return True
    if text[close + len(quote) : close + len(quote) + 8].lstrip(" \t").startswith(":"):
        return False  # {"X-Api-Key", "value": ...}: the next string is a key
    following = text[value_start + len(quote) : close]
    return not (following and HEADER_NAME.fullmatch(following) and _memo_secret(following, memo))


def _lower(text: str) -> str:
    """Lower-case ``text`` keeping every position (``str.lower`` may change the length)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return text.translate(_ASCII_LOWER)


def redact_text(text: str) -> str:
    """Redact secret forms inside free text, leaving ordinary words alone.

    URL passwords (``***``), PEM private-key blocks, JSON Web Tokens, ``Bearer``/``Basic``/
    ``Token`` credentials and the values of ``key=value`` / ``key: value`` pairs whose key names
    a secret (``[REDACTED]``). "password reset failed" stays as it is.
    """
    if _PEM_BEGIN in text:
        text = _redact_pem(text)
    text = redact_url_credentials(mask_url_password(text))
    if "eyJ" in text:
        text = _redact_jwts(text)
    lowered = _lower(text)
    for rule in (redact_tokens, redact_markup):
        scrubbed = rule(text, lowered)
        if scrubbed is not text:
            text, lowered = scrubbed, _lower(scrubbed)
    scrubbed = _redact_auth_schemes(text, lowered)  # each pass checks its own words first
    if scrubbed is not text:
        text, lowered = scrubbed, _lower(scrubbed)
    if "=" in text or ":" in text or "," in text:
        text = _redact_assignments(text, lowered)
    return text
