"""The one stale threshold: `git config kitty-ops.maxAgeHours`, else 24 hours.

The orphan hook, `doctor ops` and its `--close-stale` sweep all read it here;
a value given on the command line still wins. Standard library only: the
hook starts the config query alongside its other git queries.
"""
from __future__ import annotations

from kitty_ops.gitio import git
from kitty_ops.settings import DEFAULT_MAX_AGE_HOURS, MAX_AGE_HOURS_CONFIG, parse_max_age_hours

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path



def start_query(cwd: Path | str = ".") -> git.Running:
    """Ask git for the configured threshold without waiting (empty when unset)."""
    return git.start(["config", "--get", "--default=", MAX_AGE_HOURS_CONFIG], cwd)


def finish_query(running: git.Running) -> float:
    """The threshold the query from `start_query` found, or the default."""
    return parse_max_age_hours(git.finish(running).decode(errors="replace").strip())


def max_age_hours(repo_root: Path | str, override: float | None = None) -> float:
    """`override` when given, else the configured threshold (the default outside git)."""
    if override is not None:
        return override
    try:
        return finish_query(start_query(repo_root))
    except git.GitError:
        return DEFAULT_MAX_AGE_HOURS
