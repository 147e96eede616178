"""`kitty-ops init`: set a repository up for kitty-ops."""
from __future__ import annotations

import click

from kitty_ops.cli.common import echo, repo_option
from kitty_ops.errors import EXIT_OK, EXIT_PROBLEM
from kitty_ops.install import (
    PRE_COMMIT_CONFIG,
    add_precommit_entry,
    init_repository,
    precommit_entry,
)


@click.command()
@click.option("--write", is_flag=True, help=f"Add the hooks to {PRE_COMMIT_CONFIG} instead of printing the entry.")
@repo_option
def init(repo, write) -> int:
    """Create kitty-ops/, keep the local files out of git, and set up the hooks.

    \b
    Example:
      kitty-ops init --write && pre-commit install
    """
    for line in init_repository(repo):
        echo(line)
    if not write:
        echo(f"\nAdd this to the `repos:` of {PRE_COMMIT_CONFIG} (or run `kitty-ops init --write`):\n")
        echo(precommit_entry().rstrip("\n"))
        return EXIT_OK
    try:
        echo(add_precommit_entry(repo))
    except ValueError as exc:
        echo(f"kitty-ops: error: {exc}:\n\n{precommit_entry().rstrip()}", err=True)
        return EXIT_PROBLEM
    echo("then run: pre-commit install")
    return EXIT_OK
