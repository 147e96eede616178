"""What the installed scripts in `bin/` run.

They are plain scripts, not console-script entry points: the wrapper pip
generates for an entry point imports `re` (5 to 9 ms here) to rename argv[0]
on Windows, and these run on every Op and every commit. And they end without
tearing the interpreter down (about 5 ms with kitty-ops loaded), once their
output is flushed: everything they open and every git process they start is
closed and reaped before `main` returns.
"""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn


def run(main: Callable[[], int | None]) -> NoReturn:
    """Run a hook's `main()` and exit with its code."""
    try:
        code = main()
    except SystemExit as exc:  # argparse's usage errors, and `main`s that exit
        code = exc.code if isinstance(exc.code, int) or exc.code is None else 1
        if not isinstance(exc.code, int) and exc.code is not None:
            print(exc.code, file=sys.stderr)
    exit_now(code or 0)


def exit_now(code: int) -> NoReturn:
    """Flush the output and end the process with `code`, skipping the teardown."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            code = code or 1
    os._exit(code)
