"""The `secret` rule of `kitty-ops audit`: a commit brings a line that holds a secret.

Never healed: a later commit cannot take a secret out of history. The remedy
is to rotate the key (it must be taken as leaked), and, to purge it, rewrite
history with `git filter-repo`. The secret itself is never printed: the
finding names the line, the field and the rule (`kitty_ops.format.secrets`).
`git config kitty-ops.redact false` turns the rule off, `kitty-ops.redactAllow`
keeps what its patterns find; the config is read only when a secret is found.
"""
from __future__ import annotations

import shlex

from kitty_ops.format import secrets
from kitty_ops.format.layout import REDACT_SETTINGS
from kitty_ops.gitio import git

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

RULE = "secret"


class SecretRule:
    """Finds the secrets the lines of a commit add; reads the settings once, when needed."""

    __slots__ = ("repo_root", "policy")

    def __init__(self, repo_root: Path | str) -> None:
        self.repo_root = repo_root
        self.policy: secrets.Policy | None = None

    def check(self, new: bytes, old: bytes | None) -> list[tuple[int, str, str]]:
        """(line number, field, rule id) of each secret in the lines `new` adds to `old`."""
        start = secrets.start_of_new_lines(new, old)
        found = secrets.content_secrets(new, start)
        if not found:
            return []
        if self.policy is None:
            raw = git.run(git.config_args(list(REDACT_SETTINGS)), self.repo_root, check=False).stdout
            self.policy = secrets.policy_from_config(raw)
        if not self.policy.enabled:
            return []
        return secrets.content_secrets(new, start, self.policy.allow) if self.policy.allow else found


def finding(found: list[tuple[int, str, str]], path: str) -> tuple[str, str, str]:
    """(rule, message, repair) of the finding: where the secrets are, and the remedy."""
    return RULE, message(found), remedy(path)


def message(found: list[tuple[int, str, str]]) -> str:
    where = "; ".join(f"line {number}: {field} (rule {rule})" for number, field, rule in found)
    return f"commits a secret (never shown here): {where}"


def remedy(path: str) -> str:
    return (f"git filter-repo --invert-paths --path {shlex.quote(path)}  # rotate the key first: it is leaked."
            " This purges the file from all history, which rewrites every later commit (all clones must"
            " re-clone, the branch is force-pushed; --replace-text keeps the record and replaces the text);"
            " a later commit can never remove it")
