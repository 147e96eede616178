"""MkDocs hook: click's help text, as mkdocs-click inserts it, made into Markdown.

Every command's help ends with its examples, a line such as "Examples:"
followed by indented command lines, which click prints unwrapped. mkdocs-click
copies the help text as it is, so in Markdown the examples would run together
into one line of prose. This Markdown preprocessor runs just after
mkdocs-click's (priority 141) and, between the lines `<!-- click-help -->`
and `<!-- /click-help -->` of a page (which it removes), turns each run of
indented lines that continues a paragraph into a `text` code block, as
`--help` shows them. Code blocks are left as they are.
"""
from __future__ import annotations

import textwrap
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

START = "<!-- click-help -->"
END = "<!-- /click-help -->"


class _ClickHelp(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        inside = fenced = False
        block: list[str] = []

        def flush() -> None:
            if block:
                out.extend(["", "```text", *textwrap.dedent("\n".join(block)).splitlines(), "```", ""])
                block.clear()

        for line in lines:
            stripped = line.strip()
            if stripped in (START, END) and not fenced:
                flush()
                inside = stripped == START
                continue
            if not inside:
                out.append(line)
                continue
            if stripped.startswith("```"):
                fenced = not fenced
            elif not fenced and line[:1].isspace() and stripped and (block or (out and out[-1].strip())):
                block.append(line)
                continue
            flush()
            out.append(line)
        flush()
        return out


class ClickHelpExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_ClickHelp(md), "kitty_ops_click_help", 140)


def on_config(config: Any) -> Any:
    config.markdown_extensions.append(ClickHelpExtension())
    return config
