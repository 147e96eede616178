"""`kitty-ops start`, `complete` and `commit`: writing Ops."""
from __future__ import annotations

import click

from kitty_ops.cli.actions import complete_op, start_op
from kitty_ops.cli.common import json_option, records_repo_option, repo_option, start_options
from kitty_ops.errors import EXIT_OK, InvalidInput, KittyOpsError
from kitty_ops.format.rules import OUTCOMES
from kitty_ops.opcommit.commit import commit_ops
from kitty_ops.queries.opids import resolve

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


@click.command()
@start_options
@click.option(
    "--owner-pid", type=int, metavar="PID",
    help="The process that owns the Op (default: the nearest ancestor that is not a shell).",
)
@json_option
@records_repo_option
def start(repo: Path, profile_id: str, action: str, owner_pid: int | None, as_json: bool, **optional: Any) -> int:
    """Start an Op: write its `started` line and print its id.

    Its owner, the process whose end means the Op is dead, is recorded
    locally: `--owner-pid`, else the nearest ancestor that is not a shell (in
    `op=$(kitty-ops start ...)`, whoever runs the script). Typed in an
    interactive shell, the Op has no owner process and its age decides
    (the terminal would own it for as long as it lives).

    \b
    Example:
      op=$(kitty-ops start --profile implementer --action implement --mission-id M1)
    """
    repo_given = click.get_current_context().params.get("repo_dir") is not None
    return start_op(repo, profile_id, action, owner_pid, as_json, optional, repo_given)


@click.command()
@click.argument("op_id")
@click.option(
    "--outcome",
    type=click.Choice(OUTCOMES),
    default="done",
    show_default=True,
)
@click.option("--evidence", "evidence_ref", help="A reference to the evidence of the outcome.")
@click.option(
    "--artifact", "artifacts", multiple=True, metavar="PATH", help="An artifact the Op produced (repeatable)."
)
@click.option("--commit-sha", help="A commit the Op produced, recorded as a commit_link.")
@click.option("--no-commit", is_flag=True, help="Write the record only; leave it pending (no hook, no commit).")
@json_option
@repo_option
def complete(
    repo: Path,
    op_id: str,
    outcome: str,
    evidence_ref: str | None,
    artifacts: tuple[str, ...],
    commit_sha: str | None,
    no_commit: bool,
    as_json: bool,
) -> int:
    """Complete an Op and commit its record as `op(<profile>): <action> [<id8>]`.
    OP_ID may be any unique prefix of 8 or more characters, in either case.

    Committing is best effort: when it cannot be done now (a merge in
    progress, a detached HEAD, ...) the Op is still completed, a warning says
    why, and `kitty-ops commit --pending` commits it later.

    \b
    Example:
      kitty-ops complete 01J0ABCDEFGHJKMNPQRSTVWXYZ --outcome done --artifact src/app.py
    """
    return complete_op(repo, op_id, outcome, evidence_ref, artifacts, commit_sha, no_commit, as_json)


@click.command()
@click.argument("op_ids", nargs=-1, metavar="[OP_ID]...")
@click.option("--pending", is_flag=True, help="Commit every completed record not yet committed.")
@repo_option
def commit(repo: Path, op_ids: tuple[str, ...], pending: bool) -> int:
    """Make the Op commit of completed records, one commit per Op, oldest first.

    \b
    Example:
      kitty-ops commit --pending
    """
    if not op_ids and not pending:
        raise click.UsageError("name an OP_ID or give --pending")
    resolved = [resolve(repo, op_id) for op_id in op_ids]  # a bad or ambiguous id stops before any commit
    try:
        results = commit_ops(repo, list(dict.fromkeys(resolved)), pending=pending)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if not results:
        click.echo("nothing pending")
    code = EXIT_OK
    for op_id, result in results.items():
        if isinstance(result, KittyOpsError):
            click.echo(f"kitty-ops: error: {result}", err=True)
            code = max(code, result.exit_code)
        else:
            click.echo(f"{op_id} committed {result[:12]}" if result else f"{op_id} already committed")
    return code
