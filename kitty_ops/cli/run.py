"""`kitty-ops run -- COMMAND`: an Op around a command."""
from __future__ import annotations

import click

from kitty_ops.cli.common import records_repo_option, start_options

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


@click.command(context_settings={"allow_interspersed_args": False})
@start_options
@click.option(
    "--artifacts", type=click.Choice(["changed"]),
    help="changed: record every file COMMAND created or changed (git's view) as an artifact.",
)
@click.option("--no-commit", is_flag=True, help="Complete the Op but leave its record pending (no Op commit).")
@records_repo_option
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- COMMAND [ARGS]...")
def run(
    repo: Path,
    profile_id: str,
    action: str,
    artifacts: str | None,
    no_commit: bool,
    command: tuple[str, ...],
    **optional: Any,
) -> int:
    """Run COMMAND as an Op: `done` on exit 0, `failed` on any other exit,
    `abandoned` when interrupted (SIGINT/SIGTERM/SIGHUP, forwarded to COMMAND
    first); then its Op commit. COMMAND keeps the terminal and finds its Op id
    in KITTY_OPS_OP_ID. Exits with COMMAND's own exit code (128+N when it died
    of signal N, 127 when it could not be started).

    \b
    Example:
      kitty-ops run --profile implementer --action implement --artifacts changed -- claude -p "add a cache"
    """
    from kitty_ops.lifecycle.runner import run_op

    optional = {name: value for name, value in optional.items() if value is not None}
    result = run_op(
        repo, profile_id, action, command, artifacts_changed=artifacts == "changed", commit=not no_commit, **optional
    )
    completion = result.completion
    if result.problem:
        done = f" (Op {result.op_id} {result.outcome})" if completion else ""
        click.echo(f"kitty-ops: error: {result.problem}{done}", err=True)
    elif completion is not None:
        click.echo(f"kitty-ops: Op {result.op_id} {result.outcome} ({result.evidence}), {completion.summary}",
                   err=True)
    return result.exit_code
