"""The Op commit: completed records (and the lifecycle lines they bring) onto HEAD.

It follows git's own lock protocol, so that it can share a repository with a
person at work:

1. Never inside or beside a running git command. Called from a git hook
   (`GIT_INDEX_FILE` set, or a HEAD-moving git command among its ancestors),
   it makes no commit. Otherwise it takes `$GIT_DIR/index.lock` exactly as git
   does (exclusive create) and, holding it, asks `kitty_ops.busy` whether a
   person's `git commit`, merge, rebase, ... runs in this work tree; if one
   does it lets go, waits a short bounded time, and then leaves the record
   pending (the post-commit hook commits it when the person's command ends).
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
the file (`kitty_ops.safefs`), never a path git resolves again; an invalid
record is never committed. Anything that stops the commit raises
CommitSkipped: the record stays pending for `kitty-ops commit --pending`.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from kitty_ops import busy, git, gitlock, lifecycle, safefs
from kitty_ops.errors import CommitSkipped, KittyOpsError
from kitty_ops.layout import EVENTS_DIR, GITATTRIBUTES_PATH, LIFECYCLE_LOG_RELATIVE_PATH, op_id_from_path, record_relpath
from kitty_ops.lock import LockTimeout, hold_file
from kitty_ops.scan import scan_record
from kitty_ops.warn import warn

COMMIT_LOCK_NAME = "kitty-ops-commit.lock"
COMMIT_LOCK_SECONDS = 30.0
INDEX_LOCK_SECONDS = 1.0  # how long to wait for another git command's index.lock
BUSY_WAIT_SECONDS = 1.0  # how long to wait for a person's git command before staying pending
SIGN_CONFIG = "commit.gpgSign"
OP_ID_TRAILER = "Op-Id"
_ZERO = "0" * 40


def commit_subject(profile_id: str, action: str, op_id: str) -> str:
    return f"op({profile_id}): {action} [{op_id[:8]}]"


def commit_message(profile_id: str, action: str, op_id: str) -> str:
    """The subject, a blank line, and the `Op-Id: <ULID>` trailer."""
    return f"{commit_subject(profile_id, action, op_id)}\n\n{OP_ID_TRAILER}: {op_id}\n"


def wants_signing(config: dict[str, str | None]) -> bool:
    return SIGN_CONFIG.lower() in config and git.is_true(config[SIGN_CONFIG.lower()])


def commit_op(
    repo_root: Path | str,
    op_id: str,
    *,
    sign: bool | None = None,
    heal: bool = True,
    busy_wait: float = BUSY_WAIT_SECONDS,
) -> str | None:
    """Commit the completed record of `op_id`; the new commit's id.

    None when HEAD already holds the record as it is. With `heal`, older
    pending records are committed first, each in its own Op commit (a problem
    with one of them only warns). Raises CommitSkipped when the commit cannot
    be made now, KittyOpsError for an Op that is not completed or is invalid
    (such records are never committed). `sign` defaults to the user's
    `commit.gpgSign` (which `git commit-tree` would ignore).
    """
    repo = _repo(repo_root)
    path = record_relpath(op_id)
    _committable(repo, path)  # refuse an open or invalid Op before taking any lock
    others = [other for other in pending_paths(repo) if other < path] if heal else []
    results = commit_paths(repo, [*others, path], sign=sign, busy_wait=busy_wait)
    for other in others:
        if isinstance(results.get(other), KittyOpsError):
            warn("Op %s is still pending: %s", op_id_from_path(other), results[other])
    outcome = results[path]
    if isinstance(outcome, KittyOpsError):
        raise outcome
    return outcome


def commit_ops(
    repo_root: Path | str,
    op_ids: Sequence[str] = (),
    *,
    pending: bool = False,
    busy_wait: float = BUSY_WAIT_SECONDS,
) -> dict[str, str | None | KittyOpsError]:
    """Commit the named Ops and, with `pending`, every completed record not yet
    committed: `{op id: commit id, None when HEAD has it already, or the error
    that kept it out}`, the named Ops first. Open Ops found by `pending` are
    left alone; invalid ones are reported."""
    repo = _repo(repo_root)
    paths = [record_relpath(op_id) for op_id in op_ids]
    if pending:
        paths += [path for path in pending_paths(repo) if path not in paths and not _is_open(repo, path)]
    if not paths:
        return {}
    results = commit_paths(repo, paths, busy_wait=busy_wait)
    return {op_id_from_path(path) or path: results[path] for path in paths}


def _is_open(repo: git.Repo, path: str) -> bool:
    try:
        _read_record(repo, path)
    except KittyOpsError as exc:
        return "not completed" in str(exc)
    return False


def commit_paths(
    repo: git.Repo,
    paths: Sequence[str],
    *,
    sign: bool | None = None,
    busy_wait: float = BUSY_WAIT_SECONDS,
) -> dict[str, str | None | KittyOpsError]:
    """Commit each record in `paths` (oldest first), one Op commit each, in one
    hold of the locks. `{path: commit id, None when HEAD has it already, or the
    KittyOpsError that kept it out}`. CommitSkipped when nothing can be committed now."""
    if sign is None:
        sign = wants_signing(git.config_values(repo.root, [SIGN_CONFIG]))
    env = git.repo_env(repo)
    try:
        with hold_file(repo.common_dir / COMMIT_LOCK_NAME, COMMIT_LOCK_SECONDS):
            gitlock.remove_dead_temporaries(str(repo.git_dir))
            _refuse_unsafe_state(repo)
            with _index_lock(repo, busy_wait):
                batch = _OpCommits(repo, env, sign, sorted(paths))
                return batch.run()
    except LockTimeout:
        raise CommitSkipped("another kitty-ops commit is still running") from None


def pending_paths(repo: git.Repo) -> list[str]:
    """Records that git sees as untracked or changed under kitty-ops/ (candidates:
    each is checked to be completed and valid before it is committed)."""
    env = git.repo_env(repo)
    pathspec = f":(top){EVENTS_DIR}/"
    untracked = git.start(["ls-files", "--others", "-z", "--", pathspec], repo.root, env=env)
    modified = git.start(["diff-files", "--name-only", "-z", "--", pathspec], repo.root, env=env)
    found = git.split_z(git.finish(untracked)) + git.split_z(git.finish(modified))
    return sorted({path for path in found if op_id_from_path(path)})


def _repo(repo_root: Path | str) -> git.Repo:
    repo = git.find_repo(repo_root)
    if repo is None:
        raise CommitSkipped("not in a git repository")
    return repo


def _read_record(repo: git.Repo, path: str) -> tuple[bytes, dict, dict]:
    """(content, started, completed) of a committable record; KittyOpsError otherwise."""
    op_id = op_id_from_path(path) or path
    try:
        content = safefs.read_events_file(repo.root, path.rsplit("/", 1)[-1])
    except FileNotFoundError:
        raise KittyOpsError(f"{op_id}: no such Op (no {path})") from None
    except OSError as exc:
        raise KittyOpsError(f"{op_id}: cannot read {path}: {exc.strerror or exc}") from None
    scan = scan_record(content, op_id)
    if scan.problems:
        raise KittyOpsError(f"{op_id}: {path} is invalid and is never committed ({scan.problems[0]})")
    if scan.completed is None:
        raise KittyOpsError(f"{op_id}: not completed; open Ops are never committed")
    return content, scan.started or {}, scan.completed


def _committable(repo: git.Repo, path: str) -> None:
    _read_record(repo, path)


def _refuse_unsafe_state(repo: git.Repo) -> None:
    if os.environ.get("GIT_INDEX_FILE"):
        raise CommitSkipped(
            "called from inside a running git command (GIT_INDEX_FILE is set); "
            "the post-commit hook or the next Op commit commits it"
        )
    operation = git.operation_in_progress(repo)
    if operation:
        raise CommitSkipped(f"{operation} is in progress; finish it first")
    if git.head_branch(repo) is None:
        raise CommitSkipped("HEAD is detached; check out a branch first")
    if busy.has_procfs():
        ancestors = set(busy.ancestors())
        for process in busy.running_in(str(repo.root), str(repo.git_dir)):
            if process.pid in ancestors:
                raise CommitSkipped(
                    f"called from inside {process!r}; the post-commit hook or the next Op commit commits it"
                )


class _index_lock:
    """Hold `index.lock` with no person's HEAD-moving git command running; wait
    a bounded time for both, then CommitSkipped."""

    def __init__(self, repo: git.Repo, busy_wait: float) -> None:
        self.repo = repo
        self.busy_wait = busy_wait
        self.lock: gitlock.IndexLock | None = None

    def __enter__(self) -> gitlock.IndexLock:
        git_dir, root = str(self.repo.git_dir), str(self.repo.root)
        deadline = time.monotonic() + self.busy_wait
        while True:
            try:
                lock = gitlock.acquire(git_dir, INDEX_LOCK_SECONDS)
            except gitlock.LockHeld as exc:
                raise CommitSkipped(str(exc)) from None
            running = busy.busy_pids(root, git_dir)
            if not running:
                self.lock = lock
                return lock
            lock.release()
            if time.monotonic() >= deadline:
                busy.note_waiting(git_dir)
                what = next(iter(running.values()))
                raise CommitSkipped(
                    f"{what} is running in this work tree; the post-commit hook or the next Op commit commits it"
                )
            time.sleep(0.02)

    def __exit__(self, *exc_info: object) -> None:
        if self.lock is not None:
            self.lock.release()


class _OpCommits:
    """A chain of Op commits on HEAD, made under the locks, landed at once."""

    def __init__(self, repo: git.Repo, env: dict[str, str], sign: bool, paths: list[str]) -> None:
        self.repo = repo
        self.env = env
        self.sign = sign
        self.paths = paths
        self.results: dict[str, str | None | KittyOpsError] = {}
        self.index_entries: dict[str, str] = {}  # path -> blob, for the real index
        self.lifecycle_lines = b""

    def run(self) -> dict[str, str | None | KittyOpsError]:
        shared = [LIFECYCLE_LOG_RELATIVE_PATH, GITATTRIBUTES_PATH]
        for path in shared:
            reason = safefs.unsafe_reason(self.repo.root / path)
            if reason:
                problem = KittyOpsError(f"{path} is {reason}; kitty-ops commits nothing next to it")
                return {record: problem for record in self.paths}
        specs = ["HEAD", *(f"HEAD:{path}" for path in [*shared, *self.paths]), f":{LIFECYCLE_LOG_RELATIVE_PATH}"]
        found = git.read_objects(self.repo.root, specs, env=self.env)
        self.head = found["HEAD"][0] if found["HEAD"] else None
        self.tip = self.head
        self.in_head = {path: found[f"HEAD:{path}"] for path in [*shared, *self.paths]}
        self.lifecycle = self.in_head[LIFECYCLE_LOG_RELATIVE_PATH]
        index_lifecycle = found[f":{LIFECYCLE_LOG_RELATIVE_PATH}"]
        self.lifecycle_staged_by_user = (index_lifecycle or (None,))[0] != (self.lifecycle or (None,))[0]
        temporary = gitlock.temporary_index_path(str(self.repo.git_dir))
        try:
            self._prepare_tree_index(temporary)
            for path in self.paths:
                try:
                    self.results[path] = self._commit_one(path, temporary)
                except KittyOpsError as exc:
                    self.results[path] = exc
            if self.tip != self.head:
                self._land()
        finally:
            _remove(temporary)
        return self.results

    def _prepare_tree_index(self, temporary: str) -> None:
        env = {**self.env, "GIT_INDEX_FILE": temporary}
        args = ["read-tree", self.head] if self.head else ["read-tree", "--empty"]
        self._git(args, env=env)

    def _commit_one(self, path: str, temporary: str) -> str | None:
        content, started, completed = _read_record(self.repo, path)
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
            attributes = _read_optional(self.repo, GITATTRIBUTES_PATH)
            if attributes is not None:
                entries[GITATTRIBUTES_PATH] = attributes
        blobs = {name: self._hash(data) for name, data in entries.items()}
        env = {**self.env, "GIT_INDEX_FILE": temporary}
        self._git(["update-index", "--add", "--index-info"], input=git.index_info(blobs), env=env)
        tree = self._git(["write-tree"], env=env).strip()
        commit = self._commit_tree(tree, commit_message(started["profile_id"], started["action"], op_id_from_path(path) or ""))
        self.tip = commit
        if LIFECYCLE_LOG_RELATIVE_PATH in entries:
            new = entries[LIFECYCLE_LOG_RELATIVE_PATH]
            self.lifecycle_lines += new[len(self.lifecycle[2]) if self.lifecycle else 0 :]
            self.lifecycle = (blobs[LIFECYCLE_LOG_RELATIVE_PATH], "blob", new)
        self.index_entries.update(blobs)
        return commit

    def _land(self) -> None:
        """Move HEAD (compare-and-swap), then the real index, then the working log."""
        index_path = str(self.repo.git_dir / "index")
        new_index = gitlock.temporary_index_path(str(self.repo.git_dir))
        try:
            _copy(index_path, new_index)
            entries = dict(self.index_entries)
            if self.lifecycle_staged_by_user:
                entries.pop(LIFECYCLE_LOG_RELATIVE_PATH, None)  # the person's staged version stays
            env = {**self.env, "GIT_INDEX_FILE": new_index}
            self._git(["update-index", "--add", "--index-info"], input=git.index_info(entries), env=env)
            self._git(["update-ref", "-m", f"commit: {self._last_subject}", "HEAD", self.tip, self.head or _ZERO])
            os.replace(new_index, index_path)
        finally:
            _remove(new_index)
        if self.lifecycle_lines:
            _append_working_log(self.repo, self.lifecycle_lines, self.lifecycle[2] if self.lifecycle else b"")

    def _commit_tree(self, tree: str, message: str) -> str:
        parents = ["-p", self.tip] if self.tip else []
        signing = ["-S"] if self.sign else []
        self._last_subject = message.splitlines()[0]
        try:
            return git.output(["commit-tree", tree, *parents, *signing, "-m", message], self.repo.root, env=self.env)
        except git.GitError as exc:
            if "gpg" in exc.stderr.lower() or "sign" in exc.stderr.lower():
                first = (exc.stderr.strip().splitlines() or ["no message"])[0]
                raise CommitSkipped(f"signing the commit failed ({first})") from None
            raise CommitSkipped(str(exc)) from None

    def _hash(self, data: bytes) -> str:
        return self._git(["hash-object", "-w", "--stdin"], input=data).strip()

    def _git(self, args: list[str], *, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
        try:
            result = git.run(args, self.repo.root, input=input, env=env or self.env, replace_env=True)
        except git.GitError as exc:
            raise CommitSkipped(_explain(exc)) from None
        return result.stdout.decode(errors="surrogateescape")


def _read_optional(repo: git.Repo, path: str) -> bytes | None:
    """A file under kitty-ops/ read without following links; None when absent.
    A link or special file there is refused: nothing is committed next to it."""
    try:
        return safefs.read_events_file(repo.root, path.rsplit("/", 1)[-1])
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KittyOpsError(f"cannot read {path}: {exc.strerror or exc}") from None


def _append_working_log(repo: git.Repo, lines: bytes, committed: bytes) -> None:
    """Put the lifecycle lines just committed into the working file too."""
    name = LIFECYCLE_LOG_RELATIVE_PATH.rsplit("/", 1)[-1]
    try:
        fd = safefs.open_in_events_dir(repo.root, name, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
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


def _copy(source: str, target: str) -> None:
    try:
        with open(source, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return  # no index yet: git starts from an empty one
    with open(target, "wb") as handle:
        handle.write(data)


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
    content = safefs.read_events_file(repo.root, path.rsplit("/", 1)[-1])
    entries = {path: content}
    attributes = _read_optional(repo, GITATTRIBUTES_PATH)
    if attributes is not None:
        entries[GITATTRIBUTES_PATH] = attributes
    env = git.repo_env(repo)
    blobs = {name: git.run(["hash-object", "-w", "--stdin"], repo.root, input=data, env=env, replace_env=True)
             .stdout.decode().strip() for name, data in entries.items()}
    git.run(["update-index", "--add", "--index-info"], repo.root, input=git.index_info(blobs), env=env, replace_env=True)


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

