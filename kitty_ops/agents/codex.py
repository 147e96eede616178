"""Codex CLI: `.codex/hooks.json` (project), `~/.codex/hooks.json` (user);
hooks run only with `[features] codex_hooks = true` in `config.toml`.

The same shape and payloads as Claude Code: SessionStart (`source`:
startup, resume, clear), UserPromptSubmit, Stop, SessionEnd (since v0.145);
timeouts in seconds.
"""
from __future__ import annotations

from kitty_ops.agents import claude, grouped
from kitty_ops.agents.spec import AgentSpec

NAME = "codex"
TIMEOUTS = {"SessionStart": 10, "UserPromptSubmit": 10, "Stop": 10, "SessionEnd": 30}  # seconds

AGENT = AgentSpec(
    NAME,
    {"project": ".codex/hooks.json", "user": ".codex/hooks.json"},
    install=lambda doc, per="session": grouped.install(doc, claude.wanted(NAME, per, TIMEOUTS)),
    uninstall=grouped.uninstall,
    installed=grouped.installed,
    event=claude.read_event,
    note="Codex runs hooks only with `[features] codex_hooks = true` in .codex/config.toml (or ~/.codex/config.toml)",
)
