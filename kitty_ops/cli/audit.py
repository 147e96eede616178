"""`kitty-ops audit`: check committed history under kitty-ops/, commit by commit."""
from __future__ import annotations

import click

from kitty_ops.cli.common import echo, echo_json, json_option, repo_option
from kitty_ops.errors import EXIT_OK, EXIT_PROBLEM, InvalidInput
from kitty_ops.queries.audit import audit, default_revisions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


@click.command("audit")
@click.argument("revision_range", nargs=-1, metavar="[REVISION_RANGE]")
@click.option("--base", metavar="REF", help="Audit only what REF does not have (REF..HEAD), e.g. origin/main."
              " An all-zero REF (a first push) means what no remote-tracking branch has.")
@click.option("--shallow-ok", is_flag=True,
              help="In a shallow clone, audit the history it has and leave out its boundary commits (and all"
              " before them) with a warning. Without it, a range that reaches the shallow boundary fails"
              " (exit 2) and names the fetch that completes it (git fetch --unshallow).")
@click.option("--fetch-missing", is_flag=True,
              help="In a partial clone (git clone --filter=blob:none), fetch the kitty-ops/ blobs the audit"
              " reads and this clone lacks, in one batch from the promisor remote. Without it, missing"
              " blobs fail the audit (exit 2); nothing is ever fetched one by one.")
@click.option("--allow-healed", is_flag=True, hidden=True,
              help="Kept for old configurations: healed findings are always warnings now.")
@json_option
@repo_option
def audit_command(
    repo: Path, revision_range: tuple[str, ...], base: str | None, shallow_ok: bool, fetch_missing: bool,
    allow_healed: bool, as_json: bool
) -> int:
    """Check the commits of REVISION_RANGE (default: everything reachable from
    HEAD) for committed orphans, deleted or renamed records, rewritten lines,
    invalid lines, symbolic links and local files under kitty-ops/. Only
    kitty-ops/ is read. History is only read, never rewritten.

    Each finding prints the one command that repairs it in a new commit
    (`repair: <command>  # what it does`). Once that commit is made, the
    finding is healed: it is listed as a warning and no longer fails.

    Exit 0: no problems (warnings allowed). Exit 1: a problem. Exit 2: bad
    input, or history the audit must read is not in this clone (a shallow
    boundary inside the range, a base it lacks, a blob a partial clone
    lacks); the message names the command that fetches it. A range whose old
    end is all zeros (0000...0..NEW, a first or forced push) audits what no
    remote-tracking branch has.

    \b
    Examples:
      kitty-ops audit --base origin/main
      kitty-ops audit v1.0..HEAD --json
      kitty-ops audit --shallow-ok          # a depth-limited CI clone, knowingly
    """
    from kitty_ops.gitio import git

    if git.find_repo(repo) is None:
        raise InvalidInput(f"{repo}: not a git repository; there is no history to audit")
    revisions = default_revisions(repo, base, list(revision_range))
    if revisions is None:
        echo("kitty-ops audit: no commits yet, nothing to audit")
        return EXIT_OK
    report = audit(repo, revisions, shallow_ok=shallow_ok, fetch_missing=fetch_missing)
    warning = report.shallow_warning()
    if warning:
        echo(warning, err=True)
    if as_json:
        echo_json(report.to_json())
    else:
        for finding in report.findings:
            for line in finding.lines():
                echo(line)
        echo(report.summary())
    return EXIT_PROBLEM if report.problems else EXIT_OK
