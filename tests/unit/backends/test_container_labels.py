"""The container tier's labels and its reaper of dead runs' containers, without Docker.

The container tier itself runs against a real Docker engine in CI (tests/integration/containers);
here a stand-in client checks which containers the reaper removes and which it never touches.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessionerror.testdb.postgres.container_labels import (
    LABEL_HOST,
    LABEL_PID,
    LABEL_PID_START,
    LABEL_STARTED,
    _run_is_alive,
    kit_labels,
    remove_stale_containers,
)


def dead_pid() -> int:
    """A pid no process can have: one above the kernel's maximum."""
    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


@dataclass
class FakeContainer:
    """What the reaper uses of a docker-py container."""

    short_id: str
    labels: dict[str, str] | None
    fails: bool = False
    removed: bool = False

    def remove(self, *, force: bool, v: bool) -> None:
        assert force and v  # the container and its anonymous volumes
        if self.fails:
            raise RuntimeError("removed by a concurrent run")
        self.removed = True


@dataclass
class FakeContainers:
    items: list[FakeContainer]
    filters: list[dict[str, Any]] = field(default_factory=list)

    def list(self, *, all: bool, filters: dict[str, Any]) -> list[FakeContainer]:
        assert all  # stopped containers too
        self.filters.append(filters)
        return self.items


@dataclass
class FakeClient:
    containers: FakeContainers


def test_labels_name_this_process_and_host() -> None:
    labels = kit_labels()
    assert labels[LABEL_PID] == str(os.getpid())
    assert labels[LABEL_HOST] == socket.gethostname()
    assert labels[LABEL_STARTED].endswith("+00:00")
    assert labels[LABEL_PID_START].isdigit()  # tells a reused pid apart


def test_labels_of_a_pid_without_a_process_have_no_start_time() -> None:
    labels = kit_labels(dead_pid())
    assert labels[LABEL_PID] == str(dead_pid())
    assert LABEL_PID_START not in labels


def test_a_run_is_alive_unless_certainly_dead() -> None:
    own = kit_labels()
    assert _run_is_alive(own)
    assert _run_is_alive({k: v for k, v in own.items() if k != LABEL_PID_START})
    assert not _run_is_alive({**own, LABEL_PID_START: "1"})  # the pid was reused
    assert not _run_is_alive({LABEL_PID: str(dead_pid())})
    # Labels the kit cannot read are not its to judge.
    assert _run_is_alive({})
    assert _run_is_alive({LABEL_PID: "not-a-pid"})
    assert _run_is_alive({LABEL_PID: "0"})


def test_only_dead_runs_containers_on_this_host_are_removed() -> None:
    host = socket.gethostname()
    dead = {LABEL_PID: str(dead_pid()), LABEL_HOST: host}
    containers = [
        FakeContainer("dead1", dict(dead)),
        FakeContainer("alive", kit_labels()),
        FakeContainer("elsewhere", {**dead, LABEL_HOST: f"not-{host}"}),
        FakeContainer("unlabelled", None),
        FakeContainer("gone", dict(dead), fails=True),
    ]
    client = FakeClient(FakeContainers(containers))
    assert remove_stale_containers(client) == ["dead1"]
    assert [c.short_id for c in containers if c.removed] == ["dead1"]
    assert client.containers.filters == [{"label": LABEL_PID}]
