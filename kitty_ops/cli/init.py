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
from kitty_ops.setup.precommit_config import default_rev, published_entry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

PUBLISHED_NOTE = (
    "\nThese hooks (`repo: local`) run the kitty-ops installed here: it must be on PATH when you commit."
    "\nThis entry instead lets pre-commit install kitty-ops by itself, from a repository of it at a tag or sha"
    " (`kitty-ops init --write --hooks-from URL --rev REV` writes it):\n"
)
# What `init --write` says of the local form: one line.
TEAMMATES_NOTE = (
    "note: a teammate without kitty-ops on PATH will see `Executable kitty-ops-orphans not found` on every commit;"
    " to let pre-commit install it for them, run `kitty-ops init --write --hooks-from <git URL of your kitty-ops>"
    " [--rev <tag or sha>]` instead"
)


@click.command()
@click.option("--write", is_flag=True, help=f"Add the hooks to {PRE_COMMIT_CONFIG} instead of printing the entry.")
@click.option(
    "--ref", "ref_mode", is_flag=True, help="Ref mode: Op commits go to refs/kitty-ops/records, never the branch."
)
@click.option(
    "--remote", metavar="R", help="With --ref: the remote to fetch records from (default: the branch's, else origin)."
)
@click.option(
    "--hooks-from", metavar="URL",
    help="Write the published form: pre-commit installs kitty-ops by itself from this git repository"
    " (your team's copy of kitty-ops), so teammates need nothing installed.",
)
@click.option("--rev", metavar="REV", help=f"With --hooks-from: the tag or sha to install (default: {default_rev()}).")
@repo_option
def init(repo: Path, write: bool, ref_mode: bool, remote: str | None, hooks_from: str | None,
         rev: str | None) -> int:
    """Create kitty-ops/, keep the local files out of git, and set up the hooks.

    \b
    The entry --write adds runs the installed kitty-ops (`repo: local`);
    with --hooks-from URL it is the published form (`repo: URL`, `rev:`),
    which pre-commit installs by itself: what a team wants.

    \b
    Examples:
      kitty-ops init --write && pre-commit install
      kitty-ops init --write --hooks-from https://git.example.com/tools/kitty-ops --rev v0.1.0
      kitty-ops init --ref --remote origin
    """
    if remote and not ref_mode:
        raise click.UsageError("--remote goes with --ref")
    if rev and not hooks_from:
        raise click.UsageError("--rev goes with --hooks-from")
    if hooks_from and not write:
        raise click.UsageError("--hooks-from goes with --write")
    if hooks_from:
        try:
            published_entry(url=hooks_from, rev=rev)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
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
    def entry(indent: str) -> str:
        return published_entry(indent, hooks_from, rev) if hooks_from else precommit_entry(indent)

    try:
        done = add_precommit_entry(repo, entry)
    except ValueError as exc:
        echo(f"kitty-ops: error: {exc}:\n\n{entry('  ').rstrip()}", err=True)
        return EXIT_PROBLEM
    for line in done:
        echo(line)
    if not hooks_from:
        echo(TEAMMATES_NOTE)
    echo("then run: pre-commit install   (pre-commit itself: pip install 'kitty-ops[pre-commit]')")
    return EXIT_OK
