"""Read the docs' code blocks: which snippet files a page includes, which commands it shows."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
SNIPPETS = DOCS / "snippets"
_FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```\s*$", re.M | re.S)
_INCLUDE = re.compile(r'^--8<-- "(?P<path>[^"]+)"$')


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    lang: str
    body: str

    @property
    def includes(self) -> list[Path]:
        """The files the block includes (``--8<-- "path"``), relative to the repository."""
        found = [_INCLUDE.match(line.strip()) for line in self.body.splitlines()]
        return [ROOT / match["path"] for match in found if match]

    @property
    def commands(self) -> list[list[str]]:
        """The ``$ `` command lines of a console block, split like a shell would."""
        return [
            shlex.split(line[2:], comments=True)
            for line in self.body.splitlines()
            if line.startswith("$ ")
        ]


def pages() -> list[Path]:
    """Every page of the docs site."""
    return sorted(DOCS.glob("*.md"))


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of ``page``, in order."""
    return [
        Block(page, match["lang"], match["body"]) for match in _FENCE.finditer(page.read_text())
    ]


def all_blocks() -> list[Block]:
    """Every fenced block of every page."""
    return [block for page in pages() for block in blocks(page)]


def included_snippets() -> set[Path]:
    """Every file under docs/snippets that some page includes."""
    return {
        path for block in all_blocks() for path in block.includes if path.is_relative_to(SNIPPETS)
    }


def commands(program: str) -> list[tuple[Path, list[str]]]:
    """Every console command of the docs that runs ``program``, with its page."""
    return [
        (block.page, command)
        for block in all_blocks()
        if block.lang == "console"
        for command in block.commands
        if command and command[0] == program
    ]
