"""Redacting the events of a record before they are written (`kitty_ops.format.secrets`).

The scan runs with the default settings first; git config (`kitty-ops.redact`,
`kitty-ops.redactAllow`) is read only when it found something, so a line
without a secret costs no git call. One warning line says what was redacted.
"""
from __future__ import annotations

from kitty_ops.format import secrets
from kitty_ops.format.layout import REDACT_SETTINGS
from kitty_ops.gitio import git
from kitty_ops.system.warn import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    # Gives the raw output of `git config -z --get-regexp` holding the redact settings.
    ConfigReader = Callable[[], bytes]


def read_config(repo_root: Path | str) -> bytes:
    """The redact settings, in one git call."""
    return git.run(git.config_args(list(REDACT_SETTINGS)), repo_root, check=False).stdout


def redact_events(repo_root: Path | str, events: list[dict[str, Any]], what: str,
                  config: ConfigReader | None = None) -> list[str]:
    """Redact the secrets in `events` in place; the rule ids of what was redacted.

    `what` names the lines in the warning; `config` reads the settings (default:
    one git call of its own), only when a secret is found.
    """
    results = [secrets.redact_event(event) for event in events]
    if not any(ids for _, ids in results):
        return []
    policy = secrets.policy_from_config(config() if config is not None else read_config(repo_root))
    for problem in policy.problems:
        warn("%s", problem)
    if not policy.enabled:
        return []
    if policy.allow:
        results = [secrets.redact_event(event, policy.allow) for event in events]
    found: list[str] = []
    for event, (redacted, ids) in zip(events, results, strict=True):
        if ids:
            event.clear()
            event.update(redacted)
            found += ids
    if found:
        rules = ", ".join(sorted(set(found)))
        warn("%s: redacted %d secret(s) before writing (rule(s): %s); the secret itself was never written",
             what, len(found), rules)
    return found
