"""The Op commit: one completed record (and the shared logs it changed) onto HEAD.

Made with plumbing, so the user's work is never involved: a temporary index
seeded from HEAD gets only the kitty-ops files, `write-tree` and `commit-tree`
make the commit, `update-ref` moves HEAD only if it still points where it did
(compare-and-swap), and the real index gets just those paths refreshed. The
user's staged changes stay staged and out of the commit, unstaged edits and
untracked files stay as they were, and the repository's commit hooks do not
run. Anything that stops the commit raises CommitSkipped: the record stays
pending for `kitty-ops commit --pending`.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from kitty_ops import git
from kitty_ops.errors import CommitSkipped, KittyOpsError
from kitty_ops.layout import EVENTS_DIR, SHARED_PATHS, safe_record_path
from kitty_ops.lock import LockTimeout, hold_file
from kitty_ops.scan import read_scan

COMMIT_LOCK_NAME = "kitty-ops-commit.lock"
COMMIT_LOCK_SECONDS = 30.0
GIT_LOCK_RETRY_SECONDS = 5.0
SIGN_CONFIG = "commit.gpgSign"
T = TypeVar("T")


OP_ID_TRAILER = "Op-Id"


def commit_subject(profile_id: str, action: str, op_id: str) -> str:
    return f"op({profile_id}): {action} [{op_id[:8]}]"


def commit_message(profile_id: str, action: str, op_id: str) -> str:
    """The subject, a blank line, and the `Op-Id: <ULID>` trailer."""
    return f"{commit_subject(profile_id, action, op_id)}\n\n{OP_ID_TRAILER}: {op_id}\n"


def commit_op(repo_root: Path | str, op_id: str, *, sign: bool | None = None) -> str | None:
    """Commit the completed record of `op_id`; the new commit's id.

    None when HEAD already holds the record as it is. Raises CommitSkipped when
    the commit cannot be made now, KittyOpsError for an Op that is not
    completed (orphans are never committed). `sign` defaults to the user's
    `commit.gpgSign` (which `git commit-tree` would ignore).
    """
    repo, record = _locate(repo_root, op_id)
    message = _message_for(repo, record, op_id)
    if sign is None:
        sign = wants_signing(git.config_values(repo.root, [SIGN_CONFIG]))
    try:
        with hold_file(repo.common_dir / COMMIT_LOCK_NAME, COMMIT_LOCK_SECONDS):
            return _retrying(lambda: _commit_once(repo, record, message, sign))
    except LockTimeout:
        raise CommitSkipped("another kitty-ops commit is still running") from None


def stage_op_files(repo_root: Path | str, op_id: str) -> None:
    """Stage the record (and the shared logs) in the real index, nothing else."""
    repo, record = _locate(repo_root, op_id)
    paths = _op_paths(repo, record)
    _retrying(lambda: git.run(["update-index", "--add", "--", *paths], repo.root))


def _locate(repo_root: Path | str, op_id: str) -> tuple[git.Repo, str]:
    repo = git.find_repo(repo_root)
    if repo is None:
        raise CommitSkipped("not in a git repository")
    return repo, f"{EVENTS_DIR}/{safe_record_path(repo.root, op_id).name}"


def _op_paths(repo: git.Repo, record: str) -> list[str]:
    return [record, *(path for path in SHARED_PATHS if (repo.root / path).is_file())]


def _message_for(repo: git.Repo, record: str, op_id: str) -> str:
    scan = read_scan(repo.root / record, op_id)
    if scan.started is None:
        problem = scan.problems[0] if scan.problems else "no started event"
        raise KittyOpsError(f"{op_id}: cannot commit an unreadable record ({problem})")
    if scan.completed is None:
        raise KittyOpsError(f"{op_id}: not completed; open Ops are never committed")
    return commit_message(scan.field("profile_id"), scan.field("action"), op_id)


def _retrying(step: Callable[[], T]) -> T:
    """Run a git step, retrying briefly while another git process holds a lock."""
    deadline = time.monotonic() + GIT_LOCK_RETRY_SECONDS
    while True:
        try:
            return step()
        except git.GitError as exc:
            if time.monotonic() >= deadline or not _is_transient(exc):
                raise CommitSkipped(_explain(exc)) from None
            time.sleep(0.05)


def wants_signing(config: dict[str, str | None]) -> bool:
    return SIGN_CONFIG.lower() in config and git.is_true(config[SIGN_CONFIG.lower()])


def _commit_once(repo: git.Repo, record: str, message: str, sign: bool) -> str | None:
    _refuse_unsafe_state(repo)
    paths = _op_paths(repo, record)
    in_head = git.object_ids(repo, ["HEAD^{commit}", *(f"HEAD:{path}" for path in paths)])
    parent = in_head["HEAD^{commit}"]
    blobs = dict(zip(paths, git.hash_objects(repo, paths), strict=True))
    changed = {path: blob for path, blob in blobs.items() if in_head[f"HEAD:{path}"] != blob}
    if record not in changed:
        return None
    info = git.index_info(changed)
    git.run(["update-index", "--add", "--index-info"], repo.root, input=info)
    tree = _tree_with(repo, parent, info)
    commit = _commit_tree(repo, tree, parent, message, sign)
    git.run(
        ["update-ref", "-m", f"commit: {message.splitlines()[0]}", "HEAD", commit, parent or ""], repo.root
    )
    return commit


def _refuse_unsafe_state(repo: git.Repo) -> None:
    operation = git.operation_in_progress(repo)
    if operation:
        raise CommitSkipped(f"{operation} is in progress; finish it first")
    if git.head_branch(repo) is None:
        raise CommitSkipped("HEAD is detached; check out a branch first")


def _tree_with(repo: git.Repo, parent: str | None, info: bytes) -> str:
    """The tree of `parent` with the entries of `info` added: a throw-away index."""
    temporary = str(repo.git_dir / f"kitty-ops-index.{os.getpid()}.{time.monotonic_ns()}")
    env = {"GIT_INDEX_FILE": temporary}
    try:
        git.run(["read-tree", parent] if parent else ["read-tree", "--empty"], repo.root, env=env)
        git.run(["update-index", "--add", "--index-info"], repo.root, input=info, env=env)
        return git.output(["write-tree"], repo.root, env=env)
    finally:
        for leftover in (temporary, temporary + ".lock"):
            if os.path.exists(leftover):
                os.unlink(leftover)


def _commit_tree(repo: git.Repo, tree: str, parent: str | None, message: str, sign: bool) -> str:
    parents = ["-p", parent] if parent else []
    signing = ["-S"] if sign else []
    try:
        return git.output(["commit-tree", tree, *parents, *signing, "-m", message], repo.root)
    except git.GitError as exc:
        if "gpg" in exc.stderr.lower() or "sign" in exc.stderr.lower():
            raise CommitSkipped(f"signing the commit failed ({exc.stderr.strip().splitlines()[0]})") from None
        raise CommitSkipped(str(exc)) from None


def _is_transient(exc: git.GitError) -> bool:
    """A lock held by another git process, or HEAD moved under us: worth a retry."""
    return ".lock" in exc.stderr or "but expected" in exc.stderr or "cannot lock ref" in exc.stderr


def _explain(exc: git.GitError) -> str:
    if "index.lock" in exc.stderr:
        return "the git index is locked by another git process (index.lock)"
    if "but expected" in exc.stderr or "cannot lock ref" in exc.stderr:
        return "HEAD kept moving while committing"
    return str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """The default post-completion hook: `kitty-ops-post-complete OP_ID`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: kitty-ops-post-complete OP_ID", file=sys.stderr)
        return 2
    repo_root = os.environ.get("KITTY_OPS_REPO") or os.getcwd()
    try:
        commit = commit_op(repo_root, args[0])
    except (KittyOpsError, ValueError) as exc:
        print(f"kitty-ops-post-complete: {exc}", file=sys.stderr)
        return 1
    if commit:
        print(commit)
    return 0
