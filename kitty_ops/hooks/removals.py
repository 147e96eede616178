"""Deletions and renames of committed records in the staged changes (kitty-ops-validate).

pre-commit never passes a deleted file to a hook, so the validate hook asks
git itself: `git diff --cached --name-status` under `kitty-ops/`, with rename
detection. A record or `lifecycle.jsonl` that HEAD holds must stay, under its
name: both are append-only. Standard library only (a pre-commit hook).
"""
from __future__ import annotations

from kitty_ops.format.layout import EVENTS_DIR, LIFECYCLE_LOG_RELATIVE_PATH, op_id_from_path
from kitty_ops.gitio import git


def start_query() -> git.Running:
    """Ask git, without waiting, what the index deletes or renames under kitty-ops/."""
    return git.start(["diff", "--cached", "--name-status", "-z", "-M", "--no-color", "--no-relative",
                      "--diff-filter=DR", "--", f":(top){EVENTS_DIR}"])


def _is_append_only(path: str) -> bool:
    return op_id_from_path(path) is not None or path == LIFECYCLE_LOG_RELATIVE_PATH


def problems(entries: list[str]) -> dict[str, str]:
    """`{path: what is wrong, and the command that undoes it}` from `--name-status -z` entries."""
    found = {}
    position = 0
    while position < len(entries):
        status = entries[position]
        count = 2 if status[:1] in "RC" else 1
        paths = entries[position + 1 : position + 1 + count]
        position += 1 + count
        if not paths or not _is_append_only(paths[0]):
            continue
        old = paths[0]
        if status.startswith("D"):
            found[old] = ("deleted, but committed records never leave history (append-only);"
                          f" keep it: git restore --staged --worktree {old}")
        elif status.startswith("R") and len(paths) == 2:
            found[old] = (f"renamed to {paths[1]}, but a committed record keeps its name (append-only);"
                          f" move it back: git mv {paths[1]} {old}")
    return found


def finish_query(running: git.Running) -> dict[str, str]:
    return problems(git.split_z(git.finish(running)))
