"""kitty-ops-link: a prepare-commit-msg hook that links a commit to its Op.

A commit made while exactly one running Op's owner (the agent process, or
the `kitty-ops run` wrapper) is an ancestor of the committing process gets
the trailer `Op-Id: <ULID>` (by `git interpret-trailers`, so it joins any
trailers already there, once). A person's own commits, with no running Op
above them, are never touched; nor are merges and squashes, nor a message
that already names an Op. Standard library only, and it reads only the
owner files (`<git-common-dir>/kitty-ops/owners/`): it runs on every commit.

    kitty-ops-link COMMIT_MSG_FILE [SOURCE [SHA]]
"""
from __future__ import annotations

import os
import sys

from kitty_ops.gitio import git
from kitty_ops.lifecycle.owners import RUNNING, OwnerStates
from kitty_ops.system import processes

TRAILER = "Op-Id"
SKIPPED_SOURCES = ("merge", "squash")


def running_op_above(pid: int | None = None) -> str | None:
    """The one running Op whose owner is an ancestor of `pid` (default: this
    process), None when there is none, or more than one."""
    repo = git.find_repo(os.getcwd())
    if repo is None:
        return None
    states = OwnerStates(common_dir=repo.common_path)
    try:
        names = os.listdir(states.directory or "")
    except OSError:
        return None
    candidates = [name[:-5] for name in names if name.endswith(".json") and len(name) == 31]
    if not candidates:
        return None
    above = set(processes.ancestors(pid, depth=64))
    found = []
    for op_id in candidates:
        owner = states.owner(op_id)
        if owner is not None and owner["pid"] in above and states.assess(op_id)[0] == RUNNING:
            found.append(op_id)
    return found[0] if len(found) == 1 else None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        print("usage: kitty-ops-link COMMIT_MSG_FILE [SOURCE [SHA]]", file=sys.stderr)
        return 2
    source = args[1] if len(args) > 1 else os.environ.get("PRE_COMMIT_COMMIT_MSG_SOURCE", "")
    if source in SKIPPED_SOURCES:
        return 0
    op_id = running_op_above()
    if op_id is None:
        return 0
    message_file = os.path.abspath(args[0])
    try:
        with open(message_file, "rb") as handle:
            if f"\n{TRAILER}: ".encode() in b"\n" + handle.read():
                return 0  # already linked (an amend, a -c of a linked commit)
        git.finish(git.start(["interpret-trailers", "--in-place", "--if-exists", "addIfDifferent",
                              "--trailer", f"{TRAILER}: {op_id}", message_file]))
    except (OSError, git.GitError) as exc:
        print(f"kitty-ops-link: could not add the {TRAILER} trailer: {exc}", file=sys.stderr)
    return 0  # never blocks a commit
