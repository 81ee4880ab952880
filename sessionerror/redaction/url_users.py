"""A token used as a URL's user name: ``https://ghp_…@github.com/…``,
``https://<40 hex>@git.example/…`` (no ``:password``, so
:func:`sessionerror.redaction.url_passwords.mask_url_password` has nothing to mask).

Linear: one literal-anchored pattern (``://``) with a bounded, possessive repeat.
"""

from __future__ import annotations

import re

from sessionerror.redaction.keys import MASK

__all__ = ["redact_url_credentials"]

_MASK = MASK
# scheme://<user>@ where the user name is one long run of letters, digits, "_" and "-".
_TOKEN_USER = re.compile(r"://([A-Za-z0-9_\-]{20,255}+)@")


def _token_like(user: str) -> bool:
    """Letters and digits mixed (a token), not a long plain name (``deploy_bot_production``)."""
    return any(c.isdigit() for c in user) and any(c.isalpha() for c in user)


def redact_url_credentials(text: str) -> str:
    """Mask (``***``) a token used as a URL's user name."""
    if "://" not in text:
        return text
    out: list[str] = []
    done = 0
    for match in _TOKEN_USER.finditer(text):
        if not _token_like(match.group(1)):
            continue
        out.append(text[done : match.start(1)])
        out.append(_MASK)
        done = match.end(1)
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)
