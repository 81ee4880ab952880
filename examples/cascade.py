"""Deleting a session removes its errors, files and tickets (ON DELETE CASCADE).

Runs on a temporary SQLite database by default, or on any database given with --db URL
(postgresql://... uses psycopg2). The schema is created if missing and everything the scenario
writes is rolled back. Exit status 0 when the database behaves, 1 when it does not.

    python examples/cascade.py [--db URL]

The logic lives in sessionerror.scenarios.run_cascade, reusable from tests.
"""

import sys

from sessionerror.scenarios import main

if __name__ == "__main__":
    sys.exit(main("cascade"))
