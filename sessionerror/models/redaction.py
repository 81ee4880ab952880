"""Scrub secrets from technical details, messages and URLs before they are stored or printed.

The public API of redaction: :func:`redact` walks JSON-like values (iteratively, any depth);
strings are scrubbed by :func:`redact_text` (:mod:`sessionerror.models.text_scrub`), secret key
names are recognised by :func:`is_secret_key` (:mod:`sessionerror.models.secret_keys`) and URL
passwords are masked by :func:`sessionerror.urls.mask_url_password`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sessionerror.models.secret_keys import REDACTED, is_secret_header_name, is_secret_key
from sessionerror.models.text_scrub import redact_text

__all__ = ["REDACTED", "is_secret_key", "redact", "redact_text"]


def _leaf(value: Any) -> Any:
    return redact_text(value) if isinstance(value, str) else value


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
            secret_name = secret_name or is_secret_header_name(item)
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
        elif len(source) == 2 and is_secret_header_name(source[0]) and source[1] not in (None, ""):
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
