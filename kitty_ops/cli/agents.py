"""`kitty-ops agents`: make every coding-agent session an Op, with no glue."""
from __future__ import annotations

import os

import click

from kitty_ops.agents.spec import NAMES, SCOPES
from kitty_ops.cli import common
from kitty_ops.errors import EXIT_OK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

agent_argument = click.argument("agent", type=click.Choice(NAMES))
scope_option = click.option(
    "--scope", type=click.Choice(SCOPES), default="project", show_default=True,
    help="project: the agent's shared configuration in the repository; local: yours in the repository "
         "(Claude Code only); user: yours in your home directory.",
)


@click.group()
def agents() -> None:
    """Make each session of a coding agent an Op: install kitty-ops' hooks into
    the agent's configuration (Claude Code, Codex CLI, Gemini CLI, Cursor;
    aider has no hooks).

    \b
    Examples:
      kitty-ops agents install claude-code
      kitty-ops agents install codex --scope user
      kitty-ops agents status
    """


@agents.command()
@agent_argument
@scope_option
@click.option("--per", type=click.Choice(("session", "turn")), default="session", show_default=True,
              help="One Op per agent session, or one per prompt (to the end of its turn).")
@common.repo_option
def install(repo: Path, agent: str, scope: str, per: str) -> int:
    """Merge kitty-ops' hooks into AGENT's configuration file, keeping every
    other key and hook; running it again changes nothing. A file it cannot
    parse is left untouched (exit 2).

    \b
    Examples:
      kitty-ops agents install claude-code
      kitty-ops agents install cursor --per turn
      kitty-ops agents install aider
    """
    from kitty_ops.agents import manage
    from kitty_ops.agents.spec import agent as spec_of

    path, changed = manage.install(agent, scope, str(repo), per)
    common.echo(f"{agent}: kitty-ops hooks {'installed in' if changed else 'already in'} {_shown(path, repo)}")
    note = spec_of(agent).note
    if note:
        common.echo(f"  note: {note}")
    return EXIT_OK


@agents.command()
@agent_argument
@scope_option
@common.repo_option
def uninstall(repo: Path, agent: str, scope: str) -> int:
    """Remove exactly what `install` added to AGENT's configuration file.

    \b
    Example:
      kitty-ops agents uninstall claude-code
    """
    from kitty_ops.agents import manage

    path, changed = manage.uninstall(agent, scope, str(repo))
    common.echo(f"{agent}: kitty-ops hooks {'removed from' if changed else 'were not in'} {_shown(path, repo)}")
    return EXIT_OK


@agents.command()
@common.json_option
@common.repo_option
def status(repo: Path, as_json: bool) -> int:
    """Per agent: where kitty-ops' hooks are installed, and when one last fired
    in this clone (a hook that never fires is the usual failure).

    \b
    Example:
      kitty-ops agents status
    """
    from kitty_ops.agents import manage
    from kitty_ops.gitio import git

    found = git.find_repo(repo)
    rows = manage.status(str(repo), found.common_path if found else None)
    if as_json:
        common.echo_json(rows)
        return EXIT_OK
    common.echo(f"{'AGENT':<12}  {'INSTALLED':<22}  LAST FIRED")
    for row in rows:
        installed = ", ".join(row["installed"]) or "no"
        if not row["hooks"]:
            fired = "(no hooks: use kitty-ops run)"
        elif row["last_fired"]:
            fired = f"{row['last_fired']} ({row['last_event']})"
        else:
            fired = "never"
        common.echo(f"{row['agent']:<12}  {installed:<22}  {fired}")
        for problem in row["problems"]:
            common.echo(f"  problem: {problem}")
    return EXIT_OK


@agents.command(context_settings={"ignore_unknown_options": True})
@agent_argument
@click.option("--per", type=click.Choice(("session", "turn")), default="session", show_default=True,
              help="One Op per agent session, or one per prompt.")
def hook(agent: str, per: str) -> int:
    """What the installed hooks run: read AGENT's event (JSON) on stdin and
    open or complete the session's Op. It never writes to stdout and always
    exits 0 (a failure is one line on stderr).

    \b
    Example:
      echo '{"hook_event_name": "SessionStart", "session_id": "s1", "source": "startup"}' \\
        | kitty-ops agents hook claude-code
    """
    from kitty_ops.agents.hook import main

    return main([agent, "--per", per])


def _shown(path: str, repo: Path) -> str:
    relative = os.path.relpath(path, repo)
    return path if relative.startswith("..") else relative
