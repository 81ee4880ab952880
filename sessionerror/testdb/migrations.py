"""Run a team's Alembic migrations in-process, on a connection the kit owns.

The kit hands its connection to the team's ``env.py`` through ``Config.attributes["connection"]``
(the pattern Alembic documents for tests); ``env.py`` needs only that one branch::

    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    else:
        ...  # the usual engine_from_config() path

An ``env.py`` without that branch never reaches another database: while the kit runs
migrations, :mod:`sessionerror.testdb.migration_guard` refuses any connection or statement to a
database other than the kit's, and a downgrade runs only on a database the kit created.

Alembic is imported only when a function here runs (extra ``sessionerror[migrations]``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sessionerror.redaction import redact_text
from sessionerror.testdb.migration_guard import (
    ForeignDatabaseError,
    MigrationError,
    kit_database_only,
    require_kit_database,
)

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

__all__ = [
    "SETTING",
    "AlembicSetup",
    "ForeignDatabaseError",
    "MigrationError",
    "downgrade",
    "load_alembic_config",
    "migration_script_files",
    "migrations_fingerprint",
    "upgrade",
]

#: How the setting is named in every message that asks to fix it.
SETTING = "sessionerror_alembic_ini (--sessionerror-alembic-ini / SESSIONERROR_ALEMBIC_INI)"
_STATEMENT_LIMIT = 200
_IGNORED_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache"}


def load_alembic_config(ini_path: str | Path) -> Config:
    """Read ``alembic.ini`` into an Alembic ``Config``; bad paths raise :class:`MigrationError`."""
    try:
        from alembic.config import Config
    except ImportError:
        raise MigrationError(
            f"{SETTING} is set but alembic is not installed: pip install 'sessionerror[migrations]'"
        ) from None
    path = Path(ini_path).expanduser()
    if not path.is_file():
        raise MigrationError(
            f"sessionerror_alembic_ini={str(ini_path)!r}: no such file "
            f"(looked at {path.absolute()}); point {SETTING} at your project's alembic.ini"
        )
    config = Config(str(path.resolve()))
    location = config.get_main_option("script_location")
    if not location:
        raise MigrationError(
            f"sessionerror_alembic_ini={str(ini_path)!r} has no script_location in its "
            "[alembic] section; add the folder holding env.py"
        )
    try:
        directory = _script_directory(config)
    except Exception as exc:  # alembic's CommandError: the folder is missing or not a script dir
        raise MigrationError(
            f"sessionerror_alembic_ini={str(ini_path)!r}: script_location {location!r} is not "
            f"usable ({_one_line(exc)}); fix script_location in that file"
        ) from None
    if not (Path(directory.dir) / "env.py").is_file():
        raise MigrationError(
            f"sessionerror_alembic_ini={str(ini_path)!r}: {directory.dir} has no env.py; "
            "fix script_location in that file"
        )
    return config


def _script_directory(config: Config) -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config)


def migration_script_files(config: Config) -> list[Path]:
    """Every file of the migration scripts (env.py, script.py.mako, every version), sorted."""
    directory = _script_directory(config)
    roots = [Path(directory.dir), *(Path(location) for location in directory.version_locations)]
    files: set[Path] = set()
    for root in roots:
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            relative = path.relative_to(root).parts
            if (
                path.is_file()
                and not _IGNORED_PARTS.intersection(relative)
                and path.suffix not in (".pyc", ".pyo")
            ):
                files.add(path.resolve())
    return sorted(files)


def migrations_fingerprint(config: Config, target: str) -> str:
    """Hash of the target, alembic.ini and every migration script file (names and bytes)."""
    digest = hashlib.sha256(f"alembic\0{target}\0".encode())
    if config.config_file_name:
        digest.update(Path(config.config_file_name).read_bytes())
    root = Path(_script_directory(config).dir).resolve()
    for path in migration_script_files(config):
        name = path.relative_to(root) if path.is_relative_to(root) else path
        digest.update(f"\0{name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _fingerprint_without_alembic(ini_path: str, target: str) -> str | None:
    """:func:`migrations_fingerprint` for the usual layout (``script_location`` a folder holding
    env.py and ``versions/``), read without importing Alembic: a re-run that finds its kept
    template never pays Alembic's import. None for anything else (then Alembic reads it)."""
    import configparser

    path = Path(ini_path).expanduser()
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(defaults={"here": str(path.absolute().parent)})
    try:
        parser.read(path)
        location = parser.get("alembic", "script_location", fallback=None)
        custom = parser.has_option("alembic", "version_locations")
    except configparser.Error:
        return None
    if not location or custom:
        return None
    root = Path(location)
    if not (root / "env.py").is_file() or not (root / "versions").is_dir():
        return None  # e.g. a package:path location: Alembic resolves it
    digest = hashlib.sha256(f"alembic\0{target}\0".encode())
    digest.update(path.read_bytes())
    root = root.resolve()
    files = sorted(
        found.resolve()
        for found in root.rglob("*")
        if found.is_file()
        and not _IGNORED_PARTS.intersection(found.relative_to(root).parts)
        and found.suffix not in (".pyc", ".pyo")
    )
    for found in files:
        digest.update(f"\0{found.relative_to(root)}\0".encode())
        digest.update(found.read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def _kept_logging() -> Iterator[None]:
    """Undo what env.py's ``fileConfig()`` does to the test process's logging."""
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers))
    saved: dict[str, tuple[bool, int, list[logging.Handler], bool]] = {}
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            saved[name] = (logger.disabled, logger.level, list(logger.handlers), logger.propagate)
    try:
        yield
    finally:
        root.setLevel(saved_root[0])
        root.handlers[:] = saved_root[1]
        for name, logger in list(logging.root.manager.loggerDict.items()):
            if not isinstance(logger, logging.Logger):
                continue
            if name in saved:
                disabled, level, handlers, propagate = saved[name]
                logger.disabled, logger.propagate = disabled, propagate
                logger.setLevel(level)
                logger.handlers[:] = handlers
            else:
                logger.handlers.clear()
                logger.propagate = True


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    line = " ".join(text.split()) or type(exc).__name__
    return redact_text(line.removeprefix("ERROR: "))


def _failed_revision(exc: BaseException, version_dirs: list[Path]) -> tuple[str, str] | None:
    """(revision id, file name) of the innermost migration script frame in the traceback."""
    found: tuple[str, str] | None = None
    traceback: TracebackType | None = exc.__traceback__
    while traceback is not None:
        frame = traceback.tb_frame
        filename = Path(frame.f_code.co_filename)
        revision = frame.f_globals.get("revision")
        if isinstance(revision, str) and any(
            filename.resolve().is_relative_to(root) for root in version_dirs
        ):
            found = (revision, filename.name)
        traceback = traceback.tb_next
    return found


def _run(command_name: str, connection: Connection, config: Config, target: str) -> None:
    from alembic import command
    from sqlalchemy.exc import StatementError

    directory = _script_directory(config)
    version_dirs = [Path(location).resolve() for location in directory.version_locations]
    version_dirs.append(Path(directory.dir).resolve())
    config.attributes["connection"] = connection
    config.attributes["sessionerror"] = True
    run: Callable[[Config, str], None] = getattr(command, command_name)
    env_py = Path(directory.dir) / "env.py"
    try:
        with _kept_logging(), kit_database_only(connection, env_py):
            run(config, target)
    except MigrationError:
        raise
    except Exception as exc:
        where = _failed_revision(exc, version_dirs)
        place = f"migration {where[0]} ({where[1]})" if where else f"{command_name} to {target!r}"
        message = (
            f"{place} failed on {connection.dialect.name}: {type(exc).__name__}: {_one_line(exc)}"
        )
        if isinstance(exc, StatementError) and exc.statement:
            statement = " ".join(str(exc.statement).split())
            if len(statement) > _STATEMENT_LIMIT:
                statement = statement[: _STATEMENT_LIMIT - 1] + "…"
            message += f"; statement: {statement}"
        raise MigrationError(message + "; fix that revision") from None
    finally:
        config.attributes.pop("connection", None)


def upgrade(connection: Connection, config: Config, target: str = "head") -> None:
    """``alembic upgrade target`` on ``connection`` (in the caller's transaction).

    Refused with :class:`ForeignDatabaseError` unless the kit created that database.
    """
    require_kit_database(connection, f"upgrade to {target!r}")
    _run("upgrade", connection, config, target)


def downgrade(connection: Connection, config: Config, target: str = "base") -> None:
    """``alembic downgrade target`` on ``connection`` (in the caller's transaction).

    Refused with :class:`ForeignDatabaseError` unless the kit created that database.
    """
    require_kit_database(connection, f"downgrade to {target!r}")
    _run("downgrade", connection, config, target)


class AlembicSetup:
    """A schema-setup callable that runs ``alembic upgrade <target>`` on the given connection."""

    def __init__(self, ini_path: str | Path, target: str = "head") -> None:
        self.ini_path = str(ini_path)
        self.target = target
        self._config: Config | None = None
        # What build fingerprints read (see sessionerror.testdb.schema.schema_fingerprint).
        self.__module__ = __name__
        self.__qualname__ = f"AlembicSetup({self.ini_path!r}, {self.target!r})"

    @property
    def config(self) -> Config:
        """The Alembic Config (read once; raises :class:`MigrationError` on a bad path)."""
        if self._config is None:
            self._config = load_alembic_config(self.ini_path)
        return self._config

    def __call__(self, connection: Connection) -> None:
        """Upgrade the database behind ``connection`` to the target."""
        upgrade(connection, self.config, self.target)

    def sessionerror_fingerprint(self) -> str:
        """Hash of every migration script file and the target: any edit changes it."""
        if self._config is None:
            fast = _fingerprint_without_alembic(self.ini_path, self.target)
            if fast is not None:
                return fast
        return migrations_fingerprint(self.config, self.target)

    def __repr__(self) -> str:
        return f"<AlembicSetup {self.ini_path} -> {self.target}>"
