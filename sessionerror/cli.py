"""The ``sessionerror`` console script: check, export, summary, example and build-image.

Imports stay light at module level: SQLAlchemy, the drivers and sqlite-utils are loaded only
when a command runs.

Every failure a user can cause ends with one line on stderr (``sessionerror: error: ...``,
passwords masked) and an exit code: 0 ok, 1 contract violated (``check``), 2 bad usage or
environment (bad URL, unreachable server, missing driver, missing tables, bad path or number),
130 interrupted by SIGINT, 143 terminated by SIGTERM (nothing left behind in both cases).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

from sessionerror.errors import DatabaseUnavailableError, ExportError, UsageError, first_line
from sessionerror.urls import DatabaseURL

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "EXIT_VIOLATED",
    "Interrupted",
    "UsageError",
    "build_parser",
    "describe_database_error",
    "interrupt_on_signals",
    "main",
    "one_line_parser",
    "safe_line",
]

EXIT_OK = 0
EXIT_VIOLATED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143

_EXIT_CODES = (
    "Exit codes: 0 ok; 1 contract violated (check); 2 bad usage, unusable URL, unreachable "
    "database, missing tables, bad path; 130/143 interrupted by SIGINT/SIGTERM."
)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived (see :func:`interrupt_on_signals`); ``signum`` says which.

    A BaseException, so that ``finally`` blocks clean up and no ``except Exception`` on the
    way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are exceptions, printed by :func:`main` as one line."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.partition(" ")[2]  # "sessionerror check" -> "check"
        where = f"{command}: " if command else ""
        raise UsageError(f"{where}{message}. Fix: see {self.prog} --help")


def one_line_parser(**kwargs: Any) -> argparse.ArgumentParser:
    """An ArgumentParser whose usage errors raise :class:`UsageError` (one line) instead of
    printing the usage and exiting; ``--help`` still prints and exits 0."""
    return _Parser(**kwargs)


def _whole_number(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
        return value

    parse.__name__ = f"whole number >= {minimum}"
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sessionerror`` command."""
    parser = _Parser(
        prog="sessionerror",
        description="Check a database against the SessionError contract; export and summarise "
        "recorded errors.",
        epilog=_EXIT_CODES,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check",
        help="verify a database against the contract (default: a throwaway reference schema)",
        description="Verify a database against the SessionError contract. Without --db, check "
        "the reference schema in a throwaway SQLite file. Behaviour checks write test rows in "
        "one transaction that is always rolled back.",
        epilog=_EXIT_CODES,
    )
    # --db is read once, here, into a DatabaseURL (masked whenever it is printed).
    check.add_argument(
        "--db", type=DatabaseURL, metavar="URL", help="SQLite or PostgreSQL URL to check"
    )
    check.add_argument("--json", action="store_true", help="print a machine-readable report")
    check.add_argument(
        "--schema-only",
        action="store_true",
        help="read the catalog only; skip the (rolled back) behaviour checks",
    )

    export = commands.add_parser(
        "export",
        help="copy sessions and their errors into a SQLite file (sqlite-utils / Datasette)",
        description="Copy sessions and session_errors into a new SQLite file (technical details "
        "redacted, full-text search on user_message). The file is written next to --to and "
        "moved into place at the end: a failed or interrupted export leaves nothing behind. "
        "An empty database gives a valid file with both tables and no rows.",
        epilog=_EXIT_CODES,
    )
    export.add_argument(
        "--db", type=DatabaseURL, metavar="URL", required=True, help="source database URL"
    )
    export.add_argument("--to", metavar="PATH", required=True, help="SQLite file to write")
    export.add_argument("--replace", action="store_true", help="overwrite an existing --to file")
    export.add_argument(
        "--batch-size",
        type=_whole_number(1),
        default=1000,
        metavar="N",
        help="rows per batch (default 1000)",
    )

    summary = commands.add_parser(
        "summary", help="print error patterns of a database", epilog=_EXIT_CODES
    )
    summary.add_argument(
        "--db", type=DatabaseURL, metavar="URL", required=True, help="database URL"
    )
    summary.add_argument("--json", action="store_true", help="print machine-readable JSON")
    summary.add_argument(
        "--top", type=_whole_number(0), default=10, metavar="N", help="rows per top list"
    )
    conformance = commands.add_parser(
        "conformance",
        help="run the specification's behaviour against your SessionError class",
        description="Run the SessionError specification against a class (its fields, enum "
        "storage, methods, queries, validation, log lines, redaction and delete rules). Default: "
        "a throwaway SQLite file with the schema from the class's metadata; with --db, inside "
        "one transaction that is always rolled back.",
        epilog="Exit codes: 0 the class conforms; 1 clauses violated; 2 bad usage (import path, "
        "URL, missing tables); 130/143 interrupted.",
    )
    conformance.add_argument("model", metavar="MODULE:CLASS", help="your SessionError class")
    conformance.add_argument(
        "--db", type=DatabaseURL, metavar="URL", help="run on this database (rolled back)"
    )
    conformance.add_argument("--json", action="store_true", help="print a machine-readable report")
    _add_wheel_commands(commands)
    return parser


def _add_wheel_commands(commands: Any) -> None:
    """``example`` and ``build-image``: what an installed wheel runs instead of repo files."""
    example = commands.add_parser(
        "example",
        help="run an example scenario (sessionerror example --list names them)",
        description="Run one example scenario: it prints what it checked and saw. Default: a "
        "temporary SQLite file; the schema is created if missing and everything is rolled back.",
        epilog="Exit codes: 0 the database behaves; 1 it does not; 2 the scenario cannot run; "
        "130/143 interrupted.",
    )
    example.add_argument("name", nargs="?", metavar="NAME", help="the scenario to run")
    example.add_argument("--list", action="store_true", help="name the example scenarios")
    example.add_argument(
        "--db",
        type=DatabaseURL,
        metavar="URL",
        help="SQLite or PostgreSQL URL (default: a temporary SQLite file)",
    )
    # For demonstrations and tests: a SQLite engine without PRAGMA foreign_keys=ON.
    example.add_argument("--sqlite-foreign-keys-off", action="store_true", help=argparse.SUPPRESS)
    image = commands.add_parser(
        "build-image",
        help="build the local PostgreSQL 15 image of the container tier (needs Docker)",
        description="Build the local PostgreSQL 15 test image from Debian packages (no image "
        "registry needed) with the builder shipped in the package. Needs root, debootstrap and a "
        "running Docker engine; an image already built from the same entrypoint is reused.",
        epilog="Exit codes: 0 built or reused; 2 no Docker engine, bad --tag or the build failed.",
    )
    image.add_argument(
        "--tag",
        metavar="IMAGE",
        default="sessionerror/postgres:15-local",
        help="image to build (default sessionerror/postgres:15-local)",
    )
    image.add_argument("--force", action="store_true", help="rebuild even if the image exists")


def _check(args: argparse.Namespace) -> int:
    from sessionerror.check.api import check_reference_schema, run_checks

    behaviour = not args.schema_only
    report = (
        run_checks(args.db, behaviour=behaviour)
        if args.db is not None
        else check_reference_schema(behaviour=behaviour)
    )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.format())
    return EXIT_OK if report.ok else EXIT_VIOLATED


def _conformance(args: argparse.Namespace) -> int:
    from sessionerror.conformance import run_conformance

    report = run_conformance(args.model, args.db)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.format())
    return EXIT_OK if report.ok else EXIT_VIOLATED


def _export(args: argparse.Namespace) -> int:
    from sessionerror.export import export_database

    counts = export_database(
        args.db, args.to, replace=args.replace, batch_size=args.batch_size, progress=sys.stderr
    )
    print(
        f"exported {counts['sessions']} sessions and {counts['session_errors']} errors "
        f"to {args.to} (full-text search on user_message)"
    )
    return EXIT_OK


def _example(args: argparse.Namespace) -> int:
    from sessionerror.scenarios.registry import EXAMPLES, describe_examples, run_example

    if args.list:
        for name, what in describe_examples():
            print(f"{name:<15} {what}")
        print("Run one: sessionerror example NAME [--db URL]")
        return EXIT_OK
    if args.name is None:
        raise UsageError(
            f"example: name one of {', '.join(EXAMPLES)}. Fix: sessionerror example NAME "
            "(sessionerror example --list describes them)"
        )
    result = run_example(args.name, args.db, sqlite_foreign_keys=not args.sqlite_foreign_keys_off)
    print(result.report())
    return EXIT_OK if result.ok else EXIT_VIOLATED


def _build_image(args: argparse.Namespace) -> int:
    from sessionerror.testdb.postgres.image import build_image

    status = build_image(args.tag, force=args.force)
    if status != 0:
        raise UsageError(
            f"build-image: the build script stopped with exit status {status} (its last lines "
            "are above). Fix: act on them, then run sessionerror build-image again"
        )
    return EXIT_OK


def _summary(args: argparse.Namespace) -> int:
    from sessionerror.summary import format_summary, summarise

    summary = summarise(args.db, top=args.top)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return EXIT_OK


@contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` so cleanup code runs; later signals
    are ignored while it does. Only in the main thread (elsewhere signals cannot be set);
    the previous handlers are restored on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.getsignal(signum) for signum in signals}

    def interrupt(signum: int, frame: FrameType | None) -> None:
        for other in signals:
            signal.signal(other, signal.SIG_IGN)
        raise Interrupted(signum)

    for signum in signals:
        signal.signal(signum, interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def _run(args: argparse.Namespace) -> int:
    handlers = {
        "check": _check,
        "conformance": _conformance,
        "export": _export,
        "summary": _summary,
        "example": _example,
        "build-image": _build_image,
    }
    return handlers[args.command](args)


def main(argv: list[str] | None = None) -> int:
    """Run the ``sessionerror`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit code; every failure a user can cause is one masked line on stderr.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)

    def fail(message: str, code: int = EXIT_USAGE) -> int:
        print(f"sessionerror: error: {safe_line(message, arguments)}", file=sys.stderr, flush=True)
        return code

    command = "the command"
    with interrupt_on_signals():
        try:
            args = build_parser().parse_args(arguments)
            command = args.command
            return _run(args)
        except SystemExit as exc:  # --help
            return EXIT_OK if exc.code is None else exc.code if isinstance(exc.code, int) else 2
        except Interrupted as exc:
            name = signal.Signals(exc.signum).name
            print(
                f"sessionerror: {command} interrupted by {name}; stopped, nothing was written",
                file=sys.stderr,
                flush=True,
            )
            return 128 + exc.signum
        except Exception as exc:
            return _failure(exc, command, fail)


def safe_line(message: str, arguments: Sequence[str] = ()) -> str:
    """``message`` as one line safe to print: secrets redacted, and the passwords of the URLs
    in ``arguments`` masked, every piece a parser could cut from them included."""
    from sessionerror.redaction import URLSecrets, redact_text

    return " ".join(URLSecrets(arguments).scrub(redact_text(message)).split())


# sqlite3 quotes the undecodable row whole ("... with text 'password=...'"): never print it.
_UNDECODABLE = re.compile(r"(Could not decode to UTF-8 column '[^']*') with text .*", re.S)


def describe_database_error(exc: BaseException) -> tuple[str, str | None]:
    """The first line of a driver error, without row content, and a fix of its own if any."""
    line, undecodable = _UNDECODABLE.subn(r"\1", first_line(exc))
    fix = "repair or delete the row whose text is not valid UTF-8" if undecodable else None
    return line, fix


def _failure(exc: Exception, command: str, fail: Callable[[str], int]) -> int:
    """The one line (and exit code 2) for an error a user can cause; anything else re-raised."""
    from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

    if isinstance(exc, UsageError | DatabaseUnavailableError | ExportError):
        return fail(str(exc))
    if isinstance(exc, SQLAlchemyError | sqlite3.Error):
        line, fix = describe_database_error(exc)
        if fix is None and isinstance(
            exc, OperationalError | InterfaceError | sqlite3.OperationalError
        ):
            fix = "check that the database is up, reachable and has free space, then run it again"
        if fix is None:
            fix = "run sessionerror check --db URL to see what differs from the contract"
        return fail(
            f"{command} stopped on a database error: {line}; nothing was written. Fix: {fix}"
        )
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return fail(
            f"{command} stopped: {exc.strerror or exc}{where}; nothing was written. "
            "Fix: check the path, its permissions and the free disk space"
        )
    raise exc
