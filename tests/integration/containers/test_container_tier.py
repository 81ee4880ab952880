"""The container tier against a real Docker engine: isolation, one container per run, cleanup
(end of run, failure, Ctrl-C, SIGKILL + next start), foreign containers, and the error lines."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sessionerror.testdb.postgres.container import (
    BUILD_COMMAND,
    ContainerFailure,
    start_postgres_container,
)
from sessionerror.testdb.postgres.container_labels import (
    LABEL_HOST,
    LABEL_PID,
    remove_stale_containers,
)
from sessionerror.testdb.postgres.provider import PostgresProvider
from sessionerror.testdb.postgres.server import PostgresUnavailableError

from .conftest import RunPytest, kit_container_ids

# Each test writes rows and, whatever ran before on the same server, must see only its own.
ISOLATION_SUITE = """
import json, os
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sessionerror import WorkflowSession


def count(db):
    return db.scalar(select(func.count()).select_from(WorkflowSession))


@pytest.fixture(autouse=True)
def record_server(sessionerror_engine, sessionerror_backend):
    url = sessionerror_engine.url
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(f"server-{worker}.json", "w") as out:
        json.dump({"host": url.host, "port": url.port, "database": url.database}, out)


@pytest.mark.parametrize("i", range(5))
def test_commits_inside_a_test_do_not_leak(sessionerror_db, i):
    assert count(sessionerror_db) == 0
    sessionerror_db.add(WorkflowSession(name=f"committed-{i}"))
    sessionerror_db.commit()
    assert count(sessionerror_db) == 1


@pytest.mark.parametrize("i", range(5))
def test_raw_sql_shares_the_test_transaction(sessionerror_db, sessionerror_connection, i):
    assert count(sessionerror_db) == 0
    sessionerror_db.add(WorkflowSession(name="orm"))
    sessionerror_db.flush()
    assert sessionerror_connection.scalar(text("select count(*) from sessions")) == 1


@pytest.mark.sessionerror(committed=True)
@pytest.mark.parametrize("i", range(3))
def test_committed_mode_is_cleaned_after_the_test(sessionerror_db, sessionerror_engine, i):
    assert count(sessionerror_db) == 0
    sessionerror_db.add(WorkflowSession(name="really committed"))
    sessionerror_db.commit()
    with sessionerror_engine.connect() as other:
        assert other.scalar(text("select count(*) from sessions")) == 1
"""
ISOLATION_PASSED = 5 + 5 + 3

# Signals the parent that the run has its server, then waits to be interrupted or killed.
WAITING_SUITE = """
import pathlib, time

def test_waits(sessionerror_engine):
    pathlib.Path("ready").write_text(str(sessionerror_engine.url.port))
    time.sleep(120)
"""


def finish_or_dump(process: subprocess.Popen[bytes], timeout: float) -> str:
    """The child's output once it ends; if it hangs, fail with the stacks of all its threads
    (SIGABRT: pytest's faulthandler dumps them) so the hang can be located."""
    try:
        return process.communicate(timeout=timeout)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        output = process.communicate(timeout=30)[0].decode(errors="replace")
        pytest.fail(f"the run did not end within {timeout:.0f} s; its threads:\n{output[-6000:]}")


def header_source(result: pytest.RunResult) -> str:
    """The run header's 'postgresql from ...' line."""
    lines = [line for line in result.outlines if "sessionerror: postgresql from" in line]
    assert len(lines) == 1, result.stdout.str()
    return lines[0]


def wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until ``path`` exists; fail with the child's output if it ends or times out first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
            output = process.communicate()[0].decode(errors="replace")
            pytest.fail(f"the run never got its server:\n{output}")
        time.sleep(0.1)


def containers_of(client: Any, pid: int) -> list[Any]:
    """The kit's containers labelled with ``pid`` (running or not)."""
    return client.containers.list(all=True, filters={"label": f"{LABEL_PID}={pid}"})


@pytest.fixture
def foreign_container(docker_client: Any, kit_image: str) -> Iterator[Any]:
    """A container started with plain docker (no kit label), removed after the test."""
    name = f"sessionerror-foreign-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["docker", "run", "-d", "--name", name, kit_image, "sleep", "infinity"],
        check=True,
        capture_output=True,
    )
    container = docker_client.containers.get(name)
    yield container
    container.remove(force=True)


# -- isolation and sharing ---------------------------------------------------------------------


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["one-process", "xdist-2"])
def test_isolation_on_the_container_tier(
    pytester: pytest.Pytester, run_pytest: RunPytest, kit_image: str, xdist: tuple[str, ...]
) -> None:
    pytester.makepyfile(ISOLATION_SUITE)
    result = run_pytest(*xdist)
    result.assert_outcomes(passed=ISOLATION_PASSED)
    source = header_source(result)
    assert f"container {kit_image} PostgreSQL 15." in source
    assert " on 127.0.0.1:" in source  # never the bridge gateway testcontainers would report
    servers = [json.loads(path.read_text()) for path in pytester.path.glob("server-*.json")]
    assert len(servers) == (2 if xdist else 1)
    # One container per run: every worker talks to the same 127.0.0.1 port, own databases.
    assert {(server["host"], server["port"]) for server in servers} == {
        ("127.0.0.1", servers[0]["port"])
    }
    assert len({server["database"] for server in servers}) == len(servers)


def test_a_failing_run_still_removes_its_container(
    pytester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    pytester.makepyfile(
        """
        def test_fails(sessionerror_db):
            raise AssertionError("deliberate")
        """
    )
    result = run_pytest()
    result.assert_outcomes(failed=1)
    # no_container_left_behind (autouse) checks that nothing is left.


# -- cleanup of interrupted and killed runs ------------------------------------------------------


def test_ctrl_c_removes_the_container(
    pytester: pytest.Pytester,
    spawn_pytest: Callable[..., subprocess.Popen[bytes]],
    docker_client: Any,
) -> None:
    pytester.makepyfile(WAITING_SUITE)
    process = spawn_pytest()
    wait_for(pytester.path / "ready", process)
    assert len(containers_of(docker_client, process.pid)) == 1
    process.send_signal(signal.SIGINT)
    output = finish_or_dump(process, timeout=60)
    assert "KeyboardInterrupt" in output
    assert containers_of(docker_client, process.pid) == []


def test_a_sigkilled_runs_container_is_removed_at_the_next_start(
    pytester: pytest.Pytester,
    spawn_pytest: Callable[..., subprocess.Popen[bytes]],
    run_pytest: RunPytest,
    docker_client: Any,
    foreign_container: Any,
) -> None:
    pytester.makepyfile(test_waiting=WAITING_SUITE)
    killed = spawn_pytest("test_waiting.py")
    wait_for(pytester.path / "ready", killed)
    killed.kill()  # SIGKILL: no cleanup runs
    killed.wait()
    left = containers_of(docker_client, killed.pid)
    assert len(left) == 1 and left[0].status == "running"

    pytester.makepyfile(test_next="def test_next(sessionerror_db):\n    pass\n")
    run_pytest("test_next.py").assert_outcomes(passed=1)
    assert containers_of(docker_client, killed.pid) == []
    foreign_container.reload()
    assert foreign_container.status == "running"  # no kit label: never touched


def test_stale_cleanup_touches_only_dead_runs_of_this_host(
    docker_client: Any, kit_image: str, foreign_container: Any
) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = finished.stdout.strip()
    host = socket.gethostname()
    labelled = {
        "dead-here": {LABEL_PID: dead_pid, LABEL_HOST: host},
        "dead-elsewhere": {LABEL_PID: dead_pid, LABEL_HOST: f"not-{host}"},
        "alive-here": {LABEL_PID: str(os.getpid()), LABEL_HOST: host},
    }
    created = {
        name: docker_client.containers.create(kit_image, ["sleep", "infinity"], labels=labels)
        for name, labels in labelled.items()
    }
    try:
        removed = remove_stale_containers(docker_client)
        remaining = kit_container_ids(docker_client)
        assert removed == [created["dead-here"].short_id]
        assert created["dead-here"].id not in remaining
        assert {created["dead-elsewhere"].id, created["alive-here"].id} <= remaining
        foreign_container.reload()
        assert foreign_container.status == "running"
    finally:
        for container in created.values():
            if container.id in kit_container_ids(docker_client):
                container.remove(force=True)


# -- error lines ------------------------------------------------------------------------------


def test_engine_not_answering_is_one_line(
    pytester: pytest.Pytester, run_pytest: RunPytest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")  # nothing answers there
    pytester.makepyfile("def test_x(sessionerror_db):\n    pass\n")
    started = time.monotonic()
    result = run_pytest()
    assert time.monotonic() - started < 30
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    # One line that names the problem (where nothing answers) and the fix.
    result.stderr.fnmatch_lines(
        [
            "ERROR: sessionerror: *no Docker engine answered at unix:///nonexistent/docker.sock (*"
            "start Docker (e.g. dockerd) or point DOCKER_HOST at it*"
        ]
    )
    assert len([line for line in result.errlines if line.strip()]) == 1
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_missing_image_names_the_build_command(
    pytester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    # A registry on a closed loopback port: the pull fails at once, with no traffic leaving.
    image = "127.0.0.1:9/sessionerror/missing:0"
    pytester.makepyfile("def test_x(sessionerror_db):\n    pass\n")
    result = run_pytest(image=image)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: sessionerror: *image '{image}' is not on the Docker "
            f"engine and could not be pulled (*): build the local image with `{BUILD_COMMAND}` "
            "and pass --sessionerror-container-image sessionerror/postgres:15-local*"
        ]
    )


@pytest.fixture
def broken_image(docker_client: Any, kit_image: str) -> Iterator[str]:
    """The kit image with an entrypoint that complains and exits (built offline from it)."""
    tag = f"sessionerror-test/broken:{uuid.uuid4().hex[:8]}"
    dockerfile = (
        f"FROM {kit_image}\n"
        'ENTRYPOINT ["sh", "-c", "echo starting; echo FATAL: bad setting in postgresql.conf >&2;'
        ' exit 3"]\n'
    )
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    yield tag
    docker_client.images.remove(tag, force=True)


def test_container_that_exits_is_reported_with_its_log_tail(
    pytester: pytest.Pytester, run_pytest: RunPytest, broken_image: str
) -> None:
    pytester.makepyfile("def test_x(sessionerror_db):\n    pass\n")
    started = time.monotonic()
    result = run_pytest(image=broken_image)
    assert time.monotonic() - started < 30  # not testcontainers' long wait on a dead container
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: sessionerror: *container * exited (code 3) before PostgreSQL was ready*"]
    )


def test_provider_error_carries_the_containers_log_tail(broken_image: str) -> None:
    provider = PostgresProvider(allow_local=False, container_image=broken_image)
    with pytest.raises(PostgresUnavailableError) as info:
        provider.start()
    lines = str(info.value).splitlines()
    assert lines[0].startswith("PostgreSQL container: container ")
    assert lines[0].endswith("exited (code 3) before PostgreSQL was ready; its log ends with")
    assert lines[1:] == ["    starting", "    FATAL: bad setting in postgresql.conf"]
    assert provider.attempts[-1].startswith("docker: container ")


def test_container_never_ready_times_out_with_its_log_tail(
    docker_client: Any, kit_image: str
) -> None:
    # The image's entrypoint runs any non-option command: here one that never starts a server.
    tag = f"sessionerror-test/sleeper:{uuid.uuid4().hex[:8]}"
    dockerfile = f'FROM {kit_image}\nENTRYPOINT ["sh", "-c", "echo still thinking; sleep 600"]\n'
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    try:
        with pytest.raises(ContainerFailure) as info:
            start_postgres_container(tag, startup_timeout=2)
    finally:
        docker_client.images.remove(tag, force=True)
    assert info.value.reason.startswith("PostgreSQL in container ")
    assert "was not ready within 2s; its log ends with" in info.value.reason
    assert info.value.log_tail == ["still thinking"]


def test_image_without_psql_is_named(docker_client: Any, kit_image: str) -> None:
    tag = f"sessionerror-test/no-psql:{uuid.uuid4().hex[:8]}"
    dockerfile = f"FROM {kit_image}\nRUN rm /usr/bin/psql /usr/lib/postgresql/15/bin/psql\n"
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    try:
        with pytest.raises(ContainerFailure) as info:
            start_postgres_container(tag)
    finally:
        docker_client.images.remove(tag, force=True)
    assert info.value.reason.startswith("image has no psql, which the kit (like testcontainers)")


def test_port_already_taken_is_one_line(kit_image: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ContainerFailure) as info:
            start_postgres_container(kit_image, host_port=port)
    reason = info.value.reason
    assert reason.startswith(f"could not publish PostgreSQL on 127.0.0.1:{port}: the port is")
    assert "already taken" in reason and "\n" not in reason


def test_started_container_is_reached_on_loopback_and_removed_by_stop(
    docker_client: Any, kit_image: str
) -> None:
    from sqlalchemy import create_engine, text

    running = start_postgres_container(kit_image)
    try:
        url = running.url.parse()
        assert (url.host, url.port) == ("127.0.0.1", running.port)
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.scalar(text("select current_user")) == "postgres"
        engine.dispose()
        labels = docker_client.containers.get(running.container_id).labels
        assert labels[LABEL_PID] == str(os.getpid())
        assert labels[LABEL_HOST] == socket.gethostname()
        # Published on loopback only.
        bindings = docker_client.api.port(running.container_id, 5432)
        assert [binding["HostIp"] for binding in bindings] == ["127.0.0.1"]
    finally:
        running.stop()
    assert running.container_id not in kit_container_ids(docker_client)
    running.stop()  # idempotent
