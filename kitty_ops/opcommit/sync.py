"""`kitty-ops sync`: share `refs/kitty-ops/records` with a remote, never by force.

1. Fetch the remote's ref into `refs/remotes/<remote>/kitty-ops/records`.
2. Union it with ours: a fast-forward when one side contains the other, else
   a merge commit whose tree has every record of both sides (per-Op files
   never conflict; a record that differs keeps the longer copy when one
   extends the other, ours otherwise, reported as a conflict; the lifecycle
   log takes the lines of both).
3. Push ours without force; a rejected push (another clone pushed first) is
   fetched and merged again, at most `ATTEMPTS` times within `DEADLINE_SECONDS`.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from kitty_ops.errors import KittyOpsError
from kitty_ops.format.layout import LIFECYCLE_LOG_RELATIVE_PATH, RECORDS_REF
from kitty_ops.gitio import git, gitlock
from kitty_ops.opcommit.commit import COMMIT_LOCK_NAME, COMMIT_LOCK_SECONDS
from kitty_ops.store.refstore import tree_records
from kitty_ops.system.lock import LockTimeout, hold_file

ATTEMPTS = 3
DEADLINE_SECONDS = 60.0
PUSHED_DIR = "kitty-ops/pushed"  # in the git common dir: what each remote was last given


class SyncResult:
    __slots__ = ("remote", "local", "remote_tip", "pushed", "merged", "conflicts", "attempts")

    def __init__(self, remote: str) -> None:
        self.remote = remote
        self.local: str | None = None
        self.remote_tip: str | None = None
        self.pushed = False
        self.merged = False
        self.conflicts: list[str] = []
        self.attempts = 0


def tracking_ref(remote: str) -> str:
    return f"refs/remotes/{remote}/kitty-ops/records"


def fetch_refspec(remote: str) -> str:
    return f"+refs/kitty-ops/*:refs/remotes/{remote}/kitty-ops/*"


def default_remote(repo: git.Repo) -> str:
    """The current branch's remote, else `origin`."""
    branch = git.head_branch(repo)
    if branch and branch.startswith("refs/heads/"):
        name = f"branch.{branch[len('refs/heads/'):]}.remote"
        value = git.config_values(repo.root, [name]).get(name.lower())
        if value and value != ".":
            return value
    return "origin"


def rev(repo: git.Repo, name: str) -> str | None:
    result = git.run(["rev-parse", "-q", "--verify", f"{name}^{{commit}}"], repo.root, check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None


def _fetch(repo: git.Repo, remote: str) -> None:
    result = git.run(
        ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote,
         f"+{RECORDS_REF}:{tracking_ref(remote)}"],
        repo.root, check=False,
    )
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")
        if "couldn't find remote ref" in stderr:
            return  # the remote has no records yet
        raise KittyOpsError(f"git fetch {remote} failed: {git.last_line(stderr)}")


def _push(repo: git.Repo, remote: str) -> bool:
    """True when pushed; False when the remote moved (rejected, not a fast-forward)."""
    result = git.run(["push", "--quiet", "--no-verify", "--porcelain", remote, f"{RECORDS_REF}:{RECORDS_REF}"],
                     repo.root, check=False)
    if result.returncode == 0:
        return True
    text = (result.stdout + result.stderr).decode(errors="replace")
    if "rejected" in text or "fetch first" in text or "non-fast-forward" in text or "stale info" in text:
        return False
    raise KittyOpsError(f"git push {remote} failed: {git.last_line(text)}")


def _is_ancestor(repo: git.Repo, older: str, newer: str) -> bool:
    return git.run(["merge-base", "--is-ancestor", older, newer], repo.root, check=False).returncode == 0


def _union_lines(ours: bytes, theirs: bytes) -> bytes:
    seen = set(ours.splitlines())
    extra = [line for line in theirs.splitlines() if line not in seen]
    if not extra:
        return ours
    base = ours if not ours or ours.endswith(b"\n") else ours + b"\n"
    return base + b"\n".join(extra) + b"\n"


def merge_trees(repo: git.Repo, ours: str, theirs: str) -> tuple[str, list[str]]:
    """A merge commit of `ours` and `theirs` holding every record of both; its
    id, and the paths whose copies conflict (ours kept)."""
    mine, other = tree_records(repo, ours), tree_records(repo, theirs)
    differing = [path for path, blob in other.items() if mine.get(path) != blob]
    wanted = {mine[path] for path in differing if path in mine} | {other[path] for path in differing}
    contents = git.read_objects(repo.root, sorted(wanted))
    chosen: dict[str, str] = {}
    conflicts: list[str] = []
    for path in differing:
        if path not in mine:
            chosen[path] = other[path]
            continue
        a, b = contents[mine[path]][2], contents[other[path]][2]  # type: ignore[index]
        if b.startswith(a):
            chosen[path] = other[path]
        elif a.startswith(b):
            continue
        elif path == LIFECYCLE_LOG_RELATIVE_PATH:
            merged = _union_lines(a, b)
            chosen[path] = git.output(["hash-object", "-w", "--stdin"], repo.root, input=merged)
        else:
            conflicts.append(path)
    temporary = gitlock.temporary_index_path(str(repo.git_dir))
    env = {"GIT_INDEX_FILE": temporary}
    try:
        git.run(["read-tree", ours], repo.root, env=env)
        if chosen:
            git.run(["update-index", "--add", "--index-info"], repo.root, input=git.index_info(chosen), env=env)
        tree = git.output(["write-tree"], repo.root, env=env)
    finally:
        for leftover in (temporary, temporary + ".lock"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    message = "kitty-ops sync: union of the records of both sides"
    commit = git.output(["commit-tree", tree, "-p", ours, "-p", theirs, "-m", message], repo.root)
    return commit, conflicts


def _integrate(repo: git.Repo, remote: str, result: SyncResult) -> str | None:
    """Bring the remote's records into ours (under the Op commit's lock); our new tip."""
    with hold_file(repo.common_dir / COMMIT_LOCK_NAME, COMMIT_LOCK_SECONDS):  # one writer of the ref
        ours, theirs = rev(repo, RECORDS_REF), rev(repo, tracking_ref(remote))
        result.remote_tip = theirs
        if theirs is None or ours == theirs or (ours and _is_ancestor(repo, theirs, ours)):
            return ours
        if ours is None or _is_ancestor(repo, ours, theirs):
            new, how = theirs, "fast-forward"
        else:
            new, conflicts = merge_trees(repo, ours, theirs)
            result.conflicts += conflicts
            result.merged, how = True, "merge"
        git.run(["update-ref", "--create-reflog", "-m", f"kitty-ops sync: {how} from {remote}", RECORDS_REF, new,
                 ours or "0" * 40], repo.root)
        return new


def sync(repo_root: Path | str, remote: str | None = None) -> SyncResult:
    """Fetch, union and push the records ref; KittyOpsError when it cannot."""
    repo = git.find_repo(repo_root)
    if repo is None:
        raise KittyOpsError("not in a git repository")
    remote = remote or default_remote(repo)
    if git.run(["remote", "get-url", remote], repo.root, check=False).returncode != 0:
        raise KittyOpsError(f"no remote named {remote!r}")
    result = SyncResult(remote)
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        while result.attempts < ATTEMPTS and time.monotonic() < deadline:
            result.attempts += 1
            _fetch(repo, remote)
            result.local = _integrate(repo, remote, result)
            if result.local is None or result.local == result.remote_tip:
                return result  # nothing of ours the remote lacks
            if _push(repo, remote):
                result.pushed = True
                remember_pushed(repo, remote, result.local)
                git.run(["update-ref", tracking_ref(remote), result.local], repo.root, check=False)
                return result
    except LockTimeout:
        raise KittyOpsError("another kitty-ops commit is still running; try again") from None
    raise KittyOpsError(f"the remote {remote} kept moving: gave up after {result.attempts} attempts")


def remember_pushed(repo: git.Repo, remote: str, commit: str) -> None:
    directory = repo.common_dir / PUSHED_DIR
    directory.mkdir(parents=True, exist_ok=True)
    (directory / remote.replace("/", "%2F")).write_text(commit + "\n")


def last_pushed(repo: git.Repo, remote: str) -> str | None:
    try:
        return (repo.common_dir / PUSHED_DIR / remote.replace("/", "%2F")).read_text().strip() or None
    except OSError:
        return None
