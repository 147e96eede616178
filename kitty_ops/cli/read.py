"""`kitty-ops list` and `show`: reading Ops."""
from __future__ import annotations

import click

from kitty_ops.cli import common
from kitty_ops.errors import EXIT_OK, UnknownOp
from kitty_ops.format.layout import EVENTS_DIR, safe_record_path
from kitty_ops.format.rules import OUTCOMES
from kitty_ops.format.safefs import unsafe_reason
from kitty_ops.format.scan import age_hours
from kitty_ops.gitio import git
from kitty_ops.lifecycle.owners import OwnerStates
from kitty_ops.queries.listing import list_ops

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from pydantic import BaseModel

    from kitty_ops.record import OpRecord


@click.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Show at most N Ops.")
@click.option("--profile", "profile_id", help="Only Ops of this profile.")
@click.option("--mission-id", help="Only Ops of this mission.")
@click.option("--wp-id", help="Only Ops of this work package.")
@click.option(
    "--outcome", type=click.Choice(OUTCOMES), help="Only completed Ops with this outcome."
)
@click.option("--open", "open_only", is_flag=True, help="Only open Ops (started, not completed).")
@common.json_option
@common.repo_option
def list_command(
    repo: Path,
    limit: int,
    profile_id: str | None,
    mission_id: str | None,
    wp_id: str | None,
    outcome: str | None,
    open_only: bool,
    as_json: bool,
) -> int:
    """List Ops, newest first.

    \b
    Examples:
      kitty-ops list --limit 5
      kitty-ops list --open
      kitty-ops list --mission-id 01KWVD6Y5CC8ARAKD3JZAJEXBX --outcome failed --json
    """
    if open_only and outcome:
        raise click.UsageError("--open and --outcome exclude each other")
    status = "open" if open_only else outcome
    ops = list_ops(repo, limit, profile_id=profile_id, mission_id=mission_id, wp_id=wp_id, status=status)
    if as_json:
        common.echo_json(ops)
        return EXIT_OK
    if not ops:
        common.echo("no matching Ops")
        return EXIT_OK
    common.echo(f"{'ID':<26}  {'STARTED':>10}  {'TOOK':>6}  {'STATUS':<9}  PROFILE: ACTION")
    for op in ops:
        owner = f"  (owner {op['owner_state']})" if op["owner_state"] else ""
        took = _took(op)
        common.echo(
            f"{op['invocation_id']}  {common.format_age(age_hours(op['started_at'])) + ' ago':>10}  {took:>6}  "
            f"{common.styled_status(op['status'], 9)}  {op['profile_id']}: {op['action']}{owner}"
        )
    return EXIT_OK


def _took(op: dict[str, Any]) -> str:
    """How long a completed Op took; `-` while open."""
    from kitty_ops.format.scan import parse_timestamp

    begin, end = parse_timestamp(op["started_at"]), parse_timestamp(op["completed_at"])
    if end is None:
        return "-" if op["status"] == "open" else "?"
    return common.format_duration(None if begin is None else (end - begin).total_seconds())


@click.command()
@click.argument("op_id")
@common.json_option
@common.repo_option
def show(repo: Path, op_id: str, as_json: bool) -> int:
    """Show one Op: its events, links and Op commit. OP_ID may be any unique
    prefix of 8 or more characters, in either case.

    \b
    Examples:
      kitty-ops show 01J0ABCDEFGHJKMNPQRSTVWXYZ --json
      kitty-ops show 01j0abcdefgh
    """
    from kitty_ops.queries.opids import resolve
    from kitty_ops.record import parse_record, read_record
    from kitty_ops.store import refstore

    op_id = resolve(repo, op_id)
    path = safe_record_path(repo, op_id)
    copies = refstore.elsewhere(repo)  # ref mode: the records ref, without a checkout
    if copies is not None and op_id in copies.records:
        record = parse_record(copies.records[op_id], op_id)
    elif path.is_file() or unsafe_reason(path) is not None:  # a FIFO there is shown, as invalid
        record = read_record(path)
    else:
        raise UnknownOp(f"{op_id}: no such Op (no {EVENTS_DIR}/{op_id}.jsonl)")
    owner = OwnerStates(repo).assess(op_id) if _status(record) == "open" else (None, None)
    commit = refstore.record_commit(repo, f"{EVENTS_DIR}/{path.name}") if git.find_repo(repo) else None
    from kitty_ops.queries.linked import linked_commits

    linked = linked_commits(repo, op_id)
    if as_json:
        common.echo_json(
            {
                "invocation_id": op_id,
                "path": f"{EVENTS_DIR}/{path.name}",
                "status": _status(record),
                "owner_state": owner[0],
                "owner_detail": owner[1],
                "started": _dump(record.started),
                "completed": _dump(record.completed),
                "links": [_dump(link) for link in record.links],
                "unknown_events": [_dump(event) for event in record.unknown],
                "problems": list(record.problems),
                "commit": commit,
                "linked_commits": linked,
            }
        )
        return EXIT_OK
    for line in _timeline(record, commit, owner):
        common.echo(line)
    for found in linked:  # commits carrying its `Op-Id:` trailer
        common.echo(f"  linked    {found['sha'][:12]} {_printable(found['subject'])}")
    return EXIT_OK


def _dump(model: BaseModel | None) -> dict[str, Any] | None:
    return model.model_dump(mode="json", exclude_none=True) if model is not None else None


def _status(record: OpRecord) -> str:
    return record.status  # decided by `kitty_ops.format.rules.op_status`, as in `list` and doctor


def _printable(text: str) -> str:
    """Free text as one line on a terminal: control and invisible characters escaped."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _timeline(record: OpRecord, commit: str | None, owner: tuple[str | None, str | None]) -> list[str]:
    from kitty_ops.record import ArtifactLink

    lines = [f"Op {record.op_id}  [{_status(record)}]"]
    if owner[0]:
        lines.append(f"  owner     {owner[0]} ({owner[1]})")
    started = record.started
    if started is not None:
        lines.append(f"  profile   {started.profile_id}")
        lines.append(f"  action    {started.action}")
        for name, label in (("actor", "actor"), ("mission_id", "mission"), ("wp_id", "wp"),
                            ("model_id", "model"), ("mode_of_work", "mode")):
            value = getattr(started, name)
            if value:
                lines.append(f"  {label:<9} {_printable(value)}")
        if started.request_text and started.request_text.splitlines():
            lines.append(f"  request   {_printable(started.request_text.splitlines()[0][:100])}")
        lines.append(f"  {started.started_at.isoformat()}  started")
    completed = record.completed
    if completed is not None:
        closed_by = completed.closed_by or "legacy record"
        outcome = completed.outcome or "no outcome recorded"
        lines.append(f"  {completed.completed_at.isoformat()}  completed: {outcome} (by {closed_by})")
        if completed.evidence_ref:
            lines.append(f"      evidence {_printable(completed.evidence_ref)}")
        if started is not None:
            duration = (completed.completed_at - started.started_at).total_seconds()
            lines.append(f"      took {duration:.1f}s")
    for link in record.links:
        target = link.ref if isinstance(link, ArtifactLink) else link.sha
        lines.append(f"  {link.at.isoformat()}  {link.event}: {_printable(target)}")
    for problem in record.problems:
        lines.append(f"  problem: {problem}")
    lines.append(f"  commit    {commit or '(not committed)'}")
    return lines
