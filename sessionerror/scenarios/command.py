"""The command line of ``examples/*.py``: run one scenario against ``--db`` (default: a temporary
SQLite file) and print its report, with the CLI's exit codes."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from sessionerror.cli import (
    Interrupted,
    describe_database_error,
    interrupt_on_signals,
    one_line_parser,
    safe_line,
)
from sessionerror.connect import connect_url
from sessionerror.errors import DatabaseUnavailableError, UsageError
from sessionerror.scenarios.common import ScenarioResult, engine_from_url
from sessionerror.scenarios.registry import EXAMPLES
from sessionerror.urls import DatabaseURL

__all__ = ["SCENARIOS", "main"]


#: The scenarios by name (the same as ``sessionerror example``'s).
SCENARIOS: dict[str, Callable[[Engine | Connection], ScenarioResult]] = EXAMPLES


def main(name: str, argv: Sequence[str] | None = None) -> int:
    """Run scenario ``name`` from the command line and return the exit status.

    0: the database behaves; 1: it does not (a check failed); 2: the scenario cannot run (bad
    usage, unusable or unreachable ``--db``), one line on stderr with the password masked;
    130 / 143: interrupted by SIGINT / SIGTERM, everything rolled back and nothing left behind.
    """
    scenario = SCENARIOS[name]
    arguments = list(sys.argv[1:] if argv is None else argv)

    def fail(message: str, code: int = 2) -> int:
        print(f"{name}.py: error: {safe_line(message, arguments)}", file=sys.stderr, flush=True)
        return code

    parser = one_line_parser(
        prog=f"{name}.py", description=(scenario.__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: a temporary SQLite file); e.g. postgresql://user@host/db. "
        "Nothing is left behind: the scenario's transaction is rolled back.",
    )
    # For demonstrations and tests: a SQLite engine without PRAGMA foreign_keys=ON.
    parser.add_argument("--sqlite-foreign-keys-off", action="store_true", help=argparse.SUPPRESS)
    try:
        args = parser.parse_args(arguments)
        with (
            interrupt_on_signals(),
            tempfile.TemporaryDirectory(prefix="sessionerror-example-") as tmp,
        ):
            url = DatabaseURL(
                args.db if args.db is not None else f"sqlite:///{Path(tmp) / 'example.db'}"
            )
            if args.db is not None:
                # One clear line (exit 2) for a bad URL, a missing file or an unreachable server,
                # before the scenario starts; SQLite files are never created.
                connect_url(url).dispose()
            engine = engine_from_url(url, sqlite_foreign_keys=not args.sqlite_foreign_keys_off)
            try:
                result = scenario(engine)
            finally:
                engine.dispose()
    except SystemExit as exc:  # --help
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 2
    except (UsageError, DatabaseUnavailableError) as exc:
        return fail(str(exc))
    except SQLAlchemyError as exc:
        line, fix = describe_database_error(exc)
        return fail(
            f"cannot run on the database: {line}. Fix: "
            + (
                fix
                or "check the --db URL (sessionerror check --db URL shows what differs "
                "from the contract)"
            )
        )
    except Interrupted as exc:
        signame = signal.Signals(exc.signum).name
        return fail(
            f"interrupted by {signame}; everything the scenario wrote was rolled back",
            128 + exc.signum,
        )
    print(result.report())
    return 0 if result.ok else 1
