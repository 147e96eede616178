"""`kitty-ops audit`: check committed history under kitty-ops/, commit by commit."""
from __future__ import annotations

import click

from kitty_ops.audit import audit, default_revisions, is_shallow
from kitty_ops.cli.common import echo, echo_json, json_option, repo_option
from kitty_ops.errors import EXIT_OK, EXIT_PROBLEM, InvalidInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


@click.command("audit")
@click.argument("revision_range", nargs=-1, metavar="[REVISION_RANGE]")
@click.option("--base", metavar="REF", help="Audit only what REF does not have (REF..HEAD), e.g. origin/main.")
@click.option("--allow-healed", is_flag=True,
              help="A committed orphan that a later commit completes is a warning, not a problem.")
@json_option
@repo_option
def audit_command(
    repo: Path, revision_range: tuple[str, ...], base: str | None, allow_healed: bool, as_json: bool
) -> int:
    """Check the commits of REVISION_RANGE (default: everything reachable from
    HEAD) for committed orphans, deleted or renamed records, rewritten lines,
    invalid lines, symbolic links and local files under kitty-ops/. Exit 1
    when any problem is found. History is only read, never rewritten.

    \b
    Examples:
      kitty-ops audit --base origin/main
      kitty-ops audit v1.0..HEAD --json
    """
    from kitty_ops import git

    if git.find_repo(repo) is None:
        raise InvalidInput(f"{repo}: not a git repository; there is no history to audit")
    revisions = default_revisions(repo, base, list(revision_range))
    if revisions is None:
        echo("kitty-ops audit: no commits yet, nothing to audit")
        return EXIT_OK
    if is_shallow(repo):
        echo("warning: this clone is shallow: history beyond its depth is not audited"
             " (in CI: fetch-depth: 0)", err=True)
    report = audit(repo, revisions, allow_healed=allow_healed)
    if as_json:
        echo_json(report.to_json())
    else:
        for finding in report.findings:
            for line in finding.lines():
                echo(line)
        echo(report.summary())
    return EXIT_PROBLEM if report.problems else EXIT_OK
