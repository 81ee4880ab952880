"""Container-tier tests: a real Docker engine and the kit's PostgreSQL image, no mocks.

Collected only with ``SESSIONERROR_DOCKER_TESTS=1`` (the main suite must not depend on Docker).
Then a missing engine or image fails loudly instead of skipping. The image is
``SESSIONERROR_CONTAINER_IMAGE`` or the one ``bash docker/build-postgres-image.sh`` builds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sessionerror.testdb.postgres.container import BUILD_COMMAND, LOCAL_IMAGE
from sessionerror.testdb.postgres.container_labels import LABEL_PID

if os.environ.get("SESSIONERROR_DOCKER_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]

RunPytest = Callable[..., pytest.RunResult]


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A docker-py client for the engine the tests use; fails with the fix when none answers."""
    from docker.errors import DockerException

    import docker

    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        pytest.fail(
            f"SESSIONERROR_DOCKER_TESTS=1 but no Docker engine answers ({exc}): start one, e.g. "
            "dockerd --iptables=false --ip=127.0.0.1",
            pytrace=False,
        )
    yield client
    client.close()


@pytest.fixture(scope="session")
def kit_image(docker_client: Any) -> str:
    """The PostgreSQL image under test; it must already exist (no registry here)."""
    from docker.errors import ImageNotFound

    image = os.environ.get("SESSIONERROR_CONTAINER_IMAGE") or LOCAL_IMAGE
    try:
        docker_client.images.get(image)
    except ImageNotFound:
        pytest.fail(f"image {image} is missing: build it with `{BUILD_COMMAND}`", pytrace=False)
    return image


def kit_container_ids(client: Any) -> set[str]:
    """Ids of all containers carrying the kit's pid label (running or not)."""
    return {c.id for c in client.containers.list(all=True, filters={"label": LABEL_PID})}


@pytest.fixture(autouse=True)
def no_container_left_behind(docker_client: Any) -> Iterator[None]:
    """Every test must leave no kit container it caused (those present before are ignored)."""
    before = kit_container_ids(docker_client)
    yield
    left = kit_container_ids(docker_client) - before
    for container_id in left:
        docker_client.containers.get(container_id).remove(force=True, v=True)
    assert not left, f"{len(left)} kit container(s) left behind"


def clean_env() -> dict[str, str]:
    """The environment for a child pytest: no inherited sessionerror/xdist settings.

    TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 is set as in CI: testcontainers then reports the
    bridge gateway as host when running inside a container; the kit must not follow it.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SESSIONERROR_", "PYTEST_XDIST_", "PYTEST_ADDOPTS"))
    }
    env["TESTCONTAINERS_RYUK_DISABLED"] = "true"
    env["TESTCONTAINERS_HOST_OVERRIDE"] = "127.0.0.1"
    return env


def container_tier_args(image: str) -> list[str]:
    """Options that make the container tier the only source of PostgreSQL, required."""
    return [
        "--sessionerror-backend",
        "postgresql",
        "--sessionerror-no-local-postgres",
        "--sessionerror-require-postgres",
        "--sessionerror-container-image",
        image,
    ]


@pytest.fixture
def run_pytest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kit_image: str
) -> RunPytest:
    """Run pytest in a subprocess on the container tier (extra args appended; no xdist unless
    ``-n`` is given)."""
    environment = clean_env()
    for name in set(os.environ) - set(environment):
        monkeypatch.delenv(name)
    for name in ("TESTCONTAINERS_RYUK_DISABLED", "TESTCONTAINERS_HOST_OVERRIDE"):
        monkeypatch.setenv(name, environment[name])

    def run(*args: str, image: str | None = None) -> pytest.RunResult:
        xdist = () if "-n" in args else ("-p", "no:xdist")
        return pytester.runpytest_subprocess(
            # pytest-asyncio (in the test extra) would add a config warning to stderr
            "-p",
            "no:randomly",
            "-p",
            "no:asyncio",
            *xdist,
            *container_tier_args(image or kit_image),
            *args,
        )

    return run


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def spawn_pytest(pytester: pytest.Pytester, kit_image: str) -> Iterator[Callable[..., Any]]:
    """Start pytest on the container tier as a background process (for signals); killed after."""
    started: list[subprocess.Popen[bytes]] = []

    def spawn(*args: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:xdist"]
        command += ["-p", "no:asyncio"]
        command += [*container_tier_args(kit_image), *args]
        process = subprocess.Popen(
            command,
            cwd=pytester.path,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # A job started in the background by a non-interactive shell (nohup, `&` in a CI
            # script) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt
            # handler: give the child the default, as a terminal's Ctrl-C would find it.
            preexec_fn=_default_sigint,
        )
        started.append(process)
        return process

    yield spawn
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
