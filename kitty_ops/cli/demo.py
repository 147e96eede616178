"""`kitty-ops demo`: see the whole story in a throw-away repository."""
from __future__ import annotations

import click

from kitty_ops.cli.common import echo
from kitty_ops.setup.demo import run_demo


@click.command()
@click.option("--keep", is_flag=True, help="Keep the scratch repository to look around.")
def demo(keep: bool) -> int:
    """Walk through kitty-ops with real git and the real hooks, in a scratch repository.

    Starts and completes an Op (committed), shows the orphan hook blocking an
    open Op, sweeps it with the doctor, and shows the log. Needs no network.

    \b
    Example:
      kitty-ops demo --keep
    """
    return run_demo(echo, keep)
