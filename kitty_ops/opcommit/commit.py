"""The Op commit: completed records (and the lifecycle lines they bring) onto HEAD.

It follows git's own lock protocol, so that it can share a repository with a
person at work:

1. Never inside or beside a running git command. Called from a git hook
   (`GIT_INDEX_FILE` set, or a HEAD-moving git command among its ancestors),
   it makes no commit. Otherwise it takes `$GIT_DIR/index.lock` exactly as git
   does (exclusive create) and, holding it, asks `kitty_ops.gitio.busy` whether a
   person's `git commit`, merge, rebase, ... runs in this work tree; if one
   does it lets go, waits a short bounded time, and then leaves the record
   pending, and `kitty_ops.opcommit.waiter` commits it when the person's command ends.
2. Nothing is staged before the commit exists: the tree comes from a
   temporary index, the commit from `commit-tree`, HEAD moves by `update-ref`
   compare-and-swap, and only then does the real index (rebuilt in a copy
   while the lock is held) get the Op's entries, by an atomic rename.
3. `lifecycle.jsonl` lines of an Op are made here, from its record, onto
   HEAD's version of the log, and appended to the working file at the same
   moment: the file is never dirty.
4. Each Op commit also commits older pending records, one commit each,
   oldest first, and those other completions noted while it waited for
   kitty-ops' commit lock (a group commit: one hold of index.lock lands the
   Ops of many agents; each of those completions finds its commit noted,
   `kitty_ops.store.uncommitted.take_landed`, and takes no lock of git's).

What is committed is what kitty-ops read through its own no-follow open of
the file (`kitty_ops.format.safefs`), never a path git resolves again; an invalid
record is never committed. Anything that stops the commit raises
CommitSkipped: the record stays pending for `kitty-ops commit --pending`.

This module holds the entry points and the locks; the rest of the package,
in the order an Op commit meets it:

- `message`: the commit message, author and committer, and the settings read
  from git config;
- `pending`: which records wait for a commit;
- `quiet`: the refusals and the bounded wait for a person's git command, and
  index.lock; `wakeup` starts the `waiter` when the wait is too long;
- `batch`: `OpCommits`, one chain of Op commits, made by `trees.TreeBuilder`
  (HEAD's trees in, the tip's out, objects by `newobjects.NewObjects`) and
  `indexcopy.IndexCopy` (the real index's next version), and landed by
  `landing.RefMover`; `plumbing` is git's part of the work;
- `worktree`: the records and files read from the work tree, and the index copies.
"""
from __future__ import annotations

import os
import sys

from kitty_ops.errors import CommitSkipped, KittyOpsError
from kitty_ops.format import safefs
from kitty_ops.format.layout import GITATTRIBUTES_PATH, IDENT_CONFIG, RECORDS_REF, op_id_from_path, record_relpath
from kitty_ops.gitio import busy, git, gitlock
from kitty_ops.opcommit.batch import OpCommits
from kitty_ops.opcommit.message import (
    OP_ID_TRAILER,
    commit_message,
    commit_subject,
    python_identities,
    settings,
    target_ref,
    wants_signing,
)
from kitty_ops.opcommit.pending import (
    finish_pending_queries,
    forget_landed,
    noted_paths,
    pending_paths,
    start_pending_queries,
)
from kitty_ops.opcommit.quiet import Busy, commit_after_git, refuse_inside_git, refuse_unsafe_state, wait_until_quiet
from kitty_ops.opcommit.worktree import NoSuchRecord, NotCompleted, is_open, read_optional, read_record
from kitty_ops.store import uncommitted
from kitty_ops.system.lock import LockTimeout, hold_file
from kitty_ops.system.warn import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

COMMIT_LOCK_NAME = "kitty-ops-commit.lock"
COMMIT_LOCK_SECONDS = 30.0
INDEX_LOCK_SECONDS = 1.0  # how long to wait for another git command's index.lock
BUSY_WAIT_SECONDS = 1.0  # how long to wait for a person's git command before staying pending
LAND_ATTEMPTS = 5  # HEAD or the index moved between preparing the commits and landing them: prepare again

__all__ = [
    "BUSY_WAIT_SECONDS", "COMMIT_LOCK_NAME", "IDENT_CONFIG", "RECORDS_REF", "NoSuchRecord", "NotCompleted",
    "OP_ID_TRAILER", "commit_message", "commit_op", "commit_ops", "commit_paths", "commit_subject",
    "finish_pending_queries", "main", "noted_paths", "pending_paths", "python_identities", "stage_op_files",
    "start_pending_queries", "target_ref", "wants_signing",
]


def commit_op(
    repo_root: Path | str,
    op_id: str,
    *,
    sign: bool | None = None,
    ref: str | bool | None = True,
    heal: bool = True,
    busy_wait: float = BUSY_WAIT_SECONDS,
    pending: list[str] | None = None,
    config: dict[str, str | None] | None = None,
) -> str | None:
    """Commit the completed record of `op_id`; the new commit's id.

    None when HEAD already holds the record as it is. With `heal`, older
    pending records are committed first, each in its own Op commit (a problem
    with one of them only warns). Raises CommitSkipped when the commit cannot
    be made now, KittyOpsError for an Op that is not completed or is invalid
    (such records are never committed). `sign` defaults to the user's
    `commit.gpgSign` (which `git commit-tree` would ignore); `ref` (True: from
    `kitty-ops.target`) names the ref that gets the commit instead of HEAD.
    `pending`: the older records to heal (default: those `kitty_ops.store.uncommitted`
    notes). `config`: the values of
    `COMMIT_CONFIG`, when the caller read them already.
    """
    repo = _repo(repo_root)
    path = record_relpath(op_id)
    read_record(repo, path)  # refuse an open or invalid Op before taking any lock
    sign, ref, config = settings(repo, sign, ref, config)
    if heal and pending is None:
        pending = noted_paths(repo)
    others = [other for other in pending or () if other < path] if heal else []
    results = commit_paths(repo, [*others, path], sign=sign, ref=ref, busy_wait=busy_wait, config=config,
                           group_for=path if heal else None)
    outcome = results[path]
    for other in others:
        problem = results.get(other)
        if isinstance(problem, KittyOpsError) and not isinstance(problem, NotCompleted) and problem is not outcome:
            warn("a pending record is still not committed: %s", problem)
    if isinstance(outcome, KittyOpsError):
        raise outcome
    return outcome or uncommitted.take_landed(repo.git_path, op_id)


def commit_ops(
    repo_root: Path | str,
    op_ids: Sequence[str] = (),
    *,
    pending: bool = False,
    busy_wait: float = BUSY_WAIT_SECONDS,
) -> dict[str, str | KittyOpsError | None]:
    """Commit the named Ops and, with `pending`, every completed record not yet
    committed: `{op id: commit id, None when HEAD has it already, or the error
    that kept it out}`, the named Ops first. Open Ops found by `pending` are
    left alone; invalid ones are reported."""
    repo = _repo(repo_root)
    paths = [record_relpath(op_id) for op_id in op_ids]
    sign, ref, config = settings(repo, None, True, None)
    if pending:
        paths += [path for path in pending_paths(repo, ref) if path not in paths and not is_open(repo, path)]
    if not paths:
        return {}
    results = commit_paths(repo, paths, sign=sign, ref=ref, busy_wait=busy_wait, config=config)
    return {op_id_from_path(path) or path: results[path] for path in paths}


def commit_paths(
    repo: git.Repo,
    paths: Sequence[str],
    *,
    sign: bool | None = None,
    ref: str | bool | None = True,
    busy_wait: float = BUSY_WAIT_SECONDS,
    config: dict[str, str | None] | None = None,
    group_for: str | None = None,
) -> dict[str, str | KittyOpsError | None]:
    """Commit each record in `paths` (oldest first), one Op commit each, in one
    hold of the locks, onto HEAD or (ref mode) onto `ref`. `{path: commit id,
    None when the target has it already, or the KittyOpsError that kept it
    out}`. CommitSkipped when nothing can be committed now. With `group_for`
    (the record of the completion that asks), the records other completions
    noted by the time the commit lock is held go along (their results are in
    the answer too), and each completion but that one finds its commit noted."""
    sign, ref, config = settings(repo, sign, ref, config)
    if ref is None:  # a ref of kitty-ops' own never meets the person's commands
        refuse_unsafe_state(repo)
        refuse_inside_git(repo)
    try:
        return _commit_under_locks(repo, paths, sign, ref, config, group_for)
    except Busy:
        # A person's git command runs: wait for it without kitty-ops' locks (agents
        # wait side by side, not one after another), then try once more.
        wait_until_quiet(repo, busy_wait)
    try:
        return _commit_under_locks(repo, paths, sign, ref, config, group_for)
    except Busy as busy_now:
        commit_after_git(repo, busy.busy_pids(repo.top, repo.git_path))
        raise CommitSkipped(str(busy_now)) from None


def _commit_under_locks(repo: git.Repo, paths: Sequence[str], sign: bool, ref: str | None,
                        config: dict[str, str | None], group_for: str | None,
                        ) -> dict[str, str | KittyOpsError | None]:
    env = git.repo_env(repo)
    try:
        with hold_file(os.path.join(repo.common_path, COMMIT_LOCK_NAME), COMMIT_LOCK_SECONDS):
            along = sorted(set(noted_paths(repo)) - set(paths)) if group_for else []
            others = {*paths, *along} - {group_for} if group_for else set()
            gitlock.remove_dead_temporaries(repo.git_path)
            for attempt in range(1, LAND_ATTEMPTS + 1):
                with OpCommits(repo, env, sign, sorted([*paths, *along]), ref, config, INDEX_LOCK_SECONDS) as batch:
                    batch.prepare()
                    if batch.tip == batch.head or batch.land(last_try=attempt == LAND_ATTEMPTS):
                        forget_landed(repo, batch.results, others)
                        batch.outlast_gc()  # under the commit lock: the next Op commit builds on these objects
                        return batch.results
            raise CommitSkipped(f"{ref or 'HEAD'} kept moving while committing")
    except LockTimeout:
        raise CommitSkipped("another kitty-ops commit is still running") from None


def _repo(repo_root: Path | str) -> git.Repo:
    repo = git.find_repo(repo_root)
    if repo is None:
        raise CommitSkipped("not in a git repository")
    return repo


def stage_op_files(repo_root: Path | str, op_id: str) -> None:
    """Stage the record (and .gitattributes) in the real index, for a custom
    post-completion hook that commits it itself."""
    repo = _repo(repo_root)
    path = record_relpath(op_id)
    content = safefs.read_events_file(repo.top, path.rsplit("/", 1)[-1])
    entries = {path: content}
    attributes = read_optional(repo, GITATTRIBUTES_PATH)
    if attributes is not None:
        entries[GITATTRIBUTES_PATH] = attributes
    env = git.repo_env(repo)
    blobs = {name: git.run(["hash-object", "-w", "--stdin"], repo.top, input=data, env=env, replace_env=True)
             .stdout.decode().strip() for name, data in entries.items()}
    git.run(["update-index", "--add", "--index-info"], repo.top, input=git.index_info(blobs), env=env,
            replace_env=True)


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

