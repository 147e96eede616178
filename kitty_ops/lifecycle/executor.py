"""Starting and completing Ops: the steps every caller (CLI, API, doctor) shares.

Events are plain dicts from `kitty_ops.format.events`, exactly the lines written, so
that this path does not import pydantic; `kitty_ops.record` reads them back
as models.
"""
from __future__ import annotations

import os

from kitty_ops.errors import UnsafePath
from kitty_ops.format import events
from kitty_ops.format.layout import INDEX_PATH, safe_record_file
from kitty_ops.format.ulid import new_ulid
from kitty_ops.gitio import git
from kitty_ops.lifecycle import owners
from kitty_ops.lifecycle.propagator import propagate, start_settings
from kitty_ops.store.writer import write_completed, write_started
from kitty_ops.system.clock import datetime, timezone
from kitty_ops.system.warn import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any


class Completion:
    """What completing an Op did: its completed event, and its Op commit or why none."""

    __slots__ = ("event", "record_file", "commit", "pending_reason", "committed_by_hook")

    def __init__(self, event: dict[str, Any], record_file: Path | str, commit: str | None,
                 pending_reason: str | None, committed_by_hook: str | None = None):
        self.event = event  # the completed event as written
        self.record_file = str(record_file)
        self.commit = commit  # the Op commit, when one was made
        self.pending_reason = pending_reason  # why the record is not committed
        self.committed_by_hook = committed_by_hook  # a custom hook ran: its commit of the record, "" if none

    @property
    def summary(self) -> str:
        """What became of the record, as the CLI says it after the outcome."""
        if self.commit:
            return f"committed {self.commit[:12]}"
        if self.committed_by_hook:
            return f"committed by your post-completion hook ({self.committed_by_hook[:8]})"
        if self.committed_by_hook == "":
            return "handed to your post-completion hook (not committed)"
        if self.pending_reason:
            return f"not committed ({self.pending_reason})"
        return "not committed (already in HEAD)"

    @property
    def record_path(self) -> Path:
        from pathlib import Path

        return Path(self.record_file)

    @property
    def invocation_id(self) -> str:
        return self.event["invocation_id"]

    @property
    def outcome(self) -> str:
        return self.event["outcome"]

    def __repr__(self) -> str:
        return f"Completion({self.invocation_id!r}, commit={self.commit!r}, pending_reason={self.pending_reason!r})"


class _ConfigRead:
    """Reads the redact settings for the writer, only when it found a secret: from
    the completion's config query when one runs (`raw` keeps its output for the
    Op commit), else with a git call of its own."""

    __slots__ = ("repo_root", "settings", "raw")

    def __init__(self, repo_root: Path | str, settings: git.Running | None) -> None:
        self.repo_root, self.settings = repo_root, settings
        self.raw: bytes | None = None

    def __call__(self) -> bytes:
        if self.settings is None:
            from kitty_ops.store.redaction import read_config

            return read_config(self.repo_root)
        if self.raw is None:
            self.raw = git.finish(self.settings, check=False)
        return self.raw


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _note_uncommitted(repo_root: Path | str, op_id: str) -> None:
    from kitty_ops.store import uncommitted

    repo = git.find_repo(repo_root)
    if repo is not None:
        uncommitted.note(repo.git_path, op_id)


def _record_owner(repo_root: Path | str, op_id: str, pid: int) -> None:
    """Best effort: without an owner the Op is `unknown`, judged by its age."""
    try:
        owners.record_owner(repo_root, op_id, pid)
    except (OSError, UnsafePath) as exc:
        warn("Op %s: could not record its owner: %s", op_id, getattr(exc, "strerror", None) or exc)


def start_invocation(
    repo_root: Path | str, profile_id: str, action: str, *, owner_pid: int | None = None, **optional: object
) -> dict[str, Any]:
    """Write the `started` line of a new Op, record its owner and index it; the started event.

    `owner_pid` is the process that owns the Op (default: the calling one; 0:
    none), recorded locally (`kitty_ops.lifecycle.owners`), never in history.

    `optional` takes the optional started fields (request_text, actor,
    mode_of_work, mission_id, wp_id, model_id, governance_context_hash,
    governance_context_available, router_confidence); None means absent.
    """
    from kitty_ops.store import index
    from kitty_ops.store.exclude import ensure_local_files_excluded

    started = events.started_event(new_ulid(), profile_id, action, _now(), **optional)
    # Asked before this Op's record changes the directory: an index that is behind
    # (records arrived with git) must stay behind, or appending would pass it as fresh.
    keep_index = index.is_fresh(repo_root) or next(index.iter_record_ids(repo_root), None) is None
    write_started(repo_root, started)
    if owner_pid != 0:
        _record_owner(repo_root, started["invocation_id"], os.getpid() if owner_pid is None else owner_pid)
    if not os.path.exists(os.path.join(repo_root, INDEX_PATH)):
        ensure_local_files_excluded(repo_root)
    if keep_index:
        index.append_entry(repo_root, started)  # last: the index is fresh after it
    return started


def complete_invocation(
    repo_root: Path | str,
    op_id: str,
    outcome: str = "done",
    *,
    evidence_ref: str | None = None,
    artifacts: Iterable[str] = (),
    commit_sha: str | None = None,
    commit: bool = True,
    closed_by: str = "agent",
    settings: git.Running | None = None,
) -> Completion:
    """Append the `completed` event (and links), then make the Op commit.

    Committing is best effort: when it cannot be done, a WARNING is logged and
    the Completion carries the reason; the completion itself stands.
    `settings`: the config query of `propagator.start_settings`, when the caller
    started it (it is finished here, whatever happens).
    """
    if commit and settings is None:
        settings = start_settings(repo_root)  # git reads config while the line is written
    read = _ConfigRead(repo_root, settings)
    try:
        path = safe_record_file(repo_root, op_id)
        at = _now()
        completed = events.completed_event(op_id, at, outcome, closed_by, evidence_ref)
        links = [events.artifact_link(op_id, at, ref) for ref in artifacts]
        if commit_sha:
            links.append(events.commit_link(op_id, at, commit_sha))
        _note_uncommitted(repo_root, op_id)  # before the line: a crash after it leaves the note
        started = write_completed(repo_root, completed, links, read)
    except BaseException:
        if settings is not None and read.raw is None:
            git.finish(settings, check=False)
        raise
    owners.forget_owner(repo_root, op_id)
    if not commit:
        return Completion(completed, path, None, "--no-commit")
    label = f"Op {op_id} ({started.get('profile_id')}/{started.get('action')})"
    result = propagate(repo_root, op_id, label, None if read.raw is not None else settings, read.raw)
    return Completion(completed, path, result.commit, result.problem, result.by_hook)
