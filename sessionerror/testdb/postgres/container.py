"""The container tier: PostgreSQL in a Docker container started through testcontainers.

:func:`start_postgres_container` starts one container from a PostgreSQL image (the official
``postgres`` images or the local one ``sessionerror build-image`` builds), waits until
``psql`` answers inside it, and connects from the host through ``127.0.0.1`` and the published
port only: the port is published on loopback, and testcontainers' own host guess (the bridge
gateway when the tests themselves run in a container) is never used.

Cleanup does not need testcontainers' Ryuk reaper: every container carries the labels of
:mod:`sessionerror.testdb.postgres.container_labels`, :meth:`RunningPostgresContainer.stop`
removes it, and ``remove_stale_containers`` (run before each start) removes those of dead runs.
"""

from __future__ import annotations

import contextlib
import gc
import os
import secrets
import time
import warnings
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sessionerror.errors import BackendUnavailableError
from sessionerror.redaction import redact_text
from sessionerror.testdb.postgres.container_labels import kit_labels, remove_stale_containers
from sessionerror.testdb.postgres.server import PostgresUnavailableError, check_server, log_tail
from sessionerror.urls import DatabaseURL

__all__ = [
    "BUILD_COMMAND",
    "LOCAL_IMAGE",
    "ContainerFailure",
    "DockerUnavailable",
    "RunningPostgresContainer",
    "start_postgres_container",
]

#: The image ``sessionerror build-image`` builds from Debian packages (no registry needed).
LOCAL_IMAGE = "sessionerror/postgres:15-local"
#: The command that builds :data:`LOCAL_IMAGE` (its script ships in the package).
BUILD_COMMAND = "sessionerror build-image"

_CONTAINER_PORT = 5432
_LOOPBACK = "127.0.0.1"
_USER = "postgres"
_PGDATA = "/var/lib/postgresql/data"  # PGDATA of the postgres:15 images and of LOCAL_IMAGE
_LOG_TAIL_LINES = 6
_PORT_TAKEN = ("port is already allocated", "address already in use")
_LOCAL_DOCKER_HOSTS = {"", "localhost", "127.0.0.1", "::1"}


class DockerUnavailable(BackendUnavailableError):
    """No Docker engine (or no testcontainers): the tier is not available, nothing is broken."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ContainerFailure(BackendUnavailableError):
    """Docker answered but the PostgreSQL container failed; ``reason`` is one line."""

    def __init__(self, reason: str, log_tail: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.log_tail = list(log_tail)


def _remove(container: Any) -> None:
    # testcontainers' stop(): docker rm -f -v, then close the client.
    with contextlib.suppress(Exception):
        container.stop()


@dataclass
class RunningPostgresContainer:
    """A started container: where to connect (loopback + published port) and how to remove it."""

    #: The testcontainers ``PostgresContainer``.
    container: Any = field(repr=False)
    image: str
    #: ``postgresql+psycopg2://postgres:pw@127.0.0.1:port/postgres`` (prints masked).
    url: DatabaseURL = field(repr=False)
    port: int
    version: str
    container_id: str
    _finalizer: weakref.finalize[Any, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # A forgotten stop() must not leave the container behind when the interpreter exits.
        self._finalizer = weakref.finalize(self, _remove, self.container)

    def stop(self) -> None:
        """Remove the container (``docker rm -f -v``); idempotent."""
        if self._finalizer is not None:
            self._finalizer()


# -- starting -----------------------------------------------------------------------------------


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = redact_text(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _import_postgres_container() -> Any:
    """testcontainers' PostgresContainer from its current, warning-free module."""
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        # testcontainers < 4.14 has no community package; its top-level module is current there.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from testcontainers.postgres import PostgresContainer
    return PostgresContainer


def _import_docker_container() -> Any:
    from testcontainers.core.container import DockerContainer

    return DockerContainer


def _docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _check_local_engine() -> None:
    """The published port is on the engine's loopback: only a local engine can be reached."""
    from urllib.parse import urlsplit

    docker_host = _docker_host()
    parts = urlsplit(docker_host)
    if parts.scheme in ("unix", "npipe") or (parts.hostname or "") in _LOCAL_DOCKER_HOSTS:
        return
    raise DockerUnavailable(
        f"DOCKER_HOST={redact_text(docker_host)} is a remote engine; the container tier publishes "
        "its port on the engine's 127.0.0.1, so it needs a local engine: unset DOCKER_HOST or "
        "set SESSIONERROR_POSTGRES_URL to a server"
    )


def _image_hint(image: str) -> str:
    if image == LOCAL_IMAGE:
        return f"build it with `{BUILD_COMMAND}`"
    return (
        f"build the local image with `{BUILD_COMMAND}` and pass --sessionerror-container-image "
        f"{LOCAL_IMAGE}, or `docker pull {image}` where a registry is reachable"
    )


def _ensure_image(client: Any, image: str) -> None:
    from docker.errors import DockerException, ImageNotFound

    try:
        client.images.get(image)
        return
    except ImageNotFound:
        pass
    try:
        client.images.pull(image)
    except DockerException as exc:
        raise ContainerFailure(
            f"image {image!r} is not on the Docker engine and could not be pulled "
            f"({_one_line(exc, 120)}): {_image_hint(image)}"
        ) from None


def _log_tail(container: Any) -> list[str]:
    try:
        stdout, stderr = container.get_logs()
    except Exception:
        return []
    text = (stdout + stderr).decode(errors="replace")
    return log_tail(text, _LOG_TAIL_LINES)


def _psql_missing(wrapped: Any, exit_code: int | None, output: bytes | None) -> bool:
    """True if exec could not find psql in a container that still runs.

    An exec into a container that is just exiting fails with 126 too: that is not "no psql".
    """
    if exit_code not in (126, 127) or b"not found" not in (output or b""):
        return False
    wrapped.reload()
    return bool(wrapped.status == "running")


def _wait_until_ready(container: Any, password: str, timeout: float) -> None:
    """Poll ``psql -c 'select version()'`` inside the container, as testcontainers does.

    Unlike testcontainers' wait, a container that exits stops the wait at once.
    """
    wrapped = container.get_wrapped_container()
    command = ["psql", "--username", _USER, "--dbname", "postgres", "--host", _LOOPBACK]
    command += ["--no-psqlrc", "--quiet", "-c", "select version();"]
    from docker.errors import APIError

    deadline = time.monotonic() + timeout
    while True:
        wrapped.reload()
        if wrapped.status in ("exited", "dead"):
            code = wrapped.attrs.get("State", {}).get("ExitCode")
            raise ContainerFailure(
                f"container {wrapped.short_id} exited (code {code}) before PostgreSQL was ready; "
                "its log ends with",
                _log_tail(container),
            )
        if time.monotonic() > deadline:
            raise ContainerFailure(
                f"PostgreSQL in container {wrapped.short_id} was not ready within {timeout:g}s; "
                "its log ends with",
                _log_tail(container),
            )
        try:
            # The password goes in the environment, not on a command line.
            result = wrapped.exec_run(command, environment={"PGPASSWORD": password})
        except APIError as exc:
            wrapped.reload()  # 409, or a 500 when it stopped between the check and the exec
            if exc.status_code != 409 and wrapped.status == "running":
                raise
            result = None  # not running (any more): the next round reports the exit
        if result is not None and result.exit_code == 0:
            return
        if result is not None and _psql_missing(wrapped, result.exit_code, result.output):
            raise ContainerFailure(
                f"image has no psql, which the kit (like testcontainers) runs inside the container "
                f"to wait for PostgreSQL: use a postgres image or {LOCAL_IMAGE}"
            )
        time.sleep(0.1)


def _published_port(container: Any) -> int:
    """The host port on 127.0.0.1 that Docker publishes for 5432 (from the engine, not a guess)."""
    client = container.get_docker_client().client
    bindings = client.api.port(container.get_container_id(), _CONTAINER_PORT) or []
    for binding in bindings:
        if binding.get("HostIp") in (_LOOPBACK, "0.0.0.0", "") and binding.get("HostPort"):
            return int(binding["HostPort"])
    raise ContainerFailure(f"Docker published no port for 5432 on {_LOOPBACK} ({bindings!r})")


def _create(image: str, password: str) -> Any:
    try:
        container_class = _import_postgres_container()
    except ImportError:
        raise DockerUnavailable(
            "testcontainers is not installed (pip install sessionerror[containers])"
        ) from None
    from docker.errors import DockerException

    with warnings.catch_warnings():
        # The docker client leaks its socket when the engine does not answer: collect it here,
        # where its ResourceWarning is ignored, not during some later test under -W error.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return container_class(
                image, username=_USER, password=password, dbname="postgres", driver="psycopg2"
            )
        except DockerException as exc:
            where = redact_text(_docker_host())
            reason = (
                f"no Docker engine answered at {where} ({_one_line(exc, 120)}): start Docker "
                "(e.g. dockerd) or point DOCKER_HOST at it, or set "
                "SESSIONERROR_POSTGRES_URL"
            )
        gc.collect()
    raise DockerUnavailable(reason)


def _ryuk_hint() -> str:
    with contextlib.suppress(Exception):
        from testcontainers.core.config import testcontainers_config

        if not testcontainers_config.ryuk_disabled:
            return (
                " (testcontainers' Ryuk reaper is enabled: set TESTCONTAINERS_RYUK_DISABLED=true, "
                "the kit removes its own containers)"
            )
    return ""


def start_postgres_container(
    image: str,
    *,
    host_port: int | None = None,
    startup_timeout: float = 60.0,
    connect_timeout: float = 5.0,
) -> RunningPostgresContainer:
    """Start PostgreSQL from ``image`` and return it once a client on the host is served.

    The port is published on 127.0.0.1 (``host_port``, or one Docker picks) and the URL uses
    127.0.0.1 and that port. Stale containers of dead runs are removed first. Raises
    :class:`DockerUnavailable` (no engine/testcontainers) or :class:`ContainerFailure` (image
    missing, port taken, never ready), each with one line naming the problem and the fix; a
    failed or interrupted start leaves no container behind.
    """
    _check_local_engine()

    attempts = 1 if host_port is not None else 3
    for attempt in range(1, attempts + 1):
        password = secrets.token_hex(16)
        container = _create(image, password)
        from docker.errors import APIError, DockerException

        docker_container_class = _import_docker_container()
        client = container.get_docker_client().client
        remove_stale_containers(client)
        _ensure_image(client, image)
        # Publish on loopback only: never reachable from the network, never via a bridge address.
        container.ports[str(_CONTAINER_PORT)] = (_LOOPBACK, host_port)
        container.with_kwargs(labels=kit_labels())
        # A throwaway server: its data in memory halves the start-up (initdb on overlayfs is slow).
        container.with_tmpfs_mount(_PGDATA)
        try:
            try:
                # DockerContainer.start: create + start, without DbContainer's wait, which
                # keeps polling an exited container until its timeout.
                docker_container_class.start(container)
            except APIError as exc:
                explanation = str(getattr(exc, "explanation", None) or exc)
                text = _one_line(exc)
                if any(marker in explanation.lower() for marker in _PORT_TAKEN):
                    # "driver failed ... endpoint X (id): Error starting userland proxy: listen
                    # tcp4 127.0.0.1:N: bind: address already in use": keep the last clause.
                    text = _one_line(Exception(explanation.rpartition("proxy: ")[2]))
                    if attempt < attempts:
                        _remove(container)
                        continue
                    where = f"{_LOOPBACK}:{host_port}" if host_port else f"a port on {_LOOPBACK}"
                    raise ContainerFailure(
                        f"could not publish PostgreSQL on {where}: the port is already taken "
                        f"({text}): stop what listens there or let Docker pick a free port"
                    ) from None
                raise ContainerFailure(
                    f"could not start {image!r} ({text}){_ryuk_hint()}"
                ) from None
            except Exception as exc:
                raise ContainerFailure(
                    f"could not start {image!r} ({_one_line(exc)}){_ryuk_hint()}"
                ) from None
            try:
                _wait_until_ready(container, password, startup_timeout)
                port = _published_port(container)
            except DockerException as exc:
                raise ContainerFailure(
                    f"the Docker engine failed while {image!r} started ({_one_line(exc)})",
                    _log_tail(container),
                ) from None
            given = DatabaseURL(f"postgresql://{_USER}:{password}@{_LOOPBACK}:{port}/postgres")
            url = given.to_sync()
            try:
                version = check_server(url, timeout=connect_timeout)
            except PostgresUnavailableError as exc:
                raise ContainerFailure(
                    f"PostgreSQL answers inside the container but not on {_LOOPBACK}:{port} "
                    f"({exc.message})",
                    _log_tail(container),
                ) from None
        except BaseException:
            _remove(container)
            raise
        return RunningPostgresContainer(
            container=container,
            image=image,
            url=url,
            port=port,
            version=version,
            container_id=str(container.get_container_id()),
        )
    raise AssertionError("unreachable")  # pragma: no cover
