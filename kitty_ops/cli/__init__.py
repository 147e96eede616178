"""The `kitty-ops` command.

`start` and `complete`, which agents run for every Op, take a path without
click (`kitty_ops.cli.fast`: importing click costs more than an Op commit's
git calls); every other command, help, and any argument the fast path does
not know go to the click group (`kitty_ops.cli.group`), which behaves the same.
"""
from __future__ import annotations

import sys


def script() -> None:
    """What the installed `kitty-ops` script runs: `main`, except that `start`
    and `complete` end at once when done (`kitty_ops.system.scripts.exit_now`)."""
    args = sys.argv[1:]
    from kitty_ops.cli.fast import run_fast

    code = run_fast(args)
    if code is None:
        from kitty_ops.cli.group import main as group_main

        sys.exit(group_main(args))
    from kitty_ops.system.scripts import exit_now

    exit_now(code)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    from kitty_ops.cli.fast import run_fast

    code = run_fast(args)
    if code is not None:
        sys.exit(code)
    from kitty_ops.cli.group import main as group_main

    return group_main(args)


def __getattr__(name: str) -> object:
    if name in ("cli", "COMMANDS", "KittyOpsGroup"):
        from kitty_ops.cli import group

        return getattr(group, name)
    raise AttributeError(f"module 'kitty_ops.cli' has no attribute {name!r}")
