"""``python -m sessionerror``: the ``sessionerror`` console script."""

from __future__ import annotations

import sys

from sessionerror.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
