"""The ``sessionerror`` console script: ``check``, ``export`` and ``summary``.

Imports stay light at module level: SQLAlchemy, the drivers and sqlite-utils are loaded only
when a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["build_parser", "main"]

EXIT_OK = 0
EXIT_VIOLATED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sessionerror`` command."""
    parser = argparse.ArgumentParser(
        prog="sessionerror",
        description="Check a database against the SessionError contract; export and summarise "
        "recorded errors.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check",
        help="verify a database against the contract (default: a throwaway reference schema)",
        description="Verify a database against the SessionError contract. Without --db, check "
        "the reference schema in a throwaway SQLite file. Behaviour checks write test rows in "
        "one transaction that is always rolled back. Exit 0: all pass; 1: contract violated; "
        "2: cannot connect or bad usage.",
    )
    check.add_argument("--db", metavar="URL", help="SQLite or PostgreSQL URL to check")
    check.add_argument("--json", action="store_true", help="print a machine-readable report")
    check.add_argument(
        "--schema-only",
        action="store_true",
        help="read the catalog only; skip the (rolled back) behaviour checks",
    )

    export = commands.add_parser(
        "export",
        help="copy sessions and their errors into a SQLite file (sqlite-utils / Datasette)",
    )
    export.add_argument("--db", metavar="URL", required=True, help="source database URL")
    export.add_argument("--to", metavar="PATH", required=True, help="SQLite file to write")
    export.add_argument("--replace", action="store_true", help="overwrite an existing --to file")
    export.add_argument(
        "--batch-size", type=int, default=1000, metavar="N", help="rows per batch (default 1000)"
    )

    summary = commands.add_parser("summary", help="print error patterns of a database")
    summary.add_argument("--db", metavar="URL", required=True, help="database URL")
    summary.add_argument("--json", action="store_true", help="print machine-readable JSON")
    summary.add_argument("--top", type=int, default=10, metavar="N", help="rows per top list")
    return parser


def _error(message: str) -> int:
    from .redaction import mask_url_password

    print(f"sessionerror: error: {mask_url_password(message)}", file=sys.stderr)
    return EXIT_USAGE


def _check(args: argparse.Namespace) -> int:
    from .check import DatabaseUnavailableError, check_reference_schema, run_checks

    behaviour = not args.schema_only
    try:
        report = (
            run_checks(args.db, behaviour=behaviour)
            if args.db
            else check_reference_schema(behaviour=behaviour)
        )
    except DatabaseUnavailableError as exc:
        return _error(str(exc))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.format())
    return EXIT_OK if report.ok else EXIT_VIOLATED


def _export(args: argparse.Namespace) -> int:
    from .check import DatabaseUnavailableError
    from .export import ExportError, export_database

    try:
        counts = export_database(
            args.db, args.to, replace=args.replace, batch_size=args.batch_size, progress=sys.stderr
        )
    except (DatabaseUnavailableError, ExportError) as exc:
        return _error(str(exc))
    print(
        f"exported {counts['sessions']} sessions and {counts['session_errors']} errors "
        f"to {args.to} (full-text search on user_message)"
    )
    return EXIT_OK


def _summary(args: argparse.Namespace) -> int:
    from .check import DatabaseUnavailableError
    from .export import ExportError, format_summary, summarise

    try:
        summary = summarise(args.db, top=args.top)
    except (DatabaseUnavailableError, ExportError) as exc:
        return _error(str(exc))
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the ``sessionerror`` command with ``argv`` (default: ``sys.argv[1:]``)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    handlers = {"check": _check, "export": _export, "summary": _summary}
    return handlers[args.command](args)
