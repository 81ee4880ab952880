"""Where a secret value ends: quoted values with escaped quotes inside, line ends found once.

Shared by the free-text rules. Every helper is linear over what it examines, and the callers
resume scanning after the value, so one text is examined a bounded number of times.
"""

from __future__ import annotations

__all__ = ["LineEnds", "glued", "quoted_value_end"]


class LineEnds:
    """The end of the line holding a position, for positions asked in increasing order.

    One long line (minified JSON) is searched for its end once, not once per value on it:
    that search per value made scrubbing quadratic.
    """

    __slots__ = ("_end", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._end = -1

    def after(self, pos: int) -> int:
        """Index of the first ``\\n`` at or after ``pos``, or ``len(text)``."""
        if self._end < pos:
            found = self._text.find("\n", pos)
            self._end = len(self._text) if found < 0 else found
        return self._end


_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
#: Letters of the escapes ``\n`` ``\r`` ``\t`` ``\b`` ``\f`` in escaped text (JSON, repr).
_ESCAPE_LETTERS = frozenset("nrtbf")


def glued(text: str, index: int) -> bool:
    """True if ``text[index]`` continues a word (a letter, digit or ``_`` before it).

    The letter of an escape (``\\nBearer x`` in JSON text) does not count: it stands for a
    line break, so the word starts at ``index``.
    """
    if index <= 0:
        return False
    before = text[index - 1]
    if before not in _WORD:
        return False
    return not (before in _ESCAPE_LETTERS and index >= 2 and text[index - 2] == "\\")


def _backslashes_before(text: str, index: int, floor: int) -> int:
    """How many backslashes immediately precede ``text[index]`` (not looking before floor)."""
    count = 0
    while index - count - 1 >= floor and text[index - count - 1] == "\\":
        count += 1
    return count


def quoted_value_end(text: str, value_start: int, quote: str, limit: int) -> int:
    """End (exclusive) of a value opened by ``quote`` (``"``, ``'``, ``\\"`` or ``\\'``).

    Escaped quotes do not close it: ``"a\\"b"`` holds ``a\\"b`` (a quote after any backslash
    is taken as escaped); inside a JSON string, a value opened by ``\\"`` is closed by ``\\"``
    but not by ``\\\\\\"`` (an escaped quote inside the escaped string). Returns ``limit``
    when no closing quote comes before ``limit``.
    """
    char = quote[-1]
    escaped = len(quote) == 2
    pos = value_start
    while True:
        index = text.find(char, pos, limit)
        if index < 0:
            return limit
        slashes = _backslashes_before(text, index, value_start)
        # Any backslash before the quote keeps the value open, even an even number: once the
        # text is escaped again (a repr, JSON in JSON) "\\"" may well be the quote the value
        # held. Hiding a little more than the value is the safe side.
        if not escaped:
            if slashes == 0:
                return index
        elif slashes % 4 == 1:
            return index - 1  # the closing \" itself
        elif slashes == 0:
            return index  # the string around the escaped one ended
        pos = index + 1
