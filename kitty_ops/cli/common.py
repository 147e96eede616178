"""Options and output shared by the subcommands."""
from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any

import click

from kitty_ops.cli.actions import resolve_records_repo, resolve_repo


def _repo_option(resolve: Callable[[str | None], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator adding `--repo DIR`, passing `resolve(DIR)` as `repo`."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @click.option(
            "--repo",
            "repo_dir",
            metavar="DIR",
            help="Repository to work in (default: the git top level of the current directory).",
        )
        @functools.wraps(command)
        def wrapper(*args: Any, repo_dir: str | None, **kwargs: Any) -> Any:
            return command(*args, repo=resolve(repo_dir), **kwargs)

        return wrapper

    return decorate


# `--repo DIR`, the resolved root passed as `repo`.
repo_option = _repo_option(resolve_repo)
# The same for the commands that create records (`start`, `run`): a DIR outside
# git must already hold `kitty-ops/` (`kitty-ops init --repo DIR` makes it), so
# that a mistyped --repo never scatters records.
records_repo_option = _repo_option(resolve_records_repo)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def use_color() -> bool | None:
    """None lets click decide (colour on a terminal only); NO_COLOR turns it off."""
    return False if os.environ.get("NO_COLOR") else None


def format_duration(seconds: float | None) -> str:
    """`42s`, `17m`, `5h05m`, `2d06h`; `?` when unknown (see `kitty_ops.queries.durations`)."""
    from kitty_ops.queries.durations import format_duration as formatted

    return formatted(seconds)


def format_age(hours: float | None) -> str:
    """`<1 min`, `12 min`, `3 h`, `2 d` (see `kitty_ops.system.clock.age_text`)."""
    from kitty_ops.system.clock import age_text

    return age_text(hours)


STATUS_COLOURS = {"done": "green", "failed": "red", "abandoned": "yellow", "open": "cyan", "invalid": "red"}


def styled_status(status: str, width: int = 0) -> str:
    """A status word padded to `width`, coloured (colour is dropped off a terminal)."""
    return click.style(status.ljust(width), fg=STATUS_COLOURS.get(status))


def echo(text: str = "", err: bool = False) -> None:
    """click.echo, with colour only on a terminal and never under NO_COLOR."""
    click.echo(text, err=err, color=use_color())


START_OPTIONS = (
    click.option("--profile", "profile_id", required=True, help="Who runs the Op (a one-word profile id)."),
    click.option("--action", required=True, help="What the Op does (a one-word action, e.g. implement)."),
    click.option("--request-text", help="The request that started the Op."),
    click.option("--actor", help="The agent or person acting (e.g. claude)."),
    click.option("--mode-of-work", help="e.g. task_execution."),
    click.option("--mission-id", help="The mission this Op belongs to (adds lifecycle lines)."),
    click.option("--wp-id", help="The work package within the mission."),
    click.option("--model-id", help="The model that runs the Op."),
)


def start_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of `start` (and `run`): the started event's fields."""
    for option in reversed(START_OPTIONS):
        command = option(command)
    return command
