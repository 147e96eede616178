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
   oldest first.

What is committed is what kitty-ops read through its own no-follow open of
the file (`kitty_ops.format.safefs`), never a path git resolves again; an invalid
record is never committed. Anything that stops the commit raises
CommitSkipped: the record stays pending for `kitty-ops commit --pending`.
"""
from __future__ import annotations

import os
import sys
import time

from kitty_ops.errors import CommitSkipped, KittyOpsError
from kitty_ops.format import lifecycle_log as lifecycle
from kitty_ops.format import safefs
from kitty_ops.format.layout import (
    COMMIT_CONFIG,
    EVENTS_DIR,
    GITATTRIBUTES_PATH,
    IDENT_CONFIG,  # noqa: F401 (re-exported)
    LIFECYCLE_LOG_RELATIVE_PATH,
    RECORDS_REF,
    SIGN_CONFIG,
    TARGET_CONFIG,
    op_id_from_path,
    record_relpath,
)
from kitty_ops.format.scan import scan_record
from kitty_ops.gitio import busy, cachetree, git, gitlock, indexfile, objects, refs, stagedtree
from kitty_ops.store import uncommitted
from kitty_ops.system.lock import LockTimeout, hold_file
from kitty_ops.system.warn import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import Any

COMMIT_LOCK_NAME = "kitty-ops-commit.lock"
COMMIT_LOCK_SECONDS = 30.0
INDEX_LOCK_SECONDS = 1.0  # how long to wait for another git command's index.lock
BUSY_WAIT_SECONDS = 1.0  # how long to wait for a person's git command before staying pending
LAND_ATTEMPTS = 5  # HEAD moved between preparing the commits and landing them: prepare again
OP_ID_TRAILER = "Op-Id"


def _zero(oid: str | None) -> str:
    """The all-zeros id of `oid`'s length (SHA-1 or SHA-256): "no value" to update-ref."""
    return "0" * len(oid or "0" * 40)


class NotCompleted(KittyOpsError):
    """The Op is still open: its record is never committed."""


class NoSuchRecord(KittyOpsError):
    """The record is not in the work tree."""


def commit_subject(profile_id: str, action: str, op_id: str) -> str:
    return f"op({profile_id}): {action} [{op_id[:8]}]"


def commit_message(profile_id: str, action: str, op_id: str) -> str:
    """The subject, a blank line, and the `Op-Id: <ULID>` trailer."""
    return f"{commit_subject(profile_id, action, op_id)}\n\n{OP_ID_TRAILER}: {op_id}\n"


def wants_signing(config: dict[str, str | None]) -> bool:
    return SIGN_CONFIG.lower() in config and git.is_true(config[SIGN_CONFIG.lower()])


def target_ref(config: dict[str, str | None]) -> str | None:
    """RECORDS_REF in ref mode (`kitty-ops.target = ref`), None for the branch (HEAD)."""
    return RECORDS_REF if (config.get(TARGET_CONFIG.lower()) or "").strip().lower() == "ref" else None


_CRUD = "".join(map(chr, range(33))) + ".,:;<>\"\\'"


def _settings(
    repo: git.Repo, sign: bool | None, ref: str | bool | None, config: dict[str, str | None] | None
) -> tuple[bool, str | None, dict[str, str | None]]:
    """(sign, target ref, config) with what the caller left open (`sign` None,
    `ref` True) read from git config (`COMMIT_CONFIG`, unless given)."""
    if config is None:
        config = git.config_values(repo.top, list(COMMIT_CONFIG))
    sign = wants_signing(config) if sign is None else sign
    ref = target_ref(config) if ref is True else ref
    return sign, ref if isinstance(ref, str) else None, config


def python_identities(config: dict[str, str | None]) -> tuple[bytes, bytes] | None:
    """`Name <email>` of the author and the committer, as `git commit-tree` would
    take them from the environment and config; None wherever git's own rules
    go further (no configured name or email, a date or an encoding set, text
    git would clean up): the commit is then left to git."""
    encoding = config.get("i18n.commitencoding", "utf-8")
    if (encoding or "").lower() not in ("utf-8", "utf8") or os.environ.get("GIT_AUTHOR_DATE") is not None \
            or os.environ.get("GIT_COMMITTER_DATE") is not None:
        return None
    identities = []
    for role in ("author", "committer"):
        name = os.environ.get(f"GIT_{role.upper()}_NAME", config.get(f"{role}.name") or config.get("user.name"))
        email = os.environ.get(f"GIT_{role.upper()}_EMAIL", config.get(f"{role}.email") or config.get("user.email"))
        if not name or not email or any(value != value.strip(_CRUD) or "<" in value or ">" in value
                                        or "\n" in value for value in (name, email)):
            return None
        identities.append(f"{name} <{email}>".encode(errors="surrogateescape"))
    return identities[0], identities[1]


def _timestamp() -> bytes:
    """`<seconds> <+hhmm>` now, in the local time zone, as git writes it."""
    now = int(time.time())
    offset = time.localtime(now).tm_gmtoff // 60
    sign = "+" if offset >= 0 else "-"
    return f"{now} {sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}".encode()


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
    _committable(repo, path)  # refuse an open or invalid Op before taking any lock
    sign, ref, config = _settings(repo, sign, ref, config)
    if heal and pending is None:
        pending = noted_paths(repo)
    others = [other for other in pending or () if other < path] if heal else []
    results = commit_paths(repo, [*others, path], sign=sign, ref=ref, busy_wait=busy_wait, config=config)
    outcome = results[path]
    for other in others:
        problem = results.get(other)
        if isinstance(problem, KittyOpsError) and not isinstance(problem, NotCompleted) and problem is not outcome:
            warn("a pending record is still not committed: %s", problem)
    if isinstance(outcome, KittyOpsError):
        raise outcome
    return outcome


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
    sign, ref, config = _settings(repo, None, True, None)
    if pending:
        paths += [path for path in pending_paths(repo, ref) if path not in paths and not _is_open(repo, path)]
    if not paths:
        return {}
    results = commit_paths(repo, paths, sign=sign, ref=ref, busy_wait=busy_wait, config=config)
    return {op_id_from_path(path) or path: results[path] for path in paths}


def _is_open(repo: git.Repo, path: str) -> bool:
    try:
        _read_record(repo, path)
    except NotCompleted:
        return True
    except KittyOpsError:
        return False
    return False


def commit_paths(
    repo: git.Repo,
    paths: Sequence[str],
    *,
    sign: bool | None = None,
    ref: str | bool | None = True,
    busy_wait: float = BUSY_WAIT_SECONDS,
    config: dict[str, str | None] | None = None,
) -> dict[str, str | KittyOpsError | None]:
    """Commit each record in `paths` (oldest first), one Op commit each, in one
    hold of the locks, onto HEAD or (ref mode) onto `ref`. `{path: commit id,
    None when the target has it already, or the KittyOpsError that kept it
    out}`. CommitSkipped when nothing can be committed now."""
    sign, ref, config = _settings(repo, sign, ref, config)
    if ref is None:  # a ref of kitty-ops' own never meets the person's commands
        _refuse_unsafe_state(repo)
        _refuse_inside_git(repo)
    try:
        return _commit_under_locks(repo, paths, sign, ref, config)
    except _Busy:
        # A person's git command runs: wait for it without kitty-ops' locks (agents
        # wait side by side, not one after another), then try once more.
        _wait_until_quiet(repo, busy_wait)
    try:
        return _commit_under_locks(repo, paths, sign, ref, config)
    except _Busy as busy_now:
        _commit_after_git(repo, busy.busy_pids(repo.top, repo.git_path))
        raise CommitSkipped(str(busy_now)) from None


class _Busy(Exception):
    """A person's HEAD-moving git command runs in this work tree (the reason)."""


def _commit_under_locks(repo: git.Repo, paths: Sequence[str], sign: bool, ref: str | None,
                        config: dict[str, str | None]) -> dict[str, str | KittyOpsError | None]:
    env = git.repo_env(repo)
    try:
        with hold_file(os.path.join(repo.common_path, COMMIT_LOCK_NAME), COMMIT_LOCK_SECONDS):
            gitlock.remove_dead_temporaries(repo.git_path)
            for _ in range(LAND_ATTEMPTS):
                with _OpCommits(repo, env, sign, sorted(paths), ref, config) as batch:
                    batch.prepare()
                    if batch.tip == batch.head or batch.land():
                        _forget_landed(repo, batch.results)
                        return batch.results
            raise CommitSkipped(f"{ref or 'HEAD'} kept moving while committing")
    except LockTimeout:
        raise CommitSkipped("another kitty-ops commit is still running") from None


def noted_paths(repo: git.Repo) -> list[str]:
    """The records of completions noted as not committed yet (`kitty_ops.store.uncommitted`)."""
    return [record_relpath(op_id) for op_id in uncommitted.noted(repo.git_path)]


def _forget_landed(repo: git.Repo, results: dict[str, str | KittyOpsError | None]) -> None:
    """Drop the notes of records now in the target (or no longer in the work tree)."""
    done = [op_id_from_path(path) or "" for path, outcome in results.items()
            if not isinstance(outcome, KittyOpsError) or isinstance(outcome, NoSuchRecord)]
    uncommitted.forget(repo.git_path, [op_id for op_id in done if op_id])


def pending_paths(repo: git.Repo, ref: str | None = None, every_change: bool = False) -> list[str]:
    """Records that git sees as untracked or changed under kitty-ops/ or, in ref
    mode, that `ref` lacks or holds at another size (candidates: each is checked
    to be completed and valid before it is committed)."""
    env = git.repo_env(repo)
    if ref is not None:
        return _pending_against_ref(repo, ref, env)
    return finish_pending_queries(repo, start_pending_queries(repo), every_change)


def start_pending_queries(repo: git.Repo) -> list[git.Running]:
    """Start the branch mode queries of `pending_paths` (run side by side)."""
    env = git.repo_env(repo)
    pathspec = f":(top){EVENTS_DIR}/"
    return [
        git.start(["ls-files", "--others", "-z", "--", pathspec], repo.top, env=env),  # untracked
        git.start(["diff-files", "--name-only", "-z", "--", pathspec], repo.top, env=env),  # changed
        git.start(["diff", "--cached", "--name-only", "-z", "--no-renames", "--diff-filter=AM", "--", pathspec],
                  repo.top, env=env),  # staged by hand
    ]


def finish_pending_queries(repo: git.Repo, queries: list[git.Running], every_change: bool = False) -> list[str]:
    """The candidates the queries found; with `every_change`, each record whose
    stat data changed (`doctor`, which must see a same-size rewrite), else only
    those that grew (the Op commit's healing, which must stay cheap)."""
    untracked, changed, staged = ([path for path in git.split_z(git.finish(query)) if op_id_from_path(path)]
                                  for query in queries)
    return sorted({*untracked, *(changed if every_change else _grown(repo, changed)), *staged})


def _grown(repo: git.Repo, changed: list[str]) -> list[str]:
    """The records among `changed` (what `diff-files` reports) whose size differs
    from the index's version. `diff-files` goes by stat data alone: after a
    `touch`, a copy or a restore it names every record, and reading them all on
    every Op commit would cost seconds. A record only grows, so one that changed
    has another size (a same-size rewrite is the audit's and the hooks' concern)."""
    if not changed:
        return []
    stdin = "".join(f":{path}\n" for path in changed).encode(errors="surrogateescape")
    raw = git.run(["cat-file", "--batch-check=%(objectsize)"], repo.top, input=stdin, env=git.repo_env(repo),
                  replace_env=True).stdout.decode().split("\n")
    grown = []
    for path, size in zip(changed, raw, strict=False):
        try:
            on_disk = os.lstat(os.path.join(repo.top, path)).st_size
        except OSError:
            continue  # deleted in the work tree: nothing to commit
        if not size.isdigit() or int(size) != on_disk:
            grown.append(path)
    return grown


def _pending_against_ref(repo: git.Repo, ref: str, env: dict[str, str]) -> list[str]:
    committed: dict[str, int] = {}
    if git.ref_commit(repo, ref):
        raw = git.run(["ls-tree", "-r", "-l", "-z", ref, "--", f"{EVENTS_DIR}/"], repo.top, env=env,
                      replace_env=True).stdout
        for entry in git.split_z(raw):
            meta, _, path = entry.partition("\t")
            size = meta.split()[-1]
            committed[path] = int(size) if size.isdigit() else -1
    found = []
    events_dir = os.path.join(repo.top, EVENTS_DIR)
    for item in os.scandir(events_dir) if os.path.isdir(events_dir) else ():
        record = f"{EVENTS_DIR}/{item.name}"
        if (op_id_from_path(record) and item.is_file(follow_symlinks=False)
                and committed.get(record) != item.stat(follow_symlinks=False).st_size):
            found.append(record)
    return sorted(found)


def _repo(repo_root: Path | str) -> git.Repo:
    repo = git.find_repo(repo_root)
    if repo is None:
        raise CommitSkipped("not in a git repository")
    return repo


def _read_record(
    repo: git.Repo, path: str, read_at: dict[str, tuple[int, int, int]] | None = None
) -> tuple[bytes, dict[str, Any], dict[str, Any]]:
    """(content, started, completed) of a committable record; KittyOpsError
    otherwise. `read_at` gets the file's identity as it was read."""
    op_id = op_id_from_path(path) or path
    try:
        content, identity = safefs.read_events_file_stat(repo.top, path.rsplit("/", 1)[-1])
        if read_at is not None:
            read_at[path] = identity
    except FileNotFoundError:
        raise NoSuchRecord(f"{op_id}: no such Op (no {path})") from None
    except OSError as exc:
        raise KittyOpsError(f"{op_id}: cannot read {path}: {exc.strerror or exc}") from None
    scan = scan_record(content, op_id)
    if scan.problems:
        raise KittyOpsError(f"{op_id}: {path} is invalid and is never committed ({scan.problems[0]})")
    if scan.completed is None:
        raise NotCompleted(f"{op_id}: not completed; open Ops are never committed")
    return content, scan.started or {}, scan.completed


def _committable(repo: git.Repo, path: str) -> None:
    _read_record(repo, path)


def _refuse_unsafe_state(repo: git.Repo) -> None:
    if os.environ.get("GIT_INDEX_FILE"):
        raise CommitSkipped(
            "called from inside a running git command (GIT_INDEX_FILE is set); "
            "the next Op commit, or `kitty-ops commit --pending`, commits it"
        )
    operation = git.operation_in_progress(repo)
    if operation:
        running = busy.busy_pids(repo.top, repo.git_path)
        if running:
            # The person's command waits in an editor (`git merge -e`, `rebase -i`,
            # `cherry-pick -e`): the waiter commits the Op once it has ended and the
            # operation is finished.
            _commit_after_git(repo, running)
            raise CommitSkipped(
                f"{operation} is in progress and {next(iter(running.values()))} is running in this work tree; "
                f"it is committed once that command ends and the {operation.partition(' ')[2]} is finished"
            )
        raise CommitSkipped(f"{operation} is in progress; finish it first")
    if git.head_branch(repo) is None:
        raise CommitSkipped("HEAD is detached; check out a branch first")


_LATER = "it is committed once that command ends"


def _commit_after_git(repo: git.Repo, running: dict[int, str]) -> None:
    """Leave word that an Op waits, and start `kitty_ops.opcommit.waiter`, which commits it
    once the git commands `running` have ended (and the merge, rebase, ... they
    left under way, if any, is finished). Word first: a waiter alive already
    looks for it before it exits."""
    from kitty_ops.opcommit import waiter

    busy.note_waiting(repo.git_path)
    waiter.start(repo.top, repo.git_path, sorted(running))


def _busy_reason(repo: git.Repo, running: dict[int, str] | None = None) -> str | None:
    running = busy.busy_pids(repo.top, repo.git_path) if running is None else running
    if not running:
        return None
    return f"{next(iter(running.values()))} is running in this work tree; {_LATER}"


def _refuse_inside_git(repo: git.Repo) -> None:
    """CommitSkipped when this process runs inside (a hook of) a person's HEAD-moving
    git command: an Op commit now would make that command fail."""
    inside = busy.busy_ancestors(repo.top, repo.git_path)
    if inside:
        _commit_after_git(repo, inside)
        raise CommitSkipped(f"called from inside {next(iter(inside.values()))}; {_LATER}")


def _wait_until_quiet(repo: git.Repo, busy_wait: float) -> None:
    """Wait up to `busy_wait` seconds for the person's HEAD-moving git commands
    to end; CommitSkipped (and the waiter started) if they do
    not, and at once when this process runs inside one of them (its hook)."""
    running: dict[int, str] | None = busy.busy_pids(repo.top, repo.git_path)
    if running:
        inside = set(running) & set(busy.ancestors())
        if inside:
            _commit_after_git(repo, running)
            raise CommitSkipped(f"called from inside {running[inside.pop()]}; {_LATER}")
    deadline = time.monotonic() + busy_wait
    while (reason := _busy_reason(repo, running)) is not None:
        if time.monotonic() >= deadline:
            _commit_after_git(repo, running or busy.busy_pids(repo.top, repo.git_path))
            raise CommitSkipped(reason)
        time.sleep(0.02)
        running = None


class _index_lock:
    """Hold `index.lock`, checked under it that no person's HEAD-moving git
    command runs in this work tree (one that starts later meets the lock)."""

    def __init__(self, repo: git.Repo) -> None:
        self.repo = repo
        self.lock: gitlock.IndexLock | None = None

    def __enter__(self) -> gitlock.IndexLock:
        try:
            lock = gitlock.acquire(self.repo.git_path, INDEX_LOCK_SECONDS)
        except gitlock.LockHeld as exc:
            raise CommitSkipped(str(exc)) from None
        reason = _busy_reason(self.repo)
        if reason is not None:
            lock.release()
            raise _Busy(reason)
        self.lock = lock
        return lock

    def __exit__(self, *exc_info: object) -> None:
        if self.lock is not None:
            self.lock.release()


class _OpCommits:
    """A chain of Op commits on HEAD: prepared without git's index lock (trees,
    commits, and the real index's next version in a copy), then landed under it.

    Holding index.lock is what a person's git command meets at its start, so
    it is held only to check that HEAD and the index are still what the
    commits were made from, and to move both.
    """

    def __init__(self, repo: git.Repo, env: dict[str, str], sign: bool, paths: list[str], ref: str | None,
                 config: dict[str, str | None]) -> None:
        self.repo = repo
        self.config = config
        self.identities = None if sign else python_identities(config)
        self.ref = ref  # None: HEAD, its index and work tree; else a ref of kitty-ops' own
        self.env = env
        self.sign = sign
        self.paths = paths
        self.git_dir = repo.git_path
        self.index_path = os.path.join(self.git_dir, "index")
        self.results: dict[str, str | KittyOpsError | None] = {}
        self.index_entries: dict[str, str] = {}  # path -> blob, for the real index
        self.read_at: dict[str, tuple[int, int, int]] = {}  # path -> identity of the file as committed
        self.lifecycle_lines = b""
        self.tree_index = gitlock.temporary_index_path(self.git_dir)
        self.objects_dir = os.path.join(repo.common_path, "objects")
        self.native = False
        self.root = objects.TreeEdit(b"")
        self.events = objects.TreeEdit(b"")
        self.new_index = gitlock.temporary_index_path(self.git_dir)
        self.index_update: git.Running | None = None  # the update-index of the copy, still running
        self.unstored: list[tuple[str, bytes]] = []  # trees and commits named, written by `_store_objects`
        self.head_tree_ids: tuple[bytes, bytes] | None = None  # HEAD's root and kitty-ops trees (native)
        self.tip_tree_ids: tuple[str, str] | None = None  # the tip's root and kitty-ops trees (native)
        self.cache_counts: tuple[int, int] | None = None  # see `_keep_cache_tree`
        self.head: str | None = None
        self.tip: str | None = None
        self.last_subject = ""

    def __enter__(self) -> _OpCommits:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.index_update is not None:
            git.finish(self.index_update, check=False)
        _remove(self.tree_index)
        _remove(self.new_index)

    def prepare(self) -> None:
        shared = [LIFECYCLE_LOG_RELATIVE_PATH, GITATTRIBUTES_PATH]
        for path in shared:
            reason = safefs.unsafe_reason(os.path.join(self.repo.top, path))
            if reason:
                problem = KittyOpsError(f"{path} is {reason}; kitty-ops commits nothing next to it")
                self.results = {record: problem for record in self.paths}
                return
        self.head = git.ref_commit(self.repo, self.ref) if self.ref else _head_commit(self.repo)
        self.tip = self.head
        # SHA-1 repositories: HEAD's trees are read from the object store where they
        # are loose (as the last commit left them), else from git once, and the
        # `kitty-ops` tree's entries are looked up and edited here (`objects.TreeEdit`);
        # others, and a first commit, go through git and a temporary index.
        self.native = (bool(self.head) and len(self.head or "") == 40 and "core.sharedrepository" not in self.config
                       and (self.config.get("extensions.objectformat") or "sha1").lower() == "sha1"
                       and self._take_trees(self.head or ""))
        if self.native:
            self.in_head = self._blobs_in_head([*shared, *self.paths])
        else:
            specs = [f"{self.head}:{path}" for path in [*shared, *self.paths]] if self.head else []
            by_spec = git.read_objects(self.repo.top, specs, env=self.env) if specs else {}
            self.in_head = {path: by_spec.get(f"{self.head}:{path}") for path in [*shared, *self.paths]}
        self.lifecycle = self.in_head[LIFECYCLE_LOG_RELATIVE_PATH]
        if not self.native:
            self._git(["read-tree", self.head] if self.head else ["read-tree", "--empty"], index=self.tree_index)
        for number, path in enumerate(self.paths):
            try:
                self.results[path] = self._commit_one(path)
            except CommitSkipped as exc:  # git could not commit (a signer, a hook): nor the next
                self.results.update(dict.fromkeys(self.paths[number:], exc))
                break
            except KittyOpsError as exc:
                self.results[path] = exc
        if self.tip != self.head and self.ref is None:
            self._prepare_index(wait=False)  # runs while the trees are written
        self._store_objects()
        self._index_ready()

    def _object(self, kind: bytes, data: bytes) -> str:
        """The id of a tree or commit, written by `_store_objects` (before anything points at it)."""
        oid, body = objects.hashed(kind, data)
        self.unstored.append((oid, body))
        return oid

    def _store_objects(self) -> None:
        for oid, body in self.unstored:
            objects.store(self.objects_dir, oid, body)
        self.unstored = []

    def _commit_one(self, path: str) -> str | None:
        content, started, completed = _read_record(self.repo, path, self.read_at)
        in_head = self.in_head.get(path)
        head_content = in_head[2] if in_head else None
        if head_content == content:
            return None
        entries = {path: content}
        if head_content is None or scan_record(head_content).completed is None:
            lines = lifecycle.lines_for(started, completed)
            if lines:
                base = self.lifecycle[2] if self.lifecycle else b""
                entries[LIFECYCLE_LOG_RELATIVE_PATH] = base + lines
        if self.in_head[GITATTRIBUTES_PATH] is None and GITATTRIBUTES_PATH not in self.index_entries:
            attributes = _read_optional(self.repo, GITATTRIBUTES_PATH, self.read_at)
            if attributes is not None:
                entries[GITATTRIBUTES_PATH] = attributes
        blobs = {name: self._store_blob(data) for name, data in entries.items()}
        tree = self._tree_with(blobs)
        op_id = op_id_from_path(path) or ""
        commit = self._commit_tree(tree, commit_message(started["profile_id"], started["action"], op_id))
        self.tip = commit
        if LIFECYCLE_LOG_RELATIVE_PATH in entries:
            new = entries[LIFECYCLE_LOG_RELATIVE_PATH]
            self.lifecycle_lines += new[len(self.lifecycle[2]) if self.lifecycle else 0 :]
            self.lifecycle = (blobs[LIFECYCLE_LOG_RELATIVE_PATH], "blob", new)
        self.index_entries.update(blobs)
        return commit

    def _take_trees(self, head: str) -> bool:
        """Read HEAD's root and `kitty-ops` trees; False when git must do the work."""
        trees = self._loose_trees(head)
        if trees is None:
            specs = [f"{head}^{{tree}}", f"{head}:{EVENTS_DIR}"]
            found = git.read_objects(self.repo.top, specs, env=self.env)
            root, events = (found.get(spec) for spec in specs)
            if root is None or (events is not None and events[1] != "tree"):
                return False  # a `kitty-ops` that is not a directory: git reports it
            trees = root[2], events[2] if events else b""
        self.root, self.events = objects.TreeEdit(trees[0]), objects.TreeEdit(trees[1])
        events_entry = self.root.get(EVENTS_DIR.encode())
        if events_entry is not None:
            self.head_tree_ids = bytes.fromhex(objects.hashed(b"tree", trees[0])[0]), events_entry[1]
        return True

    def _loose_trees(self, head: str) -> tuple[bytes, bytes] | None:
        if stagedtree.replaced(self.repo.common_path):
            return None  # git reads the replacements: let it
        commit = objects.read_loose(self.objects_dir, head)
        if commit is None or commit[0] != b"commit" or not commit[1].startswith(b"tree "):
            return None
        root = objects.read_loose(self.objects_dir, commit[1][5:45].decode())
        if root is None or root[0] != b"tree":
            return None
        entry = objects.TreeEdit(root[1]).get(EVENTS_DIR.encode())
        if entry is None:
            return root[1], b""
        events = objects.read_loose(self.objects_dir, entry[1].hex()) if entry[0] == objects.TREE_MODE else None
        return (root[1], events[1]) if events is not None and events[0] == b"tree" else None

    def _blobs_in_head(self, paths: list[str]) -> dict[str, tuple[str, str, bytes] | None]:
        """`{path: (blob id, "blob", content)}` of HEAD's files among `paths`, by blob id."""
        ids: dict[str, str] = {}
        for path in paths:
            entry = self.events.get(path.split("/", 1)[1].encode(errors="surrogateescape"))
            if entry is not None and entry[0] in (objects.BLOB_MODE, b"100755"):
                ids[path] = entry[1].hex()
        contents: dict[str, tuple[str, str, bytes] | None] = {}
        for oid in set(ids.values()):
            loose = objects.read_loose(self.objects_dir, oid)
            if loose is not None and loose[0] == b"blob":
                contents[oid] = (oid, "blob", loose[1])
        missing = sorted(set(ids.values()) - set(contents))
        if missing:
            contents.update(git.read_objects(self.repo.top, missing, env=self.env))
        return {path: contents.get(ids[path]) if path in ids else None for path in paths}

    def _store_blob(self, data: bytes) -> str:
        if self.native:
            return objects.write(self.objects_dir, b"blob", data)
        return self._git(["hash-object", "-w", "--stdin"], input=data).strip()

    def _tree_with(self, blobs: dict[str, str]) -> str:
        """The root tree of the tip with `blobs` (paths under kitty-ops/) set."""
        if not self.native:
            self._git(["update-index", "--add", "--index-info"], input=git.index_info(blobs), index=self.tree_index)
            return self._git(["write-tree"], index=self.tree_index).strip()
        for path, blob in blobs.items():
            self.events.set(path.split("/", 1)[1].encode(), objects.BLOB_MODE, bytes.fromhex(blob))
        events = self._object(b"tree", self.events.data())
        self.root.set(EVENTS_DIR.encode(), objects.TREE_MODE, bytes.fromhex(events))
        root = self._object(b"tree", self.root.data())
        self.tip_tree_ids = root, events
        return root

    def _prepare_index(self, wait: bool = True) -> None:
        """The real index with the Op's entries, in a copy; remembers which index it
        copied. Without `wait` its last git call is left running (`_index_ready`)."""
        entries = dict(self.index_entries)
        if self._write_small_index(entries):
            return
        self.index_copied = _link_or_copy(self.index_path, self.new_index)
        if LIFECYCLE_LOG_RELATIVE_PATH in entries and self._lifecycle_staged_by_user():
            del entries[LIFECYCLE_LOG_RELATIVE_PATH]  # the person's staged version stays
        # Files unchanged since they were read go in from the work tree, so that
        # the index has their stat data and git sees them clean; the rest by blob.
        unchanged = [path for path in entries if path in self.read_at
                     and safefs.identity(os.path.join(self.repo.top, path)) == self.read_at[path]]
        by_blob = {path: blob for path, blob in entries.items() if path not in unchanged}
        self._note_cache_tree(entries)
        if by_blob:
            self._git(["update-index", "--add", "--index-info"], input=git.index_info(by_blob), index=self.new_index)
        if unchanged:
            self.index_update = git.start(["update-index", "--add", "--", *unchanged], self.repo.top,
                                          env={**self.env, "GIT_INDEX_FILE": self.new_index})
            if wait:
                self._index_ready()

    def _write_small_index(self, entries: dict[str, str]) -> bool:
        """The copy written by `kitty_ops.gitio.indexfile`, for a small index whose Op
        files are all as they were read; False when git must make it."""
        if not self.native or LIFECYCLE_LOG_RELATIVE_PATH in entries or "core.sharedrepository" in self.config:
            return False  # the person may have staged lifecycle.jsonl: git is asked
        files = {}
        for path, blob in entries.items():
            try:
                info = os.lstat(os.path.join(self.repo.top, path))
            except OSError:
                return False
            if (info.st_ino, info.st_size, info.st_mtime_ns) != self.read_at.get(path):
                return False  # changed since it was read and hashed
            files[path] = (blob, info)
        trees = None
        if self.head_tree_ids is not None and self.tip_tree_ids is not None:
            tip_root, tip_events = (bytes.fromhex(oid) for oid in self.tip_tree_ids)
            trees = self.head_tree_ids, (tip_root, tip_events)
        _remove(self.new_index)
        try:
            written = indexfile.add(self.index_path, self.new_index, self.repo.top, files, trees)
        except OSError:
            written = None
        if written is None:
            _remove(self.new_index)
            return False
        self.index_copied, self.cache_counts = written[0], None
        return True

    def _index_ready(self) -> None:
        """Wait for the copy's update-index, if one is running; then keep its cache tree."""
        running, self.index_update = self.index_update, None
        if running is not None:
            try:
                git.finish(running)
            except git.GitError as exc:
                raise CommitSkipped(_explain(exc)) from None
        self._keep_cache_tree()

    def _note_cache_tree(self, entries: dict[str, str]) -> None:
        """Whether the index copied holds exactly HEAD's tree (`kitty_ops.gitio.cachetree`),
        and so, with the Op's entries, exactly the tip's."""
        self.cache_counts = None
        if self.head_tree_ids is None or self.tip_tree_ids is None:
            return
        try:
            counts = cachetree.counts_if_head(self.new_index, *self.head_tree_ids)
        except (OSError, ValueError):
            return
        if counts is not None:
            added = sum(1 for path in entries if self.in_head.get(path) is None)
            self.cache_counts = counts[0] + added, counts[1] + added

    def _keep_cache_tree(self) -> None:
        """Set the copy's cache tree of the root and `kitty-ops/` to the tip's trees
        (update-index marked both as changed), when `_note_cache_tree` allowed it."""
        counts, self.cache_counts = self.cache_counts, None
        if counts is None or self.tip_tree_ids is None or _identity(self.new_index) == self.index_copied:
            return  # nothing to set, or git left the copy as it was: still the real index's link
        root, events = (bytes.fromhex(oid) for oid in self.tip_tree_ids)
        try:
            cachetree.set_trees(self.new_index, (root, counts[0]), (events, counts[1]))
        except (OSError, ValueError):
            pass  # the cache tree is only a cache: git rebuilds it

    def _lifecycle_staged_by_user(self) -> bool:
        staged = git.read_objects(self.repo.top, [f":{LIFECYCLE_LOG_RELATIVE_PATH}"],
                                  env={**self.env, "GIT_INDEX_FILE": self.new_index})
        staged_blob = (staged[f":{LIFECYCLE_LOG_RELATIVE_PATH}"] or (None,))[0]
        head = self.in_head[LIFECYCLE_LOG_RELATIVE_PATH]
        return staged_blob != (head[0] if head else None)

    def land(self) -> bool:
        """Under index.lock: move HEAD (compare-and-swap) and the real index, then
        the working log. False when HEAD moved since `prepare` (prepare again).
        In ref mode only the ref moves (compare-and-swap, with a reflog)."""
        if self.ref is not None:
            message = f"commit: {self.last_subject}"
            if not self._move_ref(self.ref, None, message, "always"):
                self._git(["update-ref", "--create-reflog", "-m", message, self.ref, self.tip or "",
                           self.head or _zero(self.tip)])
            return True
        with _index_lock(self.repo):
            if _head_commit(self.repo) != self.head:
                return False
            self._index_ready()
            if _identity(self.index_path) != self.index_copied:
                self._prepare_index()  # the index changed meanwhile: copy it again (rare)
            self._move_head(f"commit: {self.last_subject}")
            os.replace(self.new_index, self.index_path)
            if self.lifecycle_lines:
                _append_working_log(self.repo, self.lifecycle_lines, self.lifecycle[2] if self.lifecycle else b"")
        return True

    def _move_head(self, message: str) -> None:
        """HEAD's branch from `head` to `tip` (compare-and-swap), by `kitty_ops.gitio.refs`
        in the plain case, else by `git update-ref`."""
        branch = git.head_branch(self.repo)
        if not (branch and self._move_ref(branch, self.git_dir, message, self.config.get("core.logallrefupdates"))):
            self._git(["update-ref", "-m", message, "HEAD", self.tip or "", self.head or _zero(self.tip)])

    def _move_ref(self, ref: str, head_of: str | None, message: str, log_all: str | None) -> bool:
        """Move `ref` from `head` to `tip` by `kitty_ops.gitio.refs` (with HEAD's reflog
        too when `head_of`, a git directory, has HEAD at it); False when git must."""
        if not (self.head and self.tip and self.identities is not None
                and refs.plain_case(self.repo.common_path, self.config)):
            return False
        try:
            refs.move_branch(self.repo.common_path, head_of, ref, self.tip, self.head,
                             self.identities[1] + b" " + _timestamp(), message, log_all,
                             refs.lock_timeout_ms(self.config))
        except refs.Locked as exc:
            raise CommitSkipped(f"{ref} is locked: {exc}") from None
        except refs.Moved:
            raise CommitSkipped(f"{'HEAD' if head_of else ref} moved while committing (another program updated it)") \
                from None
        except refs.Unsupported:
            return False
        except OSError as exc:
            raise CommitSkipped(f"could not move {ref}: {exc.strerror or exc}") from None
        return True

    def _commit_tree(self, tree: str, message: str) -> str:
        self.last_subject = message.splitlines()[0]
        if self.native and self.identities is not None:  # what `git commit-tree` would write
            stamp = _timestamp()
            author, committer = (identity + b" " + stamp for identity in self.identities)
            data = objects.commit_object(tree, [self.tip] if self.tip else [], author, committer, message.encode())
            return self._object(b"commit", data)
        self._store_objects()  # git reads the tree (and the parent) it is given
        parents = ["-p", self.tip] if self.tip else []
        signing = ["-S"] if self.sign else []
        try:
            return git.output(["commit-tree", tree, *parents, *signing, "-m", message], self.repo.top,
                              env=self.env, replace_env=True)
        except git.GitError as exc:
            if "gpg" in exc.stderr.lower() or "sign" in exc.stderr.lower():
                first = (exc.stderr.strip().splitlines() or ["no message"])[0]
                if "ssh-add" in str(exc):  # a key that needs its passphrase: git.failure says what to do
                    first = str(exc).removeprefix("git commit-tree failed: ")
                raise CommitSkipped(f"signing the commit failed ({first})") from None
            raise CommitSkipped(str(exc)) from None

    def _git(self, args: list[str], *, input: bytes | None = None, index: str | None = None) -> str:
        env = {**self.env, "GIT_INDEX_FILE": index} if index else self.env
        try:
            result = git.run(args, self.repo.top, input=input, env=env, replace_env=True)
        except git.GitError as exc:
            raise CommitSkipped(_explain(exc)) from None
        return result.stdout.decode(errors="surrogateescape")


def _head_commit(repo: git.Repo) -> str | None:
    """The commit HEAD's branch points at, read from the ref files (no git call);
    None for an unborn branch."""
    ref = git.head_branch(repo)
    if ref is None:
        raise CommitSkipped("HEAD is detached; check out a branch first")
    return git.ref_commit(repo, ref)


def _identity(path: str) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _read_optional(repo: git.Repo, path: str, read_at: dict[str, tuple[int, int, int]] | None = None) -> bytes | None:
    """A file under kitty-ops/ read without following links; None when absent.
    A link or special file there is refused: nothing is committed next to it."""
    try:
        content, identity = safefs.read_events_file_stat(repo.top, path.rsplit("/", 1)[-1])
        if read_at is not None:
            read_at[path] = identity
        return content
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KittyOpsError(f"cannot read {path}: {exc.strerror or exc}") from None


def _append_working_log(repo: git.Repo, lines: bytes, committed: bytes) -> None:
    """Put the lifecycle lines just committed into the working file too."""
    name = LIFECYCLE_LOG_RELATIVE_PATH.rsplit("/", 1)[-1]
    try:
        fd = safefs.open_in_events_dir(repo.top, name, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    except OSError as exc:
        warn("could not write %s: %s", LIFECYCLE_LOG_RELATIVE_PATH, exc.strerror or exc)
        return
    try:
        if os.fstat(fd).st_size == 0:
            lines = committed  # a new file: all that HEAD has, ours included
        os.write(fd, lines)
    except OSError as exc:
        warn("could not write %s: %s", LIFECYCLE_LOG_RELATIVE_PATH, exc.strerror or exc)
    finally:
        os.close(fd)


def _link_or_copy(source: str, target: str) -> tuple[int, int, int] | None:
    """The index at `source` under the name `target`; the identity of what was
    taken (None: no index yet). A hard link where the file system has them: git
    never writes an index in place (it writes `<name>.lock` and renames it over),
    so the update-index of the copy replaces the link and leaves the real index
    as it was; copying 11 MB at 100,000 records cost more than the update."""
    _remove(target)  # taken again after the index changed: never write through an old link
    try:
        os.link(source, target)
    except FileNotFoundError:
        return None  # no index yet: git starts from an empty one
    except OSError:
        return _copy(source, target)
    return _identity(target)


def _copy(source: str, target: str) -> tuple[int, int, int] | None:
    """Copy the index at `source`; the identity of what was copied (None: no index yet)."""
    try:
        with open(source, "rb") as handle:
            identity = _identity_of(handle.fileno())
            data = handle.read()
    except FileNotFoundError:
        return None  # no index yet: git starts from an empty one
    with open(target, "wb") as handle:
        handle.write(data)
    return identity


def _identity_of(fd: int) -> tuple[int, int, int]:
    stat = os.fstat(fd)
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _remove(path: str) -> None:
    for leftover in (path, path + ".lock"):
        try:
            os.unlink(leftover)
        except FileNotFoundError:
            pass


def _explain(exc: git.GitError) -> str:
    if "but expected" in exc.stderr or "cannot lock ref" in exc.stderr:
        return "HEAD moved while committing (another program updated it)"
    return str(exc)


def stage_op_files(repo_root: Path | str, op_id: str) -> None:
    """Stage the record (and .gitattributes) in the real index, for a custom
    post-completion hook that commits it itself."""
    repo = _repo(repo_root)
    path = record_relpath(op_id)
    content = safefs.read_events_file(repo.top, path.rsplit("/", 1)[-1])
    entries = {path: content}
    attributes = _read_optional(repo, GITATTRIBUTES_PATH)
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

