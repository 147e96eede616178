"""`kitty-ops audit`: what committed history did to `kitty-ops/`, commit by commit.

The rules, each with the repair that works from now on (kitty-ops never
rewrites history). Every repair is one shell command, printed as is
(`repair: <command>  # what it does`); once it is committed, the finding is
*healed*: still listed, as a warning, and it no longer fails the audit.

- committed-orphan: a commit adds or changes a record whose committed content
  has no `completed` event: the open Op's metadata is in history. Healed by a
  later commit that completes it (`kitty-ops complete <id>` commits that).
- deleted-record / renamed-record: records and `lifecycle.jsonl` never leave
  history or change their name. Healed by a later commit that puts the
  committed content back at its path. Except in the commit that retires
  kitty-ops (`kitty-ops: retired` in its subject, no kitty-ops/ left).
- rewritten-line: a commit changes a line already committed in a record or in
  `lifecycle.jsonl` (the earlier content must be a prefix of the new one).
  Healed by a later commit that restores the lines committed before it.
- invalid-line: a commit brings a line that breaks the rules of a record.
  Healed by a later commit that restores the record as it was before (or
  removes a record that was never valid).
- symlink: a symbolic link under `kitty-ops/`; healed once it is removed.
- local-file: `ops-index.jsonl` or `propagation-errors.jsonl`, local to each
  clone; healed once it is removed from git.
- secret: a commit brings a line that holds a secret; never healed, as no later
  commit takes it out of history (`kitty_ops.queries.audit_secrets`).

History that is not in the clone is never guessed at: a shallow boundary
inside the range, a base the clone lacks or (in a partial clone) a blob the
audit must read fails the audit with `MissingHistory` (exit 2), naming the
command that fetches it.

Standard library only: the pre-push hook imports it.
"""
from __future__ import annotations

import shlex

from kitty_ops.errors import InvalidInput
from kitty_ops.format.layout import EVENTS_DIR, LIFECYCLE_LOG_RELATIVE_PATH, LOCAL_PATHS, RECORDS_REF, op_id_from_path
from kitty_ops.format.scan import RecordScan, scan_record
from kitty_ops.gitio import git, history
from kitty_ops.queries import audit_secrets

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

REGULAR_MODES = ("100644", "100755")
SYMLINK_MODE = "120000"
APPEND_ONLY_LOGS = (LIFECYCLE_LOG_RELATIVE_PATH,)
# In a commit's subject, with kitty-ops/ gone from its tree: kitty-ops leaves (`kitty-ops uninstall`).
RETIRED = "kitty-ops: retired"
RULES = (
    "committed-orphan", "deleted-record", "renamed-record", "rewritten-line",
    "invalid-line", "symlink", "local-file", audit_secrets.RULE,
)


class MissingHistory(InvalidInput):
    """History the audit must read is not in this clone (exit 2): the message
    names the one command that fetches it."""


def is_zero_id(name: str) -> bool:
    """An all-zero object id (SHA-1 or SHA-256): git's "no commit" in hooks and CI events."""
    return len(name) in (40, 64) and not name.strip("0")


class Finding:
    """One rule one commit broke, and how to repair it going forward."""

    __slots__ = ("commit", "subject", "path", "op_id", "op", "rule", "message", "repair", "healed_in", "counts",
                 "position")

    def __init__(self, commit: history.Commit, path: str, rule: str, message: str, repair: str,
                 scan: RecordScan | None = None, position: int = 0) -> None:
        self.commit, self.subject = commit.sha, commit.subject
        self.path, self.rule, self.message, self.repair = path, rule, message, repair
        self.op_id = op_id_from_path(path)
        self.op = f"{scan.field('profile_id')}: {scan.field('action')}" if scan and scan.started else None
        self.healed_in: str | None = None
        self.counts = True
        self.position = position

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__ if name != "position"}

    def heal(self, commit: history.Commit) -> None:
        if self.healed_in is None:
            self.healed_in, self.counts = commit.sha, False

    def lines(self) -> list[str]:
        """What a user reads: the commit, its subject, the file, the Op, the rule; then the
        repair (a command to run as printed), or the commit that already repaired it."""
        op = f"Op {self.op_id} ({self.op}) " if self.op_id and self.op else f"Op {self.op_id} " if self.op_id else ""
        prefix = "" if self.counts else "warning: "
        first = f"{prefix}{self.commit[:12]} {self.subject}: {self.path}: {op}{self.message} [{self.rule}]"
        if self.healed_in:
            return [first, f"  healed in {self.healed_in[:12]}: nothing to repair (the commit stays in history;"
                           " only squashing the branch before it is merged would drop it)"]
        return [first, f"  repair: {self.repair}"]


class Report:
    __slots__ = ("commits", "findings", "unaudited")

    def __init__(self, commits: int, findings: list[Finding], unaudited: list[str] | None = None) -> None:
        self.commits, self.findings = commits, findings
        self.unaudited = unaudited or []  # shallow boundary commits left out (--shallow-ok)

    @property
    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.counts]

    def to_json(self) -> dict[str, Any]:
        return {
            "commits_checked": self.commits,
            "problems": len(self.problems),
            "warnings": len(self.findings) - len(self.problems),
            "findings": [finding.to_json() for finding in self.findings],
            "unaudited_shallow_boundary": self.unaudited,
        }

    def summary(self) -> str:
        touched = f"{_count(self.commits, 'commit')} touching {EVENTS_DIR}/ checked"
        warnings = len(self.findings) - len(self.problems)
        shown = f", {_count(warnings, 'warning')}" if warnings else ""
        if not self.problems:
            return f"kitty-ops audit: {touched}, no problems{shown}"
        bad = len({finding.commit for finding in self.problems})
        return f"kitty-ops audit: {touched}: {_count(len(self.problems), 'problem')} in {_count(bad, 'commit')}{shown}"

    def shallow_warning(self) -> str | None:
        if not self.unaudited:
            return None
        first = ", ".join(sha[:12] for sha in sorted(self.unaudited))
        return (f"warning: this clone is shallow: {first} and the history beyond it are not audited"
                " (--shallow-ok)")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def is_tracked_log(path: str) -> bool:
    return op_id_from_path(path) is not None or path in APPEND_ONLY_LOGS


def audit(repo_root: Path | str, revisions: list[str], allow_healed: bool = True, shallow_ok: bool = False,
          fetch_missing: bool = False) -> Report:
    """Audit the commits `revisions` names (as `git log` reads them).

    MissingHistory when the clone lacks what the audit must read: a commit of
    the range beyond a shallow boundary (unless `shallow_ok`: then the
    boundary commits, whose changes git cannot know, are left out and named in
    the report), or a blob under kitty-ops/ in a partial clone (fetched in one
    batch from the promisor remote when `fetch_missing`). `allow_healed` is
    kept for callers of old: healed findings are always warnings."""
    revisions = expand_zero_ends(repo_root, revisions)
    unaudited = _check_shallow(repo_root, revisions, shallow_ok)
    revisions = revisions + [f"^{sha}" for sha in unaudited]
    try:
        commits = history.read_commits(repo_root, revisions)
    except git.GitError as exc:
        if any(word in exc.stderr for word in ("bad revision", "unknown revision", "ambiguous argument", "bad object")):
            raise _unknown_revision(repo_root, revisions, exc) from None
        raise
    wanted = list(dict.fromkeys(_wanted_blobs(commits)))
    _check_blobs(repo_root, revisions, commits, wanted, fetch_missing)
    blobs = history.read_blobs(repo_root, list(wanted))
    auditor = _Auditor(blobs)
    auditor.secret_rule = audit_secrets.SecretRule(repo_root)
    last = len(commits) - 1
    for index, commit in enumerate(reversed(commits)):  # parents before children
        retired = _retires(repo_root, commit)  # its deletions are kitty-ops leaving: the records stay in history
        for change in commit.changes:
            if not (retired and change.new_blob is None):
                auditor.check(last - index, commit, change)
    findings = sorted(auditor.findings, key=lambda finding: finding.position)  # newest first, as git log lists
    return Report(len(commits), findings, sorted(unaudited))


def _retires(repo_root: Path | str, commit: history.Commit) -> bool:
    """The commit retires kitty-ops: its subject says `kitty-ops: retired` and its tree has no kitty-ops/."""
    return RETIRED in commit.subject and not git.run(
        ["ls-tree", "--name-only", commit.sha, "--", EVENTS_DIR], repo_root).stdout.strip()


def expand_zero_ends(repo_root: Path | str, revisions: list[str]) -> list[str]:
    """`0000…..NEW` (a first push or a force push, as a hook or a CI event names
    it) is what no remote-tracking branch has: `NEW` minus every remote tip."""
    expanded: list[str] = []
    for revision in revisions:
        old, dots, new = revision.partition("...") if "..." in revision else revision.partition("..")
        if dots and is_zero_id(old):
            expanded += [new or "HEAD", *(f"^{tip}" for tip in remote_tips(repo_root))]
        elif revision.startswith("^") and is_zero_id(revision[1:]):
            expanded += [f"^{tip}" for tip in remote_tips(repo_root)]
        else:
            expanded.append(revision)
    return list(dict.fromkeys(expanded))


def remote_tips(repo_root: Path | str, remote: str | None = None) -> list[str]:
    """The commits the remote-tracking branches of `remote` (all remotes when None) point at."""
    pattern = f"refs/remotes/{remote}/" if remote else "refs/remotes/"
    raw = git.output(["for-each-ref", "--format=%(objectname)", pattern], repo_root)
    return sorted(set(raw.split()))


def _check_shallow(repo_root: Path | str, revisions: list[str], shallow_ok: bool) -> list[str]:
    """The shallow boundary commits inside the range (their parents are not here)."""
    shallow = history.shallow_commits(repo_root)
    if not shallow:
        return []
    try:
        inside = shallow & history.commits_in(repo_root, revisions)
    except git.GitError as exc:
        raise _unknown_revision(repo_root, revisions, exc, shallow=True) from None
    if inside and not shallow_ok:
        first = sorted(inside)[0][:12]
        raise MissingHistory(
            f"this clone is shallow and the history to audit goes beyond it ({first} has no parents here):"
            " fetch it first with `git fetch --unshallow`, or pass --shallow-ok to audit only what is here")
    return sorted(inside)


def _unknown_revision(repo_root: Path | str, revisions: list[str], exc: git.GitError,
                      shallow: bool | None = None) -> InvalidInput:
    """Why git knows no such range, and, for a remote branch or a commit id this
    clone lacks, the fetch that brings it."""
    remotes = git.output(["remote"], repo_root).split()
    for revision in revisions:
        for name in revision.lstrip("^").replace("...", "..").split(".."):
            name = name or "HEAD"
            if git.run(["rev-parse", "--verify", "-q", "--end-of-options", f"{name}^{{commit}}"], repo_root,
                       check=False).returncode == 0:
                continue
            if shallow is None:
                shallow = bool(history.shallow_commits(repo_root))
            unshallow = "--unshallow " if shallow else ""
            remote, _, branch = name.removeprefix("refs/remotes/").partition("/")
            if branch and remote in remotes:
                command = f"git fetch {unshallow}{remote} {shlex.quote(f'{branch}:refs/remotes/{remote}/{branch}')}"
            elif remotes and len(name) in (40, 64) and all(c in "0123456789abcdef" for c in name.lower()):
                command = f"git fetch {unshallow}{'origin' if 'origin' in remotes else remotes[0]} {name}"
            else:
                break
            return MissingHistory(f"{name} is not in this clone: fetch it first with `{command}`")
    return InvalidInput(f"not a revision range git knows: {' '.join(revisions)} ({exc})")


def _check_blobs(repo_root: Path | str, revisions: list[str], commits: list[history.Commit], wanted: list[str],
                 fetch_missing: bool) -> None:
    """In a partial clone, the blobs the audit reads must all be here: never fetched one by one."""
    remotes = history.promisor_remotes(repo_root)
    if remotes is None:
        return
    missing = history.missing_blobs(repo_root, wanted)
    if not missing:
        return
    known = set(git.output(["remote"], repo_root).split())
    usable = [remote for remote in remotes if remote in known]
    if fetch_missing and usable:
        history.fetch_blobs(repo_root, usable[0], sorted(missing))
        missing = history.missing_blobs(repo_root, wanted)
        if not missing:
            return
    where = next((commit, change) for commit in commits for change in commit.changes
                 if change.new_blob in missing or change.old_blob in missing)
    what = f"{_count(len(missing), 'blob')} under {EVENTS_DIR}/ that the audit reads"
    first = f"{where[1].path} in {where[0].sha[:12]}"
    if not usable:
        raise MissingHistory(
            f"{what} are missing from this partial clone (the first: {first}) and no promisor remote"
            f" ({', '.join(remotes) or 'none'}) is left to fetch them from: audit a full clone"
            " (git clone without --filter)")
    if fetch_missing:
        raise MissingHistory(f"{what} are still missing after fetching them from {usable[0]} (the first: {first})")
    command = shlex.join(["kitty-ops", "audit", "--fetch-missing", *revisions])
    raise MissingHistory(
        f"{what} are missing from this partial clone (the first: {first}): fetch them first, in one batch,"
        f" with `{command}`")


def _wanted_blobs(commits: list[history.Commit]) -> list[str]:
    wanted = []
    for commit in commits:
        for change in commit.changes:
            if change.new_blob and change.new_mode in REGULAR_MODES and is_tracked_log(change.path):
                wanted.append(change.new_blob)
            if change.old_blob and change.old_mode in REGULAR_MODES and is_tracked_log(change.old_path):
                wanted.append(change.old_blob)
    return wanted


def _commit_command(message: str) -> str:
    return f"git commit -q -m {shlex.quote(message)}"


_Waiting = list[tuple["Finding", "bytes | None", "frozenset[str]"]]  # findings waiting for a repair


def _repaired_by(pending: _Waiting, path: str, new: bytes | None) -> tuple[_Waiting, _Waiting]:
    """(repaired, still waiting) of the findings on `path`: content `new` repairs
    those whose taken-away content it starts with, and has none of the problems they brought."""
    if not pending or new is None:
        return [], pending
    problems: set[str] = set()
    if any(entry[2] for entry in pending):
        problems = set(scan_record(new, op_id_from_path(path)).problems)
    repaired = [entry for entry in pending
                if (entry[1] is None or new.startswith(entry[1])) and not entry[2] & problems]
    return repaired, [entry for entry in pending if entry not in repaired]


class _Auditor:
    """Reads the changes parents first; a finding waits, per path, for the
    later commit that repairs it (and heals it)."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs
        self.findings: list[Finding] = []
        self.scans: dict[tuple[str, str | None], RecordScan] = {}
        self.orphans: dict[str, list[Finding]] = {}  # op id -> orphans no later commit completed yet
        # path -> (finding, the content that repairs it: any content that starts
        # with it, None for a file that had none): rewrites, invalid lines, deletions
        # (and, for an invalid line, the problems it must no longer have)
        self.restore: dict[str, list[tuple[Finding, bytes | None, frozenset[str]]]] = {}
        self.remove: dict[str, list[Finding]] = {}  # path -> symlinks and local files, healed once gone
        self.secret_rule: audit_secrets.SecretRule | None = None  # set by `audit`

    def scan(self, blob: str | None, op_id: str | None) -> RecordScan | None:
        if blob is None or blob not in self.blobs:
            return None
        key = (blob, op_id)
        if key not in self.scans:
            self.scans[key] = scan_record(self.blobs[blob], op_id)
        return self.scans[key]

    def add(self, position: int, *args: Any, **kwargs: Any) -> Finding:
        finding = Finding(*args, **kwargs)
        finding.position = position
        self.findings.append(finding)
        return finding

    def _untrack(self, position: int, commit: history.Commit, path: str, rule: str, message: str,
                 subject: str, what: str) -> None:
        """A finding whose repair is `git rm --cached` of `path` in a new commit."""
        repair = f"git rm -q --cached {shlex.quote(path)} && {_commit_command(subject)}  # {what}"
        self.remove.setdefault(path, []).append(self.add(position, commit, path, rule, message, repair))

    def check(self, position: int, commit: history.Commit, change: history.Change) -> None:
        old_regular = change.old_blob is not None and change.old_mode in REGULAR_MODES
        new_regular = change.new_blob is not None and change.new_mode in REGULAR_MODES
        gone = change.new_blob is None or change.old_path != change.path
        if change.old_path in self.remove and (gone or change.new_mode != SYMLINK_MODE):
            kept = []
            for finding in self.remove.pop(change.old_path):  # the link, or the local file, is gone
                if gone or finding.rule == "symlink":
                    finding.heal(commit)
                else:
                    kept.append(finding)
            if kept:
                self.remove[change.old_path] = kept
        parent = f"{commit.sha[:12]}^"
        new = self.blobs.get(change.new_blob) if new_regular and change.new_blob else None
        repaired = self._repairs(change.path, new) if new_regular else []
        if old_regular and is_tracked_log(change.old_path):
            old_scan = self.scan(change.old_blob, op_id_from_path(change.old_path))
            old_path = shlex.quote(change.old_path)
            old_content = self.blobs.get(change.old_blob or "")
            if change.new_blob is None:
                pending = self.restore.pop(change.old_path, [])
                if pending and all(target is None for _, target, _ in pending):
                    for finding, _, _ in pending:  # a file that was never valid, removed
                        finding.heal(commit)
                else:
                    finding = self.add(
                        position, commit, change.old_path, "deleted-record", _what(change.old_path, "deletes"),
                        f"git checkout {parent} -- {old_path} && {_commit_command(f'Restore {change.old_path}')}"
                        "  # restores it in a new commit", scan=old_scan)
                    self.restore[change.old_path] = [*pending, (finding, old_content, frozenset())]
            elif change.path != change.old_path and not repaired:
                finding = self.add(
                    position, commit, change.old_path, "renamed-record",
                    f"{_what(change.old_path, 'renames')} to {change.path}",
                    f"git mv {shlex.quote(change.path)} {old_path} && {_commit_command(f'Move back {change.old_path}')}"
                    "  # moves it back in a new commit", scan=old_scan)
                self.restore.setdefault(change.old_path, []).append((finding, old_content, frozenset()))
        if change.new_blob is None:
            return
        path = change.path
        if change.new_mode == SYMLINK_MODE:
            self._untrack(position, commit, path, "symlink", "is a symbolic link (kitty-ops never reads through links)",
                          f"Remove {path}", "removes the link from git in a new commit")
            return
        if path in LOCAL_PATHS:
            self._untrack(position, commit, path, "local-file",
                          "is local to each clone (a cache or a log) and must stay out of git",
                          f"Stop tracking {path}", "removes it from git in a new commit (the file stays)")
            return
        if not new_regular or not is_tracked_log(path) or new is None:
            return
        old = None
        if old_regular and change.old_blob is not None and is_tracked_log(change.old_path):
            old = self.blobs.get(change.old_blob)
        for finding, target, _ in repaired:
            finding.heal(commit)
            if target is not None:
                old = target  # what it restores is what it is checked against
        self._check_content(position, commit, change, old, parent)

    def _repairs(self, path: str, new: bytes | None) -> list[tuple[Finding, bytes | None, frozenset[str]]]:
        """The findings on `path` that content `new` repairs (no longer waiting)."""
        repaired, left = _repaired_by(self.restore.get(path) or [], path, new)
        if left:
            self.restore[path] = left
        else:
            self.restore.pop(path, None)
        return repaired

    def _check_content(self, position: int, commit: history.Commit, change: history.Change,
                       old: bytes | None, parent: str) -> None:
        path, new_blob = change.path, change.new_blob
        if new_blob is None:
            return
        new = self.blobs[new_blob]
        op_id = op_id_from_path(path)
        scan = self.scan(new_blob, op_id) if op_id else None
        quoted = shlex.quote(path)
        restore = (f"git show {parent}:{shlex.quote(change.old_path)} > {quoted} && git add {quoted}"
                   f" && {_commit_command(f'Restore {path}')}")
        if old is not None and not new.startswith(old):
            finding = self.add(position, commit, path, "rewritten-line",
                               "changes lines already committed (the file is append-only)",
                               f"{restore}  # restores the committed lines in a new commit; append instead of"
                               " editing", scan=scan)
            self.restore.setdefault(path, []).append((finding, old, frozenset()))
        if self.secret_rule and (found := self.secret_rule.check(new, old)):  # never healed: it stays in history
            self.add(position, commit, path, *audit_secrets.finding(found, path), scan=scan)
        if scan is None or op_id is None:  # no scan without an op id
            return
        before = scan_record(old, op_id) if old is not None else None
        known = set(before.problems) if before else set()
        new_problems = [problem for problem in scan.problems if problem not in known]
        if new_problems:
            if old is None:
                repair = (f"git rm -q {shlex.quote(path)} && {_commit_command(f'Remove invalid {path}')}"
                          "  # removes the record, never valid, in a new commit")
            else:
                repair = f"{restore}  # restores the record as it was before, in a new commit"
            finding = self.add(position, commit, path, "invalid-line",
                               f"commits an invalid record: {'; '.join(new_problems)}", repair, scan=scan)
            self.restore.setdefault(path, []).append((finding, old, frozenset(new_problems)))
        if new_problems and old is None:
            return  # a record never valid: one finding, whose repair removes it
        if scan.started is not None and scan.completed is None:
            finding = self.add(position, commit, path, "committed-orphan",
                               "is committed while open (no completed event): its metadata is in history",
                               f"kitty-ops complete {op_id} --outcome abandoned  # closes it and commits its"
                               " completion (or let the Op finish where it runs)", scan=scan)
            self.orphans.setdefault(op_id, []).append(finding)
        elif scan.completed is not None:
            for finding in self.orphans.pop(op_id, []):
                finding.heal(commit)


def _what(path: str, verb: str) -> str:
    return f"{verb} the record" if op_id_from_path(path) else f"{verb} the append-only log"


def default_revisions(repo_root: Path | str, base: str | None, revision: list[str]) -> list[str] | None:
    """The revisions to audit: `revision` (default HEAD, and in ref mode the
    records ref), minus what `base` has.
    None when HEAD is unborn and nothing else was named (nothing to audit)."""
    for name in (*revision, *([base] if base else [])):
        if not name or name.startswith("-"):
            raise InvalidInput(f"{name!r}: a revision cannot begin with '-'")
    revisions = list(revision) or ["HEAD"]
    if not revision:
        head = git.run(["rev-parse", "--verify", "-q", "HEAD^{commit}"], repo_root, check=False)
        records = git.run(["rev-parse", "--verify", "-q", f"{RECORDS_REF}^{{commit}}"], repo_root, check=False)
        if records.returncode == 0 and not base:
            revisions = ["HEAD", RECORDS_REF] if head.returncode == 0 else [RECORDS_REF]  # ref mode's history too
        elif head.returncode != 0:
            return None
    if base:
        revisions.append(f"^{base}")
    return revisions


def is_shallow(repo_root: Path | str) -> bool:
    """A shallow clone has no history beyond its depth (`audit` checks the range itself)."""
    return bool(history.shallow_commits(repo_root))
