"""The one stale threshold: `git config kitty-ops.maxAgeHours`, else 24 hours.

The orphan hook, `doctor ops` and its `--close-stale` sweep all read it here;
a value given on the command line still wins. Standard library only: the
hook starts the config query alongside its other git queries.
"""
from __future__ import annotations

from kitty_ops.errors import InvalidInput
from kitty_ops.format.rules import DEFAULT_STALE_HOURS
from kitty_ops.gitio import git

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_MAX_AGE_HOURS = DEFAULT_STALE_HOURS  # the one default, from the rules
CONFIG_KEY = "kitty-ops.maxAgeHours"


def start_query(cwd: Path | str = ".") -> git.Running:
    """Ask git for the configured threshold without waiting (empty when unset)."""
    return git.start(["config", "--get", "--default=", CONFIG_KEY], cwd)


def finish_query(running: git.Running) -> float:
    """The threshold the query from `start_query` found, or the default."""
    return parse_hours(git.finish(running).decode(errors="replace").strip())


def parse_hours(text: str) -> float:
    """A configured value as hours (the default when empty); InvalidInput when it is not a number >= 0."""
    if not text:
        return DEFAULT_MAX_AGE_HOURS
    try:
        hours = float(text)
    except ValueError:
        hours = -1.0
    if not hours >= 0 or hours == float("inf"):
        raise InvalidInput(f"git config {CONFIG_KEY}: {text!r} is not a number of hours (>= 0)")
    return hours


def max_age_hours(repo_root: Path | str, override: float | None = None) -> float:
    """`override` when given, else the configured threshold (the default outside git)."""
    if override is not None:
        return override
    try:
        return finish_query(start_query(repo_root))
    except git.GitError:
        return DEFAULT_MAX_AGE_HOURS
