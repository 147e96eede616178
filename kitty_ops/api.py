"""The Python API for agent frameworks: start, complete, and `op()` around a block.

    import kitty_ops

    with kitty_ops.op(profile="implementer", action="implement", request_text="add a cache") as op:
        ...                       # the agent's work
        op.artifact("src/cache.py")
    # completed `done` and committed; `failed` (and re-raised) if the block raised

`repo` defaults to the git top level of the current directory.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from kitty_ops.gitio import git
from kitty_ops.lifecycle.executor import Completion, complete_invocation, start_invocation
from kitty_ops.record import InvocationRecord
from kitty_ops.system.warn import warn

Outcome = Literal["done", "failed", "abandoned"]


def start(profile: str, action: str, *, repo: Path | str | None = None, **optional: Any) -> InvocationRecord:
    """Start an Op; its `started` event. `optional`: request_text, actor,
    mode_of_work, mission_id, wp_id, model_id, governance_context_hash,
    governance_context_available, router_confidence."""
    started = start_invocation(git.work_root(repo), profile, action, **optional)
    return InvocationRecord.model_validate(started)


def complete(
    op_id: str,
    outcome: Outcome = "done",
    *,
    repo: Path | str | None = None,
    evidence: str | None = None,
    artifacts: Iterable[str] = (),
    commit_sha: str | None = None,
    commit: bool = True,
) -> Completion:
    """Complete an Op and make its Op commit (best effort: see `Completion.pending_reason`)."""
    return complete_invocation(
        git.work_root(repo), op_id, outcome,
        evidence_ref=evidence, artifacts=artifacts, commit_sha=commit_sha, commit=commit,
    )


class Op:
    """An Op in progress, as `op()` yields it: collect artifacts and evidence,
    or choose the outcome, before the block ends."""

    def __init__(self, started: InvocationRecord, repo: Path, commit: bool) -> None:
        self.started = started
        self.repo = repo
        self.commit = commit
        self.artifacts: list[str] = []
        self.evidence: str | None = None
        self.outcome: Outcome | None = None  # None: done, or failed if the block raises
        self.completion: Completion | None = None

    @property
    def invocation_id(self) -> str:
        return self.started.invocation_id

    def artifact(self, path: str | Path) -> None:
        """Record that the Op produced `path` (an `artifact_link` at completion)."""
        self.artifacts.append(str(path))

    def __enter__(self) -> Op:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        outcome = "failed" if error is not None else (self.outcome or "done")
        evidence = self.evidence
        if error is not None and evidence is None:
            evidence = f"{kind.__name__}: {error}"[:500] if kind else None
        try:
            self.completion = complete_invocation(
                self.repo, self.invocation_id, outcome,
                evidence_ref=evidence, artifacts=self.artifacts, commit=self.commit,
            )
        except Exception as exc:
            if error is None:
                raise
            # Never hide the block's own exception behind a failure to record it.
            warn("Op %s failed and could not be completed: %s", self.invocation_id, exc)


def op(
    profile: str, action: str, *, repo: Path | str | None = None, commit: bool = True, **optional: object
) -> Op:
    """Start an Op now and complete it when the `with` block ends: `done`, or
    `failed` when the block raises (the exception propagates)."""
    root = git.work_root(repo)
    return Op(start(profile, action, repo=root, **optional), root, commit)
