"""Public import path kept for users: rollback and committed isolation.

The implementation lives in :mod:`sessionerror.testdb.isolation`.
"""

from sessionerror.testdb.isolation import *  # noqa: F403
from sessionerror.testdb.isolation import __all__ as __all__
