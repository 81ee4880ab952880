"""MkDocs hook: the configuration reference is generated from the plugin's own option table.

A page holding the line ``<!-- options-table -->`` gets the table of
:func:`sessionerror.plugin.config.options_markdown` there, so the docs can never list a setting
the plugin does not register (or miss one it does).
"""

from __future__ import annotations

from typing import Any

PLACEHOLDER = "<!-- options-table -->"


def on_page_markdown(markdown: str, **_kwargs: Any) -> str:
    """Replace the placeholder with the generated option table."""
    if PLACEHOLDER not in markdown:
        return markdown
    from sessionerror.plugin.config import options_markdown

    return markdown.replace(PLACEHOLDER, options_markdown())


def on_files(files: Any, config: Any, **_kwargs: Any) -> Any:
    """Publish the benchmark plots next to the page that includes their results files."""
    from pathlib import Path

    from mkdocs.structure.files import File

    benchmarks = Path(config["config_file_path"]).resolve().parent / "benchmarks"
    for plot in sorted(benchmarks.glob("*.png")):
        files.append(File.generated(config, plot.name, abs_src_path=str(plot)))
    return files
