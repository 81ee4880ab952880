"""Deleting a file or ticket keeps the error: the link becomes NULL, its context stays.

Runs on a temporary SQLite database by default, or on any database given with --db URL
(postgresql://... uses psycopg2). The schema is created if missing and everything the scenario
writes is rolled back. Exit status 0 when the database behaves, 1 when it does not.

    python examples/set_null.py [--db URL]

The logic lives in sessionerror.scenarios.run_set_null, reusable from tests.
"""

import sys

from sessionerror.scenarios import main

if __name__ == "__main__":
    sys.exit(main("set_null"))
