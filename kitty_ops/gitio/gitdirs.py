"""Where the git directories of the work tree a hook runs in are, found as git
finds them (`$GIT_DIR`, or `.git` and its `gitdir:` line, then `commondir`),
without starting git or importing subprocess: git runs its hooks at the top
of the work tree, and the hooks run on every commit. Anything unusual is
asked of git.
"""
from __future__ import annotations

import os

from kitty_ops.gitio import git


def git_dirs() -> tuple[str | None, str | None]:
    """(git directory, common directory) of the work tree the hook runs at the top of:
    read from `$GIT_DIR` or `.git` as git finds them, else asked of git; (None,
    None) outside git."""
    if "GIT_COMMON_DIR" not in os.environ:
        try:
            git_dir: str | None = None
            if os.environ.get("GIT_DIR"):  # git sets it for the hooks of a linked worktree
                git_dir = os.path.abspath(os.environ["GIT_DIR"])
            elif os.path.isdir(".git") and not os.path.islink(".git"):
                git_dir = os.path.abspath(".git")
            else:
                with open(".git", "rb") as handle:
                    text = handle.read(4096).decode(errors="surrogateescape").strip()
                if text.startswith("gitdir: "):
                    git_dir = os.path.abspath(text[len("gitdir: "):])
            if git_dir and os.path.isfile(os.path.join(git_dir, "HEAD")):
                try:
                    with open(os.path.join(git_dir, "commondir"), "rb") as handle:
                        shared = handle.read(4096).decode(errors="surrogateescape").strip()
                    common = os.path.realpath(os.path.join(git_dir, shared))
                except FileNotFoundError:
                    common = git_dir
                return git_dir, common
        except OSError:
            pass
    try:
        found = git.finish(git.start(["rev-parse", "--absolute-git-dir", "--git-common-dir"]))
    except git.GitError:
        return None, None
    lines = found.decode(errors="surrogateescape").splitlines()
    return (lines[0], os.path.abspath(lines[1])) if len(lines) == 2 else (None, None)
