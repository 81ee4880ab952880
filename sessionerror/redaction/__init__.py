"""Secrets kept out of everything sessionerror stores or prints: one home for every rule.

Two entry points: :func:`redact` / :func:`redact_text` scrub values and free text (stored
errors, logs, messages), :func:`mask_url_password` masks URL passwords in any text. Plain
Python (``re``, ``json``), so the model, the plugin and the CLI can all import it cheaply.

One concern per module:

- :mod:`~sessionerror.redaction.values`: :func:`redact`, the walk over JSON-like values;
- :mod:`~sessionerror.redaction.text`: :func:`redact_text`, the order of the free-text passes
  (and PEM blocks, JSON Web Tokens, auth-scheme credentials);
- :mod:`~sessionerror.redaction.keys`: which key and header names are secret, and the
  replacement texts (:data:`REDACTED`, :data:`MASK`);
- :mod:`~sessionerror.redaction.assignments`: ``key=value`` pairs whose key is secret;
- :mod:`~sessionerror.redaction.tokens`: well-known credential formats (AWS, GitHub, Slack...);
- :mod:`~sessionerror.redaction.markup`: XML elements, command-line flags, Digest parameters;
- :mod:`~sessionerror.redaction.url_users`: a token used as a URL's user name;
- :mod:`~sessionerror.redaction.url_passwords`: :func:`mask_url_password`, structural masking;
- :mod:`~sessionerror.redaction.url_secrets`: the passwords of URLs a user gave
  (:class:`URLSecrets`, :func:`hide_url_secrets`, :func:`mask_url`);
- :mod:`~sessionerror.redaction.spans`: where a secret value ends (shared by the rules).
"""

from __future__ import annotations

from sessionerror.redaction.keys import MASK, REDACTED, is_secret_key
from sessionerror.redaction.text import redact_text
from sessionerror.redaction.url_passwords import mask_url_password
from sessionerror.redaction.url_secrets import (
    Revealable,
    URLSecrets,
    hide_url_secrets,
    mask_url,
    url_secrets,
)
from sessionerror.redaction.values import redact

__all__ = [
    "MASK",
    "REDACTED",
    "Revealable",
    "URLSecrets",
    "hide_url_secrets",
    "is_secret_key",
    "mask_url",
    "mask_url_password",
    "redact",
    "redact_text",
    "url_secrets",
]
