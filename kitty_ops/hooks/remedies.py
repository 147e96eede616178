"""The commands a hook names to undo what is staged, right before and after the first commit.

`git restore --staged` needs a HEAD to restore from; before the first commit
only `git rm --cached` unstages a path. Standard library only (the hooks).
"""
from __future__ import annotations

from kitty_ops.gitio import git


def start_head_query(cwd: str = ".") -> git.Running:
    """Ask git, without waiting, whether HEAD names a commit yet."""
    return git.start(["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd)


def finish_head_query(running: git.Running) -> bool:
    try:
        git.finish(running)
    except git.GitError:
        return False  # an unborn branch: no commit yet
    return True


def has_head(cwd: str = ".") -> bool:
    return finish_head_query(start_head_query(cwd))


def unstage_command(path: str, has_head: bool) -> str:
    """The command that takes `path` out of the index and leaves the file alone."""
    return f"git restore --staged {path}" if has_head else f"git rm --cached {path}"
