"""`kitty-ops uninstall`: take kitty-ops out of a repository; the records stay in history."""
from __future__ import annotations

import subprocess
import sys

import click

from kitty_ops.cli.common import echo, repo_option
from kitty_ops.errors import EXIT_OK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


@click.command()
@click.option("--keep-records", is_flag=True,
              help="Leave kitty-ops/ in the work tree: no retiring commit (commit the config change yourself).")
@repo_option
def uninstall(repo: Path, keep_records: bool) -> int:
    """Remove kitty-ops' hooks from .pre-commit-config.yaml (and the agent
    configs), its .git/info/exclude lines, .git/kitty-ops/ and its git
    config; then commit the removal of kitty-ops/ with the message
    `kitty-ops: retired`, which the audit accepts. Every committed record
    stays in history.

    \b
    Examples:
      kitty-ops uninstall
      kitty-ops uninstall --keep-records
    """
    from kitty_ops.cli.group import COMMANDS
    from kitty_ops.setup.uninstall import uninstall as take_out

    before = _changed(repo)
    for line in _uninstall_agents(repo, COMMANDS):
        echo(line)
    agent_files = sorted(_changed(repo) - before)  # committed agent configs it edited: in the retiring commit
    for line in take_out(repo, keep_records, agent_files):
        echo(line)
    echo("kitty-ops itself stays installed: pip uninstall kitty-ops (or pipx uninstall kitty-ops) removes it")
    return EXIT_OK


def _changed(repo: Path) -> set[str]:
    """The tracked files that differ from the index."""
    from kitty_ops.gitio import git

    if git.find_repo(repo) is None:
        return set()
    return set(git.split_z(git.run(["diff", "--name-only", "-z"], repo).stdout))


def _uninstall_agents(repo: Path, commands: dict[str, str]) -> list[str]:
    """`kitty-ops agents uninstall AGENT` for every agent it knows (project scope),
    what each removed; a note when this kitty-ops has no `agents` command."""
    import importlib

    try:
        module, attribute = commands["agents"].split(":")
        group = getattr(importlib.import_module(module), attribute)
        command = group.commands["uninstall"]
        argument = next(param for param in command.params if isinstance(param, click.Argument))
        names = list(argument.type.choices) if isinstance(argument.type, click.Choice) else []
    except (KeyError, ImportError, AttributeError, StopIteration):
        return ["agent configs: this kitty-ops sets none up (remove any kitty-ops hooks from them by hand)"]
    done = []
    for name in names:
        result = subprocess.run([sys.executable, "-m", "kitty_ops", "agents", "uninstall", name], cwd=repo,
                                capture_output=True, text=True)
        lines = (result.stdout + result.stderr).splitlines()
        done += [line for line in lines if result.returncode != 0 or " not in " not in line]
    return done
