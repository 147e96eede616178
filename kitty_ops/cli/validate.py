"""`kitty-ops validate`: the checks of the kitty-ops-validate hook, over the work tree."""
from __future__ import annotations

import os
from pathlib import Path

import click

from kitty_ops.cli.common import echo_json, json_option, repo_option
from kitty_ops.errors import EXIT_OK, EXIT_PROBLEM, InvalidInput
from kitty_ops.hooks.validation import check_work_tree


@click.command()
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@json_option
@repo_option
def validate(repo: Path, paths: tuple[str, ...], as_json: bool) -> int:
    """Check Op records: well formed, and only appended to since HEAD.

    PATHs are relative to the current directory, as the shell gives them
    (default: everything under kitty-ops/). Exit 1 when any record is
    invalid; for CI.

    \b
    Examples:
      kitty-ops validate --json
      kitty-ops validate kitty-ops/01KTK4DFAS04MCX5GP1W2R6NEP.jsonl
    """
    relative = [repo_relative(repo, path) for path in paths]
    for shown, path in zip(paths, relative, strict=True):
        require_known(repo, shown, path)
    checked, problems = check_work_tree(str(repo), relative or None)
    if as_json:
        invalid = [{"path": path, "error": "; ".join(found)} for path, found in problems.items()]
        echo_json({"checked": checked, "invalid": invalid})
    else:
        for path, found in problems.items():
            for problem in found:
                click.echo(f"{path}: {problem}")
        click.echo(f"{checked} files checked, {len(problems)} invalid")
    return EXIT_PROBLEM if problems else EXIT_OK


def repo_relative(repo: Path, path: str) -> str:
    """`path` (absolute, or relative to the current directory when that lies in
    the repository, else to its root) as a path from the root, `/`-separated."""
    root = os.fspath(repo)
    cwd = os.getcwd()
    base = cwd if os.path.commonpath([cwd, root]) == root else root
    relative = os.path.relpath(os.path.normpath(os.path.join(base, path)), root)
    if relative == os.curdir or relative.split(os.sep)[0] == os.pardir:
        raise InvalidInput(f"{path}: not a file in the repository {root}")
    return relative.replace(os.sep, "/")


def require_known(repo: Path, shown: str, path: str) -> None:
    """InvalidInput unless `path` is in the work tree or in HEAD (a deletion is
    checked too): a mistyped path must not pass as "0 files checked"."""
    if os.path.lexists(os.path.join(repo, path)):
        return
    from kitty_ops.gitio import git

    if git.find_repo(repo) is not None:
        known = git.run(["cat-file", "-e", f"HEAD:{path}"], repo, check=False).returncode == 0
        if known:
            return
    raise InvalidInput(f"{shown}: no such file")
