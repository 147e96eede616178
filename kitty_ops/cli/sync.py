"""`kitty-ops sync`: share the records ref with a remote (ref mode)."""
from __future__ import annotations

import click

from kitty_ops.cli.common import echo, repo_option
from kitty_ops.errors import EXIT_OK
from kitty_ops.opcommit.sync import sync

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


@click.command("sync")
@click.argument("remote", required=False)
@repo_option
def sync_command(repo: Path, remote: str | None) -> int:
    """Fetch, union and push refs/kitty-ops/records, never by force.

    REMOTE defaults to the current branch's remote, else origin. A push the
    remote rejects (another clone pushed first) is fetched, merged and tried
    again, up to 3 times.

    \b
    Example:
      kitty-ops sync origin
    """
    result = sync(repo, remote)
    for path in result.conflicts:
        echo(f"kitty-ops: warning: {path}: the copies here and on {result.remote} differ; kept this clone's", err=True)
    if result.pushed and result.local is not None:  # a push always has a local tip
        how = "merged and pushed" if result.merged else "pushed"
        echo(f"{how} refs/kitty-ops/records to {result.remote} ({result.local[:12]})")
    elif result.local is None:
        echo(f"no records to share with {result.remote} yet")
    else:
        got = " (took the remote's records)" if result.remote_tip == result.local else ""
        echo(f"refs/kitty-ops/records is in step with {result.remote}{got}")
    return EXIT_OK
