"""Committed history under `kitty-ops/`, read with two git processes in all.

One `git log --raw -z` over the whole range lists every commit that touches
`kitty-ops/` and what it changed (blob ids, modes, renames); one
`git cat-file --batch` then reads every blob that matters, fed all their ids
at once. Nothing is run per commit.

Only `kitty-ops/` is read, so that git never needs a blob outside it: the log
is limited to the pathspec `:(top,literal)kitty-ops/` and finds exact renames
only (`-M100%`, which compares blob ids, never contents). In a partial clone
(`--filter=blob:none`), whose blobs are those of the checkout and of what was
fetched since, no git call here ever fetches: the blobs are first looked up
with `git rev-list --missing=print`, which never fetches, and those missing
are reported (or fetched in one batch when asked).

Merge commits are read as git's combined diff (`-c`): only the paths whose
result differs from every parent, compared with the first parent. A clean
merge adds nothing of its own (the commits it brings in are audited where
they were made); a conflict resolution that edits a record is checked like
any commit. Standard library only, like the hooks that import it.
"""
from __future__ import annotations

from kitty_ops.format.layout import EVENTS_DIR
from kitty_ops.gitio import git

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

ZERO_ID = "0" * 40
PATHSPEC = f":(top,literal){EVENTS_DIR}/"
_COMMIT_MARK = "\x01"
_PREFIX = f"{EVENTS_DIR}/"
LOG_FORMAT = "--format=%x01%H %P%x00%s"


class Change:
    """One path a commit changed: `status` is A, M, D, R, C or T (against the first parent)."""

    __slots__ = ("status", "old_mode", "new_mode", "old_blob", "new_blob", "old_path", "path")

    def __init__(
        self, status: str, old_mode: str, new_mode: str, old_blob: str, new_blob: str, old_path: str, path: str
    ) -> None:
        self.status = status
        self.old_mode, self.new_mode = old_mode, new_mode
        self.old_blob = None if old_blob == ZERO_ID else old_blob
        self.new_blob = None if new_blob == ZERO_ID else new_blob
        self.old_path, self.path = old_path, path


class Commit:
    __slots__ = ("sha", "parents", "subject", "changes")

    def __init__(self, sha: str, parents: list[str], subject: str) -> None:
        self.sha, self.parents, self.subject = sha, parents, subject
        self.changes: list[Change] = []


def log_args(revisions: list[str]) -> list[str]:
    """The one `git log` that lists the commits of `revisions` that touch
    kitty-ops/ and their changes there, children first.

    `--full-history`: every such commit, also on a side branch whose merge
    took the other side. `-M100%`: exact renames only, found from blob ids
    (inexact ones would read blobs, which a partial clone may lack); a record
    renamed and edited at once is a deletion and an addition."""
    return [
        "log", "-z", "--raw", "--no-abbrev", "-M100%", "-c", "--combined-all-paths", "--root",
        "--full-history", "--topo-order", "--no-color", "--no-show-signature", "--no-relative",
        "--no-ext-diff", "--no-textconv", LOG_FORMAT, "--end-of-options", *revisions, "--", PATHSPEC,
    ]


def read_commits(repo_root: Path | str, revisions: list[str]) -> list[Commit]:
    """The commits of `revisions` that touch kitty-ops/, children before parents."""
    raw = git.run(log_args(revisions), repo_root, timeout=max(git.GIT_TIMEOUT_SECONDS, 600)).stdout
    return parse_log(raw)


def parse_log(raw: bytes) -> list[Commit]:
    """The commits that touch kitty-ops/ in the output of `log_args`, with their
    changes there: NUL-separated tokens, read by position."""
    tokens = raw.decode(errors="surrogateescape").split("\0")
    commits: list[Commit] = []
    position, end = 0, len(tokens)
    while position < end:
        token = tokens[position].lstrip("\n")
        position += 1
        if not token:
            continue
        if token.startswith(_COMMIT_MARK):
            sha, *parents = token[1:].split()
            commits.append(Commit(sha, parents, tokens[position] if position < end else ""))
            position += 1
        elif token.startswith(":") and commits:
            change, position = _change(token, tokens, position)
            if _is_ours(change.path) or _is_ours(change.old_path):
                commits[-1].changes.append(change)
    return [commit for commit in commits if commit.changes]


def _is_ours(path: str) -> bool:
    return path.startswith(_PREFIX) or path == EVENTS_DIR


def _change(header: str, tokens: list[str], position: int) -> tuple[Change, int]:
    """One raw entry: `:old new oldblob newblob S` or, for a merge, the combined
    `::m1 m2 mR b1 b2 bR SS`; then its paths (two for a rename or copy; one per
    parent and the result for a combined entry)."""
    parents = len(header) - len(header.lstrip(":"))
    fields = header[parents:].split()
    modes, blobs, status = fields[: parents + 1], fields[parents + 1 : 2 * parents + 2], fields[-1]
    kind = status[0]
    if parents == 1:
        count = 2 if kind in "RC" else 1
    else:
        count = parents + 1
    paths = tokens[position : position + count]
    path = paths[-1]
    if kind == "C":  # a copy leaves its source alone: the new path is an addition
        return Change("A", "000000", modes[-1], ZERO_ID, blobs[-1], path, path), position + count
    old_path = paths[0] if kind == "R" or parents > 1 else path
    return Change(kind, modes[0], modes[-1], blobs[0], blobs[-1], old_path, path), position + count


def read_blobs(repo_root: Path | str, blob_ids: list[str]) -> dict[str, bytes]:
    """The contents of `blob_ids`, from one `git cat-file --batch`."""
    found = git.read_blobs(repo_root, list(dict.fromkeys(blob_ids)))
    return {blob: data for blob, data in found.items() if data is not None}


def promisor_remotes(repo_root: Path | str) -> list[str] | None:
    """None in a full clone; in a partial clone, the remotes it may fetch
    missing objects from (the names, whether or not they still exist)."""
    result = git.run(["config", "-z", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$"],
                     repo_root, check=False)
    values = git.parse_config(result.stdout)
    remotes = [name[len("remote."):-len(".promisor")] for name, value in values.items()
               if name.startswith("remote.") and git.is_true(value)]
    partial = values.get("extensions.partialclone")
    if partial and partial not in remotes:
        remotes.insert(0, partial)
    return remotes if values else None


def missing_blobs(repo_root: Path | str, blob_ids: list[str]) -> set[str]:
    """Those of `blob_ids` this repository does not have, asked of
    `git rev-list --missing=print --ignore-missing`, which never fetches
    (a `cat-file` would fetch each missing one from the promisor remote)."""
    wanted = list(dict.fromkeys(blob_ids))
    if not wanted:
        return set()
    raw = git.run(["rev-list", "--objects", "--no-object-names", "--missing=print", "--ignore-missing",
                   "--no-walk", "--stdin"], repo_root, input="".join(f"{blob}\n" for blob in wanted).encode(),
                  timeout=max(git.GIT_TIMEOUT_SECONDS, 600)).stdout
    present = set(raw.decode().split())
    return {blob for blob in wanted if blob not in present}


def fetch_blobs(repo_root: Path | str, remote: str, blob_ids: list[str]) -> None:
    """Fetch `blob_ids` from the promisor `remote` in one batch, as git's own
    lazy fetch does it (but once for all of them, not one by one)."""
    git.run(["-c", "fetch.negotiationAlgorithm=noop", "fetch", remote, "--no-tags", "--no-write-fetch-head",
             "--recurse-submodules=no", "--filter=blob:none", "--stdin"], repo_root,
            input="".join(f"{blob}\n" for blob in blob_ids).encode(), timeout=max(git.GIT_TIMEOUT_SECONDS, 600))


def shallow_commits(repo_root: Path | str) -> set[str]:
    """The commits a shallow clone holds without their parents (none in a full clone)."""
    lines = git.output(["rev-parse", "--is-shallow-repository", "--git-path", "shallow"], repo_root).splitlines()
    if not lines or lines[0] != "true":
        return set()
    import os

    path = lines[1] if os.path.isabs(lines[1]) else os.path.join(os.fspath(repo_root), lines[1])
    try:
        with open(path) as handle:
            return set(handle.read().split())
    except OSError:
        return set()


def commits_in(repo_root: Path | str, revisions: list[str]) -> set[str]:
    """Every commit `revisions` names, as `git rev-list` reads them."""
    raw = git.run(["rev-list", "--end-of-options", *revisions, "--"], repo_root,
                  timeout=max(git.GIT_TIMEOUT_SECONDS, 600)).stdout
    return set(raw.decode().split())
