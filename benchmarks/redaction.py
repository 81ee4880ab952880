"""Throughput of secret scrubbing (``sessionerror.redact``), new versus the old implementation.

    python benchmarks/redaction.py            # about 1-2 minutes
    python benchmarks/redaction.py --quick    # 1 kB-1 MB only, old one at 1 kB

Prints MB/s of ``redact({"body": payload})`` on hex, base64, JSON-ish and prose payloads and on
three secret-dense ones (issue 16: minified JSON holding a secret every ~75 characters on one
line, log lines each holding a URL with a password, a JSON header list) of 1 kB, 100 kB, 1 MB
and 10 MB, side by side with the implementation before issue 8 (quadratic: it runs in a child
process killed after ``--old-timeout`` seconds, and only up to 1 MB); then linearity (the 4 MB
time over the 1 MB time, 4 if linear) and the time to record one error holding a 1 MB and a
4 MB value through ``SessionErrorRepository.record`` on an in-memory SQLite database.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

SIZES = {"1 kB": 1_000, "100 kB": 100_000, "1 MB": 1_000_000, "10 MB": 10_000_000}
KINDS = ("hex", "base64", "json", "prose", "secret-json", "url-lines", "header-list")

# -- payloads ---------------------------------------------------------------------------------

_PROSE = (
    "the upload of the file failed because the header row was missing and the parser stopped "
    "at row 42 while the reviewer asked for a new token after the password reset the key "
    "column had no value so Jira refused the ticket export please retry later or ask an admin"
)
_WORDS = _PROSE.split(" ")


def payload(kind: str, size: int, seed: int = 8) -> str:
    """A deterministic payload of ``kind`` and about ``size`` characters."""
    rng = random.Random(seed)
    if kind == "hex":
        return rng.randbytes(size // 2 + 1).hex()[:size]
    if kind == "base64":
        return base64.b64encode(rng.randbytes(size * 3 // 4 + 3)).decode()[:size]
    if kind == "json":
        items = []
        length = 0
        while length < size:
            item = {
                "id": rng.getrandbits(32),
                "key": f"OPS-{rng.randint(1, 9999)}",
                "status": rng.choice(["open", "done", "blocked"]),
                "url": f"https://jira.example.test/rest/api/2/issue/{rng.getrandbits(20)}",
                "fields": {"summary": " ".join(rng.choices(_WORDS, k=8)), "value": 3},
                "token_type": "Bearer",
            }
            text = json.dumps(item)
            items.append(text)
            length += len(text) + 2
        return ("[" + ", ".join(items) + "]")[:size]
    if kind == "secret-json":  # one line (minified), a secret every ~75 characters
        records = []
        length = 0
        while length < size:
            number = rng.getrandbits(20)
            record = {
                "id": number,
                "login": f"user{number}",
                "email": f"user{number}@example.test",
                "password": rng.randbytes(8).hex(),
                "api_key": base64.b64encode(rng.randbytes(18)).decode(),
                "role": rng.choice(["member", "admin"]),
                "active": True,
            }
            text = json.dumps(record, separators=(",", ":"))
            records.append(text)
            length += len(text) + 1
        return ("[" + ",".join(records) + "]")[:size]
    if kind == "url-lines":  # a log line per failed connection, each URL with its password
        lines = []
        length = 0
        while length < size:
            scheme = rng.choice(["postgresql", "postgresql+psycopg2", "redis", "amqp"])
            url = f"{scheme}://app:{rng.randbytes(6).hex()}@db{rng.randint(1, 9)}.internal:5432/app"
            line = (
                f"2026-12-03T05:17:58Z WARN pool {rng.randint(1, 9)}: cannot reach {url}: timeout"
            )
            lines.append(line)
            length += len(line) + 1
        return "\n".join(lines)[:size]
    if kind == "header-list":  # requests' header lists, one line of JSON
        requests = []
        length = 0
        while length < size:
            headers = [
                {"name": "Authorization", "value": f"Bearer {rng.randbytes(16).hex()}"},
                {"name": "Accept", "value": "application/json"},
                {"name": "X-Api-Key", "value": rng.randbytes(12).hex()},
                {"name": "User-Agent", "value": "jira-client/2.1"},
                {"name": "Cookie", "value": f"theme=dark; sessionid={rng.randbytes(8).hex()}"},
            ]
            text = json.dumps(
                {"url": "https://jira.example.test/rest/api/2/issue", "headers": headers}
            )
            requests.append(text)
            length += len(text) + 2
        return ("[" + ", ".join(requests) + "]")[:size]
    if kind == "prose":
        words = []
        length = 0
        while length < size:
            word = rng.choice(_WORDS)
            words.append(word)
            length += len(word) + 1
        return " ".join(words)[:size]
    raise ValueError(f"unknown payload kind {kind!r}: expected one of {', '.join(KINDS)}")


# -- the implementation before issue 8, for comparison (kept verbatim from the project) -------

_OLD_SECRET_KEY = re.compile(
    r"(^|_)(authorization|proxy_authorization|cookie|set_cookie|password|passwd|pwd|secret|"
    r"client_secret|token|access_token|refresh_token|id_token|auth_token|api_key|apikey|"
    r"x_api_key|private_key|credentials?|session_key|signature)($|_)"
)
_OLD_URL_PASSWORD = re.compile(
    r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s/]+)(?=@)"
)
_OLD_QUERY_PASSWORD = re.compile(r"(?i)(?P<head>[?&](?:password|passwd|pwd)=)(?P<pw>[^&#\s]+)")
_OLD_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9\-._~+/]+=*")
_OLD_INLINE_SECRET = re.compile(
    r"(?i)(?P<key>\b(?:password|passwd|pwd|secret|client_secret|token|access_token|"
    r"refresh_token|api[_-]?key|x-api-key|authorization|cookie)\b[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>[^\s\"'&,;}]+)"
)


def _old_redact_text(text: str) -> str:
    text = _OLD_URL_PASSWORD.sub(lambda m: m.group("head") + "***", text)
    text = _OLD_QUERY_PASSWORD.sub(lambda m: m.group("head") + "***", text)
    text = _OLD_AUTH_SCHEME.sub(lambda m: f"{m.group(1)} [REDACTED]", text)
    return _OLD_INLINE_SECRET.sub(lambda m: m.group("key") + "[REDACTED]", text)


def old_redact(value: Any) -> Any:
    """The recursive, quadratic redact() of the project before issue 8."""
    if isinstance(value, Mapping):
        return {
            key: (
                "[REDACTED]"
                if isinstance(key, str)
                and _OLD_SECRET_KEY.search(re.sub(r"[\s\-]+", "_", key.strip().lower()))
                and item not in (None, "")
                else old_redact(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [old_redact(item) for item in value]
    if isinstance(value, str):
        return _old_redact_text(value)
    return value


# -- measuring --------------------------------------------------------------------------------


def seconds_per_call(
    function: Callable[[], object], budget: float = 0.3, min_runs: int = 3
) -> tuple[float, float]:
    """Best (CPU, wall) seconds of one call, repeating calls until ``budget`` seconds passed.

    CPU time is the process's own (``time.process_time``): on a shared machine the wall time
    also counts the time other processes held the cores.
    """
    best_cpu = best_wall = float("inf")
    spent = 0.0
    runs = 0
    while runs < min_runs or (spent < budget and runs < 1000):
        cpu, wall = time.process_time(), time.perf_counter()
        function()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        best_cpu, best_wall = min(best_cpu, cpu), min(best_wall, wall)
        spent += wall
        runs += 1
    return max(best_cpu, 1e-9), best_wall


def old_in_child(kind: str, size: int, timeout: float) -> float | None:
    """CPU seconds the old redact takes on the payload, in a child process; None on timeout."""
    command = [sys.executable, __file__, "--old-worker", kind, str(size)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout.split()[0])


def record_seconds(kind: str, size: int) -> tuple[float, float]:
    """Best (CPU, wall) seconds to record one error holding a ``size`` payload (SQLite)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from sessionerror.models import Base, WorkflowSession
    from sessionerror.runtime.repository import SessionErrorRepository

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    body = payload(kind, size)
    best_cpu = best_wall = float("inf")
    with Session(engine) as db:
        session = WorkflowSession(name="bench")
        db.add(session)
        db.flush()
        repository = SessionErrorRepository(db)
        for _ in range(3):
            cpu, wall = time.process_time(), time.perf_counter()
            repository.record(
                session_id=session.id,
                category="temporary",
                severity="warning",
                stage="jira_export",
                user_message="Jira answered with an error",
                recovery_actions=["Retry later"],
                technical_details={"response_body": body},
            )
            best_cpu = min(best_cpu, time.process_time() - cpu)
            best_wall = min(best_wall, time.perf_counter() - wall)
            db.rollback()
            session = WorkflowSession(name="bench")
            db.add(session)
            db.flush()
    engine.dispose()
    return best_cpu, best_wall


def _mb_per_s(size: int, seconds: float | None) -> str:
    if seconds is None:
        return "—"
    rate = size / seconds / 1e6
    return f"{rate:,.1f}" if rate >= 1 else f"{rate:.3f}"


def main(argv: list[str] | None = None) -> int:
    """Print the throughput table and the record timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="up to 1 MB; old code at 1 kB only")
    parser.add_argument("--old-timeout", type=float, default=30.0, help="seconds per old run")
    parser.add_argument("--old-worker", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).with_name("redaction-results.md"),
        help="results file the docs include (default: benchmarks/redaction-results.md)",
    )
    args = parser.parse_args(argv)
    if args.old_worker:
        kind, size = args.old_worker[0], int(args.old_worker[1])
        body = {"body": payload(kind, size)}
        print(*seconds_per_call(lambda: old_redact(body), budget=0.2, min_runs=1))
        return 0

    from sessionerror.redaction import redact, redact_text

    written: list[str] = []

    def say(*parts: object) -> None:
        line = " ".join(str(part) for part in parts)
        print(line)
        written.append(line)

    sizes = {k: v for k, v in SIZES.items() if not args.quick or v <= 1_000_000}
    old_limit = 1_000 if args.quick else 1_000_000
    say(
        "redact({'body': payload}) in MB/s (higher is better): new on CPU time / new on wall "
        f"time / old (the first, quadratic implementation) on CPU time, killed after "
        f"{args.old_timeout:.0f} s and "
        f"run up to {old_limit:,} characters; load average {os.getloadavg()[0]:.1f}"
    )
    say(f"| payload | {' | '.join(f'{s} new cpu / wall | {s} old' for s in sizes)} |")
    say(f"| --- | {' | '.join('--: | --:' for _ in sizes)} |")
    for kind in KINDS:
        cells = []
        for size in sizes.values():
            body = {"body": payload(kind, size)}
            cpu, wall = seconds_per_call(lambda body=body: redact(body))
            if size <= old_limit:
                old = old_in_child(kind, size, args.old_timeout)
                old_cell = (
                    _mb_per_s(size, old) if old is not None else f"> {args.old_timeout:.0f} s"
                )
            else:
                old_cell = "not run"
            cells.append(f"{_mb_per_s(size, cpu)} / {_mb_per_s(size, wall)} | {old_cell}")
        say(f"| {kind} | {' | '.join(cells)} |")
    say()
    say("Linearity: redact_text CPU seconds at 1 MB and 4 MB (ratio 4 if linear; limit 5):")
    say("| payload | 1 MB s | 4 MB s | MB/s at 4 MB | ratio |")
    say("| --- | --: | --: | --: | --: |")
    for kind in KINDS:
        small, large = payload(kind, 1_000_000), payload(kind, 4_000_000)
        # Best of at least 5: on a shared machine one slow run would read as non-linear.
        cpu_small = seconds_per_call(lambda text=small: redact_text(text), 0.5, min_runs=5)[0]
        cpu_large = seconds_per_call(lambda text=large: redact_text(text), 1.0, min_runs=5)[0]
        say(
            f"| {kind} | {cpu_small:.3f} | {cpu_large:.3f} | {_mb_per_s(4_000_000, cpu_large)} "
            f"| {cpu_large / cpu_small:.1f} |"
        )
    say()
    say(
        "SessionErrorRepository.record() of one error with a 1 MB / 4 MB technical_details "
        "value (SQLite in memory, best of 3):"
    )
    for kind in KINDS:
        timings = []
        for size in (1_000_000, 4_000_000):
            cpu, wall = record_seconds(kind, size)
            timings.append(f"{cpu * 1000:,.0f} ms CPU / {wall * 1000:,.0f} ms wall")
        say(f"- {kind}: 1 MB {timings[0]}; 4 MB {timings[1]}")
    import platform
    from datetime import UTC, datetime

    heading = (
        f"# Secret scrubbing benchmark\n\n`python benchmarks/redaction.py"
        f"{' --quick' if args.quick else ''}` on {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
    )
    args.output.write_text(heading + "\n".join(written) + "\n", encoding="utf-8")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
