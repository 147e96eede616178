"""aider: it has no hooks, and commits with `--no-verify` unless
`git-commit-verify: true` (so the orphans hook would never run on its
commits). `install` writes that key to `.aider.conf.yml` (project) or
`~/.aider.conf.yml` (user); the Op comes from running aider under
`kitty-ops run`, which owns the Op while aider runs.

The file is YAML; kitty-ops edits only the one top-level line, and says what
the line was before (a comment after it), so that `uninstall` puts it back.
"""
from __future__ import annotations

from kitty_ops.agents.jsonconfig import ConfigError
from kitty_ops.agents.spec import AgentSpec

KEY = "git-commit-verify"
MARK = "# kitty-ops agents install aider"
LINE = f"{KEY}: true  {MARK}"
RUN_LINE = "kitty-ops run --profile aider --action session -- aider"


def _key_lines(lines: list[str]) -> list[int]:
    found = [number for number, line in enumerate(lines) if line.split(":", 1)[0].strip() == KEY]
    if any(lines[number][:1].isspace() for number in found) or len(found) > 1:
        raise ConfigError(f"`{KEY}` is not one top-level key; left untouched")
    return found


def install(doc: str, per: str = "session") -> str:
    lines = doc.splitlines()
    found = _key_lines(lines)
    if not found:
        return doc + ("" if not doc or doc.endswith("\n") else "\n") + LINE + "\n"
    line = lines[found[0]]
    value = line.split(":", 1)[1].split("#", 1)[0].strip().lower()
    if value in ("true", "yes", "on"):
        return doc  # already verifying: nothing to add, nothing to take out
    lines[found[0]] = f"{LINE} (was: {line})"
    return "\n".join(lines) + "\n"


def uninstall(doc: str) -> str:
    lines = doc.splitlines()
    found = _key_lines(lines)
    if not found or MARK not in lines[found[0]]:
        return doc
    before = lines[found[0]].partition(f"{MARK} (was: ")[2]
    if before:
        lines[found[0]] = before[:-1]
    else:
        del lines[found[0]]
    return "\n".join(lines) + ("\n" if lines else "")


def installed(doc: str) -> bool:
    found = _key_lines(doc.splitlines())
    return bool(found) and doc.splitlines()[found[0]].split(":", 1)[1].split("#", 1)[0].strip().lower() in (
        "true", "yes", "on")


AGENT = AgentSpec("aider", {"project": ".aider.conf.yml", "user": ".aider.conf.yml"}, install=install,
                  uninstall=uninstall, installed=installed, fmt="yaml",
                  note=f"aider has no hooks: run it as `{RUN_LINE} ...` to make each run an Op")
