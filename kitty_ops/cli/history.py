"""`kitty-ops log`: the Op commits in history, with their outcomes."""
from __future__ import annotations

import click

from kitty_ops.cli import common
from kitty_ops.errors import EXIT_OK
from kitty_ops.queries.oplog import op_commits

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


@click.command("log")
@click.argument("op_id", required=False)
@click.option("--profile", "profile_id", help="Only Ops of this profile.")
@click.option("--mission-id", help="Only Ops of this mission.")
@click.option(
    "--since",
    help="Only commits after this date (as git log --since: '2 weeks ago', 2026-11-01;"
    " one git cannot read is refused).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Show at most N Op commits.")
@common.json_option
@common.repo_option
def log_command(
    repo: Path,
    op_id: str | None,
    profile_id: str | None,
    mission_id: str | None,
    since: str | None,
    limit: int | None,
    as_json: bool,
) -> int:
    """Show Op commits, newest first, with each Op's outcome and duration;
    only those of OP_ID when given (any unique prefix of 8 or more characters).

    \b
    Examples:
      kitty-ops log --profile implementer --since '1 week ago'
      kitty-ops log 01KZRR8QD4RP
    """
    if since is not None:
        from kitty_ops.queries.dates import since_timestamp

        since_timestamp(since, repo)  # what git log --since would quietly read as "now" is refused
    commits = op_commits(repo, profile_id=profile_id, mission_id=mission_id, since=since,
                         limit=None if op_id else limit)
    if op_id:
        from kitty_ops.queries.opids import resolve

        op_id = resolve(repo, op_id, known=(entry["invocation_id"] for entry in commits))
        commits = [entry for entry in commits if entry["invocation_id"] == op_id][:limit]
    if as_json:
        common.echo_json(commits)
        return EXIT_OK
    if not commits:
        common.echo("no Op commits")
    for entry in commits:
        outcome = entry["outcome"] or "?"
        took = common.format_duration(entry["duration_seconds"])
        date = entry["date"][:16].replace("T", " ")
        status = common.styled_status(outcome, 9)
        common.echo(f"{entry['commit'][:10]}  {date}  {status}  {took:>7}  {entry['subject']}")
    return EXIT_OK
