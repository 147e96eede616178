"""`kitty-ops validate`: the checks of the kitty-ops-validate hook, over the work tree."""
from __future__ import annotations

import click

from kitty_ops.cli.common import echo_json, json_option, repo_option
from kitty_ops.errors import EXIT_OK, EXIT_PROBLEM
from kitty_ops.validation import check_work_tree


@click.command()
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@json_option
@repo_option
def validate(repo, paths, as_json) -> int:
    """Check Op records: well formed, and only appended to since HEAD.

    PATHs are relative to the repository root (default: everything under
    kitty-ops/). Exit 1 when any record is invalid; for CI.

    \b
    Example:
      kitty-ops validate --json
    """
    checked, problems = check_work_tree(str(repo), list(paths) or None)
    if as_json:
        invalid = [{"path": path, "error": "; ".join(found)} for path, found in problems.items()]
        echo_json({"checked": checked, "invalid": invalid})
    else:
        for path, found in problems.items():
            for problem in found:
                click.echo(f"{path}: {problem}")
        click.echo(f"{checked} files checked, {len(problems)} invalid")
    return EXIT_PROBLEM if problems else EXIT_OK
