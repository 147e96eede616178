"""The untracked records of a work tree, for the orphans hook, without git
listing `kitty-ops/` on every commit; and what unchanged records say, for the
hook and doctor, without reading them again.

`git ls-files --others` reads the directory whole (100,000 entries at 100,000
records). A directory's mtime changes whenever an entry is created, removed or
renamed in it, so once it is listed this remembers, in
`<git-dir>/kitty-ops/untracked-cache` (local, never committed):

- the directory's identity (device, inode, mtime, ctime) when it was listed,
  kept only when it was the same after the listing and its mtime older than
  the listing by `MARGIN_NS` (so no entry made during or after the listing can
  leave it as it was, whatever the clock's grain; an mtime set back by hand
  still changes the ctime);
- HEAD's `kitty-ops/` tree id then, and `beyond_head`: the record names that
  were in the directory and not in that tree (when HEAD moves to another
  tree, as every Op commit makes it, `git diff-tree` says which names it
  gained or lost, and the list follows).

While both still hold, the directory holds the same names, and the records
that are untracked now are `beyond_head` less those the index adds to HEAD,
plus those it removes from HEAD that are in the work tree: both read from the
one `git diff --cached` the hook runs anyway (A and D).

What each untracked record says is kept too, by the file's identity (device,
inode, mtime, ctime, size, mode): a file unchanged since it was read (and
older than `MARGIN_NS` then) is not read again. So is what each open Op's
owner file says (`kitty_ops.lifecycle.owners`): with a hundred agents at
work, the hook then reads their processes' state, not their owner files.

Standard library only: the orphans hook imports it.
"""
from __future__ import annotations

import os
import stat

from kitty_ops.format import jsontext, rules
from kitty_ops.format.layout import EVENTS_DIR
from kitty_ops.format.scan import RecordScan, read_scan, rules_stamp
from kitty_ops.gitio import git
from kitty_ops.system import files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

CACHE_NAME = "kitty-ops/untracked-cache"  # under the git directory
MARGIN_NS = 2_000_000_000  # coarser than any file system's timestamps (FAT: 2 s)
_FORMAT = 2


def _stamp() -> str:
    """What the cache is valid for: this kitty-ops and its rules."""
    return rules_stamp(str(_FORMAT))


def _identity(info: os.stat_result) -> list[int]:
    return [info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_mode]


def lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _listed_by_git(info: os.stat_result | None) -> bool:
    """What `git ls-files --others` lists: regular files and links, not FIFOs or directories."""
    return info is not None and (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode))


class UntrackedCache:
    """The cache of one git directory: `untracked()` answers from it when it holds."""

    def __init__(self, git_dir: str | None, top: str = "") -> None:
        """`top`: the top of the work tree, which the paths are relative to ("": the
        current directory, as in a hook)."""
        self.path = os.path.join(git_dir, CACHE_NAME) if git_dir else None
        self.top = top
        self.data: dict[str, object] = {}  # the listing: "dir", "head_tree", "beyond_head"
        self.loaded: dict[str, object] = {}
        self.records: dict[str, list[object]] = {}
        self.new_records: dict[str, list[object]] = {}
        self.owners: dict[str, list[object]] = {}  # owner file name -> [identity, what it says]
        self.new_owners: dict[str, list[object]] = {}
        if self.path is None:
            return
        try:
            with open(self.path, "rb") as handle:
                data = jsontext.loads(handle.read())
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("stamp") == _stamp():
            records, owners = data.pop("records", None), data.pop("owners", None)
            self.records = records if isinstance(records, dict) else {}
            self.owners = owners if isinstance(owners, dict) else {}
            data.pop("stamp")
            self.data = self.loaded = data

    def holds(self, head_tree: str | None) -> bool:
        """The directory is as it was listed, and so is HEAD's `kitty-ops/` tree
        or it has moved from one tree to another (an Op commit): then `git
        diff-tree` between the two says which names HEAD gained or lost."""
        now = lstat(self._at(EVENTS_DIR))
        if not self.data or now is None or self.data.get("dir") != _identity(now)[:4]:
            return False
        beyond, listed_tree = self.data.get("beyond_head"), self.data.get("head_tree")
        if not isinstance(beyond, list):
            return False
        if listed_tree == head_tree:
            return True
        if not (listed_tree is None or isinstance(listed_tree, str)):
            return False
        changes = _tree_changes(listed_tree, head_tree, self.top or ".")
        if changes is None:
            return False
        gained, lost = changes
        moved = {path for path in beyond if isinstance(path, str) and path not in gained}
        moved.update(path for path in lost if _listed_by_git(lstat(self._at(path))))
        self.data = {**self.data, "head_tree": head_tree, "beyond_head": sorted(moved)}
        return True

    def untracked(self, added: list[str], deleted: list[str]) -> list[str]:
        """The untracked record paths (when `holds`). `added` / `deleted`: the
        record paths the index adds to / removes from HEAD."""
        staged_new, beyond = set(added), self.data["beyond_head"]
        found = {path for path in beyond if isinstance(path, str) and path not in staged_new} \
            if isinstance(beyond, list) else set()
        found.update(path for path in deleted if _listed_by_git(lstat(self._at(path))))
        return sorted(found)

    def remember_listing(self, before: os.stat_result | None, listing_started_ns: int,
                         head_tree: str | None, untracked: list[str], added: list[str]) -> None:
        """After a listing by git: keep it when the directory was the same
        before and after it, and older than the listing by `MARGIN_NS`."""
        after = lstat(self._at(EVENTS_DIR))
        if before is None or after is None or _identity(before)[:4] != _identity(after)[:4]:
            self.data = {}
            return
        if before.st_mtime_ns > listing_started_ns - MARGIN_NS:
            self.data = {}
            return
        beyond = set(untracked)
        beyond.update(path for path in added if _listed_by_git(lstat(self._at(path))))
        self.data = {"dir": _identity(before)[:4], "head_tree": head_tree, "beyond_head": sorted(beyond)}

    def _at(self, path: str) -> str:
        return os.path.join(self.top, path) if self.top else path

    def scan(self, path: str, op_id: str, now_ns: int) -> RecordScan:
        """What the record at `path` says: remembered while the file is unchanged."""
        name = os.path.basename(path)  # every record is in kitty-ops/
        info = lstat(path)
        if info is not None:
            key = _identity(info)
            known = self.records.get(name)
            if isinstance(known, list) and len(known) == 2 and known[0] == key:
                scan = _from_summary(known[1])
                if scan is not None:
                    self.new_records[name] = known
                    return scan
        scan = read_scan(path, op_id)
        after = lstat(path)
        if (info is not None and after is not None and _identity(after) == _identity(info)
                and info.st_mtime_ns < now_ns - MARGIN_NS):
            self.new_records[name] = [_identity(info), _summary(scan)]
        return scan

    def owner_file(self, path: str, read: Callable[[str], dict[str, Any] | None], now_ns: int) -> dict[str, Any] | None:
        """What the owner file at `path` says (`read` reads it): remembered while the
        file is unchanged (it is only ever replaced whole, never edited)."""
        info = lstat(path)
        if info is None:
            return None
        name, key = os.path.basename(path), _identity(info)
        known = self.owners.get(name)
        if isinstance(known, list) and len(known) == 2 and known[0] == key and isinstance(known[1], dict):
            self.new_owners[name] = known
            return known[1]
        owner = read(path)
        if owner is not None and info.st_mtime_ns < now_ns - MARGIN_NS:
            self.new_owners[name] = [key, owner]
        return owner

    def save(self) -> None:
        """Write what changed (the listing kept, the records and owner files met this run)."""
        if self.path is None or (self.data == self.loaded and self.new_records == self.records
                                 and self.new_owners == self.owners):
            return
        data = {**self.data, "stamp": _stamp(), "records": self.new_records, "owners": self.new_owners}
        files.write_quietly(self.path, jsontext.dumps(data, separators=(",", ":")).encode())


def _tree_changes(old: str | None, new: str | None, cwd: str) -> tuple[set[str], list[str]] | None:
    """(record paths in tree `new` and not in `old`, those in `old` and not in
    `new`) of two `kitty-ops/` trees (None: there is none); None when git
    cannot say."""
    try:
        if old is None or new is None:
            raw = git.finish(git.start(["ls-tree", "-z", "--name-only", old or new or ""], cwd))
            names = [f"{EVENTS_DIR}/{name}" for name in git.split_z(raw)]
            return (set(names), []) if old is None else (set(), names)
        raw = git.finish(git.start(["diff-tree", "-z", "--no-renames", "--name-status", old, new], cwd))
    except git.GitError:
        return None
    fields = git.split_z(raw)
    gained, lost = set(), []
    for status, name in zip(fields[0::2], fields[1::2], strict=False):
        if status == "A":
            gained.add(f"{EVENTS_DIR}/{name}")
        elif status == "D":
            lost.append(f"{EVENTS_DIR}/{name}")
    return gained, lost


def _summary(scan: RecordScan) -> list[object]:
    """What the hook uses of a scan, every value as the rules would show it."""
    started = None
    if scan.started is not None:
        started_at = scan.started.get("started_at")
        started = {
            "started_at": started_at if rules.parse_timestamp(started_at) is not None else None,
            "profile_id": scan.field("profile_id"),
            "action": scan.field("action"),
        }
    return [started, scan.completed is not None, list(scan.problems)]


def _from_summary(summary: object) -> RecordScan | None:
    if not isinstance(summary, list) or len(summary) != 3:
        return None
    started, completed, problems = summary
    if not (started is None or isinstance(started, dict)) or not isinstance(problems, list):
        return None
    scan = RecordScan()
    scan.started = started
    scan.completed = {} if completed and started is not None else None
    scan.problems = [str(problem) for problem in problems]
    return scan
