"""MkDocs hook: the record reference of record-format.md, generated from the JSON Schema.

On `record-format.md`, the marker `<!-- schema-reference -->` is replaced by one
table per event, made from what `python -m kitty_ops schema` prints (the JSON
Schema of the pydantic models every reader and writer uses), so the page
cannot drift from the code. A failing command or a missing marker fails the
build.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

PAGE = "record-format.md"
MARKER = "<!-- schema-reference -->"
EVENT_ORDER = ("started", "completed", "artifact_link", "commit_link")


def _schemas(root: Path) -> dict[str, dict[str, Any]]:
    result = subprocess.run([sys.executable, "-m", "kitty_ops", "schema"], cwd=root, capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        raise PluginError(f"`python -m kitty_ops schema` failed (exit {result.returncode}): {result.stderr.strip()}")
    try:
        schemas = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise PluginError(f"`python -m kitty_ops schema` printed no JSON: {exc}") from exc
    if not isinstance(schemas, dict) or not schemas:
        raise PluginError("`python -m kitty_ops schema` printed no event schemas")
    return schemas


def _code(text: str) -> str:
    """A Markdown code span that survives a table cell."""
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _alternatives(prop: dict[str, Any]) -> list[dict[str, Any]]:
    return list(prop.get("anyOf") or prop.get("oneOf") or [prop])


def _type(prop: dict[str, Any]) -> str:
    names = []
    for alternative in _alternatives(prop):
        kind = alternative.get("type", "any")
        kinds = kind if isinstance(kind, list) else [kind]
        for name in kinds:
            if alternative.get("format") and name == "string":
                name = f"string ({alternative['format']})"
            if name not in names:
                names.append(name)
    return " or ".join(names)


def _constraints(prop: dict[str, Any]) -> list[str]:
    notes = []
    for alternative in _alternatives(prop):
        if "const" in alternative:
            notes.append(f"always {_code(json.dumps(alternative['const']))}")
        if "enum" in alternative:
            notes.append("one of " + ", ".join(_code(json.dumps(value)) for value in alternative["enum"]))
        if "minLength" in alternative or "maxLength" in alternative:
            notes.append(f"{alternative.get('minLength', 0)} to {alternative.get('maxLength', 'any number of')} "
                         "characters")
        if "pattern" in alternative:
            notes.append(f"matches {_code(alternative['pattern'])}")
    if "default" in prop and "const" not in prop:
        default = prop["default"]
        notes.append("left out when unset" if default is None else f"default {_code(json.dumps(default))}")
    return notes


def _table(name: str, schema: dict[str, Any]) -> list[str]:
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    required = [key for key in schema.get("required", []) if key in properties]
    order = required + sorted(key for key in properties if key not in required)
    lines = [f"### `{name}`", ""]
    description = schema.get("description")
    if description:
        lines += [description.strip(), ""]
    lines += ["| field | type | required | description |", "|---|---|---|---|"]
    for key in order:
        prop = properties[key]
        text = "; ".join(part for part in [_cell(prop.get("description", "")), *_constraints(prop)] if part)
        lines.append(f"| `{key}` | {_type(prop)} | {'yes' if key in required else 'no'} | {text} |")
    return [*lines, ""]


def render(root: Path) -> str:
    schemas = _schemas(root)
    names = [name for name in EVENT_ORDER if name in schemas] + sorted(set(schemas) - set(EVENT_ORDER))
    lines: list[str] = []
    for name in names:
        lines += _table(name, schemas[name])
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"{PAGE} has no {MARKER} marker for the generated record reference")
    root = Path(config.config_file_path).resolve().parent
    return markdown.replace(MARKER, render(root))
