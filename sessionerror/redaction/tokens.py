"""Well-known credential formats found anywhere in free text, whatever surrounds them.

The formats follow gitleaks' default rules and detect-secrets' plugins (AWS, GitHub, GitLab,
Slack, Google, Stripe, npm, PyPI, SendGrid, Shopify): each starts with a fixed prefix, so a text
that holds none of the prefixes costs one ``in`` test per rule. AWS secret access keys have no
prefix: a 40-character key is redacted only near an ``aws`` word or an access key id, as in
detect-secrets' ``AWSKeyDetector``.

Linear in the size of the text: every pattern starts with its literal prefix (the regex engine
finds candidates with its fast literal search) and has only bounded, possessive repeats.
"""

from __future__ import annotations

import re

from sessionerror.redaction.keys import REDACTED
from sessionerror.redaction.spans import glued

__all__ = ["redact_tokens"]

_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

#: One pattern per family, each starting with a literal (the regex engine searches for it as
#: fast as ``str.find``, so a text without the family costs one quick scan). Bounds follow the
#: providers' documented formats, loosened where a provider has changed its length before.
_RULES: tuple[re.Pattern[str], ...] = (
    # AWS access key ids (gitleaks aws-access-token: AKIA long-term, ASIA temporary...) and
    # Google API keys (AIza).
    re.compile(
        r"A(?:(?:KIA|SIA|BIA|CCA)[A-Z2-7]{16}|3T[A-Z0-9][A-Z2-7]{16}|Iza[0-9A-Za-z_\-]{35})"
    ),
    # GitHub: personal (ghp_), OAuth (gho_), user-to-server (ghu_), server (ghs_), refresh
    # (ghr_), fine-grained (github_pat_).
    re.compile(r"gh(?:[pousr]_[0-9A-Za-z]{30,255}+|ithub_pat_[0-9A-Za-z_]{22,255}+)"),
    re.compile(r"glpat-[0-9A-Za-z_\-]{20,255}+"),
    # Slack bot/user/app/refresh/legacy tokens (gitleaks slack-*, detect-secrets Slack).
    re.compile(r"x(?:ox[abeoprs]|app)-[0-9A-Za-z\-]{10,255}+"),
    # Stripe secret and restricted keys (sk_live_, rk_test_...; publishable pk_ keys are public):
    # searched from "k_", the letter before is checked by _PREFIXED.
    re.compile(r"k_(?:live|test)_[0-9A-Za-z]{10,255}+"),
    re.compile(r"npm_[0-9A-Za-z]{36}"),
    re.compile(r"pypi-AgEIcHlwaS5vcmc[0-9A-Za-z_\-]{50,1000}+"),
    re.compile(r"SG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}"),
    re.compile(r"shp(?:at|ss)_[a-fA-F0-9]{32}"),
)
#: Patterns whose match starts one character after the token (Stripe: the s/r of sk_/rk_).
_PREFIXED = {4: frozenset("sr")}
# Slack incoming webhooks: the path after /services/ is the credential.
_SLACK_HOOK = re.compile(r"hooks\.slack\.com/")
_SLACK_HOOK_PATH = re.compile(r"(?:services|workflows|triggers)/([0-9A-Za-z_+/\-]{8,255}+)")
# AWS secret access key: exactly 40 base64 characters, near an "aws" word or an access key id.
_AWS_WORD = re.compile("aws")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_WINDOW = 160


def _looks_random(value: str) -> bool:
    """Upper case, lower case and a digit or ``/``/``+``: not a word, not a hex SHA."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() or c in "/+" for c in value)
    )


def _token_spans(text: str) -> tuple[list[tuple[int, int]], list[int]]:
    """(start, end) of every prefixed token, standing alone (not inside a longer word), and
    where each AWS access key id ends (its secret key often follows)."""
    spans: list[tuple[int, int]] = []
    aws_ids: list[int] = []
    for index, pattern in enumerate(_RULES):
        before = _PREFIXED.get(index)
        for match in pattern.finditer(text):
            start, end = match.span()
            if before is not None:
                if not start or text[start - 1] not in before:
                    continue
                start -= 1
            if glued(text, start):
                continue
            if end < len(text) and text[end] in _ALNUM:
                continue
            spans.append((start, end))
            if index == 0 and not text.startswith("AIza", start):
                aws_ids.append(end)
    for hook in _SLACK_HOOK.finditer(text):
        path = _SLACK_HOOK_PATH.match(text, hook.end())
        if path is not None:
            spans.append(path.span(1))
    return spans, aws_ids


def _aws_secret_spans(text: str, contexts: list[int]) -> list[tuple[int, int]]:
    """40-character AWS secret keys within a bounded window after an AWS word or key id
    (``contexts``: where those end, in increasing order)."""
    spans: list[tuple[int, int]] = []
    scanned = 0  # windows never overlap: each character is examined at most once
    for context in contexts:
        start = max(context, scanned)
        end = min(len(text), context + _AWS_WINDOW)
        if start >= end:
            continue
        # Searched a key's length past the window so a longer run is not cut into a "key".
        for match in _AWS_SECRET.finditer(text, start, min(len(text), end + 41)):
            if match.start() < end and _looks_random(match.group()):
                spans.append(match.span())
        scanned = end
    return spans


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with every span (overlaps merged) replaced by ``[REDACTED]``."""
    out: list[str] = []
    done = 0
    for start, end in sorted(spans):
        if end <= done:
            continue
        out.append(text[done : max(start, done)])
        out.append(REDACTED)
        done = end
    out.append(text[done:])
    return "".join(out)


def redact_tokens(text: str, lowered: str) -> str:
    """Replace well-known credential formats (``AKIA…``, ``ghp_…``, ``xoxb-…``…) by ``[REDACTED]``.

    ``lowered`` is ``text`` lower-cased with the same length (for the AWS context words).
    """
    spans, contexts = _token_spans(text)
    contexts.extend(match.end() for match in _AWS_WORD.finditer(lowered))
    if contexts:
        spans.extend(_aws_secret_spans(text, sorted(contexts)))
    return _replace(text, spans) if spans else text
