"""Scrub secrets from technical details, messages and URLs before they are stored or printed.

The public API of redaction: :func:`redact` walks JSON-like values (iteratively, any depth);
strings are scrubbed by :func:`redact_text` (:mod:`sessionerror.redaction.text`), secret key
names are recognised by :func:`is_secret_key` (:mod:`sessionerror.redaction.keys`) and URL
passwords are masked by :func:`sessionerror.redaction.url_passwords.mask_url_password`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sessionerror.redaction.keys import REDACTED, is_secret_header_name, is_secret_key
from sessionerror.redaction.text import redact_text

__all__ = ["REDACTED", "is_secret_key", "redact", "redact_text"]


def _leaf(value: Any) -> Any:
    return redact_text(value) if isinstance(value, str) else value


#: Labels of a header-list entry: {"name"|"header_name"|…: "X-Api-Key", "value"|…: "abc"}.
_NAME_LABELS = frozenset({"name", "key", "header", "field", "headername", "headerkey", "fieldname"})
_VALUE_LABELS = frozenset({"value", "headervalue", "fieldvalue"})


def _label(key: str) -> str:
    """``header_name`` / ``headerName`` / ``Header-Name`` -> ``headername``."""
    return key.lower().replace("_", "").replace("-", "")


def _secret_value_key(mapping: Mapping[Any, Any]) -> Any:
    """The value key of a header-list entry ``{"name": "X-Api-Key", "value": ...}``
    (or ``header_name`` / ``header_value``)."""
    value_key = None
    secret_name = False
    for key, item in mapping.items():
        if not isinstance(key, str):
            continue
        label = _label(key)
        if label in _VALUE_LABELS:
            value_key = key
        elif label in _NAME_LABELS:
            secret_name = secret_name or is_secret_header_name(item)
    return value_key if secret_name else None


def _secret_positions(items: list[Any] | tuple[Any, ...]) -> set[int]:
    """Positions of values that follow a secret header name in a short tuple or list:
    ``("Authorization", "Bearer x")``, ``("X-Api-Key", "abc", True)``. A value that is itself
    a secret name stays (``["Authorization", "Cookie"]`` lists names)."""
    if not 2 <= len(items) <= 3:
        return set()
    return {
        index + 1
        for index in range(len(items) - 1)
        if is_secret_header_name(items[index])
        and items[index + 1] not in (None, "")
        and not isinstance(items[index + 1], Mapping | list | tuple)
        and not is_secret_header_name(items[index + 1])
    }


def _distinct_key(target: dict[Any, Any], key: Any) -> Any:
    """``key``, or ``key #2``, ``key #3``… if scrubbing made it equal to a key already there:
    two keys scrubbed alike must not merge and drop a value."""
    if key not in target or not isinstance(key, str):
        return key
    number = 2
    while f"{key} #{number}" in target:
        number += 1
    return f"{key} #{number}"


def redact(value: Any) -> Any:
    """Return a copy of a JSON-like value with secrets replaced by ``[REDACTED]`` at any depth.

    Values under secret keys are replaced whole; strings (mapping keys included) are scrubbed
    with :func:`redact_text`; ``[name, value]`` / ``(name, value, flag)`` tuples and
    ``{"name": ..., "value": ...}`` / ``{"header_name": ..., "header_value": ...}`` header
    entries with a secret name are redacted too. Keys that scrub to the same text stay
    distinct (``… #2``). Iterative: any depth works; a value that contains itself raises
    ``ValueError``.
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
                new_key = _distinct_key(target, redact_text(key) if isinstance(key, str) else key)
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
        else:
            secret_positions = _secret_positions(source)
            for index, item in enumerate(source):
                if index in secret_positions:
                    target.append(REDACTED)
                elif isinstance(item, Mapping | list | tuple):
                    child = {} if isinstance(item, Mapping) else []
                    target.append(child)
                    children.append((item, child))
                else:
                    target.append(_leaf(item))
        stack.extend(reversed(children))
    return root
