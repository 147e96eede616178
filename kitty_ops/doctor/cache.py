"""Committed records doctor need not read again: a local cache, never committed.

A committed record does not change: its content is a git blob, and a blob that
is a completed, valid record of its name stays one. So doctor remembers, for
one tree (`HEAD:kitty-ops`), the names whose entry is a regular file holding
such a blob, in `<git-dir>/kitty-ops/doctor-cache` (outside the work tree and
outside history). Nothing in it is taken on trust:

- it is used only for the tree id it names; when HEAD's `kitty-ops/` tree is
  another, `git diff-tree` between the two names the entries that changed, and
  those are forgotten (a record rewritten in a commit, even one made with
  `--no-verify`, is read again);
- a name is skipped only when its work-tree file is a regular file that git
  reports as committed as it is (not untracked, not changed, not staged: the
  pending candidates of branch mode), so the work-tree content is the blob;
- a name is learned only from a read whose bytes hash to the tree's blob id;
- it carries the kitty-ops version and the identity of the rule modules, so a
  change of rules reads everything again.

In ref mode the records are not in HEAD: nothing is cached, everything is read.
Any failure to read or write the cache only costs time.
"""
from __future__ import annotations

import os

from kitty_ops.format import rules
from kitty_ops.format.layout import RECORD_SUFFIX, op_id_from_name
from kitty_ops.format.safefs import open_file_at, read_chunks
from kitty_ops.format.scan import RecordScan, read_scan, rules_stamp, scan_record
from kitty_ops.gitio import git
from kitty_ops.system import files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

CACHE_NAME = "kitty-ops/doctor-cache"  # under the git directory of the work tree
_FORMAT = "kitty-ops doctor cache 1"
_REGULAR_MODES = ("100644", "100755")
_SEPARATOR = "-"  # between the names known good and the `name blob` lines of the others


def _stamp() -> str:
    """What the cache is valid for besides a tree: this kitty-ops and its rules."""
    return rules_stamp(_FORMAT)


class KnownRecords:
    """The committed records of HEAD's `kitty-ops/` tree known to be completed
    and valid, and the blob ids of its other regular record entries."""

    def __init__(self, repo: git.Repo) -> None:
        self.repo = repo
        self.path = os.path.join(repo.git_dir, CACHE_NAME)
        self.changed: set[str] = set()  # names (`<id>.jsonl`) not committed as they are
        self.tree: str | None = None
        self._good: set[str] | None = set()
        self._good_text = ""  # the good names as saved, split into `good` only when asked
        self.unknown: dict[str, str] = {}  # name -> blob id, for entries not known good
        self.complete = False  # good and unknown are every regular record entry of the tree
        self.dirty = False

    @property
    def good(self) -> set[str]:
        """The names known completed and valid (most doctor runs never need them as a set)."""
        if self._good is None:
            self._good = set(self._good_text.split("\n")) if self._good_text else set()
            self._good_text = ""
        return self._good

    @good.setter
    def good(self, names: set[str]) -> None:
        self._good, self._good_text = names, ""

    # --- loading ---

    def load(self, tree: str | None) -> None:
        """Take the cache for `tree` (HEAD:kitty-ops), bringing it up to date
        with git when the cache was made for another tree (or is absent)."""
        self.tree = tree
        self.complete = True
        if tree is None:  # no kitty-ops/ tree in HEAD: nothing committed to skip
            return
        cached_tree, good_text, unknown = self._read()
        if cached_tree == tree:
            self._good, self._good_text, self.unknown = None, good_text, unknown
            return
        good = set(good_text.split("\n")) if good_text else set()
        self.dirty = True
        changes = _diff_tree(self.repo, cached_tree, tree) if cached_tree else None
        if changes is None:  # no usable cache: every regular record entry is to be learned
            listed = _ls_tree(self.repo, tree)
            self.good, self.unknown = set(), listed or {}
            self.complete = self.dirty = listed is not None
            return
        for name, mode, blob in changes:
            good.discard(name)
            unknown.pop(name, None)
            if blob is not None and mode in _REGULAR_MODES:
                unknown[name] = blob
        self.good, self.unknown = good, unknown

    def _read(self) -> tuple[str | None, str, dict[str, str]]:
        """(tree, the good names one a line, unknown name -> blob) as saved; no tree
        when unusable."""
        try:
            with open(self.path, "rb") as handle:
                text = handle.read().decode("ascii")
        except (OSError, UnicodeDecodeError):
            return None, "", {}
        stamp, _, rest = text.partition("\n")
        tree, _, rest = rest.partition("\n")
        separator = ("\n" + rest).find(f"\n{_SEPARATOR}\n")
        if stamp != _stamp() or separator < 0 or not text.endswith("\n"):
            return None, "", {}
        good_text, unknown_text = rest[:max(separator - 1, 0)], rest[separator + len(_SEPARATOR) + 1:]
        try:
            unknown = dict(line.split(" ", 1) for line in unknown_text.split("\n")[:-1])
        except ValueError:
            return None, "", {}
        return tree, good_text, unknown

    # --- using ---

    def entries(self) -> set[str] | dict[str, str]:
        """The names of the tree's regular record entries (with `complete`: all of them)."""
        if not self.unknown:
            return self.good
        return self.good | self.unknown.keys()

    def to_read(self, names: list[str], candidates: set[str], all_to_read: bool = False) -> list[str]:
        """The `names` in `kitty-ops/` whose file must be read: all but those
        committed, known good, and not among the pending `candidates` (ids git
        reports as untracked, changed or staged under kitty-ops/), whose file is
        then a regular file holding that blob (git reports a link or special
        file put in its place as changed). `all_to_read`: `names` are already
        only such files."""
        self.changed = {f"{op_id}{RECORD_SUFFIX}" for op_id in candidates}
        if all_to_read:
            return names
        good, changed = self.good, self.changed
        return [name for name in names if name not in good or name in changed]

    def to_learn(self, name: str) -> bool:
        """A committed entry not known good yet, its work-tree file committed as it is."""
        return name in self.unknown and name not in self.changed

    def read(self, path: str, op_id: str, name: str) -> RecordScan:
        """Scan the record at `path` (one `to_learn`); learn it when its bytes
        are the tree's blob and it is completed and valid."""
        blob = self.unknown[name]
        scan, digest = _scan_hashing(path, op_id, len(blob))
        if digest == blob and rules.is_committable(scan):
            del self.unknown[name]
            self.good.add(name)
            self.dirty = True
        return scan

    # --- saving ---

    def save(self) -> None:
        if not self.dirty or self.tree is None:
            return
        lines = [_stamp(), self.tree, *sorted(self.good), _SEPARATOR]
        lines += [f"{name} {blob}" for name, blob in sorted(self.unknown.items())]
        files.write_quietly(self.path, ("\n".join(lines) + "\n").encode("ascii", errors="replace"))


def _scan_hashing(path: str, op_id: str, oid_length: int) -> tuple[RecordScan, str | None]:
    """(the scan, the git blob id of the bytes read) of a record file; no id
    when it cannot be read (the scan then names the problem)."""
    import hashlib

    from kitty_ops.errors import UnsafePath

    try:
        fd = open_file_at(path)
    except (UnsafePath, OSError):
        return read_scan(path, op_id), None
    try:
        hasher = hashlib.sha256() if oid_length == 64 else hashlib.sha1()
        hasher.update(b"blob %d\0" % os.fstat(fd).st_size)

        def chunks() -> Iterator[bytes]:
            for chunk in read_chunks(fd):
                hasher.update(chunk)
                yield chunk

        return scan_record(chunks(), op_id), hasher.hexdigest()
    except OSError:
        return read_scan(path, op_id), None
    finally:
        os.close(fd)


def _diff_tree(repo: git.Repo, old: str, new: str) -> list[tuple[str, str, str | None]] | None:
    """(name, new mode, new blob or None when deleted) for each entry that
    differs between the trees; None when git cannot say (an old tree gone)."""
    try:
        raw = git.run(["diff-tree", "-z", "--no-renames", old, new], repo.root,
                      env=git.repo_env(repo), replace_env=True).stdout
    except git.GitError:
        return None
    fields = raw.decode(errors="surrogateescape").split("\0")
    changes = []
    for meta, name in zip(fields[0::2], fields[1::2], strict=False):  # a trailing empty field
        parts = meta.lstrip(":").split()
        if len(parts) != 5:
            return None
        _, new_mode, _, new_blob, status = parts
        if op_id_from_name(name):
            changes.append((name, new_mode, None if status == "D" else new_blob))
    return changes


def _ls_tree(repo: git.Repo, tree: str) -> dict[str, str] | None:
    try:
        raw = git.run(["ls-tree", "-z", tree], repo.root, env=git.repo_env(repo),
                      replace_env=True).stdout
    except git.GitError:
        return None
    entries = {}
    for entry in raw.decode(errors="surrogateescape").split("\0"):
        meta, _, name = entry.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[0] in _REGULAR_MODES and op_id_from_name(name):
            entries[name] = parts[2]
    return entries
