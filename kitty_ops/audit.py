"""`kitty-ops audit`: what committed history did to `kitty-ops/`, commit by commit.

The rules, each with the repair that works from now on (kitty-ops never
rewrites history):

- committed-orphan: a commit adds or changes a record whose committed content
  has no `completed` event: the open Op's metadata is in history. When a later
  commit completes it, the finding says where ("healed in <sha>"); it still
  counts, unless `allow_healed`, which makes healed findings warnings.
- deleted-record / renamed-record: records and `lifecycle.jsonl` never leave
  history or change their name.
- rewritten-line: a commit changes a line already committed in a record or in
  `lifecycle.jsonl` (the earlier content must be a prefix of the new one).
- invalid-line: a commit brings a line that breaks the rules of a record.
- symlink: a symbolic link under `kitty-ops/`.
- local-file: `ops-index.jsonl` or `propagation-errors.jsonl`, local to each clone.

Standard library only: the pre-push hook imports it.
"""
from __future__ import annotations

from kitty_ops import git, history
from kitty_ops.errors import InvalidInput
from kitty_ops.layout import EVENTS_DIR, LIFECYCLE_LOG_RELATIVE_PATH, LOCAL_PATHS, op_id_from_path
from kitty_ops.scan import RecordScan, scan_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

REGULAR_MODES = ("100644", "100755")
SYMLINK_MODE = "120000"
APPEND_ONLY_LOGS = (LIFECYCLE_LOG_RELATIVE_PATH,)
RULES = (
    "committed-orphan", "deleted-record", "renamed-record", "rewritten-line",
    "invalid-line", "symlink", "local-file",
)


class Finding:
    """One rule one commit broke, and how to repair it going forward."""

    __slots__ = ("commit", "subject", "path", "op_id", "op", "rule", "message", "repair", "healed_in", "counts")

    def __init__(self, commit: history.Commit, path: str, rule: str, message: str, repair: str,
                 scan: RecordScan | None = None) -> None:
        self.commit, self.subject = commit.sha, commit.subject
        self.path, self.rule, self.message, self.repair = path, rule, message, repair
        self.op_id = op_id_from_path(path)
        self.op = f"{scan.field('profile_id')}: {scan.field('action')}" if scan and scan.started else None
        self.healed_in: str | None = None
        self.counts = True

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def lines(self) -> list[str]:
        """What a user reads: the commit, its subject, the file, the Op, the rule; then the repair."""
        op = f"Op {self.op_id} ({self.op}) " if self.op_id and self.op else f"Op {self.op_id} " if self.op_id else ""
        prefix = "" if self.counts else "warning: "
        first = f"{prefix}{self.commit[:12]} {self.subject}: {self.path}: {op}{self.message} [{self.rule}]"
        if self.healed_in:
            healed = f"  healed in {self.healed_in[:12]}: squash the branch before merging to keep it out of history"
            return [first, healed]
        return [first, f"  repair: {self.repair}"]


class Report:
    __slots__ = ("commits", "findings")

    def __init__(self, commits: int, findings: list[Finding]) -> None:
        self.commits, self.findings = commits, findings

    @property
    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.counts]

    def to_json(self) -> dict[str, Any]:
        return {
            "commits_checked": self.commits,
            "problems": len(self.problems),
            "warnings": len(self.findings) - len(self.problems),
            "findings": [finding.to_json() for finding in self.findings],
        }

    def summary(self) -> str:
        touched = f"{_count(self.commits, 'commit')} touching {EVENTS_DIR}/ checked"
        warnings = len(self.findings) - len(self.problems)
        shown = f", {_count(warnings, 'warning')}" if warnings else ""
        if not self.problems:
            return f"kitty-ops audit: {touched}, no problems{shown}"
        bad = len({finding.commit for finding in self.problems})
        return f"kitty-ops audit: {touched}: {_count(len(self.problems), 'problem')} in {_count(bad, 'commit')}{shown}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def is_tracked_log(path: str) -> bool:
    return op_id_from_path(path) is not None or path in APPEND_ONLY_LOGS


def audit(repo_root: Path | str, revisions: list[str], allow_healed: bool = False) -> Report:
    """Audit the commits `revisions` names (as `git log` reads them)."""
    try:
        commits = history.read_commits(repo_root, revisions)
    except git.GitError as exc:
        if any(word in exc.stderr for word in ("bad revision", "unknown revision", "ambiguous argument", "bad object")):
            raise InvalidInput(f"not a revision range git knows: {' '.join(revisions)} ({exc})") from None
        raise
    blobs = history.read_blobs(repo_root, list(_wanted_blobs(commits)))
    auditor = _Auditor(blobs)
    for position, commit in enumerate(commits):
        for change in commit.changes:
            auditor.check(position, commit, change)
    auditor.mark_healed(commits, allow_healed)
    return Report(len(commits), auditor.findings)


def _wanted_blobs(commits: list[history.Commit]) -> Iterator[str]:
    for commit in commits:
        for change in commit.changes:
            if change.new_blob and change.new_mode in REGULAR_MODES and is_tracked_log(change.path):
                yield change.new_blob
            if change.old_blob and change.old_mode in REGULAR_MODES and is_tracked_log(change.old_path):
                yield change.old_blob


class _Auditor:
    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs
        self.findings: list[Finding] = []
        self.scans: dict[tuple[str, str | None], RecordScan] = {}
        self.orphans: list[tuple[int, Finding]] = []
        self.completions: dict[str, list[int]] = {}  # op id -> positions of commits that hold it completed

    def scan(self, blob: str | None, op_id: str | None) -> RecordScan | None:
        if blob is None or blob not in self.blobs:
            return None
        key = (blob, op_id)
        if key not in self.scans:
            self.scans[key] = scan_record(self.blobs[blob], op_id)
        return self.scans[key]

    def add(self, *args: Any, **kwargs: Any) -> Finding:
        finding = Finding(*args, **kwargs)
        self.findings.append(finding)
        return finding

    def check(self, position: int, commit: history.Commit, change: history.Change) -> None:
        old_regular = change.old_blob is not None and change.old_mode in REGULAR_MODES
        new_regular = change.new_blob is not None and change.new_mode in REGULAR_MODES
        parent = f"{commit.sha[:12]}^"
        if old_regular and is_tracked_log(change.old_path):
            old_scan = self.scan(change.old_blob, op_id_from_path(change.old_path))
            if change.new_blob is None:
                self.add(commit, change.old_path, "deleted-record", _what(change.old_path, "deletes"),
                         f"restore it in a new commit: git checkout {parent} -- {change.old_path} && git commit",
                         scan=old_scan)
            elif change.path != change.old_path:
                self.add(commit, change.old_path, "renamed-record",
                         f"{_what(change.old_path, 'renames')} to {change.path}",
                         f"move it back in a new commit: git mv {change.path} {change.old_path} && git commit",
                         scan=old_scan)
        if change.new_blob is None:
            return
        path = change.path
        if change.new_mode == SYMLINK_MODE:
            self.add(commit, path, "symlink", "is a symbolic link (kitty-ops never reads through links)",
                     f"remove it in a new commit: git rm --cached {path} && git commit")
            return
        if path in LOCAL_PATHS:
            self.add(commit, path, "local-file",
                     "is local to each clone (a cache or a log) and must stay out of git",
                     f"remove it from git in a new commit (the file stays): git rm --cached {path} && git commit")
            return
        if not new_regular or not is_tracked_log(path):
            return
        self._check_content(position, commit, change, old_regular, parent)

    def _check_content(self, position: int, commit: history.Commit, change: history.Change,
                       old_regular: bool, parent: str) -> None:
        path = change.path
        if change.new_blob is None:  # `check` returned already
            return
        new = self.blobs.get(change.new_blob)
        old = None
        if old_regular and change.old_blob is not None and is_tracked_log(change.old_path):  # old_regular: a blob
            old = self.blobs.get(change.old_blob)
        if new is None:
            return
        op_id = op_id_from_path(path)
        scan = self.scan(change.new_blob, op_id) if op_id else None
        if old is not None and not new.startswith(old):
            self.add(commit, path, "rewritten-line", "changes lines already committed (the file is append-only)",
                     f"restore the committed lines in a new commit (git show {parent}:{change.old_path} holds them),"
                     " then append instead of editing", scan=scan)
        if scan is None or op_id is None:  # no scan without an op id
            return
        before = self.scan(change.old_blob, op_id) if old is not None and change.old_path == path else None
        known = set(before.problems) if before else set()
        new_problems = [problem for problem in scan.problems if problem not in known]
        if new_problems:
            self.add(commit, path, "invalid-line", f"commits an invalid record: {'; '.join(new_problems)}",
                     f"fix the record in a new commit; kitty-ops validate {path} shows every problem", scan=scan)
        if scan.started is not None and scan.completed is None:
            finding = self.add(commit, path, "committed-orphan",
                               "is committed while open (no completed event): its metadata is in history",
                               f"close it, which commits its completion: kitty-ops complete {op_id} --outcome"
                               " abandoned (or let the Op finish where it runs)", scan=scan)
            self.orphans.append((position, finding))
        elif scan.completed is not None:
            self.completions.setdefault(op_id, []).append(position)

    def mark_healed(self, commits: list[history.Commit], allow_healed: bool) -> None:
        """Commits are newest first: an orphan is healed by the nearest newer commit that completes it."""
        for position, finding in self.orphans:
            later = [other for other in self.completions.get(finding.op_id or "", ()) if other < position]
            if later:
                finding.healed_in = commits[max(later)].sha
                finding.counts = not allow_healed


def _what(path: str, verb: str) -> str:
    return f"{verb} the record" if op_id_from_path(path) else f"{verb} the append-only log"


def default_revisions(repo_root: Path | str, base: str | None, revision: list[str]) -> list[str] | None:
    """The revisions to audit: `revision` (default HEAD), minus what `base` has.
    None when HEAD is unborn and nothing else was named (nothing to audit)."""
    for name in (*revision, *([base] if base else [])):
        if not name or name.startswith("-"):
            raise InvalidInput(f"{name!r}: a revision cannot begin with '-'")
    revisions = list(revision) or ["HEAD"]
    if not revision:
        head = git.run(["rev-parse", "--verify", "-q", "HEAD^{commit}"], repo_root, check=False)
        if head.returncode != 0:
            return None
    if base:
        revisions.append(f"^{base}")
    return revisions


def is_shallow(repo_root: Path | str) -> bool:
    """A shallow clone has no history beyond its depth: the audit cannot see it."""
    return git.output(["rev-parse", "--is-shallow-repository"], repo_root) == "true"
