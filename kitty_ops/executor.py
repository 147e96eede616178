"""Starting and completing Ops: the steps every caller (CLI, API, doctor) shares."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Optional

from pydantic import BaseModel, ConfigDict, ValidationError

from kitty_ops import index, lifecycle
from kitty_ops.errors import InvalidInput
from kitty_ops.exclude import ensure_local_files_excluded
from kitty_ops.layout import INDEX_PATH, safe_record_path
from kitty_ops.propagator import propagate
from kitty_ops.record import (
    ArtifactLink,
    ClosedBy,
    CommitLink,
    CompletedEvent,
    InvocationRecord,
    Outcome,
    describe_validation_error,
)
from kitty_ops.ulid import new_ulid
from kitty_ops.writer import write_completed, write_started


class Completion(BaseModel):
    """The result of completing an Op."""

    model_config = ConfigDict(frozen=True)

    event: CompletedEvent
    record_path: Path
    commit: Optional[str] = None  # the Op commit, when one was made
    pending_reason: Optional[str] = None  # why the record is not committed

    @property
    def invocation_id(self) -> str:
        return self.event.invocation_id


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _build(model: type[BaseModel], **fields) -> BaseModel:
    try:
        return model(**fields)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def start_invocation(repo_root: Path | str, profile_id: str, action: str, **optional) -> InvocationRecord:
    """Write the `started` line of a new Op and index it; the started record.

    `optional` takes the optional started fields (request_text, actor,
    mode_of_work, mission_id, wp_id, model_id, governance_context_hash,
    governance_context_available, router_confidence).
    """
    unknown = set(optional) - set(InvocationRecord.model_fields)
    if unknown:
        raise TypeError(f"unknown started field(s): {', '.join(sorted(unknown))}")
    record = _build(
        InvocationRecord,
        invocation_id=new_ulid(),
        profile_id=profile_id,
        action=action,
        started_at=_now(),
        **optional,
    )
    write_started(repo_root, record)
    started = record.model_dump(mode="json", exclude_none=True)
    lifecycle.append_phase(repo_root, started, "started", started["started_at"])
    if not (Path(repo_root) / INDEX_PATH).exists():
        ensure_local_files_excluded(repo_root)
    index.append_entry(repo_root, started)  # last: the index is fresh after it
    return record


def complete_invocation(
    repo_root: Path | str,
    op_id: str,
    outcome: Outcome = "done",
    *,
    evidence_ref: str | None = None,
    artifacts: Iterable[str] = (),
    commit_sha: str | None = None,
    commit: bool = True,
    closed_by: ClosedBy = "agent",
) -> Completion:
    """Append the `completed` event (and links), then stage and commit the record.

    Committing is best effort: when it cannot be done, a WARNING is logged and
    the Completion carries the reason; the completion itself stands.
    """
    path = safe_record_path(repo_root, op_id)
    at = _now()
    event = _build(
        CompletedEvent,
        invocation_id=op_id,
        completed_at=at,
        outcome=outcome,
        closed_by=closed_by,
        evidence_ref=evidence_ref,
    )
    links = [_build(ArtifactLink, invocation_id=op_id, at=at, kind="artifact", ref=ref) for ref in artifacts]
    if commit_sha:
        links.append(_build(CommitLink, invocation_id=op_id, at=at, sha=commit_sha))
    started = write_completed(repo_root, event, links)
    reason = None if outcome == "done" else outcome
    lifecycle.append_phase(repo_root, started, lifecycle.phase_for_outcome(outcome), at.isoformat(), reason)
    if not commit:
        return Completion(event=event, record_path=path, pending_reason="--no-commit")
    label = f"Op {op_id} ({started.get('profile_id')}/{started.get('action')})"
    result = propagate(repo_root, op_id, label)
    return Completion(event=event, record_path=path, commit=result.commit, pending_reason=result.problem)
