"""Scrub secrets from free text: the order of the passes, PEM blocks, JSON Web Tokens and
auth-scheme credentials.

The other rule families live in their own modules: URL passwords in
:func:`sessionerror.redaction.url_passwords.mask_url_password` (tokens as URL user names in
:mod:`~sessionerror.redaction.url_users`), well-known token formats in
:mod:`~sessionerror.redaction.tokens`, XML elements, CLI flags and Digest parameters in
:mod:`~sessionerror.redaction.markup`, ``key=value`` pairs in
:mod:`~sessionerror.redaction.assignments`.

Every pass is linear in the size of the text: candidates are found with ``str.find`` or a
literal-anchored pattern with bounded, possessive repeats, then examined in a bounded window,
and scanning always resumes after what was examined. No pattern backtracks over the input.
"""

from __future__ import annotations

import re

from sessionerror.redaction.assignments import redact_assignments
from sessionerror.redaction.keys import MASK, REDACTED, is_secret_key
from sessionerror.redaction.markup import redact_markup
from sessionerror.redaction.spans import glued
from sessionerror.redaction.tokens import redact_tokens
from sessionerror.redaction.url_passwords import mask_url_password
from sessionerror.redaction.url_users import redact_url_credentials

__all__ = ["redact_text"]

_MASK = MASK
# Authorization schemes followed by a credential: "Bearer abc", "Basic dXNl...", "token 9f...".
_AUTH_SCHEME_WORDS = ("bearer", "basic", "token")
# Literal-first (fast literal search) on the lower-cased text; nothing after the greedy
# credential can fail, so there is no backtracking.
_AUTH_PATTERNS = tuple(
    re.compile(word + r"[ \t]{1,8}([a-z0-9\-._~+/]+=*)") for word in _AUTH_SCHEME_WORDS
)
_ALNUM_CHAR = re.compile(r"[A-Za-z0-9]")
# After "=": the word goes on (a key=value pair), as opposed to base64 padding ending it.
_VALUE_GOES_ON = re.compile(r"[^\s\"'`,;)\]}>&]")
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate", "apikey"})
#: An ordinary word after "token"/"bearer"/"basic" ("token expired"): not a credential.
_PLAIN_WORD = re.compile(r"[A-Za-z][a-z]{0,19}")
# A JSON Web Token: header.payload.signature, base64url, header and payload starting "eyJ".
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]*+\.eyJ[A-Za-z0-9_\-]*+\.[A-Za-z0-9_\-]*+")
_JWT_START = re.compile("eyJ")
# The shortest secret forms need a separator or 15+ characters (xoxb-…, AKIA + 16).
_ONE_SHORT_WORD = re.compile(r"[A-Za-z0-9_]{0,14}")
_B64URL_RUN = re.compile(r"[A-Za-z0-9_\-]*+")
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}
_PEM_BEGIN = "-----BEGIN "
_PEM_END = "-----END "
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
    return _PLAIN_WORD.fullmatch(value) is None and _ALNUM_CHAR.search(value) is not None


def _redact_auth_schemes(text: str, lowered: str) -> str:
    """``Bearer <credential>`` / ``Basic ...`` / ``Token ...`` -> ``Bearer [REDACTED]``."""
    candidates = sorted(
        (match.start(), match.start(1), match.end(1))
        for pattern in _AUTH_PATTERNS
        for match in pattern.finditer(lowered)
    )
    out: list[str] = []
    done = 0
    for start, credential_start, credential_end in candidates:
        if start < done or glued(text, start):
            continue
        if not _looks_like_credential(text[credential_start:credential_end].rstrip(".")):
            continue  # "bearer password." ends a sentence
        if text.startswith((":", "=[", "= "), credential_end):
            continue  # "bearer api_key: …": a key (its value was handled with the pairs)
        if text[credential_end - 1] == "=" and (
            _VALUE_GOES_ON.match(text, credential_end)
            or is_secret_key(text[credential_start:credential_end].rstrip("="))
        ):
            continue  # "bearer token_type=bearer": a key=value pair, not base64 padding
        out.append(text[done:start])
        out.append(f"{text[start:credential_start].rstrip()} {REDACTED}")
        done = credential_end
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

    URL passwords and tokens used as URL user names (``***``); PEM private-key blocks, JSON Web
    Tokens, well-known token formats (AWS, GitHub, Slack, Google, Stripe...), XML elements, CLI
    flags and Digest parameters of secrets, the values of ``key=value`` / ``key: value`` /
    ``("Name", "value")`` pairs whose key names a secret, and ``Bearer``/``Basic``/``Token``
    credentials (``[REDACTED]``). "password reset failed" stays as it is.
    """
    if _ONE_SHORT_WORD.fullmatch(text):
        return text  # "body", "status": no secret form fits in one short word (keys mostly)
    if _PEM_BEGIN in text:
        text = _redact_pem(text)
    text = redact_url_credentials(mask_url_password(text))
    if _JWT_START.search(text):
        text = _redact_jwts(text)
    lowered = _lower(text)
    for rule in (redact_tokens, redact_markup):
        scrubbed = rule(text, lowered)
        if scrubbed is not text:
            text, lowered = scrubbed, _lower(scrubbed)
    # key=value pairs before "Bearer x": in "bearer api_key: x" the key must not be taken for
    # the credential (the value would be left behind).
    scrubbed = redact_assignments(text, lowered)
    if scrubbed is not text:
        text, lowered = scrubbed, _lower(scrubbed)
    return _redact_auth_schemes(text, lowered)
