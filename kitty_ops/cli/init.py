"""`kitty-ops init`: set a repository up for kitty-ops."""
from __future__ import annotations

import click

from kitty_ops.cli.common import echo, repo_option
from kitty_ops.errors import EXIT_OK, EXIT_PROBLEM
from kitty_ops.setup.install import (
    PRE_COMMIT_CONFIG,
    add_precommit_entry,
    init_ref_mode,
    init_repository,
    precommit_entry,
)
from kitty_ops.setup.precommit_config import published_entry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

PUBLISHED_NOTE = (
    "\nThese hooks (`repo: local`) run the kitty-ops installed here: it must be on PATH when you commit."
    "\nOnce kitty-ops is released, this entry instead lets pre-commit install it by itself:\n"
)


@click.command()
@click.option("--write", is_flag=True, help=f"Add the hooks to {PRE_COMMIT_CONFIG} instead of printing the entry.")
@click.option(
    "--ref", "ref_mode", is_flag=True, help="Ref mode: Op commits go to refs/kitty-ops/records, never the branch."
)
@click.option(
    "--remote", metavar="R", help="With --ref: the remote to fetch records from (default: the branch's, else origin)."
)
@repo_option
def init(repo: Path, write: bool, ref_mode: bool, remote: str | None) -> int:
    """Create kitty-ops/, keep the local files out of git, and set up the hooks.

    \b
    The entry --write adds runs the installed kitty-ops (`repo: local`);
    the published form (`repo:` URL and `rev:`) is printed as the
    alternative.

    \b
    Examples:
      kitty-ops init --write && pre-commit install
      kitty-ops init --ref --remote origin
    """
    if remote and not ref_mode:
        raise click.UsageError("--remote goes with --ref")
    for line in init_repository(repo):
        echo(line)
    if ref_mode:
        for line in init_ref_mode(repo, remote):
            echo(line)
    if not write:
        echo(f"\nAdd this to the `repos:` of {PRE_COMMIT_CONFIG} (or run `kitty-ops init --write`):\n")
        echo(precommit_entry().rstrip("\n"))
        echo(PUBLISHED_NOTE)
        echo(published_entry().rstrip("\n"))
        return EXIT_OK
    try:
        echo(add_precommit_entry(repo))
    except ValueError as exc:
        echo(f"kitty-ops: error: {exc}:\n\n{precommit_entry().rstrip()}", err=True)
        return EXIT_PROBLEM
    echo(PUBLISHED_NOTE)
    echo(published_entry().rstrip("\n"))
    echo("\nthen run: pre-commit install   (pre-commit itself: pip install 'kitty-ops[pre-commit]')")
    return EXIT_OK
