"""Scrub secrets from technical details, messages and URLs before they are stored or printed.

Every pass is linear in the size of the text: candidates are found with ``str.find`` or a
literal-anchored pattern with bounded, possessive repeats, then examined in a bounded window,
and scanning always resumes after what was examined. No pattern backtracks over the input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "is_secret_key", "mask_url_password", "redact", "redact_text"]

REDACTED = "[REDACTED]"
_MASK = "***"

# -- key names -------------------------------------------------------------------------------

#: Key-name words that make any key containing them (even inside a word) secret.
_STRONG_SUBSTRINGS = ("password", "passwd", "passphrase", "apikey", "privatekey")
#: Words that make a key secret wherever they appear among its words.
_STRONG_WORDS = frozenset(
    {"secret", "secrets", "credential", "credentials", "authorization", "cookie", "cookies"}
)
#: Words that make a key secret only as its last word (``access_token``, not ``token_type``).
_LAST_WORDS = frozenset(
    {"pwd", "pass", "passcode", "token", "auth", "signature", "jwt", "sig", "otp"}
)
#: Last two words naming a key (``api_key``, ``ssh_key``...): ``key`` alone is not secret.
_KEY_QUALIFIERS = frozenset(
    {
        "api",
        "private",
        "secret",
        "ssh",
        "session",
        "signing",
        "encryption",
        "master",
        "auth",
        "account",
        "shared",
        "app",
        "license",
        "access",
    }
)
#: Cheap pre-filter: a key that contains none of these cannot be secret.
_KEY_STEMS = (
    *("pass", "pwd", "secret", "credential", "auth", "cookie", "token", "sig", "key"),
    *("jwt", "otp"),
)
_CAMEL_LOWER_UPPER = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_CAMEL_ACRONYM = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")

# -- free-text patterns (all literal-anchored, bounded and possessive) -----------------------

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
_ASSIGNMENT_PATTERNS = tuple(re.compile(stem + _ASSIGNMENT_REST) for stem in _KEY_STEMS)
_KEY_INDEX = _KEY_STEMS.index("key")
# "value" of a header-list entry: decided by the name just before it.
_VALUE_KEY = re.compile(r"value(?:\\?[\"'])?[ \t]{0,8}[:=]")
_ALL_ASSIGNMENT_PATTERNS = (
    *zip(_KEY_STEMS, _ASSIGNMENT_PATTERNS, strict=True),
    ("value", _VALUE_KEY),
)
_VALUE_INDEX = len(_ASSIGNMENT_PATTERNS)
_UNQUOTED_VALUE = re.compile(r"[^\s\"'&,;)\]}<>]*+")
_SPACES = re.compile(r"[ \t]{0,8}+")
# Labels of the name in a header-list entry: {"name"|"key"|"header"|"field": ..., "value": ...}.
_PAIR_LABELS = ("name", "key", "header", "field")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}
_HEADER_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_PEM_BEGIN = "-----BEGIN "
_PEM_END = "-----END "
_PEM_LABEL = re.compile(r"[A-Z0-9 ]{0,40}+-----")


def _occurrences(lowered: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """(position, index in ``words``) of every occurrence of ``words`` in ``lowered``, sorted."""
    found: list[tuple[int, int]] = []
    for index, word in enumerate(words):
        position = lowered.find(word)
        while position >= 0:
            found.append((position, index))
            position = lowered.find(word, position + 1)
    found.sort()
    return found


def _key_words(key: str) -> list[str]:
    """``secretAccessKey`` / ``Secret-Access Key`` / ``SECRET_ACCESS_KEY`` -> its lower words."""
    spaced = _CAMEL_ACRONYM.sub("_", _CAMEL_LOWER_UPPER.sub("_", key))
    return [word for word in _SEPARATORS.split(spaced.lower()) if word]


def is_secret_key(key: str) -> bool:
    """True if a mapping key names a secret (``Authorization``, ``apiKey``, ``db_password``...).

    Case and separators are normalised first (camelCase, kebab-case, spaces -> snake_case).
    ``key``, ``token_type`` or ``tokenizer`` are not secret; ``ssh_key``, ``access_token``,
    ``PGPASSWORD`` and ``secretAccessKey`` are.
    """
    lowered = key.lower()
    if not any(stem in lowered for stem in _KEY_STEMS):
        return False
    words = _key_words(key) if key != lowered else _SEPARATORS.split(lowered)
    words = [word for word in words if word]
    if not words:
        return False
    joined = "".join(words)
    if any(part in joined for part in _STRONG_SUBSTRINGS):
        return True
    if any(word in _STRONG_WORDS for word in words) or words[-1] in _LAST_WORDS:
        return True
    return words[-1] == "key" and len(words) > 1 and words[-2] in _KEY_QUALIFIERS


# -- URLs --------------------------------------------------------------------------------------


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


# -- free text ---------------------------------------------------------------------------------


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


def _value_span(text: str, start: int) -> tuple[int, int] | None:
    """(start, end) of the value that begins at ``start`` (after ``key:`` / ``key=``)."""
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
        line_end = text.find("\n", value_start)
        line_end = len(text) if line_end < 0 else line_end
        close = text.find(quote, value_start, line_end)
        end = line_end if close < 0 else close
        if text.startswith((REDACTED, _MASK), value_start) or end == value_start:
            return None
        return value_start, end
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
    if not name or _HEADER_NAME.fullmatch(name) is None:
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
    for stem_start, separator_end, index in candidates:
        if stem_start < done:
            continue
        inside_name = stem_start > 0 and text[stem_start - 1] in _KEY_CHARS
        if index == _VALUE_INDEX:
            if inside_name or not _pair_name_is_secret(text, lowered, stem_start, memo):
                continue
        elif index == _KEY_INDEX and not inside_name:
            continue  # a name starting with "key" is secret only through another secret word
        else:
            key_start = _key_before(text, stem_start) if inside_name else stem_start
            key = text[key_start:separator_end].rstrip(":= \t\"'\\")
            if not _memo_secret(key, memo):  # a bare "key" is not secret
                continue
        span = _value_span(text, separator_end)
        if span is None:
            continue
        out.append(text[done : span[0]])
        out.append(REDACTED)
        done = span[1]
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


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
    text = mask_url_password(text)
    if "eyJ" in text:
        text = _redact_jwts(text)
    lowered = _lower(text)
    scrubbed = _redact_auth_schemes(text, lowered)  # each pass checks its own words first
    if scrubbed is not text:
        text, lowered = scrubbed, _lower(scrubbed)
    if "=" in text or ":" in text:
        text = _redact_assignments(text, lowered)
    return text


# -- JSON-like values --------------------------------------------------------------------------


def _leaf(value: Any) -> Any:
    return redact_text(value) if isinstance(value, str) else value


def _is_secret_name(value: Any) -> bool:
    """True for a header-like name of a secret (``X-Api-Key``), not for a sentence."""
    return (
        isinstance(value, str)
        and _HEADER_NAME.fullmatch(value) is not None
        and is_secret_key(value)
    )


def _secret_value_key(mapping: Mapping[Any, Any]) -> Any:
    """The ``value`` key of a header-list entry ``{"name": "X-Api-Key", "value": ...}``."""
    value_key = None
    secret_name = False
    for key, item in mapping.items():
        if not isinstance(key, str):
            continue
        lowered = key.lower()
        if lowered == "value":
            value_key = key
        elif lowered in ("name", "key", "header", "field"):
            secret_name = secret_name or _is_secret_name(item)
    return value_key if secret_name else None


def redact(value: Any) -> Any:
    """Return a copy of a JSON-like value with secrets replaced by ``[REDACTED]`` at any depth.

    Values under secret keys are replaced whole; strings (mapping keys included) are scrubbed
    with :func:`redact_text`; ``[name, value]`` pairs and ``{"name": ..., "value": ...}`` header
    entries with a secret name are redacted too. Iterative: any depth works; a value that
    contains itself raises ``ValueError``.
    """
    if not isinstance(value, Mapping | list | tuple):
        return _leaf(value)
    root: dict[Any, Any] | list[Any] = {} if isinstance(value, Mapping) else []
    # Entries: (source, target) to fill, or (None, id) to leave a container (cycle detection).
    stack: list[tuple[Any, Any]] = [(value, root)]
    path: set[int] = set()
    while stack:
        source, target = stack.pop()
        if source is None:
            path.discard(target)
            continue
        if id(source) in path:
            raise ValueError("cannot redact a value that contains itself")
        path.add(id(source))
        stack.append((None, id(source)))
        children: list[tuple[Any, Any]] = []
        if isinstance(source, Mapping):
            secret_value = _secret_value_key(source)
            for key, item in source.items():
                new_key = redact_text(key) if isinstance(key, str) else key
                if (key == secret_value and secret_value is not None) or (
                    isinstance(key, str) and is_secret_key(key) and item not in (None, "")
                ):
                    target[new_key] = REDACTED
                elif isinstance(item, Mapping | list | tuple):
                    child: Any = {} if isinstance(item, Mapping) else []
                    target[new_key] = child
                    children.append((item, child))
                else:
                    target[new_key] = _leaf(item)
        elif len(source) == 2 and _is_secret_name(source[0]) and source[1] not in (None, ""):
            target.extend([source[0], REDACTED])
        else:
            for item in source:
                if isinstance(item, Mapping | list | tuple):
                    child = {} if isinstance(item, Mapping) else []
                    target.append(child)
                    children.append((item, child))
                else:
                    target.append(_leaf(item))
        stack.extend(reversed(children))
    return root
