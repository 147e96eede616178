"""`kitty-ops report`: one self-contained HTML page of the Ops."""
from __future__ import annotations

import os

import click

from kitty_ops.cli.common import echo, repo_option
from kitty_ops.errors import EXIT_OK, InvalidInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


@click.command()
@click.option("--mission-id", help="Only Ops of this mission.")
@click.option("--since", help="Only Ops started after this date (as git log --since: '2 weeks ago', 2026-11-01).")
@click.option("-o", "--output", metavar="FILE",
              help="Where to write the page (default: .git/kitty-ops/report.html, outside the work tree).")
@repo_option
def report(repo: Path, mission_id: str | None, since: str | None, output: str | None) -> int:
    """Write an HTML page of the Ops: a timeline, one lane per profile, and a
    summary table. The page is one file that needs no network; it is
    written outside the work tree (in the git directory) unless -o says
    where, and its path is printed.

    \b
    Examples:
      kitty-ops report -o /tmp/ops.html && xdg-open /tmp/ops.html
      kitty-ops report --mission-id 01KWVD6Y5CC8ARAKD3JZAJEXBX --since '1 week ago' -o mission.html
    """
    from kitty_ops.queries.dates import since_datetime
    from kitty_ops.queries.report import default_output, write_report

    since_at = since_datetime(since, repo) if since is not None else None
    path = os.path.abspath(output) if output else default_output(repo)
    if os.path.isdir(path):
        raise InvalidInput(f"-o {output}: is a directory")
    if not os.path.isdir(os.path.dirname(path)):
        raise InvalidInput(f"-o {output}: no such directory {os.path.dirname(path)}")
    data = write_report(repo, path, mission_id=mission_id, since=since_at)
    count = len(data["ops"])
    echo(f"{path}  ({count} Op{'' if count == 1 else 's'})")
    return EXIT_OK
