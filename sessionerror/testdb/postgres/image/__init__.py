"""The builder of the container tier's local PostgreSQL image, shipped inside the package.

``build-postgres-image.sh`` and ``postgres-entrypoint.sh`` sit next to this module, so an
installed wheel has them: ``sessionerror build-image`` runs :func:`build_image`, and the
repository's ``docker/build-postgres-image.sh`` calls the same script.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from sessionerror.errors import UsageError
from sessionerror.redaction import redact_text

__all__ = ["BUILD_SCRIPT", "ENTRYPOINT", "build_image", "check_docker"]

#: The build script (bash) and the image's entrypoint, as installed with the package.
BUILD_SCRIPT = Path(__file__).resolve().with_name("build-postgres-image.sh")
ENTRYPOINT = Path(__file__).resolve().with_name("postgres-entrypoint.sh")

# Docker's reference grammar, simplified: [host[:port]/]path[:tag], lowercase path components.
_TAG = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$"
)
_DOCKER_INFO_TIMEOUT = 20.0


def check_docker(env: dict[str, str] | None = None) -> None:
    """Raise :class:`UsageError` (one line) unless bash, the docker CLI and an engine answer."""
    env = dict(os.environ if env is None else env)
    if shutil.which("bash", path=env.get("PATH")) is None:
        raise UsageError("build-image needs bash, which is not on PATH. Fix: install bash")
    docker = shutil.which("docker", path=env.get("PATH"))
    if docker is None:
        raise UsageError(
            "build-image needs the docker command, which is not on PATH. "
            "Fix: install Docker (e.g. apt-get install -y docker.io)"
        )
    where = f" at DOCKER_HOST={redact_text(env['DOCKER_HOST'])}" if env.get("DOCKER_HOST") else ""
    try:
        answer = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=_DOCKER_INFO_TIMEOUT,
            env=env,
            check=False,
        )
        answered = answer.returncode == 0
    except subprocess.TimeoutExpired:
        answered = False
    if not answered:
        raise UsageError(
            f"no Docker engine answers{where}. Fix: start one (e.g. dockerd --iptables=false "
            "--ip=127.0.0.1 &) or point DOCKER_HOST at a running engine"
        )


def build_image(tag: str, *, force: bool = False) -> int:
    """Build (or reuse) the local PostgreSQL 15 image ``tag`` with the shipped script.

    The script prints its progress; returns its exit status (0 built or reused). Raises
    :class:`UsageError` for a malformed ``tag``, a missing script, or no Docker engine.
    """
    if not isinstance(tag, str):
        raise TypeError(f"tag must be a str, got {type(tag).__name__}")
    if not _TAG.match(tag) or len(tag) > 255:
        raise UsageError(
            f"--tag {tag!r} is not a Docker image name. Fix: use a name like "
            "sessionerror/postgres:15-local (lowercase path, optional :tag)"
        )
    if not BUILD_SCRIPT.is_file() or not ENTRYPOINT.is_file():
        raise UsageError(
            f"the image builder is missing from {BUILD_SCRIPT.parent}. "
            "Fix: reinstall sessionerror (pip install --force-reinstall sessionerror)"
        )
    env = {**os.environ, "SESSIONERROR_IMAGE": tag}
    check_docker(env)
    command = ["bash", str(BUILD_SCRIPT), *(["--force"] if force else [])]
    return subprocess.run(command, env=env, check=False).returncode
