"""Labels on the kit's containers, and removing the containers of dead runs.

Every container the container tier starts carries ``org.sessionerror.*`` labels (pid, the pid's
start time, host, start time); :func:`remove_stale_containers` removes those of dead runs on
this host, never a container without the labels or one whose run is alive. This replaces
testcontainers' Ryuk reaper.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "LABEL_HOST",
    "LABEL_PID",
    "LABEL_PID_START",
    "LABEL_STARTED",
    "kit_labels",
    "remove_stale_containers",
]

LABEL_PID = "org.sessionerror.pid"
LABEL_PID_START = "org.sessionerror.pid-start"
LABEL_HOST = "org.sessionerror.host"
LABEL_STARTED = "org.sessionerror.started"


def _process_start(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may contain spaces, so split after its ")".
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def kit_labels(pid: int | None = None) -> dict[str, str]:
    """The labels that mark a container as started by this process on this host."""
    pid = os.getpid() if pid is None else pid
    labels = {
        LABEL_PID: str(pid),
        LABEL_HOST: socket.gethostname(),
        LABEL_STARTED: datetime.now(UTC).isoformat(timespec="seconds"),
    }
    start = _process_start(pid)
    if start is not None:
        labels[LABEL_PID_START] = start
    return labels


def _run_is_alive(labels: Mapping[str, str]) -> bool:
    """True unless the labelled pid is certainly dead (or reused by another process)."""
    try:
        pid = int(labels[LABEL_PID])
    except (KeyError, ValueError):
        return True  # not ours to judge
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    recorded = labels.get(LABEL_PID_START)
    current = _process_start(pid)
    return recorded is None or current is None or recorded == current


def remove_stale_containers(client: Any) -> list[str]:
    """Remove the kit's containers whose run is dead on this host; return their short ids.

    ``client`` is a ``docker.DockerClient``. Containers without the kit's labels, from another
    host, or of a live run are never touched.
    """
    host = socket.gethostname()
    removed: list[str] = []
    for container in client.containers.list(all=True, filters={"label": LABEL_PID}):
        labels: dict[str, str] = container.labels or {}
        if labels.get(LABEL_HOST) != host or _run_is_alive(labels):
            continue
        with contextlib.suppress(Exception):  # removed by a concurrent run meanwhile
            container.remove(force=True, v=True)
            removed.append(str(container.short_id))
    return removed
