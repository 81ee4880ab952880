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

from sessionerror.models.secret_keys import REDACTED

__all__ = ["TOKEN_PREFIXES", "redact_tokens"]

_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

#: (literal prefix, pattern starting with it). Bounds follow the providers' documented formats,
#: loosened where a provider has changed its length before.
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # AWS access key ids (gitleaks aws-access-token): AKIA long-term, ASIA temporary, ...
    *((prefix, re.compile(prefix + r"[A-Z2-7]{16}")) for prefix in ("AKIA", "ASIA", "ABIA")),
    ("ACCA", re.compile(r"ACCA[A-Z2-7]{16}")),
    ("A3T", re.compile(r"A3T[A-Z0-9][A-Z2-7]{16}")),
    # GitHub: personal (ghp_), OAuth (gho_), user-to-server (ghu_), server (ghs_), refresh (ghr_)
    *(
        (prefix, re.compile(prefix + r"[0-9A-Za-z]{30,255}+"))
        for prefix in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")
    ),
    ("github_pat_", re.compile(r"github_pat_[0-9A-Za-z_]{22,255}+")),
    ("glpat-", re.compile(r"glpat-[0-9A-Za-z_\-]{20,255}+")),
    # Slack bot/user/app/legacy tokens (gitleaks slack-*-token, detect-secrets SlackDetector)
    *(
        (prefix, re.compile(prefix + r"[0-9A-Za-z\-]{10,255}+"))
        for prefix in ("xoxb-", "xoxp-", "xoxa-", "xoxe-", "xoxo-", "xoxr-", "xoxs-", "xapp-")
    ),
    ("AIza", re.compile(r"AIza[0-9A-Za-z_\-]{35}")),
    # Stripe secret and restricted keys (publishable pk_ keys are public)
    *(
        (prefix, re.compile(prefix + r"[0-9A-Za-z]{10,255}+"))
        for prefix in ("sk_live_", "rk_live_", "sk_test_", "rk_test_")
    ),
    ("npm_", re.compile(r"npm_[0-9A-Za-z]{36}")),
    ("pypi-AgEIcHlwaS5vcmc", re.compile(r"pypi-AgEIcHlwaS5vcmc[0-9A-Za-z_\-]{50,1000}+")),
    ("SG.", re.compile(r"SG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}")),
    *((prefix, re.compile(prefix + r"[a-fA-F0-9]{32}")) for prefix in ("shpat_", "shpss_")),
)
#: The literal prefixes, for documentation and tests.
TOKEN_PREFIXES = tuple(prefix for prefix, _pattern in _RULES)

# Slack incoming webhooks: the path after /services/ is the credential.
_SLACK_HOOK = "hooks.slack.com/"
_SLACK_HOOK_PATH = re.compile(r"(?:services|workflows|triggers)/([0-9A-Za-z_+/\-]{8,255}+)")
# AWS secret access key: exactly 40 base64 characters, near an "aws" word or an access key id.
_AWS_CONTEXT = re.compile(r"aws|akia|asia")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_WINDOW = 160


def _looks_random(value: str) -> bool:
    """Upper case, lower case and a digit or ``/``/``+``: not a word, not a hex SHA."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() or c in "/+" for c in value)
    )


def _token_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every prefixed token, standing alone (not inside a longer word)."""
    spans: list[tuple[int, int]] = []
    for prefix, pattern in _RULES:
        if prefix not in text:
            continue
        for match in pattern.finditer(text):
            start, end = match.span()
            if start and text[start - 1] in _ALNUM:
                continue
            if end < len(text) and text[end] in _ALNUM:
                continue
            spans.append((start, end))
    if _SLACK_HOOK in text:
        pos = text.find(_SLACK_HOOK)
        while pos >= 0:
            path = _SLACK_HOOK_PATH.match(text, pos + len(_SLACK_HOOK))
            if path is not None:
                spans.append(path.span(1))
            pos = text.find(_SLACK_HOOK, pos + len(_SLACK_HOOK))
    return spans


def _aws_secret_spans(text: str, lowered: str) -> list[tuple[int, int]]:
    """40-character AWS secret keys within a bounded window after an AWS word or key id."""
    spans: list[tuple[int, int]] = []
    scanned = 0  # windows never overlap: each character is examined at most once
    for context in _AWS_CONTEXT.finditer(lowered):
        start = max(context.end(), scanned)
        end = min(len(text), context.end() + _AWS_WINDOW)
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
    spans = _token_spans(text)
    if "aws" in lowered or "akia" in lowered or "asia" in lowered:
        spans.extend(_aws_secret_spans(text, lowered))
    return _replace(text, spans) if spans else text
