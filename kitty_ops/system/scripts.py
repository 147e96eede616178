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


def run(main: Callable[[], int | None], usage: str | None = None) -> NoReturn:
    """Run a hook's `main()` and exit with its code. `usage`: for a script that
    takes no options, what `-h`/`--help` prints (exit 0); any other option is a
    usage error (exit 2), never taken for an argument."""
    if usage is not None:
        options = [arg for arg in sys.argv[1:] if arg.startswith("-") and arg != "-"]
        if options:
            helped = options[0] in ("-h", "--help")
            print(usage.rstrip("\n"), file=sys.stdout if helped else sys.stderr)
            if not helped:
                print(f"{os.path.basename(sys.argv[0])}: error: unrecognized option: {options[0]}", file=sys.stderr)
            exit_now(0 if helped else 2)
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
