"""Import path of 0.1.0, kept for users' conftest files: the fixture factories.

New code imports them from :mod:`sessionerror.plugin`.
"""

from sessionerror.plugin.database_factories import (
    sessionerror_db_factory,
    sessionerror_engine_factory,
)

__all__ = ["sessionerror_db_factory", "sessionerror_engine_factory"]
