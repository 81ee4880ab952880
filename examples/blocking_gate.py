"""A Jira export is refused while the session has blocking errors, allowed once resolved.

Runs on a temporary SQLite database by default, or on any database given with --db URL
(postgresql://... uses psycopg2). The schema is created if missing and everything the scenario
writes is rolled back. Exit status 0 when the database behaves, 1 when it does not.

    python examples/blocking_gate.py [--db URL]

The logic lives in sessionerror.scenarios.run_blocking_gate, reusable from tests.
"""

import sys

from sessionerror.scenarios import main

if __name__ == "__main__":
    sys.exit(main("blocking_gate"))
